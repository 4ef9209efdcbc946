package webhooktest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// publishKeyed publishes a sample event with the ordering key.
func (r *rig) publishKeyed(t *testing.T, key string) event.Event {
	t.Helper()
	ev := webhooktest.SampleEvent(t, fasten.Catalog(), fasten.TypeEHIExportSuccess)
	_, err := r.s.Publish(r.ctx, ev, sender.ToTenant(""), &sender.PublishOptions{OrderingKey: key})
	require.NoError(t, err)
	return ev
}

// eventIDs returns the ids of the events the endpoint received, in order.
func eventIDs(r *rig) []string {
	var ids []string
	for _, ev := range r.ep.Events() {
		ids = append(ids, ev.ID)
	}
	return ids
}

// TestDeliverAllOrderingKey: a key's failed head holds up the deliveries
// queued behind it, which are due; DeliverAll advances to the head's
// retry rather than stalling on them, and the key goes in order.
func TestDeliverAllOrderingKey(t *testing.T) {
	r := newRig(t, &sender.Config{Retry: fixedSchedule(time.Minute), Workers: 1}, nil)
	r.ep.FailNext(1, 500)
	start := r.clock.Now()
	var want []string
	for range 3 {
		want = append(want, r.publishKeyed(t, "patient-1").ID)
	}

	n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
	require.NoError(t, err)
	require.Equal(t, 4, n, "the head twice, then the two behind it")
	require.Equal(t, time.Minute, r.clock.Now().Sub(start), "the clock went to the head's retry")
	require.Equal(t, want, eventIDs(r), "in publish order")
}

// TestDeliverAllBreaker: failures open the endpoint's breaker, which holds
// its due deliveries and retries until its probe; DeliverAll advances to
// the probe, which succeeds and lets everything go.
func TestDeliverAllBreaker(t *testing.T) {
	r := newRig(t, &sender.Config{
		Retry:   fixedSchedule(time.Second, time.Second),
		Workers: 1,
		Breaker: sender.BreakerConfig{Failures: 2, ProbeInterval: time.Hour},
	}, nil)
	r.ep.FailNext(2, 503)
	start := r.clock.Now()
	for range 3 {
		r.publish(t, fasten.TypeEHIExportSuccess)
	}

	n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
	require.NoError(t, err)
	require.Equal(t, 5, n, "two failures open the breaker; then a probe and the other two")
	require.Equal(t, time.Hour, r.clock.Now().Sub(start), "the clock went to the probe, past the retries a second later")
	require.Len(t, r.ep.Events(), 3)
	require.Equal(t, store.BreakerClosed, r.s.Flow(r.epID).Breaker)
	b, err := r.s.Backlog(r.ctx)
	require.NoError(t, err)
	require.Zero(t, b.Pending())
}
