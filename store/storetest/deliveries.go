package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

var deliveryCases = []testCase[*outboxFixture]{
	{"GetMissing", testDeliveryGetMissing},
	{"List", testDeliveryList},
	{"Requeue", testRequeue},
	{"RequeueFailed", testRequeueFailed},
	{"RequeueDisabled", testRequeueDisabled},
	{"DeleteEndpoint", testDeliveryDeleteEndpoint},
}

func testDeliveryGetMissing(f *outboxFixture) {
	_, err := f.s.GetDelivery(f.ctx, "no-such-delivery")
	require.ErrorIs(f, err, store.ErrNotFound)
}

// newestFirst orders deliveries as ListDeliveries must.
func newestFirst(a, b *store.Delivery) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

func testDeliveryList(f *outboxFixture) {
	a := f.endpoint(withTenant("acme"))
	b := f.endpoint(withTenant("globex"))
	c := f.endpoint(withTenant(""))
	e6 := f.publish("patient.deleted", at(0), a)
	e1 := f.publish("patient.created", at(time.Minute), a, b, c)
	e2 := f.publish("patient.updated", at(2*time.Minute), a, b)
	f.publish("ping", at(2*time.Minute), a)
	f.publish("invoice.paid", at(3*time.Minute), a, c)
	f.publish("patient.created", at(3*time.Minute), b)
	f.publish("patient.created", at(2*time.Minute), a, b, c)

	// Give some of them other states.
	held := f.lease(at(0), 1, func(r *store.LeaseRequest) { r.Duration = time.Hour })
	require.Len(f, held, 1)
	require.Equal(f, e6.ID, held[0].Event.ID, "e6 for a stays leased")
	leased := f.lease(at(time.Minute), 3, func(r *store.LeaseRequest) { r.Duration = time.Hour })
	require.Len(f, leased, 3)
	for _, d := range leased {
		require.Equal(f, e1.ID, d.Event.ID)
		switch d.EndpointID {
		case a.ID:
			f.settleOne(succeeded(d.Ref(), at(time.Minute)))
		case b.ID:
			f.settleOne(failed(d.Ref(), at(time.Minute), "gone"))
		default:
			f.settleOne(released(d.Ref(), at(time.Hour)))
		}
	}

	// Every delivery, in the order ListDeliveries must return them.
	var all []*store.Delivery
	for _, e := range []*store.Endpoint{a, b, c} {
		page, next, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EndpointID: e.ID, Page: store.Page{Limit: store.MaxPageSize}})
		require.NoError(f, err)
		require.Empty(f, next)
		all = append(all, page...)
	}
	require.Len(f, all, 13)
	slices.SortFunc(all, newestFirst)

	for _, tc := range []struct {
		name   string
		filter store.DeliveryFilter
		keep   func(d *store.Delivery) bool
	}{
		{"all tenants", store.DeliveryFilter{AllTenants: true}, func(*store.Delivery) bool { return true }},
		{"tenant", store.DeliveryFilter{Tenant: "acme"}, func(d *store.Delivery) bool { return d.Tenant == "acme" }},
		{"empty tenant", store.DeliveryFilter{}, func(d *store.Delivery) bool { return d.Tenant == "" }},
		{"endpoint", store.DeliveryFilter{AllTenants: true, EndpointID: b.ID}, func(d *store.Delivery) bool { return d.EndpointID == b.ID }},
		{"endpoint of another tenant", store.DeliveryFilter{Tenant: "acme", EndpointID: b.ID}, func(*store.Delivery) bool { return false }},
		{"event", store.DeliveryFilter{AllTenants: true, EventID: e1.ID}, func(d *store.Delivery) bool { return d.Event.ID == e1.ID }},
		{"event and endpoint", store.DeliveryFilter{AllTenants: true, EventID: e2.ID, EndpointID: a.ID}, func(d *store.Delivery) bool {
			return d.Event.ID == e2.ID && d.EndpointID == a.ID
		}},
		{"exact type", store.DeliveryFilter{AllTenants: true, EventType: "patient.created"}, func(d *store.Delivery) bool { return d.Event.Type == "patient.created" }},
		{"type pattern", store.DeliveryFilter{AllTenants: true, EventType: "patient.*"}, func(d *store.Delivery) bool {
			p, _ := event.ParsePattern("patient.*")
			return p.Match(d.Event.Type)
		}},
		{"service", store.DeliveryFilter{AllTenants: true, EventType: "patient"}, func(d *store.Delivery) bool {
			return event.Pattern("patient").Match(d.Event.Type) && d.Event.Type != "ping"
		}},
		{"ping is exact", store.DeliveryFilter{AllTenants: true, EventType: "ping"}, func(d *store.Delivery) bool { return d.Event.Type == "ping" }},
		{"succeeded", store.DeliveryFilter{AllTenants: true, State: store.StateSucceeded}, func(d *store.Delivery) bool { return d.State == store.StateSucceeded }},
		{"failed", store.DeliveryFilter{AllTenants: true, State: store.StateFailed}, func(d *store.Delivery) bool { return d.State == store.StateFailed }},
		{"leased", store.DeliveryFilter{AllTenants: true, State: store.StateLeased}, func(d *store.Delivery) bool { return d.State == store.StateLeased }},
		{"pending", store.DeliveryFilter{AllTenants: true, State: store.StatePending}, func(d *store.Delivery) bool { return d.State == store.StatePending }},
		{"since", store.DeliveryFilter{AllTenants: true, Since: at(2 * time.Minute)}, func(d *store.Delivery) bool { return !d.CreatedAt.Before(at(2 * time.Minute)) }},
		{"until", store.DeliveryFilter{AllTenants: true, Until: at(2 * time.Minute)}, func(d *store.Delivery) bool { return d.CreatedAt.Before(at(2 * time.Minute)) }},
		{"since until", store.DeliveryFilter{AllTenants: true, Since: at(time.Minute), Until: at(3 * time.Minute)}, func(d *store.Delivery) bool {
			return !d.CreatedAt.Before(at(time.Minute)) && d.CreatedAt.Before(at(3*time.Minute))
		}},
		{"combined", store.DeliveryFilter{Tenant: "acme", State: store.StatePending, EventType: "patient.*"}, func(d *store.Delivery) bool {
			return d.Tenant == "acme" && d.State == store.StatePending && len(d.Event.Type) > 8 && d.Event.Type[:8] == "patient."
		}},
	} {
		f.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, d := range all {
				if tc.keep(d) {
					want = append(want, d.ID)
				}
			}
			for _, size := range []int{1, 2, 3, 5, 100} {
				flt := tc.filter
				flt.Page.Limit = size
				got := collect(t, size, func(cursor string) ([]*store.Delivery, string, error) {
					flt.Page.Cursor = cursor
					return f.s.ListDeliveries(f.ctx, flt)
				})
				gotIDs := deliveryIDs(got)
				requireUnique(t, gotIDs)
				if len(want) == 0 {
					require.Empty(t, gotIDs, "page size %d", size)
					continue
				}
				require.Equal(t, want, gotIDs, "page size %d: newest first, by CreatedAt then ID", size)
			}
		})
	}
}

