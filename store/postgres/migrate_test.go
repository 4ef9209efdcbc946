package postgres_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// TestSchemaColumns holds the columns Migrate requires of existing tables to
// the tables schema.sql creates: the same tables, columns and types.
func TestSchemaColumns(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	rows, err := newPool(t).Query(t.Context(), `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`, s.Schema())
	require.NoError(t, err)
	got := map[string]map[string]string{}
	for rows.Next() {
		var table, col, typ string
		require.NoError(t, rows.Scan(&table, &col, &typ))
		if got[table] == nil {
			got[table] = map[string]string{}
		}
		got[table][col] = typ
	}
	require.NoError(t, rows.Err())
	require.Equal(t, postgres.SchemaColumns(), got)
}

// TestMigrateForeignSchema checks that Migrate refuses relations with the
// store's table names that are not the store's tables, changing nothing, and
// accepts the store's own tables however they were created.
func TestMigrateForeignSchema(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// setup runs in the fresh schema, named by %[1]s (quoted).
		setup []string
		// want are the strings the error must hold, after the schema's name
		// and a dot; none: Migrate succeeds.
		want []string
	}{
		{"endpoints of another application",
			[]string{`CREATE TABLE %[1]s.endpoints (id text PRIMARY KEY, tenant text NOT NULL, url text NOT NULL)`},
			[]string{`endpoints" exists`, "missing columns", "description", "secrets", "event_types"}},
		{"a column of another type",
			[]string{`CREATE TABLE %[1]s.events (id text PRIMARY KEY, type text, mode text, data jsonb,
				date timestamptz, created_at timestamptz)`},
			[]string{`events" exists`, "data is jsonb, want bytea"}},
		{"schema_version of another tool",
			[]string{`CREATE TABLE %[1]s.schema_version (installed_rank integer PRIMARY KEY,
				version varchar(50), description varchar(200) NOT NULL, installed_on timestamp NOT NULL DEFAULT now())`},
			[]string{`schema_version" exists`, "missing columns applied_at", "version is character varying(50), want integer"}},
		{"a sequence with a table's name",
			[]string{`CREATE SEQUENCE %[1]s.inbox`},
			[]string{`inbox" exists`, "missing columns"}},
		{"a table without columns",
			[]string{`CREATE TABLE %[1]s.attempts ()`},
			[]string{`attempts" exists`, "missing columns"}},
		{"the schema applied by hand, without a version", []string{"SCHEMA"}, nil},
		{"an extra column", []string{"SCHEMA", `ALTER TABLE %[1]s.endpoints ADD COLUMN note text`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			schema := randomSchema(t)
			quoted := pgx.Identifier{schema}.Sanitize()
			pool := newPool(t)
			_, err := pool.Exec(ctx, "CREATE SCHEMA "+quoted)
			require.NoError(t, err)
			for _, stmt := range tc.setup {
				if stmt == "SCHEMA" {
					stmt = postgres.SchemaSQL(schema)
				} else {
					stmt = fmt.Sprintf(stmt, quoted)
				}
				_, err := pool.Exec(ctx, stmt)
				require.NoError(t, err)
			}
			relations := func() int {
				var n int
				require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_class c
					JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`, schema).Scan(&n))
				return n
			}
			before := relations()

			s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema, Logger: quiet})
			require.NoError(t, err)
			err = s.Migrate(ctx)
			if tc.want != nil {
				require.ErrorIs(t, err, store.ErrSchemaMismatch)
				require.ErrorContains(t, err, `"`+schema+".")
				for _, w := range tc.want {
					require.ErrorContains(t, err, w)
				}
				require.Equal(t, before, relations(), "a refused Migrate creates nothing")
				require.ErrorIs(t, s.Migrate(ctx), store.ErrSchemaMismatch, "and refuses again")
				return
			}
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx), "migrating again is a no-op")
			rows, err := pool.Query(ctx, `SELECT version FROM `+quoted+`.schema_version`)
			require.NoError(t, err)
			versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
			require.NoError(t, err)
			require.Equal(t, []int{postgres.SchemaVersion}, versions)
			require.NoError(t, s.CreateEndpoint(ctx, testEndpoint("acme", "*")), "the store works")
		})
	}
}
