package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

var outboxCases = []testCase[*outboxFixture]{
	{"EnqueueIdempotent", testEnqueueIdempotent},
	{"EnqueueConflict", testEnqueueConflict},
	{"EnqueueUnknownEndpoint", testEnqueueUnknownEndpoint},
	{"EnqueueDueAt", testEnqueueDueAt},
	{"Backlog", testBacklog},
	{"LeaseDue", testLeaseDue},
	{"LeaseOrder", testLeaseOrder},
	{"LeaseInvalid", testLeaseInvalid},
	{"LeaseMode", testLeaseMode},
	{"LeaseSkipEndpoints", testLeaseSkipEndpoints},
	{"LeaseConcurrent", testLeaseConcurrent},
	{"LeaseExpiry", testLeaseExpiry},
	{"Settle", testSettle},
	{"RetryOrder", testRetryOrder},
	{"DisablePauses", testDisablePauses},
}

func testEnqueueIdempotent(f *outboxFixture) {
	a := f.endpoint()
	b := f.endpoint(withTenant("globex"))
	ev := newEvent("patient.created", at(time.Second))
	f.enqueue(ev, 2, a, b)
	f.enqueue(ev, 0, a, b)
	f.enqueue(ev, 0, b)

	seen := map[string]bool{}
	for _, ep := range []*store.Endpoint{a, b} {
		d := f.deliveryOf(ev.ID, ep.ID)
		require.NotEmpty(f, d.ID)
		require.False(f, seen[d.ID], "two deliveries share an id")
		seen[d.ID] = true
		require.Equal(f, ep.ID, d.EndpointID)
		require.Equal(f, ep.Tenant, d.Tenant, "the delivery carries the target's tenant")
		require.Equal(f, store.StatePending, d.State)
		require.Zero(f, d.Attempts)
		require.Empty(f, d.LeaseToken)
		sameTime(f, ev.Date, d.NextAttemptAt, "a new delivery is due at Now when DueAt is zero")
		sameTime(f, ev.Date, d.CreatedAt, "CreatedAt is the request's Now")
		require.True(f, d.FirstAttemptAt.IsZero())
		require.True(f, d.FinishedAt.IsZero())
		require.Equal(f, ev.ID, d.Event.ID)
		require.Equal(f, ev.Type, d.Event.Type)
		require.Equal(f, ev.APIMode, d.Event.APIMode)
		require.True(f, d.Event.Date.IsZero(), "a stored event has no date: each attempt is dated when it is made")
		require.Equal(f, string(ev.Data), string(d.Event.Data), "event data must be kept byte for byte")

		// Returned deliveries are copies.
		d.Event.Data[0] = 'X'
		require.Equal(f, string(ev.Data), string(f.get(d.ID).Event.Data))
	}

	// A new endpoint later gets only its own delivery.
	c := f.endpoint()
	f.enqueue(ev, 1, a, b, c)
	require.Equal(f, store.StatePending, f.deliveryOf(ev.ID, c.ID).State)
	all, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EventID: ev.ID})
	require.NoError(f, err)
	require.Len(f, all, 3)

	// A target named twice in one call is one delivery.
	ev2 := newEvent("ping", at(2*time.Second))
	f.enqueue(ev2, 2, a, a, b)
	f.enqueue(ev2, 0, a, b, a)
	all, _, err = f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EventID: ev2.ID})
	require.NoError(f, err)
	require.Len(f, all, 2)
}

