package postgres

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

// DefaultSchema is the PostgreSQL schema the store's tables live in when
// [Config.Schema] is empty.
const DefaultSchema = "webhookkit"

// SchemaVersion is the schema version this driver creates and expects.
// [Store.Migrate] records it in the schema_version table.
const SchemaVersion = 1

// ErrInvalidConfig is returned by [New] for a nil pool or a schema name that
// is not a plain identifier.
var ErrInvalidConfig = errors.New("postgres: invalid config")

// ErrSchemaTooNew is returned by [Store.Migrate] when the database schema was
// migrated by a newer version of this driver than the running one.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this driver")

//go:embed schema.sql
var schemaSQL string

// Config configures a [Store]. The zero value (or a nil *Config) uses the
// defaults, and refuses to write endpoint credentials until Keys or
// PlaintextSecrets says how to store them (see PlaintextSecrets): an inbox
// needs neither.
type Config struct {
	// Schema is the PostgreSQL schema holding the store's tables; empty
	// means [DefaultSchema]. It must be a plain identifier: a letter or
	// underscore, then letters, digits or underscores, at most 63 bytes.
	// It is always quoted, so it is case-sensitive. Different schemas hold
	// independent stores in one database.
	Schema string
	// Logger receives the store's few log lines (migrations); nil means
	// [slog.Default].
	Logger *slog.Logger
	// DisableNotify stops the store from notifying subscribed senders
	// (see [Store.Subscribe]) when it creates or requeues deliveries: they
	// find them at their next poll instead. PostgreSQL commits the
	// transactions that notify one at a time (each holds a database-wide
	// lock while it commits), so with many concurrent transactional
	// publishes notifying costs publish throughput (Enqueue on the Store
	// notifies after its commit, in a transaction shared by concurrent
	// enqueues, and costs less); set it if you measured that cost and
	// latency of up to a poll interval is fine.
	// False (the zero value) notifies. Subscribe works either way, and
	// hears the instances that do notify.
	DisableNotify bool
	// Now is the clock for the times the store sets itself (CreatedAt and
	// UpdatedAt of endpoints, CreatedAt of secrets stored without one, of
	// deliveries and of events); nil means [time.Now]. Times that decide
	// what is due always come from the caller.
	Now func() time.Time
	// Keys, when set, encrypts endpoint credentials at rest (signing keys,
	// OAuth2 client secrets, TLS private keys) with AES-256-GCM: see
	// package seal, and [Store.Reencrypt] for key rotation. Credentials
	// written in plaintext earlier are read as they are and sealed when
	// next written.
	Keys *seal.Keyring
	// PlaintextSecrets, when Keys is nil, stores endpoint credentials in
	// plaintext. Neither set (the zero Config): the store reads endpoints
	// but refuses to write one, with an error wrapping [seal.ErrNoPolicy],
	// so credentials are kept in plaintext only by explicit choice. A
	// store used only as a receiver's inbox needs neither.
	PlaintextSecrets bool
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Store is a PostgreSQL-backed [store.SenderStore], [store.Inbox],
// [store.InboxRecovery], [store.DeliveryPruner], [store.RetryAdvancer] and
// [store.Notifier]. Its
// methods run one statement or one transaction each. Any number of Store values, in any number of
// processes, may share one schema: leasing and claiming are atomic in the
// database. A Store is safe for concurrent use. It does not own the pool:
// close the pool when done.
//
// Call [Store.Migrate] before first use; the methods return errors wrapping
// [store.ErrNotMigrated] (and the database's "relation does not exist")
// otherwise, and [Store.CheckSchema], which a sender's and a receiver's
// Start call, reports it before anything runs.
type Store struct {
	handle
	pool   *pgxpool.Pool
	logger *slog.Logger
	// listenPing is how long a listening connection may stay silent before
	// it is pinged; listenPing unless a test changes it.
	listenPing time.Duration
}

var (
	_ store.SenderStore    = (*Store)(nil)
	_ store.Inbox          = (*Store)(nil)
	_ store.InboxRecovery  = (*Store)(nil)
	_ store.DeliveryPruner = (*Store)(nil)
	_ store.RetryAdvancer  = (*Store)(nil)
	_ store.InboxBatcher   = (*Store)(nil)
	_ store.AttemptStats   = (*Store)(nil)
	_ store.SchemaChecker  = (*Store)(nil)
	_ store.KeyChecker     = (*Store)(nil)
)

// New returns a Store using pool and cfg (nil means defaults). It does not
// touch the database; call [Store.Migrate] to create the schema. It returns
// an error wrapping [ErrInvalidConfig] for a nil pool or a bad schema name.
func New(pool *pgxpool.Pool, cfg *Config) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidConfig)
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if !identRE.MatchString(c.Schema) {
		return nil, fmt.Errorf("%w: schema %q: want a letter or underscore, then letters, digits or underscores, at most 63 bytes", ErrInvalidConfig, c.Schema)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	n := &names{
		schema:   c.Schema,
		quoted:   pgx.Identifier{c.Schema}.Sanitize(),
		channel:  channelName(c.Schema),
		noNotify: c.DisableNotify,
		now:      c.Now,
		policy:   seal.Policy{Keys: c.Keys, Plaintext: c.PlaintextSecrets},
	}
	return &Store{handle: handle{db: pool, n: n, post: &postNotifier{logger: c.Logger}}, pool: pool, logger: c.Logger, listenPing: listenPing}, nil
}

