package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store/postgres"
)

// dsnEnv names the variable holding the test database's DSN.
const dsnEnv = "WEBHOOKKIT_TEST_POSTGRES_DSN"

// testDSN returns the test DSN, skipping tb when it is unset, or failing tb
// when it is unset in CI.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set; CI must provide a PostgreSQL database (see .ci/run)", dsnEnv)
		}
		tb.Skipf("%s is not set: skipping PostgreSQL tests (example: postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", dsnEnv)
	}
	return dsn
}

// newPool returns a pool on the test database, closed in tb.Cleanup.
func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(testDSN(tb))
	require.NoError(tb, err)
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	return pool
}

// randomSchema returns a fresh schema name, dropped (with everything in it)
// in tb.Cleanup. The cleanup is registered before any pool's, so it runs
// after them (cleanups run last-registered first) on its own connection.
func randomSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "whk_test_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// quiet discards the stores' logs in tests.
var quiet = slog.New(slog.DiscardHandler)

// newStore returns a migrated store in a fresh schema of its own.
func newStore(tb testing.TB) *postgres.Store {
	tb.Helper()
	schema := randomSchema(tb)
	s, err := postgres.New(newPool(tb), &postgres.Config{Schema: schema, Logger: quiet})
	require.NoError(tb, err)
	require.NoError(tb, s.Migrate(context.Background()))
	return s
}

// createEndpoints stores endpoints with the given ids, of tenant, so tests
// can enqueue for them ([store.Outbox.Enqueue] refuses unknown endpoints).
func createEndpoints(tb testing.TB, s *postgres.Store, tenant string, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		ep := testEndpoint(tenant, "*")
		ep.ID = id
		require.NoError(tb, s.CreateEndpoint(context.Background(), ep))
	}
}
