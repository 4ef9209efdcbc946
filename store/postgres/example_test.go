package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// New checks the configuration without touching the database; the pool
// connects lazily.
func ExampleNew() {
	pool, err := pgxpool.New(context.Background(), "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	s, err := postgres.New(pool, &postgres.Config{Schema: "webhooks"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Schema())

	_, err = postgres.New(pool, &postgres.Config{Schema: "web-hooks"})
	fmt.Println(errors.Is(err, postgres.ErrInvalidConfig))
	// Output:
	// webhooks
	// true
}

// PublishTx enqueues an event in the same transaction as the business
// write it announces: both commit, or neither. This example needs a
// database, so it is compiled but not run.
func ExampleStore_PublishTx() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	s, err := postgres.New(pool, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil { // idempotent: run it at every start
		log.Fatal(err)
	}

	ev, err := event.New(event.ModeLive, "patient.ehi_export_success", map[string]string{"patient_id": "p_123"})
	if err != nil {
		log.Fatal(err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	if _, err := tx.Exec(ctx, `UPDATE exports SET state = 'done' WHERE patient_id = $1`, "p_123"); err != nil {
		log.Fatal(err)
	}
	n, err := s.PublishTx(ctx, tx, ev, store.ToTenant("org_42"))
	if err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		log.Fatal(err) // nothing was enqueued
	}
	fmt.Printf("queued for %d endpoints\n", n)
}

// Stores on one schema notify, and listen on, one channel: a started sender
// subscribes to it by itself. The name helps to watch the wakeups in psql
// (LISTEN "webhookkit_due:webhooks";).
func ExampleStore_NotifyChannel() {
	pool, err := pgxpool.New(context.Background(), "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	s, err := postgres.New(pool, &postgres.Config{Schema: "webhooks"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.NotifyChannel())
	// Output:
	// webhookkit_due:webhooks
}