func testEnqueueConflict(f *outboxFixture) {
	a := f.endpoint()
	b := f.endpoint()
	ev := f.publish("patient.created", at(0), a)
	for _, tc := range []struct {
		name string
		edit func(*event.Event)
	}{
		{"data", func(e *event.Event) { e.Data = []byte(`{"patient_id":"p_2"}`) }},
		{"data bytes", func(e *event.Event) {
			e.Data = append([]byte(nil), e.Data[:len(e.Data)-1]...)
			e.Data = append(e.Data, ' ', '}')
		}},
		{"type", func(e *event.Event) { e.Type = "patient.deleted" }},
		{"mode", func(e *event.Event) { e.APIMode = event.ModeLive }},
	} {
		f.Run(tc.name, func(t *testing.T) {
			changed := ev
			changed.Data = append([]byte(nil), ev.Data...)
			tc.edit(&changed)
			n, err := f.s.Enqueue(f.ctx, enqueueAt(changed, targets(b, a)))
			require.ErrorIs(t, err, store.ErrConflict)
			require.Zero(t, n)
			ds, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EventID: ev.ID})
			require.NoError(t, err)
			require.Len(t, ds, 1, "a conflicting Enqueue must create nothing")
			require.Equal(t, a.ID, ds[0].EndpointID)
			require.Equal(t, string(ev.Data), string(ds[0].Event.Data))
			require.Equal(t, ev.Type, ds[0].Event.Type)
		})
	}
}

// testEnqueueUnknownEndpoint: a store holding the endpoints refuses a
// target it does not hold, all or nothing, as a foreign key would.
func testEnqueueUnknownEndpoint(f *outboxFixture) {
	a := f.endpoint()
	ev := newEvent("ping", at(0))
	for _, ts := range [][]store.Target{
		{{EndpointID: "no-such-endpoint", Tenant: a.Tenant}},
		{targets(a)[0], {EndpointID: "no-such-endpoint", Tenant: a.Tenant}},
		{{EndpointID: "no-such-endpoint", Tenant: a.Tenant}, targets(a)[0]},
	} {
		n, err := f.s.Enqueue(f.ctx, enqueueAt(ev, ts))
		require.ErrorIs(f, err, store.ErrNotFound)
		require.Zero(f, n)
	}
	ds, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EventID: ev.ID})
	require.NoError(f, err)
	require.Empty(f, ds, "a refused Enqueue creates nothing")

	// Nor does it store the event: other content under the id is accepted.
	changed := ev
	changed.Data = []byte(`{"other":true}`)
	f.enqueue(changed, 1, a)
	require.Equal(f, string(changed.Data), string(f.deliveryOf(ev.ID, a.ID).Event.Data))
}

func testLeaseDue(f *outboxFixture) {
	a := f.endpoint()
	e1 := f.publish("patient.created", at(3*time.Second), a)
	e2 := f.publish("patient.created", at(1*time.Second), a)
	e3 := f.publish("patient.created", at(2*time.Second), a)
	f.publish("patient.created", at(time.Hour), a)

	require.Empty(f, f.lease(at(0), 10), "nothing is due yet")

	// Due means NextAttemptAt <= Now.
	got := f.lease(at(time.Second), 10, func(r *store.LeaseRequest) { r.Worker = "worker-7" })
	require.Len(f, got, 1)
	d := got[0]
	require.Equal(f, e2.ID, d.Event.ID)
	require.Equal(f, string(e2.Data), string(d.Event.Data))
	require.Equal(f, 1, d.Attempts)
	require.Equal(f, "worker-7", d.LeasedBy)
	sameTime(f, at(time.Second), d.FirstAttemptAt, "FirstAttemptAt")
	sameTime(f, at(time.Second), d.LastAttemptAt, "LastAttemptAt")
	sameTime(f, at(time.Second+time.Minute), d.NextAttemptAt, "NextAttemptAt is the lease's end")

	stored := f.get(d.ID)
	require.Equal(f, store.StateLeased, stored.State)
	require.Equal(f, 1, stored.Attempts)
	require.Empty(f, stored.LeaseToken, "the token is only on deliveries returned by Lease")
	sameTime(f, at(time.Second+time.Minute), stored.NextAttemptAt, "stored NextAttemptAt")

	// Limit, and oldest due first.
	got = f.lease(at(10*time.Second), 1)
	require.Len(f, got, 1)
	require.Equal(f, e3.ID, got[0].Event.ID)
	got2 := f.lease(at(10*time.Second), 10)
	require.Len(f, got2, 1, "leased deliveries and not-yet-due ones are not leased")
	require.Equal(f, e1.ID, got2[0].Event.ID)
	require.NotEqual(f, got[0].LeaseToken, got2[0].LeaseToken)
	require.NotEqual(f, d.LeaseToken, got2[0].LeaseToken)
	require.Empty(f, f.lease(at(10*time.Second), 10))
}

