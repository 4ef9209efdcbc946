package postgres_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/postgres/pgtest"
)

// testDSN returns the test DSN, skipping tb when it is unset, or failing tb
// when it is unset in CI.
func testDSN(tb testing.TB) string { tb.Helper(); return pgtest.DSN(tb) }

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
// in tb.Cleanup, after any pool opened later is closed.
func randomSchema(tb testing.TB) string {
	tb.Helper()
	return pgtest.Schema(tb, testDSN(tb), "whk_test_")
}

// quiet discards the stores' logs in tests.
var quiet = slog.New(slog.DiscardHandler)

// newStore returns a migrated store in a fresh schema of its own.
func newStore(tb testing.TB) *postgres.Store {
	tb.Helper()
	return newStoreOn(tb, newPool(tb))
}

// newStoreOn returns a migrated store on pool, in a fresh schema of its own.
func newStoreOn(tb testing.TB, pool *pgxpool.Pool) *postgres.Store {
	tb.Helper()
	schema := randomSchema(tb)
	s, err := postgres.New(pool, &postgres.Config{Schema: schema, Logger: quiet, Keys: testKeys(tb)})
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
