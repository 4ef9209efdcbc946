package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// Store kinds.
const (
	Memory   = "memory"
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// EnvDSN names the PostgreSQL DSN variable: the one the PostgreSQL tests
// read, so one setting serves tests and benchmarks.
const EnvDSN = "WEBHOOKKIT_TEST_POSTGRES_DSN"

// ErrNoDSN is returned by OpenStore for PostgreSQL when EnvDSN is unset.
var ErrNoDSN = errors.New("loadtest: " + EnvDSN + " is not set")

// Store is a fresh, empty store of one kind, with what it takes to remove it.
type Store struct {
	Kind string
	// Sender is the store as a sender sees it; Inbox the same store as a
	// receiver's inbox.
	Sender store.SenderStore
	Inbox  store.Inbox
	// Memory is set for the memory kind, for its Stats.
	Memory *memory.Store
	// Schema and Pool are set for the PostgreSQL kind: the schema holding
	// the store and the pool it uses (for statistics queries).
	Schema string
	Pool   *pgxpool.Pool

	close func() error
}

// StoreOptions tune OpenStore; the zero value takes every default.
type StoreOptions struct {
	// Memory configures the memory store (its caps); nil: defaults, with a
	// discarding logger.
	Memory *memory.Config
	// MaxConns caps the PostgreSQL pool; zero: 8.
	MaxConns int32
	// Schema, for PostgreSQL, opens the store in this existing (migrated)
	// schema, which Close leaves in place, as another process sharing a
	// store does; empty: a new schema that Close drops.
	Schema string
	// AppName, for PostgreSQL, is the pool's application_name, which names
	// its connections in pg_stat_activity; empty: the server's default.
	AppName string
	// DisableNotify, for PostgreSQL, sets the store's
	// postgres.Config.DisableNotify: no notification per enqueue.
	DisableNotify bool
}

// OpenStore creates an empty store of the given kind: memory; SQLite in a
// new temporary file; PostgreSQL in a new schema of the database EnvDSN
// names, which must be on a loopback address or a Unix socket (or in the
// existing schema opts.Schema). Close removes the file or drops the schema
// it created.
func OpenStore(ctx context.Context, kind string, opts StoreOptions) (*Store, error) {
	switch kind {
	case Memory:
		cfg := opts.Memory
		if cfg == nil {
			cfg = &memory.Config{}
		}
		if cfg.Logger == nil {
			c := *cfg
			c.Logger = Discard()
			cfg = &c
		}
		m := memory.New(cfg)
		return &Store{Kind: kind, Sender: m, Inbox: m, Memory: m, close: func() error { return nil }}, nil
	case SQLite:
		dir, err := os.MkdirTemp("", "webhookkit-loadtest-*")
		if err != nil {
			return nil, fmt.Errorf("loadtest: %w", err)
		}
		s, err := sqlite.Open(filepath.Join(dir, "store.db"), &sqlite.Config{PlaintextSecrets: true})
		if err == nil {
			err = s.Migrate(ctx)
		}
		if err != nil {
			if s != nil {
				_ = s.Close()
			}
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("loadtest: sqlite: %w", err)
		}
		return &Store{Kind: kind, Sender: s, Inbox: s, close: func() error {
			return errors.Join(s.Close(), os.RemoveAll(dir))
		}}, nil
	case Postgres:
		return openPostgres(ctx, opts)
	default:
		return nil, fmt.Errorf("loadtest: unknown store %q (memory, sqlite or postgres)", kind)
	}
}

// Close releases the store and removes what OpenStore created.
func (s *Store) Close() error { return s.close() }

func openPostgres(ctx context.Context, opts StoreOptions) (*Store, error) {
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		return nil, ErrNoDSN
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", EnvDSN, err)
	}
	hosts := []string{cfg.ConnConfig.Host}
	for _, f := range cfg.ConnConfig.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(h); !strings.HasPrefix(h, "/") && h != "localhost" && (err != nil || !ip.Unmap().IsLoopback()) {
			return nil, fmt.Errorf("%w: PostgreSQL host %q", ErrNotLoopback, h)
		}
	}
	cfg.MaxConns = 8
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.AppName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = opts.AppName
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("loadtest: postgres: %w", err)
	}
	schema, drop := opts.Schema, func() error { pool.Close(); return nil }
	if schema == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		schema = "loadtest_" + hex.EncodeToString(b[:])
		drop = func() error {
			_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			pool.Close()
			return err
		}
	}
	s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema, Logger: Discard(), DisableNotify: opts.DisableNotify})
	if err == nil && opts.Schema == "" {
		err = s.Migrate(ctx)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("loadtest: postgres: %w", err), drop())
	}
	return &Store{Kind: Postgres, Sender: s, Inbox: s, Schema: schema, Pool: pool, close: drop}, nil
}
