package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/seal"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// dsnHelp describes the --store values, for flag usage.
const dsnHelp = "store `DSN`: memory, sqlite:PATH or postgres://...[?schema=NAME]"

// driver is what every store driver is: a sender store and a recoverable
// inbox.
type driver interface {
	store.SenderStore
	store.InboxRecovery
	store.Inbox
}

var (
	_ driver = (*memory.Store)(nil)
	_ driver = (*sqlite.Store)(nil)
	_ driver = (*postgres.Store)(nil)
)

// openedStore is a store opened from a DSN.
type openedStore struct {
	kind  string // "memory", "sqlite" or "postgres"
	where string // for messages: "memory", "sqlite PATH" or `postgres, schema "NAME"`
	st    driver
	close func()
	// plaintext says that endpoint credentials written to the store are
	// kept in plaintext: a SQL store opened to write while
	// $WEBHOOK_STORE_KEYS is unset.
	plaintext bool
}

// durable reports whether the store outlives the process.
func (o *openedStore) durable() bool { return o.kind != "memory" }

// openMode says whether openStore may create a store.
type openMode int

const (
	// migrate creates the store when it is missing and migrates its schema.
	migrate openMode = iota
	// existing opens a store that exists already, only reading: it fails
	// when there is none, creating nothing (read-only commands).
	existing
)

// openStore opens the store a DSN names: "memory", "sqlite:PATH" or
// "postgres://..." / "postgresql://..." (a pgx connection string; the
// tables live in the schema named by an optional "schema" query parameter,
// default postgres.DefaultSchema). With migrate, a missing SQLite file is
// created and the schema migrated. With existing, the SQLite file or
// PostgreSQL schema must hold a store already: nothing is created or
// written, and its absence is an error (exit 1); memory, never existing
// before the process, is a usage error. An unknown form is a usage error.
func openStore(ctx context.Context, dsn string, mode openMode) (*openedStore, error) {
	switch {
	case dsn == "memory":
		if mode == existing {
			return nil, usagef("--store memory is empty in a new process; give sqlite:PATH or postgres://...")
		}
		return &openedStore{kind: "memory", where: "memory", st: memory.New(nil), close: func() {}}, nil

	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, usagef("--store sqlite:PATH needs a file path")
		}
		if mode == existing {
			return openSQLiteReadOnly(ctx, path)
		}
		keys, err := storeKeys()
		if err != nil {
			return nil, err
		}
		s, err := sqlite.Open(path, &sqlite.Config{Keys: keys, PlaintextSecrets: keys == nil})
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		if err := s.Migrate(ctx); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("migrating %s: %w", path, err)
		}
		return &openedStore{kind: "sqlite", where: "sqlite " + path, st: s, close: func() { _ = s.Close() }, plaintext: keys == nil}, nil

	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			// Errors may quote the connection string, password included.
			return nil, usagef("--store: invalid PostgreSQL connection string")
		}
		q := u.Query()
		schema := q.Get("schema")
		q.Del("schema")
		u.RawQuery = q.Encode()
		pool, err := pgxpool.New(ctx, u.String())
		if err != nil {
			return nil, usagef("--store: invalid PostgreSQL connection string")
		}
		keys, err := storeKeys()
		if err != nil {
			pool.Close()
			return nil, err
		}
		s, err := postgres.New(pool, &postgres.Config{Schema: schema, Keys: keys, PlaintextSecrets: keys == nil})
		if err != nil {
			pool.Close()
			return nil, usagef("--store: %v", err)
		}
		where := fmt.Sprintf("postgres, schema %q", s.Schema())
		if mode == existing {
			err = checkInstalled(ctx, s, postgres.SchemaVersion, fmt.Sprintf("PostgreSQL schema %q", s.Schema()),
				"the schema does not exist or holds no webhookkit tables")
		} else if err = s.Migrate(ctx); err != nil {
			err = fmt.Errorf("migrating PostgreSQL: %w", err)
		}
		if err != nil {
			pool.Close()
			return nil, err
		}
		return &openedStore{kind: "postgres", where: where, st: s, close: pool.Close, plaintext: keys == nil && mode == migrate}, nil
	}
	return nil, usagef("unknown store %q: want memory, sqlite:PATH or postgres://...", redactDSN(dsn))
}

