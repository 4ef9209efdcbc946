package sqlite

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// schemaTables are the tables a migrated database holds: those schema.sql
// creates and the version table.
var schemaTables = func() []string {
	names := []string{"webhookkit_migrations"}
	for _, m := range regexp.MustCompile(`CREATE TABLE IF NOT EXISTS (\w+)`).FindAllStringSubmatch(schemaSQL, -1) {
		names = append(names, m[1])
	}
	return names
}()

// InstalledVersion returns the schema version [Store.Migrate] recorded in
// the database, or 0 when the database holds no store: no version recorded,
// or one of the schema's tables missing (it does not compare columns). It
// only reads, so tools that must not create a store where there is none
// (a log viewer given a wrong path) can check before use. A result above
// [SchemaVersion] means a newer version of this package migrated the
// database. Errors come from SQLite.
//
// [Open] creates the file when it is missing: to check a path without
// creating anything, make sure the file exists first.
func (s *Store) InstalledVersion(ctx context.Context) (int, error) {
	q := s.reader()
	args := make([]any, len(schemaTables))
	for i, n := range schemaTables {
		args[i] = n
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?`+
		strings.Repeat(", ?", len(args)-1)+`)`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: installed version: %w", err)
	}
	if n < len(schemaTables) {
		return 0, nil
	}
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM webhookkit_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: installed version: %w", err)
	}
	return v, nil
}
