package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
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

	s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: "webhooks"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Schema())

	_, err = postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: "web-hooks"})
	fmt.Println(errors.Is(err, postgres.ErrInvalidConfig))
	// Output:
	// webhooks
	// true
}

// The transactional outbox: the webhook is enqueued in the same
// transaction as the business write it announces, through Store.Tx, a view
// bound to that transaction: both commit, or neither. This example needs a
// database, so it is compiled but not run.
func ExampleStore_Tx() {
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
	snd, err := sender.New(s, nil) // and Start it, to deliver
	if err != nil {
		log.Fatal(err)
	}

	ev, err := event.New(event.ModeLive, "order.paid", map[string]string{"order_id": "ord_123"})
	if err != nil {
		log.Fatal(err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	if _, err := tx.Exec(ctx, `UPDATE orders SET state = 'paid' WHERE id = $1`, "ord_123"); err != nil {
		log.Fatal(err)
	}
	n, err := snd.PublishTx(ctx, s.Tx(tx), ev, sender.ToTenant("org_42"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		log.Fatal(err) // nothing was enqueued
	}
	fmt.Printf("queued for %d endpoints\n", n) // the senders are notified on commit
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

	s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: "webhooks"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.NotifyChannel())
	// Output:
	// webhookkit_due:webhooks
}
