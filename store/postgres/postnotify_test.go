package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// stmtLog records, in the order they happen, the statements a pool's
// connections run: each statement's start (with its arguments) and end.
type stmtLog struct {
	mu    sync.Mutex
	on    bool
	steps []stmtStep
}

type stmtStep struct {
	conn  *pgx.Conn
	start bool // its start; false: its end
	sql   string
	args  []any
}

type stmtKey struct{}

func (l *stmtLog) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.add(stmtStep{conn: c, start: true, sql: d.SQL, args: d.Args})
	return context.WithValue(ctx, stmtKey{}, d.SQL)
}

func (l *stmtLog) TraceQueryEnd(ctx context.Context, c *pgx.Conn, _ pgx.TraceQueryEndData) {
	sql, _ := ctx.Value(stmtKey{}).(string)
	l.add(stmtStep{conn: c, sql: sql})
}

func (l *stmtLog) add(s stmtStep) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.steps = append(l.steps, s)
	}
}

func (l *stmtLog) record(on bool) []stmtStep {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = on
	steps := l.steps
	l.steps = nil
	return steps
}

// tracedPool returns a pool on the test database whose statements log
// records, closed in tb.Cleanup.
func tracedPool(tb testing.TB) (*pgxpool.Pool, *stmtLog) {
	tb.Helper()
	log := &stmtLog{}
	cfg, err := pgxpool.ParseConfig(testDSN(tb))
	require.NoError(tb, err)
	cfg.ConnConfig.Tracer = log
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	return pool, log
}

func isNotify(sql string) bool { return strings.Contains(sql, "pg_notify($1") }

// TestEnqueueNotifiesAfterCommit checks how Enqueue on the Store itself
// notifies: not in its transaction (PostgreSQL commits the transactions
// that notify one at a time, which would serialise concurrent publishes),
// but after its commit, in a statement of its own; concurrent enqueues may
// share a notification, but every committed enqueue is followed by one
// that began after its commit, and a subscriber is woken.
func TestEnqueueNotifiesAfterCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, log := tracedPool(t)
	s := newStoreOn(t, pool)
	createEndpoints(t, s, "acme", "ep1")
	sub, err := peer(t, s).Subscribe(ctx)
	require.NoError(t, err)
	expectSignal(t, sub, "listening began")
	targets := []store.Target{{EndpointID: "ep1", Tenant: "acme"}}

	const n = 16
	log.record(true)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ev := testEvent(fmt.Sprintf("5d0c7a5e-0000-4000-8000-%012d", i), "order.created", `{}`)
			created, err := s.Enqueue(ctx, enqueueAt(ev, targets))
			require.NoError(t, err)
			require.Equal(t, 1, created)
		})
	}
	wg.Wait()
	steps := log.record(false)
	expectSignal(t, sub, "after the enqueues")

	inTx := map[*pgx.Conn]bool{}
	commits, notifies, lastCommit, lastNotify := 0, 0, -1, -1
	for i, st := range steps {
		sql := strings.ToLower(strings.TrimSpace(st.sql))
		switch {
		case st.start && sql == "begin":
			inTx[st.conn] = true
		case !st.start && sql == "commit":
			inTx[st.conn] = false
			commits++
			lastCommit = i
		case st.start && isNotify(st.sql):
			require.False(t, inTx[st.conn], "the notification is sent outside the enqueue's transaction")
			require.Equal(t, []any{s.NotifyChannel()}, st.args)
			notifies++
			lastNotify = i
		case st.start && inTx[st.conn] && strings.Contains(st.sql, "pg_notify("):
			require.Nil(t, st.args[len(st.args)-1], "the enqueue's transaction notifies no channel: %s", st.sql)
		}
	}
	require.Equal(t, n, commits)
	require.Positive(t, notifies)
	require.LessOrEqual(t, notifies, n)
	require.Greater(t, lastNotify, lastCommit, "a notification began after the last commit")
}

// TestEnqueueNotifiesNothingWhenDisabled checks that a Store with
// DisableNotify sends no notification after Enqueue.
func TestEnqueueNotifiesNothingWhenDisabled(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, log := tracedPool(t)
	s0 := newStoreOn(t, pool)
	s, err := postgres.New(pool, &postgres.Config{Keys: testKeys(t), Schema: s0.Schema(), Logger: quiet, DisableNotify: true})
	require.NoError(t, err)
	createEndpoints(t, s, "acme", "ep1")
	log.record(true)
	created, err := s.Enqueue(ctx, enqueueAt(testEvent("5d0c7a5e-0000-4000-8000-000000000001", "order.created", `{}`),
		[]store.Target{{EndpointID: "ep1", Tenant: "acme"}}))
	require.NoError(t, err)
	require.Equal(t, 1, created)
	for _, st := range log.record(false) {
		require.False(t, isNotify(st.sql), "no notification statement: %s", st.sql)
	}
}
