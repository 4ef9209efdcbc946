package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// The transactional outbox: the application's own write and the webhook it
// announces commit together, or neither does. The transaction is begun on
// Store.DB and the sender publishes through Store.Tx, a view bound to it.
func ExampleStore_Tx() {
	dir, err := os.MkdirTemp("", "webhookkit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	// Endpoint secrets in plaintext, by explicit choice; production code
	// gives Config.Keys a seal.Keyring to encrypt them at rest.
	s, err := sqlite.Open(filepath.Join(dir, "app.db"), &sqlite.Config{PlaintextSecrets: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	if err := s.CreateEndpoint(ctx, &store.Endpoint{
		Tenant:     "acme",
		Mode:       event.ModeTest,
		URL:        "https://hooks.example.com/in",
		EventTypes: []string{"order.*"},
		Secrets:    []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
	}); err != nil {
		log.Fatal(err)
	}
	snd, err := sender.New(s, nil) // Start it to deliver; here it only publishes
	if err != nil {
		log.Fatal(err)
	}

	ev, err := event.New(event.ModeTest, "order.paid", json.RawMessage(`{"order_id":"ord_1"}`))
	if err != nil {
		log.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil) // IMMEDIATE: it takes the write lock first
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id, status) VALUES ('ord_1', 'paid')`); err != nil {
		log.Fatal(err)
	}
	n, err := snd.PublishTx(ctx, s.Tx(tx), ev, sender.ToTenant("acme"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err) // neither the order nor the webhook was written
	}
	fmt.Println("deliveries created:", n)

	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme"})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range ds {
		fmt.Println(d.Event.Type, d.State, string(d.Event.Data))
	}
	// Output:
	// deliveries created: 1
	// order.paid pending {"order_id":"ord_1"}
}
