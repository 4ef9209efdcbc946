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

// An outbox queues an event once per (event id, endpoint): enqueueing it
// again creates deliveries only for endpoints that have none, and Backlog
// tells what is waiting. (A sender's Publish decides the targets; this is
// the store underneath.)
func ExampleOutbox() {
	ctx := context.Background()
	st := memory.New(nil)
	add := func(id string) store.Target {
		err := st.CreateEndpoint(ctx, &store.Endpoint{
			ID:         id,
			Tenant:     "acme",
			Mode:       event.ModeLive,
			URL:        "https://" + id + ".example/webhooks",
			EventTypes: []string{"order.*"},
			Secrets:    []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		})
		if err != nil {
			panic(err)
		}
		return store.Target{EndpointID: id, Tenant: "acme"}
	}
	billing, shipping := add("billing"), add("shipping")

	now := time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC)
	req := store.EnqueueRequest{
		Event: event.Event{
			APIMode: event.ModeLive,
			ID:      "c0ac7bc4-c6ef-4f0b-bba3-93506774eb74",
			Type:    "order.paid",
			Data:    json.RawMessage(`{"order_id":"ord_1"}`),
		},
		Targets: []store.Target{billing},
		Now:     now,
	}
	n, err := st.Enqueue(ctx, req)
	fmt.Println("first enqueue:", n, err)

	req.Targets = []store.Target{billing, shipping}
	req.DueAt = now.Add(time.Hour) // shipping's delivery waits an hour
	n, err = st.Enqueue(ctx, req)
	fmt.Println("again, with shipping:", n, err)

	b, _ := st.Backlog(ctx, event.ModeLive, now)
	fmt.Printf("due %d, scheduled %d\n", b.Due, b.Scheduled)
	// Output:
	// first enqueue: 1 <nil>
	// again, with shipping: 1 <nil>
	// due 1, scheduled 1
}
