package memory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// A sender's life of one delivery: an endpoint subscribes, an event is
// published to its tenant, a worker leases the delivery and settles it.
func ExampleNew() {
	ctx := context.Background()
	s := memory.New(nil)

	ep := &store.Endpoint{
		Tenant:     "acme",
		Mode:       event.ModeTest,
		URL:        "https://hooks.example.com/in",
		EventTypes: []string{"patient.*"},
		Secrets:    []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
	}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		fmt.Println(err)
		return
	}

	now := time.Date(2030, time.January, 1, 12, 0, 0, 0, time.UTC)
	ev := event.Event{
		APIMode: event.ModeTest,
		ID:      "2f1c0f3e-8a7b-4c55-9d2e-6f4b1a0c9e11",
		Type:    "patient.created",
		Data:    json.RawMessage(`{"patient_id":"p_1"}`),
	}
	n, err := s.Enqueue(ctx, store.EnqueueRequest{Event: ev, Targets: []store.Target{{EndpointID: ep.ID, Tenant: ep.Tenant}}, Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("deliveries created:", n)

	leased, err := s.Lease(ctx, store.LeaseRequest{Now: now, Limit: 10, Duration: time.Minute, Worker: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := leased[0]
	fmt.Println("leased:", d.Event.Type, "attempt", d.Attempts)

	// ... POST the event to d's endpoint; it answered 2xx.
	done := store.SettleBatch{Settlements: []store.Settlement{
		{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: now.Add(time.Second)},
	}}
	res, err := s.Settle(ctx, done)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, _ := s.GetDelivery(ctx, d.ID)
	fmt.Println("state:", got.State, "lease lost:", res.Lost[0])
	res, _ = s.Settle(ctx, done)
	fmt.Println("settled twice, lease lost:", res.Lost[0])
	// Output:
	// deliveries created: 1
	// leased: patient.created attempt 1
	// state: succeeded lease lost: false
	// settled twice, lease lost: true
}
