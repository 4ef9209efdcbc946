package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/seal"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// export is a row of the application's own exports table.
type export struct {
	ID              string `json:"id"`
	Tenant          string `json:"tenant"`
	OrgConnectionID string `json:"org_connection_id"`
	Status          string `json:"status"` // pending, complete, failed
}

// errNotPending: the export does not exist or is finished already.
var errNotPending = errors.New("export not found or not pending")

// database is the application's database: webhookkit's tables and its own.
// There is one implementation per driver because the transaction types
// differ (*sql.Tx for SQLite, pgx.Tx for PostgreSQL); the pattern is the same.
type database interface {
	Kind() string
	Store() store.SenderStore
	CreateExport(ctx context.Context, ex export) error
	// FinishExport sets a pending export's status and, in the same
	// transaction, publishes the event newEvent builds for it. It returns
	// how many deliveries were enqueued.
	// The sender publishes through a view of the store bound to that
	// transaction (Store.Tx), with the same rules as Sender.Publish.
	FinishExport(ctx context.Context, s *sender.Sender, id, status string, newEvent func(export) (event.Event, error)) (event.Event, int, error)
	Close()
}

// openDB opens "sqlite:PATH" or a "postgres://" connection string and
// migrates webhookkit's schema and the exports table.
func openDB(ctx context.Context, dsn string, logger *slog.Logger) (database, error) {
	// Endpoint secrets are sealed at rest under the keys in
	// $WEBHOOK_STORE_KEYS ("id=base64 of 32 bytes", the sealing key first);
	// without it this example keeps them in plaintext, by explicit choice.
	var keys *seal.Keyring
	if text := os.Getenv("WEBHOOK_STORE_KEYS"); text != "" {
		var err error
		if keys, err = seal.ParseKeyring(text); err != nil {
			return nil, err
		}
	}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		st, err := sqlite.Open(strings.TrimPrefix(dsn, "sqlite:"), &sqlite.Config{Keys: keys, PlaintextSecrets: keys == nil})
		if err != nil {
			return nil, err
		}
		db := &sqliteDB{st: st}
		if err := db.migrate(ctx); err != nil {
			_ = st.Close()
			return nil, err
		}
		return db, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, errors.New("invalid PostgreSQL connection string") // its text may hold a password
		}
		st, err := postgres.New(pool, &postgres.Config{Logger: logger, Keys: keys, PlaintextSecrets: keys == nil})
		if err != nil {
			pool.Close()
			return nil, err
		}
		db := &pgDB{pool: pool, st: st}
		if err := db.migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
		return db, nil
	}
	return nil, fmt.Errorf("-store %q: want sqlite:PATH or postgres://...", dsn)
}

// --- SQLite ---

type sqliteDB struct{ st *sqlite.Store }

func (d *sqliteDB) Kind() string             { return "sqlite" }
func (d *sqliteDB) Store() store.SenderStore { return d.st }
func (d *sqliteDB) Close()                   { _ = d.st.Close() }

func (d *sqliteDB) migrate(ctx context.Context) error {
	if err := d.st.Migrate(ctx); err != nil {
		return err
	}
	// The application's table lives in the same file, so one transaction
	// covers it and webhookkit's outbox.
	_, err := d.st.DB().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS exports (
		id TEXT PRIMARY KEY,
		tenant TEXT NOT NULL,
		org_connection_id TEXT NOT NULL,
		status TEXT NOT NULL,
		updated_at TEXT NOT NULL)`)
	return err
}

func (d *sqliteDB) CreateExport(ctx context.Context, ex export) error {
	_, err := d.st.DB().ExecContext(ctx,
		`INSERT INTO exports (id, tenant, org_connection_id, status, updated_at) VALUES (?, ?, ?, ?, ?)`,
		ex.ID, ex.Tenant, ex.OrgConnectionID, ex.Status, time.Now().UTC().Format(time.RFC3339))
	return err
}

func (d *sqliteDB) FinishExport(ctx context.Context, s *sender.Sender, id, status string, newEvent func(export) (event.Event, error)) (event.Event, int, error) {
	// Begin on Store.DB: its transactions begin IMMEDIATE (they take the
	// write lock first), and while one is open, do not call the Store's own
	// write methods, which would wait for it.
	tx, err := d.st.DB().BeginTx(ctx, nil)
	if err != nil {
		return event.Event{}, 0, err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit

	// 1. The business write.
	ex := export{ID: id, Status: status}
	err = tx.QueryRowContext(ctx,
		`UPDATE exports SET status = ?, updated_at = ? WHERE id = ? AND status = 'pending'
		 RETURNING tenant, org_connection_id`,
		status, time.Now().UTC().Format(time.RFC3339), id).Scan(&ex.Tenant, &ex.OrgConnectionID)
	if errors.Is(err, sql.ErrNoRows) {
		return event.Event{}, 0, errNotPending
	}
	if err != nil {
		return event.Event{}, 0, err
	}

	// 2. The webhook, in the same transaction.
	ev, err := newEvent(ex)
	if err != nil {
		return event.Event{}, 0, err
	}
	n, err := s.PublishTx(ctx, d.st.Tx(tx), ev, sender.ToAccount(ex.Tenant, ex.OrgConnectionID), nil)
	if err != nil {
		return event.Event{}, 0, err
	}

	// 3. Both or neither.
	return ev, n, tx.Commit()
}

// --- PostgreSQL ---

type pgDB struct {
	pool *pgxpool.Pool
	st   *postgres.Store
}

func (d *pgDB) Kind() string             { return "postgres" }
func (d *pgDB) Store() store.SenderStore { return d.st }
func (d *pgDB) Close()                   { d.pool.Close() }

func (d *pgDB) migrate(ctx context.Context) error {
	if err := d.st.Migrate(ctx); err != nil { // webhookkit's tables, in the schema "webhookkit"
		return err
	}
	_, err := d.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS exports (
		id text PRIMARY KEY,
		tenant text NOT NULL,
		org_connection_id text NOT NULL,
		status text NOT NULL,
		updated_at timestamptz NOT NULL)`)
	return err
}

func (d *pgDB) CreateExport(ctx context.Context, ex export) error {
	_, err := d.pool.Exec(ctx,
		`INSERT INTO exports (id, tenant, org_connection_id, status, updated_at) VALUES ($1, $2, $3, $4, now())`,
		ex.ID, ex.Tenant, ex.OrgConnectionID, ex.Status)
	return err
}

func (d *pgDB) FinishExport(ctx context.Context, s *sender.Sender, id, status string, newEvent func(export) (event.Event, error)) (event.Event, int, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return event.Event{}, 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit

	// 1. The business write.
	ex := export{ID: id, Status: status}
	err = tx.QueryRow(ctx,
		`UPDATE exports SET status = $1, updated_at = now() WHERE id = $2 AND status = 'pending'
		 RETURNING tenant, org_connection_id`,
		status, id).Scan(&ex.Tenant, &ex.OrgConnectionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return event.Event{}, 0, errNotPending
	}
	if err != nil {
		return event.Event{}, 0, err
	}

	// 2. The webhook, in the same transaction.
	ev, err := newEvent(ex)
	if err != nil {
		return event.Event{}, 0, err
	}
	n, err := s.PublishTx(ctx, d.st.Tx(tx), ev, sender.ToAccount(ex.Tenant, ex.OrgConnectionID), nil)
	if err != nil {
		return event.Event{}, 0, err
	}

	// 3. Both or neither.
	return ev, n, tx.Commit(ctx)
}
