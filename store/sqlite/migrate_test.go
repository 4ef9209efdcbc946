package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// TestSchemaColumns holds the columns Migrate requires of existing tables to
// the tables schema.sql creates: the same tables, columns and types.
func TestSchemaColumns(t *testing.T) {
	s, _ := open(t)
	rows, err := s.DB().Query(`SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name LIKE 'webhookkit\_%' ESCAPE '\'`)
	require.NoError(t, err)
	defer rows.Close()
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
	require.Equal(t, sqlite.SchemaColumns(), got)
}

// TestMigrateForeignSchema checks that Migrate refuses tables with the
// store's names that are not the store's, changing nothing, and accepts the
// store's own tables however they were created.
func TestMigrateForeignSchema(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup []string
		// want are the strings the error must hold; none: Migrate succeeds.
		want []string
	}{
		{"endpoints of another application",
			[]string{`CREATE TABLE webhookkit_endpoints (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, url TEXT NOT NULL)`},
			[]string{`table "webhookkit_endpoints"`, "missing columns", "description", "secrets", "event_types"}},
		{"a column of another type",
			[]string{`CREATE TABLE webhookkit_events (id TEXT PRIMARY KEY, type TEXT, mode TEXT, date TEXT, data BLOB)`},
			[]string{`table "webhookkit_events"`, "date is TEXT, want INTEGER"}},
		{"migrations table of another tool",
			[]string{`CREATE TABLE webhookkit_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`},
			[]string{`table "webhookkit_migrations"`, "applied_at", "version"}},
		{"a view with the store's name",
			[]string{`CREATE VIEW webhookkit_inbox AS SELECT 1 AS key`},
			[]string{`table "webhookkit_inbox"`, "missing columns"}},
		{"the schema applied by hand, without a version", []string{sqlite.Schema()}, nil},
		{"an extra column", []string{sqlite.Schema(), `ALTER TABLE webhookkit_endpoints ADD COLUMN note TEXT`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(filepath.Join(t.TempDir(), "app.db"), plaintext)
			require.NoError(t, err)
			defer s.Close()
			for _, stmt := range tc.setup {
				_, err := s.DB().ExecContext(ctx, stmt)
				require.NoError(t, err)
			}
			var before int
			require.NoError(t, s.DB().QueryRow(`SELECT COUNT(*) FROM sqlite_master`).Scan(&before))

			err = s.Migrate(ctx)
			if tc.want != nil {
				require.ErrorIs(t, err, store.ErrSchemaMismatch)
				for _, w := range tc.want {
					require.ErrorContains(t, err, w)
				}
				var after int
				require.NoError(t, s.DB().QueryRow(`SELECT COUNT(*) FROM sqlite_master`).Scan(&after))
				require.Equal(t, before, after, "a refused Migrate creates nothing")
				require.ErrorIs(t, s.Migrate(ctx), store.ErrSchemaMismatch, "and refuses again")
				return
			}
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx), "migrating again is a no-op")
			var versions int
			require.NoError(t, s.DB().QueryRow(`SELECT COUNT(*) FROM webhookkit_migrations WHERE version = ?`, sqlite.SchemaVersion).Scan(&versions))
			require.Equal(t, 1, versions)
			ep := &store.Endpoint{Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
				Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
			require.NoError(t, s.CreateEndpoint(ctx, ep), "the store works")
		})
	}
}
