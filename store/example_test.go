package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// Publish fans an event out to the active endpoints of one tenant whose
// patterns match its type, and is idempotent per (event, endpoint).
func ExamplePublish() {
	ctx := context.Background()
	st := memory.New(nil)
	add := func(id, tenant string, patterns ...string) {
		err := st.CreateEndpoint(ctx, &store.Endpoint{
			ID:         id,
			Tenant:     tenant,
			Mode:       event.ModeLive,
			URL:        "https://" + id + ".example/webhooks",
			EventTypes: patterns,
			Secrets:    []store.Secret{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		})
		if err != nil {
			panic(err)
		}
	}
	add("exports", "acme", "patient.ehi_export_success")
	add("patients", "acme", "patient.*")
	add("failures", "acme", "patient.ehi_export_failed")
	add("other-tenant", "globex", "*")

	ev := event.Event{
		APIMode: event.ModeLive,
		Date:    time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC),
		ID:      "c0ac7bc4-c6ef-4f0b-bba3-93506774eb74",
		Type:    "patient.ehi_export_success",
		Data:    json.RawMessage(`{"task_id":"fedec7b78cf6905872032b426473"}`),
	}
	n, err := store.Publish(ctx, st, st, ev, store.ToTenant("acme"))
	fmt.Println("first publish:", n, err)
	n, err = store.Publish(ctx, st, st, ev, store.ToTenant("acme"))
	fmt.Println("same event again:", n, err)

	ds, _, _ := st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme", EventID: ev.ID})
	for _, d := range ds {
		fmt.Println(d.EndpointID, d.State)
	}
	_, err = store.Publish(ctx, st, st, ev, store.Audience{})
	fmt.Println("no audience:", err)
	// Unordered output:
	// first publish: 2 <nil>
	// same event again: 0 <nil>
	// exports pending
	// patients pending
	// no audience: store: publish needs an audience: a tenant, or all tenants
}
