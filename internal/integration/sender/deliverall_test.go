package sender_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// TestDeliverAllHeldDurable drives a sender on the SQL stores with
// webhooktest.DeliverAll past a key's failed head and an open breaker:
// the stores mark the deliveries queued behind the head (KeyWaiting), and
// WaitIdle returns while the breaker holds the endpoint.
func TestDeliverAllHeldDurable(t *testing.T) {
	for kind, open := range map[string]func(testing.TB) *outboxDB{
		"sqlite":   openSQLiteOutbox,
		"postgres": openPostgresOutbox,
	} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testDeliverAllHeld(t, open(t).st)
		})
	}
}

func testDeliverAllHeld(t *testing.T, st store.SenderStore) {
	ctx := context.Background()
	clk := webhooktest.NewClock(webhooktest.DefaultStart())
	ep := webhooktest.NewEndpoint(t, &webhooktest.EndpointConfig{Clock: clk})
	s := webhooktest.NewSender(t, st, clk, &sender.Config{
		Retry:   retry.Schedule{Delays: []time.Duration{time.Minute, time.Minute}},
		Workers: 1,
		Breaker: sender.BreakerConfig{Failures: 2, ProbeInterval: time.Hour},
	})
	ep.Register(t, s, "order.*")
	publish := func(key string) string {
		ev, err := event.New(event.ModeTest, "order.updated", []byte(`{}`))
		require.NoError(t, err)
		_, err = s.Publish(ctx, ev, sender.ToTenant(""), &sender.PublishOptions{OrderingKey: key})
		require.NoError(t, err)
		return ev.ID
	}

	// A key's head fails once; the two behind it wait for its retry.
	ep.FailNext(1, 500)
	start := clk.Now()
	want := []string{publish("k"), publish("k"), publish("k")}
	_, err := s.ProcessDue(ctx)
	require.NoError(t, err)
	b, err := s.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Backlog{Scheduled: 1, Waiting: 2}, b.Backlog)
	require.NoError(t, s.WaitIdle(ctx))
	n, err := webhooktest.DeliverAll(ctx, s, clk)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, time.Minute, clk.Now().Sub(start))
	var got []string
	for _, ev := range ep.Events() {
		got = append(got, ev.ID)
	}
	require.Equal(t, want, got, "in publish order")

	// Two failures open the breaker; the third delivery is held.
	ep.FailNext(2, 503)
	start = clk.Now()
	for range 3 {
		publish("")
	}
	_, err = s.ProcessDue(ctx)
	require.NoError(t, err)
	b, err = s.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, sender.Backlog{Backlog: store.Backlog{Due: 1, Scheduled: 2}, Held: 1}, b)
	require.NoError(t, s.WaitIdle(ctx), "held deliveries do not keep WaitIdle waiting")
	n, err = webhooktest.DeliverAll(ctx, s, clk)
	require.NoError(t, err)
	require.Equal(t, 3, n, "the probe and the two others")
	require.Equal(t, time.Hour, clk.Now().Sub(start), "the clock went to the probe")
	require.Len(t, ep.Events(), 6)
	b, err = s.Backlog(ctx)
	require.NoError(t, err)
	require.Zero(t, b.Pending())
}