func testRequeue(f *outboxFixture) {
	a := f.endpoint()
	off := f.endpoint()
	for range 4 {
		f.publish("ping", at(0), a)
	}
	ds := f.lease(at(0), 4, func(r *store.LeaseRequest) { r.Duration = time.Hour })
	require.Len(f, ds, 4)
	done, dead, pending, leased := ds[0], ds[1], ds[2], ds[3]
	f.settleOne(succeeded(done.Ref(), at(time.Minute)))
	f.settleOne(failed(dead.Ref(), at(time.Minute), "410 Gone"))
	f.settleOne(retried(pending.Ref(), at(2*time.Hour), "503"))
	ep := f.publish("ping", at(0), off)
	_, err := f.s.SetDisabled(f.ctx, off.ID, true, "manual", at(time.Minute))
	require.NoError(f, err)
	paused := f.deliveryOf(ep.ID, off.ID)
	require.Equal(f, store.StatePaused, paused.State)

	for _, d := range []*store.Delivery{done, dead} {
		require.NoError(f, f.s.Requeue(f.ctx, d.ID, at(30*time.Minute)))
		got := f.get(d.ID)
		require.Equal(f, store.StatePending, got.State)
		require.Zero(f, got.Attempts, "Requeue resets Attempts")
		require.True(f, got.FirstAttemptAt.IsZero(), "Requeue resets FirstAttemptAt")
		sameTime(f, at(0), got.LastAttemptAt, "Requeue keeps LastAttemptAt")
		require.True(f, got.FinishedAt.IsZero(), "a requeued delivery is not finished")
		sameTime(f, at(30*time.Minute), got.NextAttemptAt, "NextAttemptAt")
	}
	for name, d := range map[string]*store.Delivery{"pending": pending, "leased": leased, "paused": paused} {
		require.ErrorIs(f, f.s.Requeue(f.ctx, d.ID, at(30*time.Minute)), store.ErrConflict, name)
	}
	require.Equal(f, store.StatePending, f.get(pending.ID).State)
	sameTime(f, at(2*time.Hour), f.get(pending.ID).NextAttemptAt, "Requeue of a pending delivery must not move it")
	require.ErrorIs(f, f.s.Requeue(f.ctx, "no-such-delivery", at(0)), store.ErrNotFound)

	require.Empty(f, f.lease(at(30*time.Minute-time.Millisecond), 10))
	got := f.lease(at(30*time.Minute), 10)
	require.ElementsMatch(f, []string{done.ID, dead.ID}, deliveryIDs(got))
	for _, d := range got {
		require.Equal(f, 1, d.Attempts)
		sameTime(f, at(30*time.Minute), d.FirstAttemptAt, "FirstAttemptAt after a replay")
	}
}

