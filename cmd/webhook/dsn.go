package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/postgres"
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

// openedStore is a store opened from a DSN, with its schema migrated.
type openedStore struct {
	kind  string // "memory", "sqlite" or "postgres"
	st    driver
	close func()
}

// durable reports whether the store outlives the process.
func (o *openedStore) durable() bool { return o.kind != "memory" }

// openStore opens the store a DSN names and migrates its schema:
// "memory", "sqlite:PATH" (the file is created if missing) or
// "postgres://..." / "postgresql://..." (a pgx connection string; the
// tables live in the schema named by an optional "schema" query parameter,
// default postgres.DefaultSchema). An unknown form is a usage error.
func openStore(ctx context.Context, dsn string) (*openedStore, error) {
	switch {
	case dsn == "memory":
		return &openedStore{kind: "memory", st: memory.New(nil), close: func() {}}, nil

	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, usagef("--store sqlite:PATH needs a file path")
		}
		s, err := sqlite.Open(path, nil)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		if err := s.Migrate(ctx); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("migrating %s: %w", path, err)
		}
		return &openedStore{kind: "sqlite", st: s, close: func() { _ = s.Close() }}, nil

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
		s, err := postgres.New(pool, &postgres.Config{Schema: schema})
		if err != nil {
			pool.Close()
			return nil, usagef("--store: %v", err)
		}
		if err := s.Migrate(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("migrating PostgreSQL: %w", err)
		}
		return &openedStore{kind: "postgres", st: s, close: pool.Close}, nil
	}
	return nil, usagef("unknown store %q: want memory, sqlite:PATH or postgres://...", redactDSN(dsn))
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
