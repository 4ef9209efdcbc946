package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// finishAll leases every due delivery at now and settles them, succeeded
// at end.
func finishAll(ctx context.Context, tb testing.TB, s *postgres.Store, now, end time.Time) int {
	tb.Helper()
	ds, err := s.Lease(ctx, store.LeaseRequest{Now: now, Limit: 1000, Duration: time.Hour})
	require.NoError(tb, err)
	var batch store.SettleBatch
	for _, d := range ds {
		batch.Settlements = append(batch.Settlements, store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: end})
	}
	res, err := s.Settle(ctx, batch)
	require.NoError(tb, err)
	require.NotContains(tb, res.Lost, true)
	return len(ds)
}

// count returns the number of rows of a table of s's schema.
func count(ctx context.Context, tb testing.TB, s *postgres.Store, table string) int {
	tb.Helper()
	conn, err := pgx.Connect(ctx, testDSN(tb))
	require.NoError(tb, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(tb, conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{s.Schema(), table}.Sanitize()).Scan(&n))
	return n
}

// TestPruneDeliveriesBatches prunes more deliveries than a batch holds,
// with a batch boundary on the last row too, and checks that their events
// went with them and the pending delivery and its event stayed.
func TestPruneDeliveriesBatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		batch, finished int
	}{
		{"several batches", 3, 10},
		{"exact multiple", 5, 10},
		{"one batch", 100, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newStore(t)
			postgres.SetPruneBatch(s, tc.batch)
			createEndpoints(t, s, "t", "a", "b")
			for i := range tc.finished {
				_, err := s.Enqueue(ctx, enqueueAt(testEvent(fmt.Sprint("done-", i), "order.created", `{}`), []store.Target{{EndpointID: "a", Tenant: "t"}}))
				require.NoError(t, err)
			}
			require.Equal(t, tc.finished, finishAll(ctx, t, s, base, base.Add(time.Minute)))
			pending := testEvent("pending", "order.created", `{}`)
			pending.Date = base.Add(24 * time.Hour)
			_, err := s.Enqueue(ctx, enqueueAt(pending, []store.Target{{EndpointID: "b", Tenant: "t"}}))
			require.NoError(t, err)

			n, err := s.PruneDeliveries(ctx, base.Add(time.Hour))
			require.NoError(t, err)
			require.Equal(t, tc.finished, n)
			require.Equal(t, 1, count(ctx, t, s, "deliveries"), "only the pending delivery stays")
			require.Equal(t, 1, count(ctx, t, s, "events"), "only the pending delivery's event stays")
		})
	}
}

func TestPruneDeliveriesCanceled(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n, err := s.PruneDeliveries(ctx, base)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
}

// TestPruneDeliveriesWhileRepublishing prunes while other goroutines
// re-publish the very events being pruned: the event row lock taken by
// Enqueue keeps the two from racing into a foreign-key error, and every
// old delivery is pruned exactly once.
func TestPruneDeliveriesWhileRepublishing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	postgres.SetPruneBatch(s, 4)
	createEndpoints(t, s, "t", "a")
	const events = 60
	evs := make([]string, events)
	for i := range events {
		evs[i] = fmt.Sprintf("ev-%02d", i)
		_, err := s.Enqueue(ctx, enqueueAt(testEvent(evs[i], "order.created", `{}`), []store.Target{{EndpointID: "a", Tenant: "t"}}))
		require.NoError(t, err)
	}
	require.Equal(t, events, finishAll(ctx, t, s, base, base.Add(time.Minute)))

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		pruned int
		start  = make(chan struct{})
	)
	wg.Go(func() {
		<-start
		n, err := s.PruneDeliveries(ctx, base.Add(time.Hour))
		mu.Lock()
		defer mu.Unlock()
		pruned = n
		if err != nil {
			errs = append(errs, err)
		}
	})
	for w := range 3 {
		wg.Go(func() {
			<-start
			for i := range events {
				id := evs[(i*7+w*13)%events]
				ev := testEvent(id, "order.created", `{}`)
				if _, err := s.Enqueue(ctx, enqueueAt(ev, []store.Target{{EndpointID: "a", Tenant: "t"}})); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("enqueue %s: %w", id, err))
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()
	require.Empty(t, errs)
	require.Equal(t, events, pruned, "every old delivery is pruned once")

	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, Page: store.Page{Limit: store.MaxPageSize}})
	require.NoError(t, err)
	for _, d := range ds {
		require.Equal(t, store.StatePending, d.State, "only fresh deliveries remain")
	}
	n, err := s.PruneDeliveries(ctx, base.Add(time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestPrunePlanUsesFinishedIndex shows, beside a backlog of pending
// deliveries, that the prune's batch query reads deliveries_finished_idx.
func TestPrunePlanUsesFinishedIndex(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	seed(ctx, t, s, []store.Target{{EndpointID: "a", Tenant: "t"}}, 20000, base.Add(24*time.Hour))
	conn, err := pgx.Connect(ctx, testDSN(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "EXPLAIN (COSTS OFF) SELECT id FROM "+pgx.Identifier{s.Schema(), "deliveries"}.Sanitize()+`
		WHERE state IN ('succeeded', 'failed') AND finished_at < $1 ORDER BY finished_at LIMIT 1000`, base)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	plan := strings.Join(lines, "\n")
	require.Contains(t, plan, "deliveries_finished_idx", plan)
	require.NotContains(t, plan, "Seq Scan", plan)
}