func testLeaseOrder(f *outboxFixture) {
	eps := []*store.Endpoint{f.endpoint(), f.endpoint(), f.endpoint()}
	offsets := []int{7, 3, 9, 1, 4, 8, 2, 6, 5, 0}
	var want []string // event ids by due time
	byOffset := map[int]string{}
	for i, off := range offsets {
		ev := f.publish("patient.created", at(time.Duration(off)*time.Second), eps[i%len(eps)])
		byOffset[off] = ev.ID
	}
	for off := range len(offsets) {
		want = append(want, byOffset[off])
	}
	got := f.lease(at(time.Minute), 4)
	got = append(got, f.lease(at(time.Minute), 100)...)
	require.Equal(f, want, ids(got, func(d *store.Delivery) string { return d.Event.ID }), "oldest due first")
}

func testLeaseInvalid(f *outboxFixture) {
	a := f.endpoint()
	f.publish("ping", at(0), a)
	for _, req := range []store.LeaseRequest{
		{Now: at(0), Limit: 0, Duration: time.Minute},
		{Now: at(0), Limit: -1, Duration: time.Minute},
		{Now: at(0), Limit: 1, Duration: 0},
		{Now: at(0), Limit: 1, Duration: -time.Second},
		{Now: at(0), Limit: 1, Duration: time.Minute, Mode: "staging"},
	} {
		ds, err := f.s.Lease(f.ctx, req)
		require.ErrorIs(f, err, store.ErrInvalid, "limit %d duration %v mode %q", req.Limit, req.Duration, req.Mode)
		require.Empty(f, ds)
	}
	require.Len(f, f.lease(at(0), 1), 1, "invalid requests must not lease anything")
}

func testLeaseMode(f *outboxFixture) {
	test := f.endpoint()
	live := f.endpoint(withMode(event.ModeLive))
	evTest := f.publish("ping", at(0), test)
	evLive := newEvent("ping", at(time.Second))
	evLive.APIMode = event.ModeLive
	f.enqueue(evLive, 1, live)

	got := f.lease(at(time.Minute), 10, func(r *store.LeaseRequest) { r.Mode = event.ModeLive })
	require.Len(f, got, 1)
	require.Equal(f, evLive.ID, got[0].Event.ID)
	require.Equal(f, event.ModeLive, got[0].Event.APIMode)
	require.Empty(f, f.lease(at(time.Minute), 10, func(r *store.LeaseRequest) { r.Mode = event.ModeLive }))

	got = f.lease(at(time.Minute), 10) // both modes
	require.Len(f, got, 1)
	require.Equal(f, evTest.ID, got[0].Event.ID)
}

func testLeaseSkipEndpoints(f *outboxFixture) {
	a, b, c := f.endpoint(), f.endpoint(), f.endpoint()
	// a's deliveries are the oldest: a store that takes the oldest due and
	// then drops skipped ones would return too few.
	for i := range 5 {
		f.publish("ping", at(time.Duration(i)*time.Millisecond), a)
	}
	eb := f.publish("ping", at(time.Second), b)
	ec := f.publish("ping", at(2*time.Second), c)

	skip := func(r *store.LeaseRequest) { r.SkipEndpoints = []string{a.ID, "no-such-endpoint"} }
	got := f.lease(at(time.Minute), 2, skip)
	require.Equal(f, []string{eb.ID, ec.ID}, ids(got, func(d *store.Delivery) string { return d.Event.ID }))
	require.Empty(f, f.lease(at(time.Minute), 2, skip))

	got = f.lease(at(time.Minute), 10)
	require.Len(f, got, 5)
	for _, d := range got {
		require.Equal(f, a.ID, d.EndpointID)
	}
}

