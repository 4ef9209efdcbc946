// Package pgtest gives tests a throwaway PostgreSQL schema: the DSN from
// WEBHOOKKIT_TEST_POSTGRES_DSN (a skip when it is unset, a failure when it
// is unset and CI=true) and a fresh schema per test, dropped afterwards, so
// tests can run in parallel and leave nothing behind. webhookkit's own
// tests use it, and so can the tests of a program built on store/postgres:
//
//	dsn := pgtest.DSN(t)
//	schema := pgtest.Schema(t, dsn, "myapp_test_")
//	pool, err := pgxpool.New(ctx, dsn)
//	// ...
//	st, err := postgres.New(pool, &postgres.Config{Schema: schema})
//
// Its functions keep no state and are safe for concurrent use.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable holding the test database's DSN.
const EnvDSN = "WEBHOOKKIT_TEST_POSTGRES_DSN"

// DSN returns the test database's DSN. When EnvDSN is unset it skips tb,
// or fails it when CI=true (CI must provide a database: see .ci/run).
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set; CI must provide a PostgreSQL database (see .ci/run)", EnvDSN)
		}
		tb.Skipf("%s is not set: skipping PostgreSQL tests (example: postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvDSN)
	}
	return dsn
}

// Schema returns a fresh schema name starting with prefix (the schema
// itself is created by whoever migrates into it), and drops it with
// everything in it in tb.Cleanup, on a connection of its own. Call it
// before opening pools on the schema: cleanups run last registered first,
// so the pools close before the drop.
func Schema(tb testing.TB, dsn, prefix string) string {
	tb.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("pgtest: random schema name: %v", err)
	}
	name := prefix + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	return name
}
