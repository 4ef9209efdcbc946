package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// TestThreeHandlesOneFile opens one database file three times, as three
// sender instances would, and has each handle enqueue keyed deliveries,
// lease and settle them at once. No call may fail (SQLITE_BUSY included:
// every connection waits for the write lock, and every write transaction
// takes it up front), and every key's deliveries are leased in order.
func TestThreeHandlesOneFile(t *testing.T) {
	if testing.Short() {
		t.Skip("several seconds of contention")
	}
	ctx := context.Background()
	first, path := open(t)
	handles := []*sqlite.Store{}
	for range 3 {
		// SQLite's busy handler polls with sleeps, so under this much
		// contention (every idle lease below takes the write lock, with
		// -race on two loaded cores) a writer may wait longer than the
		// default 5 s for its turn: the test is about correctness across
		// handles, not about how long a lock wait may last.
		s, err := sqlite.Open(path, &sqlite.Config{Now: func() time.Time { return base }, Keys: testKeys(t), BusyTimeout: time.Minute})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.NoError(t, s.Migrate(ctx))
		handles = append(handles, s)
	}
	ep := newEndpoint(t, first, "acme")
	const (
		keys   = 6
		perKey = 40
	)
	var (
		mu   sync.Mutex
		errs []error
		want = map[string][]string{}
		got  = map[string][]string{}
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var producers sync.WaitGroup
	for k := range keys {
		producers.Go(func() {
			s := handles[k%len(handles)]
			key := fmt.Sprint("key-", k)
			for i := range perKey {
				ev := newEvent("order.updated", at(time.Duration(i)*time.Millisecond))
				_, err := s.Enqueue(ctx, store.EnqueueRequest{Event: ev, Now: ev.Date,
					Targets: []store.Target{{EndpointID: ep.ID, Tenant: ep.Tenant}}, OrderingKey: key})
				if err != nil {
					fail(fmt.Errorf("enqueue: %w", err))
					return
				}
				mu.Lock()
				want[key] = append(want[key], ev.ID)
				mu.Unlock()
			}
		})
	}
	go func() { producers.Wait(); close(done) }()
	for w := range 2 * len(handles) {
		wg.Go(func() {
			s := handles[w%len(handles)]
			finished := false
			for idle := 0; idle < 20; {
				select {
				case <-done:
					finished = true
				default:
				}
				ds, err := s.Lease(ctx, store.LeaseRequest{Now: at(time.Minute), Limit: 4, Duration: time.Hour, Worker: fmt.Sprint("w", w)})
				if err != nil {
					fail(fmt.Errorf("lease: %w", err))
					return
				}
				if len(ds) == 0 {
					if finished {
						idle++
					}
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				var b store.SettleBatch
				mu.Lock()
				for _, d := range ds {
					got[d.OrderingKey] = append(got[d.OrderingKey], d.Event.ID)
					b.Settlements = append(b.Settlements, store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: at(time.Minute)})
				}
				mu.Unlock()
				if res, err := s.Settle(ctx, b); err != nil {
					fail(fmt.Errorf("settle: %w", err))
					return
				} else if len(res.Lost) != len(ds) {
					fail(fmt.Errorf("settle: %d results for %d", len(res.Lost), len(ds)))
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	require.Len(t, got, keys)
	for k, w := range want {
		require.Equal(t, w, got[k], "%s in enqueue order", k)
	}
}
