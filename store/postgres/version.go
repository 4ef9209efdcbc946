package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/webhookkit/webhookkit/store"
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

// CheckSchema implements [store.SchemaChecker]: it returns nil when
// [Store.Migrate] installed the store's schema at [SchemaVersion], an error
// wrapping [store.ErrNotMigrated] when the schema holds no store (or an
// older one), and one wrapping [ErrSchemaTooNew] when a newer driver
// migrated it. It only reads: one or two queries, cheap enough for a
// Start.
func (s *Store) CheckSchema(ctx context.Context) error {
	v, err := s.InstalledVersion(ctx)
	switch {
	case err != nil:
		return err
	case v == 0:
		return fmt.Errorf("postgres: %w: schema %q holds no webhookkit tables", store.ErrNotMigrated, s.n.schema)
	case v < SchemaVersion:
		return fmt.Errorf("postgres: %w: schema %q is at version %d, this driver needs %d", store.ErrNotMigrated, s.n.schema, v, SchemaVersion)
	case v > SchemaVersion:
		return fmt.Errorf("%w: schema %q is at version %d, this driver knows %d", ErrSchemaTooNew, s.n.schema, v, SchemaVersion)
	}
	return nil
}

// errorf is fmt.Errorf for the store's errors. When the error it wraps is
// PostgreSQL's undefined_table (42P01) or invalid_schema_name (3F000),
// met because Migrate was not called, the result also wraps
// [store.ErrNotMigrated] and says so.
func errorf(format string, a ...any) error {
	err := fmt.Errorf(format, a...)
	if errors.Is(err, store.ErrNotMigrated) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") {
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