// Schema returns the schema name the store uses.
func (s *Store) Schema() string { return s.n.schema }

// Migrate creates the schema, its tables and indexes if they do not exist
// and records [SchemaVersion] in the schema_version table. It is idempotent
// and safe to run from several instances at once: it works in one
// transaction holding an advisory lock derived from the schema name. It
// returns [ErrSchemaTooNew] when a newer driver migrated the schema. The SQL
// is schema.sql in this package's source.
//
// Before creating anything it checks every table of the schema that exists
// already: one that lacks a column the store needs, or has it with another
// type, is not the store's (another application's table of the same name,
// as in a shared schema such as "public"), and Migrate returns an error
// wrapping [store.ErrSchemaMismatch] that names the table and the
// difference, instead of adopting it. Extra columns are allowed.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	h := fnv.New64a()
	h.Write([]byte("webhookkit migrate " + s.n.schema))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	setup := s.n.q(`CREATE SCHEMA IF NOT EXISTS {{schema}};
CREATE TABLE IF NOT EXISTS {{schema}}.schema_version (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);`)
	if _, err := tx.Exec(ctx, setup); err != nil {
		return fmt.Errorf("postgres: migrate: schema_version: %w", err)
	}
	if err := s.checkTables(ctx, tx, versionColumns); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, s.n.q(`SELECT coalesce(max(version), 0) FROM {{schema}}.schema_version`)).Scan(&have); err != nil {
		return fmt.Errorf("postgres: migrate: read version: %w", err)
	}
	if have > SchemaVersion {
		return fmt.Errorf("%w: schema %q is at version %d, this driver knows %d", ErrSchemaTooNew, s.n.schema, have, SchemaVersion)
	}
	if err := s.checkTables(ctx, tx, schemaColumns); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if have == SchemaVersion {
		return nil
	}
	if _, err := tx.Exec(ctx, s.n.q(schemaSQL)); err != nil {
		return fmt.Errorf("postgres: migrate: version 1: %w", err)
	}
	if _, err := tx.Exec(ctx, s.n.q(`INSERT INTO {{schema}}.schema_version (version) VALUES ($1)`), SchemaVersion); err != nil {
		return fmt.Errorf("postgres: migrate: record version: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: commit: %w", err)
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "postgres: migrated", slog.String("schema", s.n.schema), slog.Int("version", SchemaVersion))
	return nil
}