func testRequeueFailed(f *outboxFixture) {
	a := f.endpoint()
	b := f.endpoint()
	for range 5 {
		f.publish("ping", at(0), a)
	}
	f.publish("ping", at(0), b)
	ds := f.lease(at(0), 10, func(r *store.LeaseRequest) { r.Duration = time.Hour })
	require.Len(f, ds, 6)
	var ofA []*store.Delivery
	var ofB *store.Delivery
	for _, d := range ds {
		if d.EndpointID == a.ID {
			ofA = append(ofA, d)
		} else {
			ofB = d
		}
	}
	f.settleOne(failed(ofA[0].Ref(), at(1*time.Minute), "x"))
	f.settleOne(failed(ofA[1].Ref(), at(2*time.Minute), "x"))
	f.settleOne(failed(ofA[2].Ref(), at(3*time.Minute), "x"))
	f.settleOne(succeeded(ofA[3].Ref(), at(2*time.Minute)))
	f.settleOne(retried(ofA[4].Ref(), at(5*time.Hour), "x"))
	f.settleOne(failed(ofB.Ref(), at(2*time.Minute), "x"))

	n, err := f.s.RequeueFailed(f.ctx, a.ID, at(2*time.Minute), at(time.Hour))
	require.NoError(f, err)
	require.Equal(f, 2, n)
	for _, d := range ofA[1:3] {
		got := f.get(d.ID)
		require.Equal(f, store.StatePending, got.State)
		require.Zero(f, got.Attempts)
		sameTime(f, at(time.Hour), got.NextAttemptAt, "NextAttemptAt")
	}
	require.Equal(f, store.StateFailed, f.get(ofA[0].ID).State, "failed before since")
	require.Equal(f, store.StateSucceeded, f.get(ofA[3].ID).State)
	require.Equal(f, store.StatePending, f.get(ofA[4].ID).State)
	sameTime(f, at(5*time.Hour), f.get(ofA[4].ID).NextAttemptAt, "a pending delivery is left alone")
	require.Equal(f, store.StateFailed, f.get(ofB.ID).State, "another endpoint's")

	n, err = f.s.RequeueFailed(f.ctx, a.ID, at(2*time.Minute), at(time.Hour))
	require.NoError(f, err)
	require.Zero(f, n)
}

