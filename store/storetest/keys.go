package storetest

import (
	"fmt"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// keyCases test ordering keys: Lease hands out a key's deliveries one at a
// time, in enqueue order, per endpoint.
var keyCases = []testCase[*outboxFixture]{
	{"KeyOrder", testKeyOrder},
	{"KeyLeaseExpiry", testKeyLeaseExpiry},
	{"KeyGiveUp", testKeyGiveUp},
	{"KeyPaused", testKeyPaused},
	{"KeyConcurrent", testKeyConcurrent},
	{"KeyBacklog", testKeyBacklog},
	{"KeyRequeueOvertakes", testKeyRequeueOvertakes},
	{"KeyPrunedHolder", testKeyPrunedHolder},
	{"KeyEnqueueWhileSettling", testKeyEnqueueWhileSettling},
}

// publishKeyed enqueues a new event with an ordering key for eps, due at
// due, published at now, and returns its id.
func (f *outboxFixture) publishKeyed(key string, now, due time.Time, eps ...*store.Endpoint) string {
	f.Helper()
	ev := newEvent("order.updated", now)
	req := enqueueAt(ev, targets(eps...))
	req.DueAt, req.OrderingKey = due, key
	n, err := f.s.Enqueue(f.ctx, req)
	require.NoError(f, err)
	require.Equal(f, len(eps), n)
	return ev.ID
}

func eventIDs(ds []*store.Delivery) []string {
	return ids(ds, func(d *store.Delivery) string { return d.Event.ID })
}

func testKeyOrder(f *outboxFixture) {
	a, b := f.endpoint(), f.endpoint()
	// e2 falls due before e1, but e1 was enqueued first: e2 waits.
	e1 := f.publishKeyed("order-1", at(0), at(5*time.Second), a, b)
	e2 := f.publishKeyed("order-1", at(time.Second), at(time.Second), a, b)
	e3 := f.publishKeyed("order-1", at(2*time.Second), at(2*time.Second), a)
	other := f.publishKeyed("order-2", at(3*time.Second), at(3*time.Second), a)
	plain := f.publish("ping", at(4*time.Second), a)

	d := f.deliveryOf(e1, a.ID)
	require.Equal(f, "order-1", d.OrderingKey, "the delivery carries its ordering key")
	require.False(f, d.HoldsKey)
	require.Empty(f, f.deliveryOf(plain.ID, a.ID).OrderingKey)

	got := f.lease(at(4*time.Second), 10)
	require.ElementsMatch(f, []string{other, plain.ID}, eventIDs(got),
		"a key's later deliveries wait for its first, even when they fall due first; other keys and unkeyed deliveries do not")
	for _, d := range got {
		f.settleOne(succeeded(d.Ref(), at(4*time.Second)))
	}

	got = f.lease(at(10*time.Second), 10)
	require.Equal(f, []string{e1, e1}, eventIDs(got), "the head of the key, once due, on each endpoint")
	var headA, headB *store.Delivery
	for _, d := range got {
		if d.EndpointID == a.ID {
			headA = d
		} else {
			headB = d
		}
	}
	require.NotNil(f, headA)
	require.NotNil(f, headB)
	require.Empty(f, f.lease(at(10*time.Second), 10), "a leased head blocks its key")

	// A retried head blocks its key until it succeeds; the other endpoint's
	// key goes on.
	f.settleOne(retried(headA.Ref(), at(time.Hour), "503"))
	f.settleOne(succeeded(headB.Ref(), at(11*time.Second)))
	got = f.lease(at(20*time.Second), 10)
	require.Len(f, got, 1)
	require.Equal(f, e2, got[0].Event.ID)
	require.Equal(f, b.ID, got[0].EndpointID, "the retried head blocks only its own endpoint's key")
	f.settleOne(succeeded(got[0].Ref(), at(21*time.Second)))
	require.Empty(f, f.lease(at(30*time.Second), 10), "endpoint b's key is done; a's waits for its retried head")

	for i, want := range []string{e1, e2, e3} {
		got := f.lease(at(time.Hour+time.Duration(i)*time.Second), 10)
		require.Equal(f, []string{want}, eventIDs(got), "delivery %d of the key", i)
		f.settleOne(succeeded(got[0].Ref(), at(time.Hour+time.Duration(i)*time.Second)))
	}
	require.Empty(f, f.lease(at(2*time.Hour), 10))
}

func testKeyLeaseExpiry(f *outboxFixture) {
	a := f.endpoint()
	e1 := f.publishKeyed("k", at(0), at(0), a)
	e2 := f.publishKeyed("k", at(time.Second), at(time.Second), a)
	first := f.lease(at(time.Second), 10)
	require.Equal(f, []string{e1}, eventIDs(first))
	again := f.lease(at(2*time.Minute), 10)
	require.Equal(f, []string{e1}, eventIDs(again), "an expired head is leased again, not overtaken")
	f.requireLeaseLost(first[0].Ref(), "the expired head's token")
	f.settleOne(released(again[0].Ref(), at(3*time.Minute)))
	require.Empty(f, f.lease(at(2*time.Minute), 10), "a released head still blocks its key")
	got := f.lease(at(3*time.Minute), 10)
	require.Equal(f, []string{e1}, eventIDs(got))
	f.settleOne(succeeded(got[0].Ref(), at(3*time.Minute)))
	require.Equal(f, []string{e2}, eventIDs(f.lease(at(3*time.Minute), 10)))
}

func testKeyGiveUp(f *outboxFixture) {
	a := f.endpoint()
	e1 := f.publishKeyed("k", at(0), at(0), a)
	e2 := f.publishKeyed("k", at(time.Second), at(time.Second), a)
	e3 := f.publishKeyed("k", at(2*time.Second), at(2*time.Second), a)

	// Given up without holding: the next goes.
	got := f.lease(at(time.Minute), 10)
	require.Equal(f, []string{e1}, eventIDs(got))
	f.settleOne(failed(got[0].Ref(), at(time.Minute), "gave up"))
	d1 := f.get(got[0].ID)
	require.Equal(f, store.StateFailed, d1.State)
	require.False(f, d1.HoldsKey)

	// Given up holding the key: the key waits.
	got = f.lease(at(2*time.Minute), 10)
	require.Equal(f, []string{e2}, eventIDs(got))
	hold := failed(got[0].Ref(), at(2*time.Minute), "gave up")
	hold.HoldKey = true
	f.settleOne(hold)
	d2 := f.get(got[0].ID)
	require.Equal(f, store.StateFailed, d2.State)
	require.True(f, d2.HoldsKey, "a head given up with HoldKey holds its key")
	require.Empty(f, f.lease(at(time.Hour), 10), "a held key waits")
	require.Equal(f, store.StatePending, f.deliveryOf(e3, a.ID).State)

	// Requeueing the held head lets it go first, then the rest.
	require.NoError(f, f.s.Requeue(f.ctx, d2.ID, at(time.Hour)))
	require.False(f, f.get(d2.ID).HoldsKey, "Requeue clears HoldsKey")
	got = f.lease(at(time.Hour), 10)
	require.Equal(f, []string{e2}, eventIDs(got))
	f.settleOne(succeeded(got[0].Ref(), at(time.Hour)))
	require.Equal(f, []string{e3}, eventIDs(f.lease(at(time.Hour), 10)))
}

func testKeyPaused(f *outboxFixture) {
	a := f.endpoint()
	e1 := f.publishKeyed("k", at(0), at(0), a)
	e2 := f.publishKeyed("k", at(time.Second), at(time.Second), a)
	_, err := f.s.SetDisabled(f.ctx, a.ID, true, "manual", at(2*time.Second))
	require.NoError(f, err)
	require.Empty(f, f.lease(at(time.Minute), 10))
	_, err = f.s.SetDisabled(f.ctx, a.ID, false, "", at(2*time.Minute))
	require.NoError(f, err)
	got := f.lease(at(2*time.Minute), 10)
	require.Equal(f, []string{e1}, eventIDs(got), "enabling keeps the key's order")
	f.settleOne(succeeded(got[0].Ref(), at(2*time.Minute)))
	require.Equal(f, []string{e2}, eventIDs(f.lease(at(2*time.Minute), 10)))
}

// testKeyConcurrent has workers lease and settle concurrently and checks
// that each key's deliveries are leased one at a time in enqueue order,
// while unkeyed deliveries and other keys go on.
func testKeyConcurrent(f *outboxFixture) {
	const (
		keys    = 6
		perKey  = 12
		workers = 8
	)
	eps := []*store.Endpoint{f.endpoint(), f.endpoint()}
	want := map[string][]string{} // endpoint/key -> event ids in order
	for i := range perKey {
		for k := range keys {
			key := fmt.Sprintf("k%d", k)
			id := f.publishKeyed(key, at(time.Duration(i*keys+k)*time.Millisecond), at(0), eps...)
			for _, ep := range eps {
				want[ep.ID+"/"+key] = append(want[ep.ID+"/"+key], id)
			}
		}
		f.publish("ping", at(0), eps...)
	}
	var (
		mu       sync.Mutex
		inFlight = map[string]bool{}
		got      = map[string][]string{}
		errs     []error
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			idle := 0
			for idle < 50 {
				ds, err := f.s.Lease(f.ctx, store.LeaseRequest{Now: at(time.Minute), Limit: 3, Duration: time.Hour, Worker: fmt.Sprint("w", w)})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(ds) == 0 {
					idle++
					continue
				}
				idle = 0
				mu.Lock()
				for _, d := range ds {
					if d.OrderingKey == "" {
						continue
					}
					k := d.EndpointID + "/" + d.OrderingKey
					if inFlight[k] {
						errs = append(errs, fmt.Errorf("key %s leased twice at once", k))
					}
					inFlight[k] = true
					got[k] = append(got[k], d.Event.ID)
				}
				mu.Unlock()
				for _, d := range ds {
					if d.OrderingKey != "" {
						mu.Lock()
						inFlight[d.EndpointID+"/"+d.OrderingKey] = false
						mu.Unlock()
					}
					if _, err := settleOne(f.ctx, f.s, succeeded(d.Ref(), at(time.Minute))); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	require.Empty(f, errs)
	for k, w := range want {
		require.Equal(f, w, got[k], "key %s in enqueue order", k)
	}
	left, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, State: store.StatePending})
	require.NoError(f, err)
	require.Empty(f, left)
	require.Len(f, got, keys*len(eps))
}

// testKeyBacklog queues deliveries behind a head that waits for its retry:
// they are counted by Backlog, other deliveries are leased past them, and
// once the head succeeds they go one at a time, in order, each as soon as
// the previous one succeeds.
func testKeyBacklog(f *outboxFixture) {
	const queued = 30
	a, b := f.endpoint(), f.endpoint()
	head := f.publishKeyed("k", at(0), at(0), a)
	got := f.lease(at(0), 10)
	require.Equal(f, []string{head}, eventIDs(got))
	f.settleOne(retried(got[0].Ref(), at(time.Hour), "503"))
	var want []string
	for i := range queued {
		want = append(want, f.publishKeyed("k", at(time.Duration(i+1)*time.Millisecond), at(time.Second), a))
	}
	plain := f.publish("ping", at(2*time.Second), b)
	bl, err := f.s.Backlog(f.ctx, event.ModeTest, at(time.Minute))
	require.NoError(f, err)
	require.Equal(f, store.Backlog{Due: 1, Scheduled: 1, Waiting: queued}, bl,
		"the queued deliveries wait for their key, whatever their due time; the head is scheduled; the other delivery is due")
	require.Equal(f, queued+2, bl.Pending())
	require.False(f, f.deliveryOf(head, a.ID).KeyWaiting, "the head does not wait for its key")
	require.True(f, f.deliveryOf(want[0], a.ID).KeyWaiting, "a queued delivery waits for its key")
	require.True(f, f.deliveryOf(want[queued-1], a.ID).KeyWaiting)
	require.False(f, f.deliveryOf(plain.ID, b.ID).KeyWaiting, "an unkeyed delivery never waits for a key")
	got = f.lease(at(time.Minute), 10)
	require.Equal(f, []string{plain.ID}, eventIDs(got), "the queued backlog waits; other deliveries go past it")
	f.settleOne(succeeded(got[0].Ref(), at(time.Minute)))

	got = f.lease(at(time.Hour), 10)
	require.Equal(f, []string{head}, eventIDs(got))
	f.settleOne(succeeded(got[0].Ref(), at(time.Hour)))
	for i, id := range want {
		got := f.lease(at(time.Hour), 10)
		require.Equal(f, []string{id}, eventIDs(got), "queued delivery %d, alone", i)
		require.False(f, got[0].KeyWaiting, "a leased delivery does not wait")
		if i%2 == 0 {
			f.settleOne(succeeded(got[0].Ref(), at(time.Hour)))
		} else {
			f.settleOne(failed(got[0].Ref(), at(time.Hour), "gave up"))
		}
	}
	require.Empty(f, f.lease(at(2*time.Hour), 10))
	bl, err = f.s.Backlog(f.ctx, event.ModeTest, at(2*time.Hour))
	require.NoError(f, err)
	require.Equal(f, store.Backlog{}, bl)
}

// testKeyRequeueOvertakes requeues a finished delivery of a key while a
// later one is leased and more are queued: the requeued one goes next, in
// its place, and then the queue.
func testKeyRequeueOvertakes(f *outboxFixture) {
	a := f.endpoint()
	e1 := f.publishKeyed("k", at(0), at(0), a)
	e2 := f.publishKeyed("k", at(time.Second), at(time.Second), a)
	e3 := f.publishKeyed("k", at(2*time.Second), at(2*time.Second), a)
	got := f.lease(at(time.Minute), 10)
	require.Equal(f, []string{e1}, eventIDs(got))
	f.settleOne(succeeded(got[0].Ref(), at(time.Minute)))
	second := f.lease(at(time.Minute), 10)
	require.Equal(f, []string{e2}, eventIDs(second))

	require.NoError(f, f.s.Requeue(f.ctx, got[0].ID, at(time.Minute)))
	require.Empty(f, f.lease(at(90*time.Second), 10), "the key is leased")
	f.settleOne(succeeded(second[0].Ref(), at(90*time.Second)))
	for _, want := range []string{e1, e3} {
		got := f.lease(at(3*time.Minute), 10)
		require.Equal(f, []string{want}, eventIDs(got))
		f.settleOne(succeeded(got[0].Ref(), at(3*time.Minute)))
	}
	require.Empty(f, f.lease(at(time.Hour), 10))
}

// testKeyPrunedHolder prunes a failed delivery that holds its key: the
// key's next delivery goes.
func testKeyPrunedHolder(f *outboxFixture) {
	p := f.pruner()
	a := f.endpoint()
	e1 := f.publishKeyed("k", at(0), at(0), a)
	e2 := f.publishKeyed("k", at(time.Second), at(time.Second), a)
	got := f.lease(at(time.Minute), 10)
	require.Equal(f, []string{e1}, eventIDs(got))
	hold := failed(got[0].Ref(), at(time.Minute), "gave up")
	hold.HoldKey = true
	f.settleOne(hold)
	require.Empty(f, f.lease(at(time.Hour), 10), "a held key waits")
	require.Equal(f, 1, f.prune(p, at(2*time.Minute)))
	require.Equal(f, []string{e2}, eventIDs(f.lease(at(time.Hour), 10)), "pruning the holder lets the key go")
}

// testKeyEnqueueWhileSettling enqueues deliveries of one key while workers
// lease and settle it, so enqueues race the settlement of the key's head:
// every delivery is leased, in enqueue order, and none is left behind.
func testKeyEnqueueWhileSettling(f *outboxFixture) {
	const (
		n       = 120
		workers = 4
	)
	a := f.endpoint()
	var (
		mu       sync.Mutex
		want     []string
		got      []string
		errs     []error
		enqueued = make(chan struct{})
		wg       sync.WaitGroup
	)
	wg.Go(func() {
		defer close(enqueued)
		for i := range n {
			id := f.publishKeyed("k", at(time.Duration(i)*time.Millisecond), at(0), a)
			mu.Lock()
			want = append(want, id)
			mu.Unlock()
		}
	})
	for w := range workers {
		wg.Go(func() {
			done := false
			for idle := 0; idle < 100; {
				select {
				case <-enqueued:
					done = true
				default:
				}
				ds, err := f.s.Lease(f.ctx, store.LeaseRequest{Now: at(time.Minute), Limit: 2, Duration: time.Hour, Worker: fmt.Sprint("w", w)})
				if err == nil && len(ds) > 1 {
					err = fmt.Errorf("leased %d deliveries of one key at once", len(ds))
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(ds) == 0 {
					if done {
						idle++
					}
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				mu.Lock()
				got = append(got, ds[0].Event.ID)
				mu.Unlock()
				if _, err := settleOne(f.ctx, f.s, succeeded(ds[0].Ref(), at(time.Minute))); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	require.Empty(f, errs)
	require.Equal(f, want, got, "every delivery of the key, in enqueue order")
}