func testLeaseConcurrent(f *outboxFixture) {
	const (
		perEndpoint = 100
		workers     = 16
		batch       = 7
	)
	eps := []*store.Endpoint{f.endpoint(), f.endpoint(), f.endpoint(), f.endpoint(), f.endpoint()}
	for i := range perEndpoint {
		f.publish("patient.created", at(time.Duration(i)*time.Millisecond), eps...)
	}
	total := perEndpoint * len(eps)

	var (
		mu     sync.Mutex
		leased = map[string][]string{} // delivery id -> workers
		tokens = map[string]string{}
		errs   []error
		wg     sync.WaitGroup
	)
	for w := range workers {
		worker := fmt.Sprintf("w%d", w)
		wg.Go(func() {
			for {
				ds, err := f.s.Lease(f.ctx, store.LeaseRequest{Now: at(time.Minute), Limit: batch, Duration: time.Hour, Worker: worker})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for _, d := range ds {
					leased[d.ID] = append(leased[d.ID], worker)
					tokens[d.ID] = d.LeaseToken
				}
				mu.Unlock()
				if err != nil || len(ds) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	require.Empty(f, errs)
	require.Len(f, leased, total, "every due delivery is leased")
	for id, by := range leased {
		require.Len(f, by, 1, "delivery %s leased by %v while its lease held", id, by)
	}

	// Settle them concurrently too; each settles exactly once.
	work := make(chan string, total)
	for id := range tokens {
		work <- id
	}
	close(work)
	for range workers {
		wg.Go(func() {
			for id := range work {
				st := succeeded(store.LeaseRef{DeliveryID: id, Token: tokens[id]}, at(2*time.Minute))
				lost, err := settleOne(f.ctx, f.s, st)
				if err == nil && lost {
					err = fmt.Errorf("first settlement of %s: lease lost", id)
				}
				if err == nil {
					if lost, err = settleOne(f.ctx, f.s, st); err == nil && !lost {
						err = fmt.Errorf("second settlement of %s: the lease held, want it lost", id)
					}
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Empty(f, errs)
	require.Empty(f, f.lease(at(48*time.Hour), 10), "succeeded deliveries are never leased")
	done, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, State: store.StateSucceeded, Page: store.Page{Limit: store.MaxPageSize}})
	require.NoError(f, err)
	require.Len(f, done, total)
}

// requireLeaseLost requires a settlement with each outcome to find ref's
// lease lost.
func (f *outboxFixture) requireLeaseLost(ref store.LeaseRef, what string) {
	f.Helper()
	for _, st := range []store.Settlement{
		succeeded(ref, at(time.Hour)),
		retried(ref, at(time.Hour), "x"),
		failed(ref, at(time.Hour), "x"),
		released(ref, at(time.Hour)),
	} {
		lost, err := settleOne(f.ctx, f.s, st)
		require.NoError(f, err, "%v with %s", st.Outcome, what)
		require.True(f, lost, "%v with %s: the lease must be lost", st.Outcome, what)
	}
}

func testLeaseExpiry(f *outboxFixture) {
	a := f.endpoint()
	ev := f.publish("ping", at(0), a)
	first := f.leaseOne(at(0))
	require.Empty(f, f.lease(at(time.Minute-time.Millisecond), 10), "the lease still holds")

	second := f.lease(at(time.Minute), 10, func(r *store.LeaseRequest) { r.Worker = "w2" })
	require.Len(f, second, 1, "an expired lease makes the delivery due again")
	d := second[0]
	require.Equal(f, first.ID, d.ID)
	require.Equal(f, ev.ID, d.Event.ID)
	require.NotEqual(f, first.LeaseToken, d.LeaseToken, "a new lease gets a new token")
	require.Equal(f, 2, d.Attempts, "an expired lease counts as an attempt")
	require.Equal(f, "w2", d.LeasedBy)
	sameTime(f, at(0), d.FirstAttemptAt, "FirstAttemptAt stays")
	sameTime(f, at(time.Minute), d.LastAttemptAt, "LastAttemptAt")

	f.requireLeaseLost(first.Ref(), "the expired token")
	stored := f.get(d.ID)
	require.Equal(f, store.StateLeased, stored.State)
	require.Equal(f, 2, stored.Attempts)

	f.settleOne(succeeded(d.Ref(), at(90*time.Second)))
	require.Equal(f, store.StateSucceeded, f.get(d.ID).State)

	// A lease that expired but was not taken again still holds.
	ev2 := f.publish("ping", at(time.Hour), a)
	late := f.leaseOne(at(time.Hour))
	require.Equal(f, ev2.ID, late.Event.ID)
	f.settleOne(succeeded(late.Ref(), at(3*time.Hour)))
	require.Equal(f, store.StateSucceeded, f.get(late.ID).State)
}

func testSettle(f *outboxFixture) {
	for _, tc := range []struct {
		name   string
		settle func(ref store.LeaseRef) store.Settlement
		check  func(f *outboxFixture, d *store.Delivery)
	}{
		{
			"Succeeded",
			func(ref store.LeaseRef) store.Settlement { return succeeded(ref, at(5*time.Minute)) },
			func(f *outboxFixture, d *store.Delivery) {
				require.Equal(f, store.StateSucceeded, d.State)
				sameTime(f, at(5*time.Minute), d.FinishedAt, "FinishedAt")
				require.Equal(f, 1, d.Attempts)
				require.Empty(f, f.lease(at(100*time.Hour), 10))
			},
		},
		{
			"Retry",
			func(ref store.LeaseRef) store.Settlement {
				return retried(ref, at(10*time.Minute), "503 Service Unavailable")
			},
			func(f *outboxFixture, d *store.Delivery) {
				require.Equal(f, store.StatePending, d.State)
				sameTime(f, at(10*time.Minute), d.NextAttemptAt, "NextAttemptAt")
				require.Equal(f, "503 Service Unavailable", d.LastError)
				require.Equal(f, 1, d.Attempts)
				require.True(f, d.FinishedAt.IsZero())
				require.Empty(f, f.lease(at(10*time.Minute-time.Millisecond), 10))
				again := f.leaseOne(at(10 * time.Minute))
				require.Equal(f, d.ID, again.ID)
				require.Equal(f, 2, again.Attempts)
				f.settleOne(succeeded(again.Ref(), at(11*time.Minute)))
				require.Equal(f, "503 Service Unavailable", f.get(d.ID).LastError, "a success keeps the last failure")
			},
		},
		{
			"Failed",
			func(ref store.LeaseRef) store.Settlement { return failed(ref, at(5*time.Minute), "410 Gone") },
			func(f *outboxFixture, d *store.Delivery) {
				require.Equal(f, store.StateFailed, d.State)
				sameTime(f, at(5*time.Minute), d.FinishedAt, "FinishedAt")
				require.Equal(f, "410 Gone", d.LastError)
				require.Equal(f, 1, d.Attempts)
				require.Empty(f, f.lease(at(100*time.Hour), 10))
			},
		},
		{
			"Released",
			func(ref store.LeaseRef) store.Settlement { return released(ref, at(7*time.Minute)) },
			func(f *outboxFixture, d *store.Delivery) {
				require.Equal(f, store.StatePending, d.State)
				sameTime(f, at(7*time.Minute), d.NextAttemptAt, "NextAttemptAt")
				require.Zero(f, d.Attempts, "a release takes the attempt back")
				require.True(f, d.FirstAttemptAt.IsZero(), "a release of the only attempt clears FirstAttemptAt")
				require.Empty(f, f.lease(at(7*time.Minute-time.Millisecond), 10))
				again := f.leaseOne(at(7 * time.Minute))
				require.Equal(f, d.ID, again.ID)
				require.Equal(f, 1, again.Attempts)
			},
		},
	} {
		f.Run(tc.name, func(t *testing.T) {
			f := f.fresh(t)
			a := f.endpoint()
			f.publish("ping", at(0), a)
			d := f.leaseOne(at(0))

			f.requireLeaseLost(store.LeaseRef{DeliveryID: d.ID, Token: d.LeaseToken + "x"}, "a wrong token")
			f.requireLeaseLost(store.LeaseRef{DeliveryID: d.ID}, "an empty token")
			f.requireLeaseLost(store.LeaseRef{DeliveryID: "no-such-delivery", Token: d.LeaseToken}, "an unknown delivery")
			require.Equal(f, store.StateLeased, f.get(d.ID).State, "settlements that lost the lease must not change the delivery")

			f.settleOne(tc.settle(d.Ref()))
			f.requireLeaseLost(d.Ref(), "a settled lease's token")
			tc.check(f, f.get(d.ID))
		})
	}
}

func testRetryOrder(f *outboxFixture) {
	a := f.endpoint()
	for range 3 {
		f.publish("ping", at(0), a)
	}
	ds := f.lease(at(0), 10, func(r *store.LeaseRequest) { r.Duration = time.Hour })
	require.Len(f, ds, 3)
	f.settleOne(retried(ds[0].Ref(), at(30*time.Minute), "e0"))
	f.settleOne(retried(ds[1].Ref(), at(10*time.Minute), "e1"))
	f.settleOne(retried(ds[2].Ref(), at(20*time.Minute), "e2"))

	got := f.lease(at(15*time.Minute), 10, func(r *store.LeaseRequest) { r.Duration = 24 * time.Hour })
	require.Equal(f, []string{ds[1].ID}, deliveryIDs(got))
	got = f.lease(at(40*time.Minute), 10)
	require.Equal(f, []string{ds[2].ID, ds[0].ID}, deliveryIDs(got), "due order after retries")
}

func testDisablePauses(f *outboxFixture) {
	a := f.endpoint()
	b := f.endpoint()
	// Two of a's deliveries are leased when a is disabled.
	f.publish("ping", at(-2*time.Minute), a)
	f.publish("ping", at(-time.Minute), a)
	held := f.lease(at(-time.Minute), 2)
	require.Len(f, held, 2)
	e1 := f.publish("patient.created", at(0), a, b)
	e2 := f.publish("patient.updated", at(time.Minute), a)

	_, err := f.s.SetDisabled(f.ctx, a.ID, true, "manual", at(2*time.Minute))
	require.NoError(f, err)
	require.Equal(f, store.StatePaused, f.deliveryOf(e1.ID, a.ID).State)
	require.Equal(f, store.StatePaused, f.deliveryOf(e2.ID, a.ID).State)
	require.Equal(f, store.StatePending, f.deliveryOf(e1.ID, b.ID).State)
	for _, d := range held {
		require.Equal(f, store.StateLeased, f.get(d.ID).State, "a held lease survives disabling")
	}

	// Enqueue for a disabled endpoint creates a paused delivery.
	e3 := f.publish("ping", at(3*time.Minute), a)
	require.Equal(f, store.StatePaused, f.deliveryOf(e3.ID, a.ID).State)

	// Only b's delivery is leased, long after the held leases expired.
	got := f.lease(at(time.Hour), 10, func(r *store.LeaseRequest) { r.Duration = 24 * time.Hour })
	require.Len(f, got, 1)
	require.Equal(f, b.ID, got[0].EndpointID)
	require.Empty(f, f.lease(at(2*time.Hour), 10))

	// The held leases settle; a retry and a release make them paused.
	f.settleOne(retried(held[0].Ref(), at(2*time.Hour), "503"))
	f.settleOne(released(held[1].Ref(), at(2*time.Hour)))
	require.Equal(f, store.StatePaused, f.get(held[0].ID).State)
	require.Equal(f, store.StatePaused, f.get(held[1].ID).State)
	require.Empty(f, f.lease(at(3*time.Hour), 10))

	// Enabling makes every paused delivery due at the given time.
	_, err = f.s.SetDisabled(f.ctx, a.ID, false, "", at(4*time.Hour))
	require.NoError(f, err)
	want := []string{held[0].ID, held[1].ID, f.deliveryOf(e1.ID, a.ID).ID, f.deliveryOf(e2.ID, a.ID).ID, f.deliveryOf(e3.ID, a.ID).ID}
	for _, id := range want {
		d := f.get(id)
		require.Equal(f, store.StatePending, d.State)
		sameTime(f, at(4*time.Hour), d.NextAttemptAt, "NextAttemptAt after enabling")
	}
	require.Empty(f, f.lease(at(4*time.Hour-time.Millisecond), 10))
	got = f.lease(at(4*time.Hour), 10)
	require.ElementsMatch(f, want, deliveryIDs(got))
}

// testEnqueueDueAt: a delivery is created at Now and first due at DueAt, and
// is not leased before.
func testEnqueueDueAt(f *outboxFixture) {
	a := f.endpoint()
	ev := newEvent("order.paid", at(0))
	n, err := f.s.Enqueue(f.ctx, store.EnqueueRequest{
		Event:   ev,
		Targets: targets(a),
		Now:     at(0),
		DueAt:   at(time.Hour),
	})
	require.NoError(f, err)
	require.Equal(f, 1, n)
	d := f.deliveryOf(ev.ID, a.ID)
	sameTime(f, at(0), d.CreatedAt, "CreatedAt is the publish time")
	sameTime(f, at(time.Hour), d.NextAttemptAt, "the first attempt is due at DueAt")
	require.Empty(f, f.lease(at(time.Hour-time.Second), 10), "not leased before it is due")
	require.Len(f, f.lease(at(time.Hour), 10), 1, "leased once due")
}

// testBacklog: Backlog counts the unfinished deliveries of a mode by where
// they are, as of an instant, and ignores finished ones.
func testBacklog(f *outboxFixture) {
	a := f.endpoint()
	b := f.endpoint()
	live := f.endpoint(withMode(event.ModeLive))
	backlog := func(mode event.Mode, now time.Time) store.Backlog {
		f.Helper()
		bl, err := f.s.Backlog(f.ctx, mode, now)
		require.NoError(f, err)
		return bl
	}
	require.Equal(f, store.Backlog{}, backlog(event.ModeTest, at(0)), "empty outbox")

	f.publish("order.paid", at(0), a)         // due
	f.publish("order.paid", at(0), a)         // due, then leased
	f.publish("order.paid", at(0), a)         // due, then succeeded
	f.publish("order.paid", at(time.Hour), a) // scheduled
	f.publish("order.paid", at(0), b)         // due, then paused
	liveEv := newEvent("order.paid", at(0))   // another mode
	liveEv.APIMode = event.ModeLive
	f.enqueue(liveEv, 1, live)

	leased := f.lease(at(0), 2, func(r *store.LeaseRequest) { r.Mode = event.ModeTest; r.SkipEndpoints = []string{b.ID} })
	require.Len(f, leased, 2)
	f.settleOne(succeeded(leased[0].Ref(), at(time.Second)))
	_, err := f.s.SetDisabled(f.ctx, b.ID, true, "test", at(time.Second))
	require.NoError(f, err)

	require.Equal(f, store.Backlog{Due: 1, Scheduled: 1, Leased: 1, Paused: 1}, backlog(event.ModeTest, at(time.Second)))
	require.Equal(f, store.Backlog{Due: 2, Leased: 1, Paused: 1}, backlog(event.ModeTest, at(time.Hour)),
		"a scheduled delivery is due once its time has come")
	require.Equal(f, store.Backlog{Due: 1}, backlog(event.ModeLive, at(time.Second)))
	all := backlog("", at(time.Second))
	require.Equal(f, store.Backlog{Due: 2, Scheduled: 1, Leased: 1, Paused: 1}, all, "both modes")
	require.Equal(f, 5, all.Pending())
}