func testDeliveryDeleteEndpoint(f *outboxFixture) {
	a := f.endpoint()
	b := f.endpoint()
	done := f.publish("ping", at(-time.Hour), a)
	d := f.leaseOne(at(-time.Hour))
	f.settleOne(succeeded(d.Ref(), at(-time.Hour)))
	e1 := f.publish("ping", at(0), a, b)
	e2 := f.publish("ping", at(time.Hour), a)
	pendingA := []string{f.deliveryOf(e1.ID, a.ID).ID, f.deliveryOf(e2.ID, a.ID).ID}
	keepB := f.deliveryOf(e1.ID, b.ID).ID
	doneID := f.deliveryOf(done.ID, a.ID).ID

	require.NoError(f, f.s.DeleteEndpoint(f.ctx, a.ID))
	for _, id := range pendingA {
		_, err := f.s.GetDelivery(f.ctx, id)
		require.ErrorIs(f, err, store.ErrNotFound, "DeleteEndpoint removes pending deliveries")
	}
	require.Equal(f, store.StateSucceeded, f.get(doneID).State, "finished deliveries stay for the logs")
	require.Equal(f, store.StatePending, f.get(keepB).State)
	got := f.lease(at(2*time.Hour), 10)
	require.Equal(f, []string{keepB}, deliveryIDs(got))

	// e2 had no other delivery: its id is forgotten with them, as after
	// PruneDeliveries, so other content under it is no conflict.
	changed := e2
	changed.Data = []byte(`{"other":true}`)
	f.enqueue(changed, 1, b)
	require.Equal(f, string(changed.Data), string(f.deliveryOf(e2.ID, b.ID).Event.Data))
	// e1 still has b's delivery: its id is remembered.
	changed = e1
	changed.Data = []byte(`{"other":true}`)
	_, err := f.s.Enqueue(f.ctx, enqueueAt(changed, targets(b)))
	require.ErrorIs(f, err, store.ErrConflict)
}

// testRequeueDisabled: a replay of a delivery whose endpoint is disabled
// waits paused, so no pending delivery ever belongs to a disabled endpoint.
func testRequeueDisabled(f *outboxFixture) {
	a := f.endpoint()
	for range 3 {
		f.publish("ping", at(0), a)
	}
	ds := f.lease(at(0), 3, func(r *store.LeaseRequest) { r.Duration = time.Hour })
	require.Len(f, ds, 3)
	f.settleOne(succeeded(ds[0].Ref(), at(time.Minute)))
	f.settleOne(failed(ds[1].Ref(), at(time.Minute), "x"))
	f.settleOne(failed(ds[2].Ref(), at(time.Minute), "x"))
	_, err := f.s.SetDisabled(f.ctx, a.ID, true, "manual", at(2*time.Minute))
	require.NoError(f, err)

	require.NoError(f, f.s.Requeue(f.ctx, ds[0].ID, at(3*time.Minute)))
	n, err := f.s.RequeueFailed(f.ctx, a.ID, at(0), at(3*time.Minute))
	require.NoError(f, err)
	require.Equal(f, 2, n)
	for _, d := range ds {
		got := f.get(d.ID)
		require.Equal(f, store.StatePaused, got.State, "requeued while the endpoint is disabled")
		require.Zero(f, got.Attempts)
		require.True(f, got.FinishedAt.IsZero())
	}
	require.Empty(f, f.lease(at(time.Hour), 10), "paused deliveries are not leased")

	_, err = f.s.SetDisabled(f.ctx, a.ID, false, "", at(2*time.Hour))
	require.NoError(f, err)
	got := f.lease(at(2*time.Hour), 10)
	require.ElementsMatch(f, deliveryIDs(ds), deliveryIDs(got), "enabling makes them due")
}
