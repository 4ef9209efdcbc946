package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// quietPeriod is how long the tests wait to be sure that no notification
// comes. It bounds an absence, never the speed of a presence.
const quietPeriod = 300 * time.Millisecond

// signalWait bounds the wait for a notification that must come.
const signalWait = 10 * time.Second

// expectSignal waits for a value on ch.
func expectSignal(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case _, ok := <-ch:
		require.True(tb, ok, "%s: the channel closed", what)
	case <-time.After(signalWait):
		tb.Fatalf("%s: no notification within %v", what, signalWait)
	}
}

// expectNoSignal checks that no value arrives on ch for quietPeriod.
func expectNoSignal(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
		tb.Fatalf("%s: unexpected notification", what)
	case <-time.After(quietPeriod):
	}
}

// expectClosed waits for ch to be closed, discarding values.
func expectClosed(tb testing.TB, ch <-chan struct{}) {
	tb.Helper()
	timeout := time.After(signalWait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			tb.Fatalf("the channel is still open %v after its context ended", signalWait)
		}
	}
}

// peer returns another Store on s's schema, with a pool of its own: another
// instance of the same application.
func peer(tb testing.TB, s *postgres.Store) *postgres.Store {
	tb.Helper()
	p, err := postgres.New(newPool(tb), &postgres.Config{Keys: testKeys(tb), Schema: s.Schema(), Logger: quiet})
	require.NoError(tb, err)
	return p
}

// listener returns a store on s's schema whose pool is tagged with an
// application_name of its own and serves only the store's subscriptions, so
// that pg_stat_activity shows which session listens, whatever it ran last.
func listener(tb testing.TB, s *postgres.Store) (*postgres.Store, string) {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(testDSN(tb))
	require.NoError(tb, err)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	app := "whk_listener_" + hex.EncodeToString(b)
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	l, err := postgres.New(pool, &postgres.Config{Keys: testKeys(tb), Schema: s.Schema(), Logger: quiet})
	require.NoError(tb, err)
	return l, app
}

