package sender_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// TestRetrySoonerThanPoll: a started sender whose PollInterval is an hour
// retries on the schedule's short delays, not at the next poll. Events
// fail a different number of times each (0 to 4), so retries of several
// deliveries fall due at different times, earlier and later than one
// another; every event is delivered once it has failed its number of
// times, in far less than a poll interval.
func TestRetrySoonerThanPoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const events = 10
	var (
		mu    sync.Mutex
		tries = map[string]int{} // webhook-id: requests so far
		fails = map[string]int{} // webhook-id: failures it gets
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("webhook-id")
		mu.Lock()
		defer mu.Unlock()
		tries[id]++
		if tries[id] <= fails[id] {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	st := newStore()
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) {
		c.PollInterval = time.Hour
		c.Retry = retry.Schedule{Delays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond,
			10 * time.Millisecond, 80 * time.Millisecond, 30 * time.Millisecond}}
		c.Breaker.Disabled = true // the failures here are the test's, not an outage
	})
	ids := make([]string, events)
	for i := range ids {
		ev := newEvent(t, nil, "order.paid", `{}`)
		ids[i] = ev.ID
		mu.Lock()
		fails[ev.ID] = i % 5
		mu.Unlock()
		_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
	}
	require.NoError(t, s.Start(ctx))

	require.Eventually(t, func() bool {
		for _, id := range ids {
			d, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{EventID: id, AllTenants: true})
			if err != nil || len(d) != 1 || d[0].State != store.StateSucceeded {
				return false
			}
		}
		return true
	}, wakeWait, 5*time.Millisecond, "every retry made when due, not at the next poll an hour later")
	mu.Lock()
	defer mu.Unlock()
	for i, id := range ids {
		require.Equal(t, i%5+1, tries[id], "event %d: its failures and one success", i)
	}
}
