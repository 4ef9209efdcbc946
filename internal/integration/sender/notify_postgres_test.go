package sender_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/postgres/pgtest"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// postgresInstance returns a store on schema with a pool of its own, as a
// separate process would have.
func postgresInstance(tb testing.TB, dsn, schema string) (*postgres.Store, *pgxpool.Pool) {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	st, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(tb, err)
	return st, pool
}

// TestPostgresWakesOtherInstance runs two instances on one schema: A only
// publishes (its sender is never started), B delivers and polls once an
// hour. B delivers what A publishes, and what the application commits with
// PublishTx, at once: PostgreSQL's notification wakes it.
func TestPostgresWakesOtherInstance(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t, dsn, "whk_sender_test_")
	stA, appPool := postgresInstance(t, dsn, schema)
	require.NoError(t, stA.Migrate(ctx))
	stB, admin := postgresInstance(t, dsn, schema)

	srv := webhooktest.NewEndpoint(t, nil)
	a := webhooktest.NewSender(t, stA, nil, nil) // never started
	ep := srv.Register(t, a)
	watched := &watchedStore{SenderStore: stB}
	b := webhooktest.NewSender(t, notifyingStore{watched, stB}, nil, &sender.Config{PollInterval: time.Hour})
	require.NoError(t, b.Start(ctx))

	// B's listening session is up; once B is idle, only a notification
	// can wake it within the hour.
	listen := "LISTEN " + pgx.Identifier{stB.NotifyChannel()}.Sanitize()
	var pid int32
	require.Eventually(t, func() bool {
		err := admin.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE query = $1 AND state = 'idle'", listen).Scan(&pid)
		return err == nil
	}, wakeWait, 10*time.Millisecond, "B listens")

	t.Run("publish through instance A", func(t *testing.T) {
		watched.WaitIdle(t, quietPeriod, wakeWait)
		n, err := a.Publish(ctx, webhooktest.NewEvent(t, "order.created", json.RawMessage(`{"via":"A"}`)), sender.ToTenant(ep.Tenant), nil)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Eventually(t, func() bool { return len(srv.Events()) == 1 }, wakeWait, time.Millisecond, "B delivers")
	})

	t.Run("publish in the application's transaction", func(t *testing.T) {
		watched.WaitIdle(t, quietPeriod, wakeWait)
		tx, err := appPool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
		n, err := a.PublishTx(ctx, stA.Tx(tx), webhooktest.NewEvent(t, "order.created", json.RawMessage(`{"via":"tx"}`)), sender.ToTenant(ep.Tenant), nil)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.NoError(t, tx.Commit(ctx))
		require.Eventually(t, func() bool { return len(srv.Events()) == 2 }, wakeWait, time.Millisecond, "B delivers")
	})

	got := srv.Events()
	require.JSONEq(t, `{"via":"A"}`, string(got[0].Data))
	require.JSONEq(t, `{"via":"tx"}`, string(got[1].Data))

	require.NoError(t, b.Shutdown(ctx))
	// The session was closed before Shutdown returned; the server notices
	// the closed connection a moment later.
	require.Eventually(t, func() bool {
		var alive bool
		require.NoError(t, admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&alive))
		return !alive
	}, wakeWait, 10*time.Millisecond, "Shutdown ends B's listening session")
}