// listenerPID waits until exactly one session of application app exists,
// other than the session not, and returns its pid.
func listenerPID(ctx context.Context, tb testing.TB, pool *pgxpool.Pool, app string, not int32) int32 {
	tb.Helper()
	var pids []int32
	require.Eventually(tb, func() bool {
		rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> $2`, app, not)
		require.NoError(tb, err)
		pids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
		require.NoError(tb, err)
		return len(pids) == 1
	}, signalWait, 10*time.Millisecond)
	return pids[0]
}

// alive reports whether the session pid exists.
func alive(ctx context.Context, tb testing.TB, pool *pgxpool.Pool, pid int32) bool {
	tb.Helper()
	var ok bool
	require.NoError(tb, pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&ok))
	return ok
}

func TestNotifyChannel(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	channel := func(schema string) string {
		s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema})
		require.NoError(t, err)
		return s.NotifyChannel()
	}
	fits := strings.Repeat("s", 63-len("webhookkit_due:"))
	long1, long2 := strings.Repeat("a", 63), strings.Repeat("b", 63)
	for _, tc := range []struct {
		schema string
		want   string
	}{
		{"", "webhookkit_due:webhookkit"},
		{"Tenant_A", "webhookkit_due:Tenant_A"},
		{fits, "webhookkit_due:" + fits},
	} {
		require.Equal(t, tc.want, channel(tc.schema), "schema %q", tc.schema)
	}
	// Too long to append: a hash, within the 63-byte limit, stable and
	// different for different schemas.
	for _, schema := range []string{fits + "s", long1, long2} {
		c := channel(schema)
		require.LessOrEqual(t, len(c), 63)
		require.True(t, strings.HasPrefix(c, "webhookkit_due:"), c)
		require.Equal(t, c, channel(schema))
	}
	require.NotEqual(t, channel(long1), channel(long2))
}

// TestSubscribeNotifiesOnCommit checks which writes, made through one
// instance, wake another instance's subscription: each committed write that
// makes deliveries due, once committed, and nothing else.
func TestSubscribeNotifiesOnCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := newStore(t)       // the instance that writes
	b := peer(t, a)        // the instance that listens
	other := newStore(t)   // another schema in the same database
	userPool := newPool(t) // the application's own transactions
	createEndpoints(t, a, "acme", "ep1", "ep2")
	createEndpoints(t, other, "acme", "ep1")

	sub, err := b.Subscribe(ctx)
	require.NoError(t, err)
	expectSignal(t, sub, "listening began")

	targets := []store.Target{{EndpointID: "ep1", Tenant: "acme"}}
	ev1 := testEvent("8f9e0d6c-44b1-4a43-9b61-1f0a3e5c7d01", "order.created", `{"n":1}`)

	t.Run("enqueue", func(t *testing.T) {
		n, err := a.Enqueue(ctx, enqueueAt(ev1, targets))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		expectSignal(t, sub, "after a committed enqueue")
	})

	t.Run("enqueue creating nothing", func(t *testing.T) {
		n, err := a.Enqueue(ctx, enqueueAt(ev1, targets))
		require.NoError(t, err)
		require.Zero(t, n)
		expectNoSignal(t, sub, "after an enqueue that created nothing")
	})

	t.Run("another schema", func(t *testing.T) {
		n, err := other.Enqueue(ctx, enqueueAt(ev1, targets))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		expectNoSignal(t, sub, "after an enqueue in another schema")
	})

	t.Run("publish tx rolled back", func(t *testing.T) {
		tx, err := userPool.Begin(ctx)
		require.NoError(t, err)
		n, err := publisher(t, a).PublishTx(ctx, a.Tx(tx), testEvent("8f9e0d6c-44b1-4a43-9b61-1f0a3e5c7d02", "order.created", `{}`), sender.ToTenant("acme"), nil)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.NoError(t, tx.Rollback(ctx))
		expectNoSignal(t, sub, "after a rolled-back PublishTx")
	})

	t.Run("publish tx committed", func(t *testing.T) {
		tx, err := userPool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
		n, err := publisher(t, a).PublishTx(ctx, a.Tx(tx), testEvent("8f9e0d6c-44b1-4a43-9b61-1f0a3e5c7d03", "order.created", `{}`), sender.ToTenant("acme"), nil)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		expectNoSignal(t, sub, "before the commit")
		require.NoError(t, tx.Commit(ctx))
		expectSignal(t, sub, "after the commit")
	})

	t.Run("publish tx with a failed savepoint", func(t *testing.T) {
		// The notification of a PublishTx whose enqueue failed (and was
		// rolled back to its savepoint) is not sent, even when the
		// transaction commits.
		tx, err := userPool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
		_, err = publisher(t, a).PublishTx(ctx, a.Tx(tx), testEvent(ev1.ID, ev1.Type, `{"n":"different"}`), sender.ToTenant("acme"), nil)
		require.ErrorIs(t, err, store.ErrConflict)
		require.NoError(t, tx.Commit(ctx))
		expectNoSignal(t, sub, "after a commit whose publish failed")
	})

	// Fail every delivery, so that there is something to requeue.
	ds, err := a.Lease(ctx, store.LeaseRequest{Now: base, Limit: 10, Duration: time.Minute, Mode: event.ModeTest})
	require.NoError(t, err)
	require.Len(t, ds, 3)
	var failAll store.SettleBatch
	for _, d := range ds {
		failAll.Settlements = append(failAll.Settlements, store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeFailed, At: base, Error: "gave up"})
	}
	res, err := a.Settle(ctx, failAll)
	require.NoError(t, err)
	require.NotContains(t, res.Lost, true)
	expectNoSignal(t, sub, "after leasing and failing")
	var ep1 []string // the failed deliveries of ep1 (ep2 has one)
	for _, d := range ds {
		if d.EndpointID == "ep1" {
			ep1 = append(ep1, d.ID)
		}
	}
	require.Len(t, ep1, 2)

	t.Run("requeue", func(t *testing.T) {
		require.NoError(t, a.Requeue(ctx, ep1[0], base))
		expectSignal(t, sub, "after a requeue")
		require.ErrorIs(t, a.Requeue(ctx, ep1[0], base), store.ErrConflict)
		expectNoSignal(t, sub, "after a refused requeue")
	})

	t.Run("requeue failed", func(t *testing.T) {
		n, err := a.RequeueFailed(ctx, "ep2", base, base)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		expectSignal(t, sub, "after requeueing failed deliveries")
		n, err = a.RequeueFailed(ctx, "ep2", base, base)
		require.NoError(t, err)
		require.Zero(t, n)
		expectNoSignal(t, sub, "after requeueing nothing")
	})

	t.Run("disable and enable", func(t *testing.T) {
		_, err := a.SetDisabled(ctx, "ep2", true, "test", base)
		require.NoError(t, err)
		expectNoSignal(t, sub, "after disabling")
		_, err = a.SetDisabled(ctx, "ep2", false, "", base)
		require.NoError(t, err)
		expectSignal(t, sub, "after enabling an endpoint with paused deliveries")
		_, err = a.SetDisabled(ctx, "ep2", false, "", base)
		require.NoError(t, err)
		expectNoSignal(t, sub, "after enabling an endpoint with nothing paused")
	})

	t.Run("notifications disabled", func(t *testing.T) {
		silent, err := postgres.New(newPool(t), &postgres.Config{Keys: testKeys(t), Schema: a.Schema(), Logger: quiet, DisableNotify: true})
		require.NoError(t, err)
		n, err := silent.Enqueue(ctx, enqueueAt(testEvent("8f9e0d6c-44b1-4a43-9b61-1f0a3e5c7d05", "order.created", `{}`), targets))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.NoError(t, silent.Requeue(ctx, ep1[1], base))
		_, err = silent.SetDisabled(ctx, "ep2", true, "test", base)
		require.NoError(t, err)
		_, err = silent.SetDisabled(ctx, "ep2", false, "", base)
		require.NoError(t, err)
		expectNoSignal(t, sub, "after writes of a store with DisableNotify")
		// It still listens, and hears the stores that notify.
		own, err := silent.Subscribe(ctx)
		require.NoError(t, err)
		expectSignal(t, own, "listening began")
		n, err = a.Enqueue(ctx, enqueueAt(testEvent("8f9e0d6c-44b1-4a43-9b61-1f0a3e5c7d06", "order.created", `{}`), targets))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		expectSignal(t, own, "a notifying store's enqueue")
		expectSignal(t, sub, "heard by both")
	})

	t.Run("the writer's own subscription", func(t *testing.T) {
		own, err := a.Subscribe(ctx)
		require.NoError(t, err)
		expectSignal(t, own, "listening began")
		n, err := a.Enqueue(ctx, enqueueAt(testEvent("8f9e0d6c-44b1-4a43-9b61-1f0a3e5c7d07", "order.created", `{}`), targets))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		expectSignal(t, own, "the writer hears itself")
		expectSignal(t, sub, "and so does the other instance")
	})
}

// TestSubscribeCoalesces checks that a burst of notifications, unread,
// leaves one value waiting, not a backlog.
func TestSubscribeCoalesces(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	sub, err := s.Subscribe(ctx)
	require.NoError(t, err)
	expectSignal(t, sub, "listening began")
	require.Equal(t, 1, cap(sub))
	pool := newPool(t)
	// Distinct payloads, so PostgreSQL does not fold them into one.
	_, err = pool.Exec(ctx, "SELECT pg_notify($1, i::text) FROM generate_series(1, 50) i", s.NotifyChannel())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(sub) == 1 }, signalWait, time.Millisecond)
	// Let the listener read the rest of the burst, unread by us.
	<-time.After(quietPeriod)
	expectSignal(t, sub, "the burst")
	expectNoSignal(t, sub, "after the one value of the burst")
}

// TestSubscribeReconnects terminates the listening session and checks that
// a new one takes over and still hears commits, and that the connection is
// not one of the pool's.
func TestSubscribeReconnects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	l, app := listener(t, s)
	admin := newPool(t)
	createEndpoints(t, s, "acme", "ep1")
	ctxSub, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := l.Subscribe(ctxSub)
	require.NoError(t, err)
	expectSignal(t, sub, "listening began")
	pid := listenerPID(ctx, t, admin, app, 0)

	for round := range 2 {
		var killed bool
		require.NoError(t, admin.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&killed))
		require.True(t, killed)
		expectSignal(t, sub, "listening began again")
		pid = listenerPID(ctx, t, admin, app, pid)

		ev := testEvent("5d4c3b2a-1f0e-4d9c-8b7a-69584736251"+string(rune('0'+round)), "order.created", `{}`)
		n, err := s.Enqueue(ctx, enqueueAt(ev, []store.Target{{EndpointID: "ep1", Tenant: "acme"}}))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		expectSignal(t, sub, "a commit after the reconnect")
	}

	cancel()
	expectClosed(t, sub)
	require.Eventually(t, func() bool { return !alive(ctx, t, admin, pid) }, signalWait, 10*time.Millisecond,
		"the listening session ends with the subscription")
}

// TestSubscribePingsWhenSilent checks that a silent connection is pinged
// and goes on listening, on the same session.
func TestSubscribePingsWhenSilent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	l, app := listener(t, s)
	admin := newPool(t)
	createEndpoints(t, s, "acme", "ep1")
	postgres.SetListenPing(l, 20*time.Millisecond)
	sub, err := l.Subscribe(ctx)
	require.NoError(t, err)
	expectSignal(t, sub, "listening began")
	pid := listenerPID(ctx, t, admin, app, 0)
	require.Eventually(t, func() bool {
		var q string
		require.NoError(t, admin.QueryRow(ctx, "SELECT query FROM pg_stat_activity WHERE pid = $1", pid).Scan(&q))
		return q == "-- ping"
	}, signalWait, 10*time.Millisecond, "the listening session is pinged")

	n, err := s.Enqueue(ctx, enqueueAt(testEvent("5d4c3b2a-1f0e-4d9c-8b7a-695847362599", "order.created", `{}`), []store.Target{{EndpointID: "ep1", Tenant: "acme"}}))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	expectSignal(t, sub, "a commit after pings")
	require.True(t, alive(ctx, t, admin, pid), "the same session listens: pings do not reconnect")
}

func TestSubscribeCanceledContext(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	sub, err := s.Subscribe(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, sub)
}

// TestSubscribeLeavesNoGoroutines ends subscriptions in every state
// (listening, waiting to reconnect) and checks with goleak that nothing is
// left running. It does not run in parallel, so other tests' goroutines do
// not count.
func TestSubscribeLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	// Registered first, so it runs last: after the pools are closed.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	s := newStore(t)

	ctx, cancel := context.WithCancel(t.Context())
	sub, err := s.Subscribe(ctx)
	require.NoError(t, err)
	expectSignal(t, sub, "listening began")
	cancel()
	expectClosed(t, sub)

	// A store whose pool cannot connect keeps retrying until ctx ends.
	pool, err := pgxpool.New(t.Context(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	broken, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Logger: quiet})
	require.NoError(t, err)
	ctx, cancel = context.WithCancel(t.Context())
	sub, err = broken.Subscribe(ctx)
	require.NoError(t, err, "Subscribe does not wait for the database")
	expectNoSignal(t, sub, "nothing is listening")
	cancel()
	expectClosed(t, sub)
}

// BenchmarkEnqueueParallel enqueues one event for one endpoint per
// operation from 8 goroutines per CPU, with and without notifications: their
// cost shows under concurrent commits, as PostgreSQL commits notifying
// transactions one at a time.
func BenchmarkEnqueueParallel(b *testing.B) {
	for _, notify := range []bool{true, false} {
		b.Run(fmt.Sprintf("notify=%v", notify), func(b *testing.B) {
			ctx := b.Context()
			s := newStore(b)
			s, err := postgres.New(newPool(b), &postgres.Config{Keys: testKeys(b), Schema: s.Schema(), Logger: quiet, DisableNotify: !notify})
			require.NoError(b, err)
			createEndpoints(b, s, "acme", "ep1")
			targets := []store.Target{{EndpointID: "ep1", Tenant: "acme"}}
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprintf("bench-%d", next.Add(1))
					if _, err := s.Enqueue(ctx, enqueueAt(testEvent(id, "order.created", `{}`), targets)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
