package postgres

import (
	"context"
	"fmt"
	"regexp"
)

// schemaTables are the tables a migrated schema holds: those schema.sql
// creates and the version table.
var schemaTables = func() []string {
	names := []string{"schema_version"}
	for _, m := range regexp.MustCompile(`CREATE TABLE IF NOT EXISTS \{\{schema\}\}\.(\w+)`).FindAllStringSubmatch(schemaSQL, -1) {
		names = append(names, m[1])
	}
	return names
}()

// InstalledVersion returns the schema version [Store.Migrate] recorded in
// the store's schema, or 0 when the schema holds no store: the schema
// absent, no version recorded, or one of the schema's tables missing (it
// does not compare columns). It only reads and creates nothing, so tools
// that must not create a store where there is none (a log viewer given a
// mistyped schema name) can check before use. A result above
// [SchemaVersion] means a newer driver migrated the schema. Errors come
// from the database.
func (s *Store) InstalledVersion(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = ANY($2)`,
		s.n.schema, schemaTables).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: installed version: %w", err)
	}
	if n < len(schemaTables) {
		return 0, nil
	}
	var v int
	if err := s.db.QueryRow(ctx, s.n.q(`SELECT coalesce(max(version), 0) FROM {{schema}}.schema_version`)).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: installed version: %w", err)
	}
	return v, nil
}
