package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	msqlite "modernc.org/sqlite"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

// Defaults used when the matching [Config] field is zero.
const (
	// DefaultBusyTimeout is how long a connection waits for another
	// connection's (or process's) write lock before failing with SQLITE_BUSY.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultSynchronous is the synchronous pragma: NORMAL. In WAL mode it
	// never corrupts the database, but a power loss or OS crash (not a crash
	// of the process) may lose the transactions committed in the last moments
	// before it. Use "FULL" to make every commit durable on return.
	DefaultSynchronous = "NORMAL"
	// DefaultMaxReadConns is the size of the read pool. Writes always use one
	// connection.
	DefaultMaxReadConns = 4
)

// SchemaVersion is the schema version this package's [Store.Migrate]
// installs.
const SchemaVersion = 1

//go:embed schema.sql
var schemaSQL string

// Schema returns the SQL of the schema [Store.Migrate] applies: the tables,
// indexes and the comments documenting them. It is for reading and for
// tools; Migrate is the supported way to apply it.
func Schema() string { return schemaSQL }

// Config configures a [Store]. The zero value (or a nil *Config) uses the
// defaults, and refuses to write endpoint credentials until Keys or
// PlaintextSecrets says how to store them (see PlaintextSecrets): an inbox
// needs neither. Fields marked "Open only" are ignored by [New], whose caller
// configures its own *sql.DB.
type Config struct {
	// Synchronous is the synchronous pragma: "NORMAL" (the default, see
	// [DefaultSynchronous]), "FULL" (every commit survives a power loss) or
	// "EXTRA". Case-insensitive. Open only.
	Synchronous string
	// BusyTimeout is how long to wait for a lock held by another connection
	// or process; zero means [DefaultBusyTimeout]. It is rounded down to
	// milliseconds. Open only.
	BusyTimeout time.Duration
	// MaxReadConns is the size of the read-only connection pool; zero means
	// [DefaultMaxReadConns]. Open only.
	MaxReadConns int
	// Now is the clock for the times the store stamps itself: an endpoint's
	// CreatedAt and UpdatedAt, and the CreatedAt of secrets stored without
	// one. Nil means time.Now. Everything else takes the time as an
	// argument (a delivery's CreatedAt is its event's Date).
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

// Store is a SQLite implementation of [store.SenderStore], [store.Inbox],
// [store.InboxRecovery], [store.DeliveryPruner], [store.RetryAdvancer] and
// [store.Notifier] (within
// the process, for a Store from [Open]) in one database file. Create it with
// [Open] or [New], then call [Store.Migrate] once before use: until then
// its methods return errors wrapping [store.ErrNotMigrated], and
// [Store.CheckSchema], which a sender's and a receiver's Start call,
// reports it before anything runs.
//
// A Store is safe for concurrent use by many goroutines. Write transactions
// are serialized (see the package documentation); reads run in parallel.
// The zero value is not usable.
type Store struct {
	db  *sql.DB // writes; also reads when rdb == db
	rdb *sql.DB // reads
	own bool    // Close closes db and rdb
	now func() time.Time

	// tx is set on a view bound to a caller's transaction ([Store.Tx]): every
	// read and write then runs on it, writes inside savepoints.
	tx dbtx

	// n wakes the subscribers of [Store.Subscribe] after commits; a Store
	// and its views share it.
	n *notifier

	// pruneBatch is how many deliveries one PruneDeliveries transaction
	// deletes; zero means pruneBatchSize. Tests lower it.
	pruneBatch int

	// policy seals and opens endpoint credentials (Config.Keys).
	policy seal.Policy

	// wsem, of capacity 1, is held by the store's write in progress (see
	// [Store.write]), so a write waiting for the write pool's connection
	// while holding it knows that something other than the store holds
	// the connection: a transaction begun on [Store.DB].
	wsem chan struct{}
}

// dbtx is what every query is written against: *sql.DB, *sql.Conn and
// *sql.Tx all satisfy it.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
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

// Open opens (creating it when missing) the SQLite database file at path and
// returns a Store over two connection pools: one connection for writes and up
// to cfg.MaxReadConns read-only connections. Every connection is configured
// through the DSN: WAL journal, busy timeout, foreign keys on, synchronous as
// configured, and write transactions that begin IMMEDIATE. The write
// connection carries commit and rollback hooks of this Store's (nothing is
// registered globally), through which it notifies: see [Store.Subscribe].
//
// Open does not create the schema: call [Store.Migrate]. path must name a
// file (":memory:" and URIs are not supported: each pooled connection would
// see its own database). Errors wrap [store.ErrInvalid] for a bad path or
// Config, or come from SQLite (an unreadable file, a file system without the
// shared memory WAL needs).
func Open(path string, cfg *Config) (*Store, error) {
	c := fillConfig(cfg)
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open %q: %w: want a plain file path without '?'", path, store.ErrInvalid)
	}
	sync := strings.ToUpper(c.Synchronous)
	switch sync {
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlite: config Synchronous %q: %w: want NORMAL, FULL or EXTRA", c.Synchronous, store.ErrInvalid)
	}
	if c.BusyTimeout < 0 || c.MaxReadConns < 0 {
		return nil, fmt.Errorf("sqlite: config BusyTimeout and MaxReadConns: %w: must not be negative", store.ErrInvalid)
	}

	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", c.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// Statement journals and temporary tables in memory, not temp files: a
	// multi-row statement that can fail half way (Enqueue's INSERT ...
	// SELECT) otherwise writes every page it touches to a temp file.
	q.Add("_pragma", "temp_store(MEMORY)")
	rq := cloneValues(q)
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Set("_txlock", "immediate")
	rq.Add("_pragma", "query_only(1)")

	wc, err := msqlite.NewConnector(path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	n := &notifier{hooked: true}
	db := sql.OpenDB(hookConnector{Connector: wc, n: n})
	// One writer: SQLite has a single write lock per file, so more write
	// connections would only wait for it inside SQLite's busy handler (which
	// sleeps and polls). Queueing in database/sql hands the connection over
	// as soon as it is free.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	// The write connection is opened first so the file exists and is in WAL
	// mode before any read-only connection looks at it.
	var mode string
	if err := db.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %q: journal mode is %q, not WAL", path, mode)
	}

	rc, err := msqlite.NewConnector(path + "?" + rq.Encode())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	rdb := sql.OpenDB(rc)
	rdb.SetMaxOpenConns(c.MaxReadConns)
	rdb.SetMaxIdleConns(c.MaxReadConns)
	rdb.SetConnMaxLifetime(0)
	rdb.SetConnMaxIdleTime(0)
	if err := rdb.PingContext(context.Background()); err != nil {
		db.Close()
		rdb.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	return &Store{db: db, rdb: rdb, own: true, now: c.Now, n: n, policy: c.policy(), wsem: make(chan struct{}, 1)}, nil
}

// New returns a Store over a *sql.DB the caller opened with the "sqlite"
// driver (modernc.org/sqlite) and keeps owning: [Store.Close] does not close
// it. Reads and writes share its pool. Write transactions begin IMMEDIATE
// whatever the DSN says; for the rest, configure it as [Open] does: WAL
// journal, a busy timeout, and ideally one open connection
// (db.SetMaxOpenConns(1)) unless the caller opens a separate read pool. Only
// cfg.Now is used from cfg. Such a Store cannot hook the commits of the
// caller's pool, so it does not notify: its [Store.Subscribe] returns an
// error, and a sender started on it finds new deliveries by polling (or by
// the sender's Notify after the caller commits a PublishTx).
func New(db *sql.DB, cfg *Config) *Store {
	c := fillConfig(cfg)
	return &Store{db: db, rdb: db, now: c.Now, n: &notifier{}, policy: c.policy(), wsem: make(chan struct{}, 1)}
}

func fillConfig(cfg *Config) Config {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Synchronous == "" {
		c.Synchronous = DefaultSynchronous
	}
	if c.BusyTimeout == 0 {
		c.BusyTimeout = DefaultBusyTimeout
	}
	if c.MaxReadConns == 0 {
		c.MaxReadConns = max(DefaultMaxReadConns, runtime.GOMAXPROCS(0))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c *Config) policy() seal.Policy {
	return seal.Policy{Keys: c.Keys, Plaintext: c.PlaintextSecrets}
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// DB returns the pool writes go through. Transactions begun on it for
// publishing through [Store.Tx] are BEGIN IMMEDIATE when the Store came from
// [Open], and their commit wakes the Store's subscribers (see
// [Store.Subscribe]) when they published. With [Open] that pool has one
// connection, and must keep it (do not raise its limits): while a
// transaction holds it, a write through the Store (not through the
// transaction) waits for it to end, so never call the Store's own write
// methods (or a sender's Publish, which calls Enqueue) while holding such
// a transaction: write through [Store.Tx] (a sender's PublishTx) instead.
// A write that does wait fails when its context ends, with an error that
// wraps the context's error and names that cause.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the connection pools opened by [Open], waiting for queries in
// progress to finish; other methods then fail ("sql: database is closed").
// For a Store from [New] it does nothing: the caller owns the *sql.DB.
func (s *Store) Close() error {
	if !s.own {
		return nil
	}
	err := s.db.Close()
	if s.rdb != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	if err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// Migrate creates or upgrades the schema (see [Schema]) in one transaction.
// It is idempotent: running it on an up-to-date database changes nothing.
// Several processes may call it at once; they serialize on the write lock.
// A database whose schema is newer than this package knows is an error.
//
// Before changing anything it checks every table of the schema that exists
// already: one that lacks a column the store needs, or has it with another
// declared type, is not the store's (another application's table of the same
// name), and Migrate returns an error wrapping [store.ErrSchemaMismatch]
// that names the table and the difference, instead of adopting it. Extra
// columns are allowed.
func (s *Store) Migrate(ctx context.Context) error {
	err := s.write(ctx, func(q dbtx) error {
		if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
    version    INTEGER NOT NULL PRIMARY KEY,
    applied_at INTEGER NOT NULL
)`); err != nil {
			return err
		}
		if err := checkTables(ctx, q, migrationsColumns); err != nil {
			return err
		}
		var v int
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+migrationsTable).Scan(&v); err != nil {
			return err
		}
		if v > SchemaVersion {
			return fmt.Errorf("database schema version %d is newer than this package's %d", v, SchemaVersion)
		}
		if err := checkTables(ctx, q, schemaColumns); err != nil {
			return err
		}
		if v == SchemaVersion {
			return nil
		}
		if _, err := q.ExecContext(ctx, schemaSQL); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO `+migrationsTable+` (version, applied_at) VALUES (?, ?)`,
			SchemaVersion, nanos(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// migrationsTable records the schema versions Migrate applied.
const migrationsTable = "webhookkit_migrations"

// migrationsColumns and schemaColumns are the columns of the migrations
// table and of every other table at [SchemaVersion], with their declared
// types: what Migrate requires of a table it finds under one of these names
// (see [store.CheckColumns]). A test holds them to schema.sql.
var (
	migrationsColumns = map[string]map[string]string{
		migrationsTable: {"version": "INTEGER", "applied_at": "INTEGER"},
	}
	schemaColumns = map[string]map[string]string{
		"webhookkit_endpoints": {"id": "TEXT", "tenant": "TEXT", "mode": "TEXT", "url": "TEXT", "description": "TEXT",
			"event_types": "TEXT", "secrets": "TEXT", "headers": "TEXT", "rate_limit": "REAL", "burst": "INTEGER",
			"max_in_flight": "INTEGER", "metadata": "TEXT", "disabled": "INTEGER", "disabled_reason": "TEXT",
			"disabled_at": "INTEGER", "consecutive_failures": "INTEGER", "failing_since": "INTEGER",
			"last_success_at": "INTEGER", "last_failure_at": "INTEGER", "created_at": "INTEGER", "updated_at": "INTEGER",
			"account": "TEXT", "format": "TEXT", "oauth2": "TEXT", "client_tls": "TEXT",
			"breaker_state": "TEXT", "breaker_since": "INTEGER", "seal_keys": "TEXT"},
		"webhookkit_events": {"id": "TEXT", "type": "TEXT", "mode": "TEXT", "date": "INTEGER", "data": "BLOB"},
		"webhookkit_deliveries": {"id": "TEXT", "event_id": "TEXT", "endpoint_id": "TEXT", "tenant": "TEXT",
			"mode": "TEXT", "event_type": "TEXT", "state": "TEXT", "attempts": "INTEGER", "created_at": "INTEGER",
			"first_attempt_at": "INTEGER", "next_attempt_at": "INTEGER", "last_attempt_at": "INTEGER",
			"last_error": "TEXT", "finished_at": "INTEGER", "lease_token": "TEXT", "leased_by": "TEXT",
			"ordering_key": "TEXT", "key_seq": "INTEGER", "holds_key": "INTEGER",
			"key_waiting": "INTEGER"},
		"webhookkit_attempts": {"id": "TEXT", "delivery_id": "TEXT", "endpoint_id": "TEXT", "tenant": "TEXT",
			"event_id": "TEXT", "event_type": "TEXT", "mode": "TEXT", "number": "INTEGER", "at": "INTEGER",
			"duration": "INTEGER", "url": "TEXT", "request_headers": "TEXT", "request_body": "BLOB",
			"status_code": "INTEGER", "response_headers": "TEXT", "response_body": "BLOB",
			"response_truncated": "INTEGER", "error": "TEXT", "success": "INTEGER", "format": "TEXT"},
		"webhookkit_inbox": {"key": "TEXT", "state": "TEXT", "body": "BLOB", "claimed_at": "INTEGER",
			"expires_at": "INTEGER", "leased_until": "INTEGER", "attempts": "INTEGER", "last_error": "TEXT",
			"finished_at": "INTEGER"},
		"webhookkit_attempt_hours": statsColumns(),
	}
)

// checkTables returns an error wrapping [store.ErrSchemaMismatch] for the
// first table named in want that exists without the columns want gives it.
// A table that does not exist passes.
func checkTables(ctx context.Context, q dbtx, want map[string]map[string]string) error {
	for _, table := range slices.Sorted(maps.Keys(want)) {
		have, err := tableColumns(ctx, q, table)
		if err != nil {
			return err
		}
		if len(have) == 0 {
			continue
		}
		if err := store.CheckColumns(table, want[table], have); err != nil {
			return err
		}
	}
	return nil
}

// tableColumns returns the declared type of each column of table, or an
// empty map when there is no such table.
func tableColumns(ctx context.Context, q dbtx, table string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := make(map[string]string)
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		cols[name] = typ
	}
	return cols, rows.Err()
}

// reader is where reads go: the read pool, or the caller's transaction.
func (s *Store) reader() dbtx {
	if s.tx != nil {
		return s.tx
	}
	return s.rdb
}

// write runs fn atomically: in a BEGIN IMMEDIATE transaction on one
// connection of the write pool, or, on a view bound to a caller's
// transaction, inside a savepoint of it. fn's error is returned as is.
//
// The store's writes take turns on s.wsem before asking the pool for its
// connection. So when ctx ends while a write holds wsem and waits for the
// connection, the connection is held by no write of the store's: with
// [Open]'s pools (one write connection, reads elsewhere) that is the
// caller's transaction on [Store.DB], and the error says so.
func (s *Store) write(ctx context.Context, fn func(q dbtx) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, fn)
	}
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the write lock: %w (held by another write of the store's, which may itself wait "+
			"for a transaction begun on Store.DB: write inside such a transaction through Store.Tx, and publish with "+
			"the sender's PublishTx, not Publish)", ctx.Err())
	}
	defer func() { <-s.wsem }()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.connError(ctx, err)
	}
	defer conn.Close()
	// BEGIN IMMEDIATE takes the write lock now, so the transaction never has
	// to upgrade a read lock later (which fails at once with SQLITE_BUSY in
	// WAL mode instead of waiting).
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		rollback(conn)
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		rollback(conn)
		return err
	}
	return nil
}

// connError explains err, from asking the write pool for a connection
// while holding s.wsem: when ctx ended the wait, the likely cause (with
// [Open], the certain one when the connection is in use) is a transaction
// of the caller's on [Store.DB], holding the pool's one connection.
func (s *Store) connError(ctx context.Context, err error) error {
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	if s.own && s.rdb != s.db && s.db.Stats().InUse > 0 {
		return fmt.Errorf("waiting for the write lock: %w (a transaction begun on Store.DB is open: "+
			"write inside it through Store.Tx, and publish with the sender's PublishTx, not Publish)", err)
	}
	return fmt.Errorf("waiting for a connection of the write pool: %w (if a transaction begun on the pool "+
		"is open and the pool has no other connection: write inside it through Store.Tx, and publish with the "+
		"sender's PublishTx, not Publish)", err)
}

// rollback ends the connection's transaction; if that fails the connection
// is discarded so it never returns to the pool mid-transaction.
func rollback(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil &&
		!strings.Contains(err.Error(), "no transaction is active") {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// savepoint runs fn inside a savepoint of the view's transaction. When fn
// fails, the savepoint is rolled back, and so is the wakeup fn may have
// asked for: the commit notifies only for writes the transaction keeps.
func (s *Store) savepoint(ctx context.Context, fn func(q dbtx) error) error {
	q := s.tx
	if _, err := q.ExecContext(ctx, "SAVEPOINT webhookkit"); err != nil {
		return err
	}
	due := s.n.due.Load()
	if err := fn(q); err != nil {
		bg := context.Background()
		_, _ = q.ExecContext(bg, "ROLLBACK TO webhookkit")
		_, _ = q.ExecContext(bg, "RELEASE webhookkit")
		s.n.due.Store(due)
		return err
	}
	_, err := q.ExecContext(ctx, "RELEASE webhookkit")
	return err
}

// Times are stored as Unix nanoseconds. Times outside what an int64 of
// nanoseconds holds (before 1678 or after 2262) are clamped to its range.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// nullNanos stores the zero time as NULL.
func nullNanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return nanos(t)
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

// addDur returns t+d in nanoseconds, saturating instead of overflowing.
func addDur(t time.Time, d time.Duration) int64 {
	n := nanos(t)
	switch {
	case d > 0 && n > math.MaxInt64-int64(d):
		return math.MaxInt64
	case d < 0 && n < math.MinInt64-int64(d):
		return math.MinInt64
	}
	return n + int64(d)
}

// newID returns a delivery or attempt id: a UUIDv7, whose time-ordered
// prefix makes inserts append to the primary-key index instead of touching
// random pages (fewer pages written per commit).
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
