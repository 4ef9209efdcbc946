package sender_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// TestNotifyWakesIdleSender enqueues behind the sender's back, as another
// process would, on a store that does not notify (the memory store hidden
// behind its roles), with a poll interval so long that only Notify can make
// the delivery go out within the test.
func TestNotifyWakesIdleSender(t *testing.T) {
	st := struct{ store.SenderStore }{newStore()}
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) { c.PollInterval = time.Hour })
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })

	// A first event through the sender, so its first polls are behind it
	// and it is idle until the next poll, an hour away.
	first := newEvent(t, nil, "patient.ehi_export_success", `{"task_id":"t0"}`)
	_, err := s.Publish(context.Background(), first, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return srv.count() == 1 }, 10*time.Second, 5*time.Millisecond)

	ev := newEvent(t, nil, "patient.ehi_export_success", `{"task_id":"t1"}`)
	n, err := st.Enqueue(context.Background(), store.EnqueueRequest{Event: ev, Targets: []store.Target{{EndpointID: ep.ID}}, Now: time.Now()})
	require.NoError(t, err)
	require.Equal(t, 1, n)

	s.Notify()
	require.Eventually(t, func() bool { return srv.count() == 2 }, 10*time.Second, 5*time.Millisecond,
		"the notified sender delivers without waiting for its next poll")
	require.Equal(t, ev.ID, srv.requests()[1].Event.ID)
}

// ctxStore is the memory store with the one property of a database store
// that the memory store lacks: settling calls fail once their context ends.
type ctxStore struct{ store.SenderStore }

func (c ctxStore) Settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	if err := ctx.Err(); err != nil {
		return store.SettleResult{}, err
	}
	return c.SenderStore.Settle(ctx, b)
}

// TestShutdownSettlesInFlightWithLiveContext: attempts still in flight when
// Shutdown begins finish and are recorded as succeeded, with a context that
// is still alive when they settle (a database store would refuse a
// cancelled one and leave the delivery leased).
func TestShutdownSettlesInFlightWithLiveContext(t *testing.T) {
	ctx := context.Background()
	st := ctxStore{newStore()}
	entered := make(chan struct{}, 4)
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		entered <- struct{}{}
		<-release
	})
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, nil)
	require.NoError(t, s.Start(ctx))
	var ids []string
	for range 3 {
		ev := newEvent(t, nil, "a.b", `{}`)
		_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
		ids = append(ids, ev.ID)
	}
	for range 3 {
		<-entered
	}
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	require.Eventually(t, func() bool {
		_, err := s.Publish(ctx, newEvent(t, nil, "a.b", `{}`), sender.ToTenant(""), nil)
		return errors.Is(err, sender.ErrClosed)
	}, 5*time.Second, time.Millisecond, "shutdown has begun")
	close(release)
	require.NoError(t, <-done)
	for _, id := range ids {
		require.Equal(t, store.StateSucceeded, delivery(t, st, id).State, "event %s", id)
	}
}
