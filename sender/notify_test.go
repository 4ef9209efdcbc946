package sender_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// TestNotifyWakesIdleSender enqueues behind the sender's back, as a store's
// PublishTx does, with a poll interval so long that only Notify can make the
// delivery go out within the test.
func TestNotifyWakesIdleSender(t *testing.T) {
	st := newStore()
	srv := newServer(t, nil)
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) { c.PollInterval = time.Hour })
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })

	// A first event through the sender, so its first polls are behind it
	// and it is idle until the next poll, an hour away.
	first := newEvent(t, nil, "patient.ehi_export_success", `{"task_id":"t0"}`)
	_, err := s.Publish(context.Background(), first, store.ToTenant(""))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return srv.count() == 1 }, 10*time.Second, 5*time.Millisecond)

	ev := newEvent(t, nil, "patient.ehi_export_success", `{"task_id":"t1"}`)
	n, err := store.Publish(context.Background(), st, st, ev, store.ToTenant(""))
	require.NoError(t, err)
	require.Equal(t, 1, n)

	s.Notify()
	require.Eventually(t, func() bool { return srv.count() == 2 }, 10*time.Second, 5*time.Millisecond,
		"the notified sender delivers without waiting for its next poll")
	require.Equal(t, ev.ID, srv.requests()[1].Event.ID)
}
