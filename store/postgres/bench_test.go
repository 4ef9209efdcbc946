package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// seed creates n pending test-mode deliveries of type "bench.backlog",
// each for an event of its own, spread round-robin over targets and all due
// at due, with two INSERT ... SELECT generate_series statements, then
// ANALYZEs the tables.
func seed(ctx context.Context, tb testing.TB, s *postgres.Store, targets []store.Target, n int, due time.Time) {
	tb.Helper()
	conn, err := pgx.Connect(ctx, testDSN(tb))
	require.NoError(tb, err)
	defer conn.Close(ctx)
	ids := make([]string, len(targets))
	tenants := make([]string, len(targets))
	for i, t := range targets {
		ids[i], tenants[i] = t.EndpointID, t.Tenant
	}
	q := func(sql string) string {
		return strings.ReplaceAll(sql, "{{schema}}", pgx.Identifier{s.Schema()}.Sanitize())
	}
	_, err = conn.Exec(ctx, q(`INSERT INTO {{schema}}.events (id, type, mode, data, date, created_at)
		SELECT 'backlog-' || g, 'bench.backlog', 'test', convert_to('{"n":' || g || '}', 'UTF8'), $1, $1
		FROM generate_series(1, $2) AS g`), due, n)
	require.NoError(tb, err)
	_, err = conn.Exec(ctx, q(`INSERT INTO {{schema}}.deliveries
			(id, event_id, endpoint_id, tenant, mode, event_type, state, next_attempt_at, created_at)
		SELECT gen_random_uuid()::text, 'backlog-' || g, ($3::text[])[1 + g % cardinality($3)],
			($4::text[])[1 + g % cardinality($4)], 'test', 'bench.backlog', 'pending', $1, $1
		FROM generate_series(1, $2) AS g`), due, n, ids, tenants)
	require.NoError(tb, err)
	_, err = conn.Exec(ctx, q(`ANALYZE {{schema}}.events; ANALYZE {{schema}}.deliveries`))
	require.NoError(tb, err)
}

// explainLease returns EXPLAIN (ANALYZE, BUFFERS) of the lease statement
// for req, run in a transaction that is rolled back.
func explainLease(ctx context.Context, tb testing.TB, s *postgres.Store, req store.LeaseRequest) string {
	tb.Helper()
	conn, err := pgx.Connect(ctx, testDSN(tb))
	require.NoError(tb, err)
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	require.NoError(tb, err)
	defer tx.Rollback(ctx) //nolint:errcheck // nothing to keep
	sql, args := postgres.LeaseStatement(s, req)
	rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) "+sql, args...)
	require.NoError(tb, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(tb, err)
	return strings.Join(lines, "\n")
}

// TestLeasePlanUsesDueIndex shows, with a backlog of not-yet-due
// deliveries, that Lease reads deliveries_due_idx and touches only the due
// rows: for one mode and for both.
func TestLeasePlanUsesDueIndex(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	seed(ctx, t, s, []store.Target{{EndpointID: "a", Tenant: "t"}, {EndpointID: "b", Tenant: "t"}}, 20000, base.Add(24*time.Hour))
	createEndpoints(t, s, "t", "c")
	for i := range 5 {
		_, err := s.Enqueue(ctx, enqueueAt(testEvent(fmt.Sprint("due-", i), "order.created", `{}`), []store.Target{{EndpointID: "c", Tenant: "t"}}))
		require.NoError(t, err)
	}
	for _, mode := range []event.Mode{event.ModeTest, ""} {
		req := store.LeaseRequest{Now: base, Limit: 10, Duration: time.Minute, Mode: mode, SkipEndpoints: []string{"x"}}
		plan := explainLease(ctx, t, s, req)
		t.Logf("lease plan (mode %q), 20,000 not-yet-due deliveries:\n%s", mode, plan)
		require.Contains(t, plan, "deliveries_due_idx")
		require.NotContains(t, plan, "Seq Scan on deliveries")
		require.Contains(t, plan, "rows=5", "the index range holds only the 5 due rows")
	}
}

