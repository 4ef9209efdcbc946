package storetest

import (
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

var prunerCases = []testCase[*outboxFixture]{
	{"Prune", testPruneDeliveries},
	{"Empty", testPruneEmpty},
}

// pruner returns the store's DeliveryPruner or skips the test.
func (f *outboxFixture) pruner() store.DeliveryPruner {
	f.Helper()
	p, ok := f.s.(store.DeliveryPruner)
	if !ok {
		f.Skip("storetest: the store does not implement store.DeliveryPruner")
	}
	return p
}

func (f *outboxFixture) prune(p store.DeliveryPruner, before time.Time) int {
	f.Helper()
	n, err := p.PruneDeliveries(f.ctx, before)
	require.NoError(f, err)
	return n
}

func testPruneEmpty(f *outboxFixture) {
	p := f.pruner()
	require.Zero(f, f.prune(p, at(100*time.Hour)))
}

func testPruneDeliveries(f *outboxFixture) {
	p := f.pruner()
	a, b, off := f.endpoint(), f.endpoint(), f.endpoint()
	_, err := f.s.SetDisabled(f.ctx, off.ID, true, "manual", at(0))
	require.NoError(f, err)
	notB := func(r *store.LeaseRequest) { r.SkipEndpoints = []string{b.ID} }

	// finish publishes an event at date for eps, leases a's delivery and
	// completes it (ok) or fails it at end.
	finish := func(date, end time.Time, ok bool, eps ...*store.Endpoint) (event.Event, *store.Delivery) {
		f.Helper()
		ev := f.publish("ping", date, eps...)
		ds := f.lease(date, 1, notB)
		require.Len(f, ds, 1)
		require.Equal(f, ev.ID, ds[0].Event.ID)
		if ok {
			f.settleOne(succeeded(ds[0].Ref(), end))
		} else {
			f.settleOne(failed(ds[0].Ref(), end, "410 Gone"))
		}
		return ev, ds[0]
	}
	e1, d1 := finish(at(0), at(time.Hour), true, a)                   // old: pruned
	_, d2 := finish(at(time.Minute), at(2*time.Hour), false, a)       // old: pruned
	_, d3 := finish(at(2*time.Minute), at(5*time.Hour), true, a)      // recent
	e4, d4a := finish(at(3*time.Minute), at(time.Hour), true, a, b)   // old, but b's is pending
	_, d5 := finish(at(4*time.Minute), at(3*time.Hour), false, a)     // finished exactly at the cutoff
	_, d6 := finish(at(5*time.Minute), at(time.Hour), false, a)       // old, then requeued
	require.NoError(f, f.s.Requeue(f.ctx, d6.ID, at(1000*time.Hour))) // pending, due much later
	f.publish("ping", at(6*time.Minute), a)                           // e7: leased below
	held := f.lease(at(6*time.Minute), 1, notB, func(r *store.LeaseRequest) { r.Duration = 1000 * time.Hour })
	require.Len(f, held, 1)
	e8 := f.publish("ping", at(7*time.Minute), off) // paused
	e9 := f.publish("ping", at(8*time.Minute), a)   // pending
	d4b := f.deliveryOf(e4.ID, b.ID)
	d8 := f.deliveryOf(e8.ID, off.ID)
	d9 := f.deliveryOf(e9.ID, a.ID)
	require.Equal(f, store.StatePaused, d8.State)

	require.Equal(f, 3, f.prune(p, at(3*time.Hour)), "deliveries finished before the cutoff: d1, d2 and a's of e4")
	for _, d := range []*store.Delivery{d1, d2, d4a} {
		_, err := f.s.GetDelivery(f.ctx, d.ID)
		require.ErrorIs(f, err, store.ErrNotFound, "pruned delivery")
	}
	for id, want := range map[string]store.DeliveryState{
		d3.ID:      store.StateSucceeded, // finished after the cutoff
		d5.ID:      store.StateFailed,    // finished at the cutoff: not before it
		d6.ID:      store.StatePending,   // requeued
		held[0].ID: store.StateLeased,
		d4b.ID:     store.StatePending,
		d8.ID:      store.StatePaused,
		d9.ID:      store.StatePending,
	} {
		require.Equal(f, want, f.get(id).State, "delivery %s is kept", id)
	}
	all, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true})
	require.NoError(f, err)
	require.Len(f, all, 7)
	require.Zero(f, f.prune(p, at(3*time.Hour)), "nothing more before the same cutoff")

	// e1 had no other delivery: its id is forgotten, and enqueueing it
	// again, even with other content, creates a fresh delivery.
	again := e1
	again.Data = []byte(`{"republished":true}`)
	f.enqueue(again, 1, a)
	fresh := f.deliveryOf(e1.ID, a.ID)
	require.NotEqual(f, d1.ID, fresh.ID)
	require.Equal(f, store.StatePending, fresh.State)
	require.Zero(f, fresh.Attempts)
	require.Equal(f, string(again.Data), string(fresh.Event.Data))

	// e4 is kept while b's delivery refers to it: other content conflicts,
	// and a's pruned delivery is created afresh.
	changed := e4
	changed.Data = []byte(`{"other":true}`)
	_, err = f.s.Enqueue(f.ctx, enqueueAt(changed, targets(a, b)))
	require.ErrorIs(f, err, store.ErrConflict, "the event of a kept delivery is kept")
	f.enqueue(e4, 1, a, b)
	require.Equal(f, d4b.ID, f.deliveryOf(e4.ID, b.ID).ID)
	require.Equal(f, store.StatePending, f.deliveryOf(e4.ID, a.ID).State)

	// A lease held through a prune still settles.
	f.settleOne(succeeded(held[0].Ref(), at(10*time.Hour)))

	require.Equal(f, 3, f.prune(p, at(100*time.Hour)), "d3, d5 and the held one, finished since")
	for _, d := range []*store.Delivery{d3, d5, held[0]} {
		_, err := f.s.GetDelivery(f.ctx, d.ID)
		require.ErrorIs(f, err, store.ErrNotFound, "pruned delivery")
	}
	all, _, err = f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true})
	require.NoError(f, err)
	for _, d := range all {
		require.Contains(f, []store.DeliveryState{store.StatePending, store.StatePaused}, d.State)
	}
	require.Len(f, all, 6, "d4b, d6, d8, d9 and the fresh deliveries of e1 and e4")
}
