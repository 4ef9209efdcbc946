package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

func Example() {
	dir, err := os.MkdirTemp("", "webhookkit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := sqlite.Open(filepath.Join(dir, "webhooks.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	ep := &store.Endpoint{
		Tenant:     "acme",
		Mode:       event.ModeTest,
		URL:        "https://hooks.example.com/in",
		EventTypes: []string{"patient.*"},
		Secrets:    []store.Secret{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
	}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		log.Fatal(err)
	}

	ev := event.Event{
		APIMode: event.ModeTest,
		Date:    time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		ID:      "6f1c1d1e-8a8e-4b4e-9a57-1f2a3b4c5d6e",
		Type:    "patient.ehi_export_success",
		Data:    json.RawMessage(`{"patient_id": "p_1"}`),
	}
	n, err := store.Publish(ctx, s, s, ev, store.ToTenant("acme"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deliveries created:", n)

	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme"})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range ds {
		fmt.Println(d.Event.Type, d.State, d.EndpointID == ep.ID, string(d.Event.Data))
	}
	// Output:
	// deliveries created: 1
	// patient.ehi_export_success pending true {"patient_id": "p_1"}
}
