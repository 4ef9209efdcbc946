package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store/postgres/pgtest"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// readOnlyRuns are the read-only commands over a store DSN.
func readOnlyRuns(dsn string) [][]string {
	return [][]string{
		{"logs", "--store", dsn},
		{"dashboard", "--read-only", "--addr", "127.0.0.1:0", "--store", dsn},
	}
}

// TestReadOnlyMissingSQLite checks that logs and dashboard --read-only
// exit 1 with a clear message, creating nothing, when the SQLite file does
// not exist or holds no store.
func TestReadOnlyMissingSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	for _, args := range readOnlyRuns("sqlite:" + missing) {
		r := cli(t, "", args...)
		require.Equal(t, 1, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stderr, "no store in "+missing+": the file does not exist", args)
		require.Empty(t, r.stdout)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, entries, "%v created files", args)
	}

	// Someone else's SQLite database: left exactly as it was (no tables
	// added, journal mode not switched to WAL).
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE notes (body TEXT)")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	before := readFileT(t, other)
	for _, args := range readOnlyRuns("sqlite:" + other) {
		r := cli(t, "", args...)
		require.Equal(t, 1, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stderr, "no store in "+other+": the file holds no webhookkit tables", args)
		require.Equal(t, before, readFileT(t, other), "%v changed the file", args)
	}

	r := cli(t, "", "dashboard", "--read-only", "--store", "memory")
	require.Equal(t, 2, r.code, "a new memory store is empty: %s", r.stderr)
}

// TestReadOnlyMissingPostgresSchema checks that logs and dashboard
// --read-only exit 1, creating nothing, for a schema that does not exist or
// holds no store, and that listen says which schema it uses.
func TestReadOnlyMissingPostgresSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t, dsn, "cli_typo_")
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	exists := func() bool {
		t.Helper()
		var ok bool
		require.NoError(t, pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&ok))
		return ok
	}
	withSchema := func(name string) string {
		u, err := url.Parse(dsn)
		require.NoError(t, err)
		q := u.Query()
		q.Set("schema", name)
		u.RawQuery = q.Encode()
		return u.String()
	}

	for _, args := range readOnlyRuns(withSchema(schema)) {
		r := cli(t, "", args...)
		require.Equal(t, 1, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stderr, `no store in PostgreSQL schema "`+schema+`": the schema does not exist or holds no webhookkit tables`, args)
		require.Empty(t, r.stdout)
		require.False(t, exists(), "%v created the schema", args)
	}

	// An existing schema without the store's tables is no store either.
	_, err = pool.Exec(ctx, `CREATE SCHEMA "`+schema+`"`)
	require.NoError(t, err)
	r := cli(t, "", "logs", "--store", withSchema(schema))
	require.Equal(t, 1, r.code, r.stderr)
	var tables int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", schema).Scan(&tables))
	require.Zero(t, tables, "logs created tables")

	// listen creates the store and says which schema it uses.
	l := startListen(t, "--secret", vecSecret, "--store", withSchema(schema))
	require.Contains(t, l.stderr.String(), `(store: postgres, schema "`+schema+`")`)
	l.stop(t, os.Interrupt)
	r = cli(t, "", "logs", "--store", withSchema(schema))
	require.Equal(t, 0, r.code, "the store exists now: %s", r.stderr)
	require.Empty(t, r.stdout)
}

// TestDashboardReadOnlyExistingSQLite checks that dashboard --read-only
// serves an existing store through its read-only connections.
func TestDashboardReadOnlyExistingSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webhooks.db")
	st, err := sqlite.Open(path, &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	epID, _ := fillStore(t, st)
	require.NoError(t, st.Close())

	before := readFileT(t, path)
	d := startBackground(t, dashboardRe, "dashboard", "--read-only", "--store", "sqlite:"+path, "--addr", "127.0.0.1:0")
	call := apiCaller(t, d.url)
	code, body := call(http.MethodGet, "/api/endpoints", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, epID)

	// Every action is refused: the sender is never started.
	for _, a := range []struct{ method, path string }{
		{http.MethodPost, "/api/endpoints"},
		{http.MethodPost, "/api/endpoints/" + epID + "/ping"},
		{http.MethodDelete, "/api/endpoints/" + epID},
	} {
		code, body = call(a.method, a.path, `{}`)
		require.Equal(t, http.StatusNotImplemented, code, "%s %s: %s", a.method, a.path, body)
		require.Contains(t, body, `"code":"read_only"`)
	}
	d.stop(t, os.Interrupt)
	require.Equal(t, before, readFileT(t, path), "the store was not written")
}
