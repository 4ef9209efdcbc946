package postgres_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// TestSettlePlanReadsByKey shows that Settle's delivery UPDATE reads the
// deliveries alone (by primary key, or in one pass over a small table) and
// looks each one's settlement up by key, without joining them with the
// batch, even
// when the statistics say no delivery is leased (they were gathered
// before the lease, as autovacuum's often are): a join there was planned as
// a nested loop rescanning the batch for every leased row, quadratic in the
// batch size.
func TestSettlePlanReadsByKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	createEndpoints(t, s, "t", "a", "b")
	seed(ctx, t, s, []store.Target{{EndpointID: "a", Tenant: "t"}, {EndpointID: "b", Tenant: "t"}}, 5000, base)
	ds, err := s.Lease(ctx, store.LeaseRequest{Now: base, Limit: 256, Duration: time.Hour})
	require.NoError(t, err)
	require.Len(t, ds, 256)
	var b store.SettleBatch
	for i, d := range ds {
		st := store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: base}
		if i%2 == 0 {
			st = store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeRetry, Next: base.Add(time.Hour), Error: "503"}
		}
		b.Settlements = append(b.Settlements, st)
	}
	sql, args, err := postgres.SettleStatement(s, b)
	require.NoError(t, err)

	conn, err := pgx.Connect(ctx, testDSN(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	// Settle runs it with generic plans; through a view on a caller's
	// transaction it may run with custom ones. Both must read by key.
	for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, "SET LOCAL plan_cache_mode = "+mode)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, "PREPARE settle AS "+sql)
		require.NoError(t, err)
		// The simple protocol inlines the arguments into EXECUTE's.
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE settle($1, $2)",
			append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
		require.NoError(t, err)
		lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			l, err := pgx.RowTo[string](r)
			if len(l) > 120 {
				l = l[:120] + "..."
			}
			return l, err
		})
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))
		_, err = conn.Exec(ctx, "DEALLOCATE settle")
		require.NoError(t, err)
		plan := strings.Join(lines, "\n")
		t.Logf("settle plan (%s), 256 of 5,000 deliveries:\n%s", mode, plan)
		require.NotContains(t, plan, "Nested Loop", mode)
		require.NotContains(t, plan, "Join", mode)
		require.NotContains(t, plan, "Function Scan", mode)
		require.Contains(t, plan, "Update on deliveries d (actual rows=256", mode)
	}
}

// TestSettleGenericPlansForItsTransaction: Settle's statements run with
// generic plans (none is planned anew for its arrays, however many batches
// of one a connection settles), the setting that makes them so ends with
// Settle's implicit transaction, and the server has no warning for it.
func TestSettleGenericPlansForItsTransaction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg, err := pgxpool.ParseConfig(testDSN(t))
	require.NoError(t, err)
	cfg.MaxConns = 1 // every call on the connection inspected below
	var mu sync.Mutex
	var notices []string
	cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		defer mu.Unlock()
		notices = append(notices, n.Severity+": "+n.Message)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := newStoreOn(t, pool)
	createEndpoints(t, s, "t", "a")
	const batches = 12 // more than the 5 custom plans PostgreSQL tries first
	seed(ctx, t, s, []store.Target{{EndpointID: "a", Tenant: "t"}}, batches, base)
	ds, err := s.Lease(ctx, store.LeaseRequest{Now: base, Limit: batches, Duration: time.Hour})
	require.NoError(t, err)
	require.Len(t, ds, batches)
	mu.Lock()
	notices = nil
	mu.Unlock()
	for _, d := range ds {
		res, err := s.Settle(ctx, store.SettleBatch{
			Settlements: []store.Settlement{{Ref: d.Ref(), Outcome: store.OutcomeRetry, Next: base.Add(time.Hour), Error: "503",
				Attempt: &store.Attempt{DeliveryID: d.ID, EndpointID: d.EndpointID, EventID: d.Event.ID, EventType: d.Event.Type,
					Mode: d.Event.APIMode, Number: 1, At: base}}},
			Health: []store.HealthDelta{{EndpointID: "a", Failures: 1, FirstFailure: base, LastFailure: base}},
		})
		require.NoError(t, err)
		require.Equal(t, []bool{false}, res.Lost)
	}
	mu.Lock()
	require.Empty(t, notices, "Settle draws no notice or warning from the server")
	mu.Unlock()

	var mode string
	require.NoError(t, pool.QueryRow(ctx, "SHOW plan_cache_mode").Scan(&mode))
	require.Equal(t, "auto", mode, "the setting ends with Settle's transaction")
	rows, err := pool.Query(ctx, `SELECT statement, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE 'UPDATE %' OR statement LIKE 'SELECT id FROM %' OR statement LIKE 'INSERT INTO %.attempts%'`)
	require.NoError(t, err)
	type stmt struct {
		SQL    string
		Custom int64
	}
	stmts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[stmt])
	require.NoError(t, err)
	require.Len(t, stmts, 5, "the endpoint and delivery locks, the attempts, the settle and the health UPDATE")
	for _, st := range stmts {
		require.Zero(t, st.Custom, "custom plans of %.60s", st.SQL)
	}
}