// checkKeys fails when the store holds endpoint credentials that
// $WEBHOOK_STORE_KEYS cannot open: sealed under key ids it does not hold
// (or sealed, and it is unset), or under an id it gives another key. It is
// for the commands that read endpoints (dashboard), not for those that use
// the store as an inbox or read only the attempt log (listen, logs).
func (o *openedStore) checkKeys(ctx context.Context) error {
	c, ok := o.st.(store.KeyChecker)
	if !ok {
		return nil
	}
	err := c.CheckKeys(ctx)
	var ke *seal.KeysError
	if errors.As(err, &ke) {
		e := *ke
		e.Setting = "$" + storeKeysEnv
		return fmt.Errorf("%w (set it to the keys that sealed them, as id=base64[,id=base64...], the sealing key first)", &e)
	}
	if err != nil {
		return fmt.Errorf("checking the keys of %s: %w", o.where, err)
	}
	return nil
}

// storeKeysEnv names the environment variable holding the key-encryption
// keys of a SQL store, in seal.ParseKeyring's form ("id=base64,...").
const storeKeysEnv = "WEBHOOK_STORE_KEYS"

// storeKeys returns the keys in $WEBHOOK_STORE_KEYS, or nil when it is
// unset: the CLI, a development tool, then keeps endpoint secrets in
// plaintext, as its README says.
func storeKeys() (*seal.Keyring, error) {
	text := os.Getenv(storeKeysEnv)
	if text == "" {
		return nil, nil
	}
	keys, err := seal.ParseKeyring(text)
	if err != nil && strings.HasSuffix(err.Error(), " repeated") {
		// Two keys under one id: the second is no rotation but a clash.
		return nil, usagef("$%s: %v (each key needs an id of its own: 'webhook secret --store-key --key-id ID' prints a key with the id you give)", storeKeysEnv, err)
	}
	if err != nil {
		return nil, usagef("$%s: %v ('webhook secret --store-key' prints a key)", storeKeysEnv, err)
	}
	return keys, nil
}

// plaintextWarning is the line a command that writes endpoints prints on
// stderr when the store keeps their credentials in plaintext (see
// openedStore.plaintext), or "".
func (o *openedStore) plaintextWarning() string {
	if !o.plaintext {
		return ""
	}
	return fmt.Sprintf("warning: $%s is unset, so endpoint secrets and credentials are stored in plaintext in %s; to seal them, set it first: export %s=$(webhook secret --store-key)", storeKeysEnv, o.where, storeKeysEnv)
}

// openSQLiteReadOnly opens the store in the SQLite file at path without
// creating or changing anything: the file must exist (sqlite.Open would
// create it and switch it to WAL) and its connections only read.
func openSQLiteReadOnly(ctx context.Context, path string) (*openedStore, error) {
	if path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, usagef("--store sqlite:PATH needs a plain file path without '?'")
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no store in %s: the file does not exist (a read-only command creates none)", path)
	} else if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqlite.DefaultBusyTimeout.Milliseconds()))
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	keys, err := storeKeys()
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s := sqlite.New(db, &sqlite.Config{Keys: keys})
	if err := checkInstalled(ctx, s, sqlite.SchemaVersion, path, "the file holds no webhookkit tables"); err != nil {
		_ = db.Close()
		return nil, err
	}
	return &openedStore{kind: "sqlite", where: "sqlite " + path, st: s, close: func() { _ = db.Close() }}, nil
}

// checkInstalled fails unless st holds a store of a schema version this
// build knows: where names the store and missing says why there is none.
func checkInstalled(ctx context.Context, st interface {
	InstalledVersion(context.Context) (int, error)
}, known int, where, missing string) error {
	v, err := st.InstalledVersion(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("reading %s: %w", where, err)
	case v == 0:
		return fmt.Errorf("no store in %s: %s (a read-only command creates none)", where, missing)
	case v > known:
		return fmt.Errorf("%s holds a store of schema version %d, newer than this build's %d: use a newer webhook", where, v, known)
	}
	return nil
}

// redactDSN hides a password in a URL-shaped DSN.
func redactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return dsn
	}
	if user, _, hasPw := strings.Cut(rest[:at], ":"); hasPw {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return dsn
}
