package sqlite

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	msqlite "modernc.org/sqlite"

	"github.com/webhookkit/webhookkit/store"
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

// CheckSchema implements [store.SchemaChecker]: it returns nil when
// [Store.Migrate] installed the schema at [SchemaVersion], an error
// wrapping [store.ErrNotMigrated] when the database holds no store (or an
// older one), and an error when a newer version of this package migrated
// it. It only reads: one or two queries, cheap enough for a Start.
func (s *Store) CheckSchema(ctx context.Context) error {
	v, err := s.InstalledVersion(ctx)
	switch {
	case err != nil:
		return err
	case v == 0:
		return fmt.Errorf("sqlite: %w: the database holds no webhookkit tables", store.ErrNotMigrated)
	case v < SchemaVersion:
		return fmt.Errorf("sqlite: %w: the schema is at version %d, this package needs %d", store.ErrNotMigrated, v, SchemaVersion)
	case v > SchemaVersion:
		return fmt.Errorf("sqlite: database schema version %d is newer than this package's %d", v, SchemaVersion)
	}
	return nil
}

// errorf is fmt.Errorf for the store's errors. When the error it wraps is
// SQLite's "no such table" for one of the store's tables (Migrate was not
// called), the result also wraps [store.ErrNotMigrated] and says so.
func errorf(format string, a ...any) error {
	err := fmt.Errorf(format, a...)
	if errors.Is(err, store.ErrNotMigrated) {
		return err
	}
	var se *msqlite.Error
	if errors.As(err, &se) && strings.Contains(se.Error(), "no such table: webhookkit_") {
		return notMigratedError{err}
	}
	return err
}

// notMigratedError is an error met because the schema is missing.
type notMigratedError struct{ err error }

func (e notMigratedError) Error() string {
	return e.err.Error() + " (" + store.ErrNotMigrated.Error() + ")"
}

func (e notMigratedError) Unwrap() []error { return []error{e.err, store.ErrNotMigrated} }