// versionColumns and schemaColumns are the columns of the version table
// and of every other table at [SchemaVersion], with their types as
// format_type spells them: what Migrate requires of a table it finds under
// one of these names (see [store.CheckColumns]). A test holds them to
// schema.sql.
var (
	versionColumns = map[string]map[string]string{
		"schema_version": {"version": "integer", "applied_at": "timestamp with time zone"},
	}
	schemaColumns = map[string]map[string]string{
		"endpoints": {"id": "text", "tenant": "text", "mode": "text", "url": "text", "description": "text",
			"event_types": "text[]", "secrets": "jsonb", "headers": "jsonb", "rate_limit": "double precision",
			"burst": "integer", "max_in_flight": "integer", "metadata": "jsonb", "disabled": "boolean",
			"disabled_reason": "text", "disabled_at": "timestamp with time zone", "consecutive_failures": "integer",
			"failing_since": "timestamp with time zone", "last_success_at": "timestamp with time zone",
			"last_failure_at": "timestamp with time zone", "created_at": "timestamp with time zone",
			"updated_at": "timestamp with time zone", "account": "text", "format": "text",
			"oauth2": "jsonb", "client_tls": "jsonb", "breaker_state": "text", "breaker_since": "timestamp with time zone",
			"seal_keys": "text"},
		"events": {"id": "text", "type": "text", "mode": "text", "data": "bytea", "date": "timestamp with time zone",
			"created_at": "timestamp with time zone"},
		"deliveries": {"id": "text", "event_id": "text", "endpoint_id": "text", "tenant": "text", "mode": "text",
			"event_type": "text", "state": "text", "attempts": "integer", "created_at": "timestamp with time zone",
			"first_attempt_at": "timestamp with time zone", "next_attempt_at": "timestamp with time zone",
			"last_attempt_at": "timestamp with time zone", "last_error": "text",
			"finished_at": "timestamp with time zone", "lease_token": "text", "leased_by": "text",
			"ordering_key": "text", "key_seq": "bigint", "holds_key": "boolean", "key_waiting": "boolean"},
		"attempts": {"id": "text", "delivery_id": "text", "endpoint_id": "text", "tenant": "text", "event_id": "text",
			"event_type": "text", "mode": "text", "number": "integer", "at": "timestamp with time zone",
			"duration_ns": "bigint", "url": "text", "request_headers": "jsonb", "request_body": "bytea",
			"status_code": "integer", "response_headers": "jsonb", "response_body": "bytea",
			"response_truncated": "boolean", "error": "text", "success": "boolean", "format": "text"},
		"inbox": {"key": "text", "state": "text", "body": "bytea", "claimed_at": "timestamp with time zone",
			"expires_at": "timestamp with time zone", "leased_until": "timestamp with time zone", "attempts": "integer",
			"last_error": "text", "finished_at": "timestamp with time zone"},
		"attempt_hours": statsColumns(),
	}
)

// checkTables returns an error wrapping [store.ErrSchemaMismatch] for the
// first relation of the store's schema named in want (a table, or a view,
// sequence or anything else pg_class holds) that exists without the columns
// want gives it. A relation that does not exist passes.
func (s *Store) checkTables(ctx context.Context, tx pgx.Tx, want map[string]map[string]string) error {
	tables := slices.Sorted(maps.Keys(want))
	rows, err := tx.Query(ctx, `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $1 AND c.relname = ANY($2)`, s.n.schema, tables)
	if err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	found := make(map[string]map[string]string)
	for rows.Next() {
		var table string
		var col, typ *string // NULL for a relation without columns
		if err := rows.Scan(&table, &col, &typ); err != nil {
			rows.Close()
			return fmt.Errorf("read columns: %w", err)
		}
		if found[table] == nil {
			found[table] = make(map[string]string)
		}
		if col != nil && typ != nil {
			found[table][*col] = *typ
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	for _, table := range tables {
		if have, ok := found[table]; ok {
			if err := store.CheckColumns(s.n.schema+"."+table, want[table], have); err != nil {
				return err
			}
		}
	}
	return nil
}

// dbtx is what every query runs on: *pgxpool.Pool, or a pgx.Tx for the
// transactional publish. Begin on a pgx.Tx opens a savepoint.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// names holds what the queries need besides a connection.
type names struct {
	schema string
	quoted string
	// channel is the notification channel (see channelName).
	channel string
	// noNotify is Config.DisableNotify.
	noNotify bool
	now      func() time.Time
	// pruneBatch is how many deliveries one PruneDeliveries transaction
	// deletes; zero means pruneBatchSize. Tests lower it.
	pruneBatch int
	// policy seals and opens endpoint credentials (Config.Keys).
	policy seal.Policy
}

// q returns sql with {{schema}} replaced by the quoted schema name.
func (n *names) q(sql string) string { return strings.ReplaceAll(sql, "{{schema}}", n.quoted) }

// handle implements every store method over a dbtx. Store embeds one bound
// to the pool; [Store.Tx] builds one bound to the caller's transaction.
type handle struct {
	db dbtx
	n  *names
	// post, set for the Store's own handle and nil for a view of the
	// caller's transaction, notifies after Enqueue's transaction commits.
	post *postNotifier
}

// inTx runs fn in a transaction (a savepoint when h is bound to a
// transaction) and commits when fn returns nil.
func (h *handle) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := h.db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx) // the error from fn is the one that matters
		return err
	}
	return tx.Commit(ctx)
}

// ts turns a zero time into SQL NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// nullTime scans a nullable timestamptz into a time.Time (zero for NULL),
// in UTC.
type nullTime struct{ p *time.Time }

func (n nullTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	if v.Valid {
		*n.p = v.Time.UTC()
	} else {
		*n.p = time.Time{}
	}
	return nil
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
