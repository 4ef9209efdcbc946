package sender_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// TestDisabledEndpointStopsPromptly checks that deliveries a started sender
// has leased and queued for an endpoint are not sent once the sender has
// disabled it: after a 410 Gone, the endpoint receives nothing more and its
// other deliveries wait, paused.
func TestDisabledEndpointStopsPromptly(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusGone)
	})
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	// One worker: one request at a time, with deliveries queued behind it.
	s := newSender(t, st, nil, func(c *sender.Config) { c.Workers = 1 })
	const events = 20
	for range events {
		_, err := s.Publish(ctx, newEvent(t, nil, "a.b", `{}`), sender.ToTenant(""), nil)
		require.NoError(t, err)
	}
	require.NoError(t, s.Start(ctx))

	states := func() map[store.DeliveryState]int {
		ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: ep.ID, Page: store.Page{Limit: events}})
		require.NoError(t, err)
		n := make(map[store.DeliveryState]int)
		for _, d := range ds {
			n[d.State]++
		}
		return n
	}
	require.Eventually(t, func() bool {
		n := states()
		return n[store.StateFailed]+n[store.StatePaused] == events
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Shutdown(ctx))

	require.Equal(t, 1, srv.count(), "one request, then the endpoint was disabled")
	require.Equal(t, map[store.DeliveryState]int{store.StateFailed: 1, store.StatePaused: events - 1}, states())
	got, err := st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled)
}