// TestLeasePlanUsesKeyIndex shows that the ordering-key check of Lease
// reads deliveries_key_idx, not the key's history: beside 20,000
// not-yet-due deliveries and 20,000 finished ones of the same key, it
// leases the heads of 50 keys that have 4 due deliveries each.
func TestLeasePlanUsesKeyIndex(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	seed(ctx, t, s, []store.Target{{EndpointID: "a", Tenant: "t"}}, 20000, base.Add(24*time.Hour))
	createEndpoints(t, s, "t", "c")
	conn, err := pgx.Connect(ctx, testDSN(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, strings.ReplaceAll(`INSERT INTO {{schema}}.deliveries
			(id, event_id, endpoint_id, tenant, mode, event_type, state, next_attempt_at, created_at, finished_at,
			 ordering_key, key_seq)
		SELECT gen_random_uuid()::text, 'backlog-' || g, 'c', 't', 'test', 'bench.backlog', 'succeeded', $1, $1, $1,
			'k0', -g
		FROM generate_series(1, 20000) AS g`, "{{schema}}", pgx.Identifier{s.Schema()}.Sanitize()), base)
	require.NoError(t, err)
	for i := range 4 {
		for k := range 50 {
			req := enqueueAt(testEvent(fmt.Sprint("keyed-", i, "-", k), "order.created", `{}`), []store.Target{{EndpointID: "c", Tenant: "t"}})
			req.OrderingKey = fmt.Sprint("k", k)
			_, err := s.Enqueue(ctx, req)
			require.NoError(t, err)
		}
	}
	_, err = conn.Exec(ctx, strings.ReplaceAll(`ANALYZE {{schema}}.deliveries`, "{{schema}}", pgx.Identifier{s.Schema()}.Sanitize()))
	require.NoError(t, err)
	req := store.LeaseRequest{Now: base, Limit: 10, Duration: time.Minute, Mode: event.ModeTest}
	plan := explainLease(ctx, t, s, req)
	t.Logf("lease plan, 50 keys of 4 due deliveries, 20,000 finished of one key:\n%s", plan)
	require.Contains(t, plan, "deliveries_due_idx")
	require.Contains(t, plan, "deliveries_key_idx", "the key check reads the key index")
	require.Contains(t, plan, "deliveries_key_leased_idx", "the lease check reads the leased-key index")
	require.NotContains(t, plan, "Seq Scan on deliveries")
	ds, err := s.Lease(ctx, req)
	require.NoError(t, err)
	require.Len(t, ds, 10)
	for _, d := range ds {
		require.Contains(t, d.Event.ID, "keyed-0-", "only the keys' heads are leased")
	}
}

// backlogSizes are the benchmarks' not-yet-due backlogs: 1,000 and
// 100,000, and 1,000,000 with WEBHOOKKIT_FULL=1.
func backlogSizes() []int {
	if os.Getenv("WEBHOOKKIT_FULL") == "1" {
		return []int{1000, 100000, 1000000}
	}
	return []int{1000, 100000}
}

func sizeName(n int) string { return fmt.Sprintf("backlog=%d", n) }

// BenchmarkLease measures one Lease of 10 due deliveries beside a backlog
// of not-yet-due ones (seeded in bulk, untimed, in a throwaway schema). Each
// iteration moves the clock 1 ms ahead and leases for 1 ms, so the same 100
// due deliveries come due again in turn. The cost should not depend on the
// backlog. Sizes: 1,000 and 100,000; 1,000,000 too with WEBHOOKKIT_FULL=1.
func BenchmarkLease(b *testing.B) {
	for _, n := range backlogSizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			ctx := b.Context()
			s := newStore(b)
			seed(ctx, b, s, []store.Target{{EndpointID: "a", Tenant: "t"}, {EndpointID: "b", Tenant: "t"}}, n, base.Add(1000*time.Hour))
			createEndpoints(b, s, "t", "c")
			for i := range 100 {
				_, err := s.Enqueue(ctx, enqueueAt(testEvent(fmt.Sprint("due-", i), "order.created", `{}`), []store.Target{{EndpointID: "c", Tenant: "t"}}))
				require.NoError(b, err)
			}
			b.Logf("lease plan, backlog %d:\n%s", n, explainLease(ctx, b, s,
				store.LeaseRequest{Now: base, Limit: 10, Duration: time.Millisecond, Mode: event.ModeTest}))
			now := base
			for b.Loop() {
				now = now.Add(time.Millisecond)
				ds, err := s.Lease(ctx, store.LeaseRequest{Now: now, Limit: 10, Duration: time.Millisecond, Mode: event.ModeTest})
				if err != nil || len(ds) != 10 {
					b.Fatalf("leased %d, err %v", len(ds), err)
				}
			}
		})
	}
}

// BenchmarkAttemptStats reads a tenant's hourly aggregates over 15 days
// with 1,440 attempts (one per endpoint and hour) and 30 times more (the
// attempts are added one AddAttempt at a time, so more takes long to seed).
func BenchmarkAttemptStats(b *testing.B) {
	for _, n := range []int{storetest.BenchStatsCells, 30 * storetest.BenchStatsCells} {
		b.Run(fmt.Sprintf("attempts=%d", n), func(b *testing.B) {
			storetest.BenchmarkAttemptStats(b, func(tb testing.TB) storetest.Store { return newStore(tb) }, n)
		})
	}
}
