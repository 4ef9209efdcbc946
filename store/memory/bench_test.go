package memory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/storetest"
)

func benchStore(testing.TB) storetest.Store {
	return memory.New(&memory.Config{Logger: slog.New(slog.DiscardHandler)})
}

// BenchmarkLease measures Lease and Settle per due delivery beside a backlog
// of 1,000 and 1,000,000 not-yet-due deliveries. Both sizes always run:
// seeding a million deliveries into memory takes a few seconds.
func BenchmarkLease(b *testing.B) {
	for _, backlog := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			storetest.BenchmarkLease(b, benchStore, backlog)
		})
	}
}

// BenchmarkListAttempts lists one delivery's attempts out of 1,000 and
// 100,000 (the default cap) in the log.
func BenchmarkListAttempts(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("attempts=%d", n), func(b *testing.B) {
			storetest.BenchmarkListAttempts(b, benchStore, n)
		})
	}
}

// benchAttempt is an attempt as the sender logs it: 1 KiB request body,
// a few headers each way.
func benchAttempt() *store.Attempt {
	return &store.Attempt{
		DeliveryID: uuid.NewString(), EndpointID: "ep", EventID: uuid.NewString(),
		EventType: "patient.ehi_export_success", Mode: event.ModeTest, Number: 1,
		At: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), URL: "https://hooks.example.com/in",
		RequestHeaders: http.Header{
			"Content-Type":      {"application/json"},
			"User-Agent":        {"webhookkit"},
			"Webhook-Id":        {"msg_2mVq6B4Yp0lZ"},
			"Webhook-Timestamp": {"1893456000"},
			"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
		},
		RequestBody:     make([]byte, 1024),
		StatusCode:      200,
		ResponseHeaders: http.Header{"Content-Type": {"text/plain"}, "Date": {"Tue, 01 Jan 2030 00:00:00 GMT"}},
		ResponseBody:    []byte("ok"),
		Success:         true,
	}
}

// BenchmarkAddAttempt measures logging attempts from parallel workers (ids
// assigned by the caller, as the sender does).
func BenchmarkAddAttempt(b *testing.B) {
	s := benchStore(b)
	proto := benchAttempt()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a := *proto
			i := n.Add(1)
			a.ID = fmt.Sprint(i)
			a.At = a.At.Add(time.Duration(i))
			if err := s.AddAttempt(context.Background(), &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetEndpoint measures parallel reads of one endpoint, as each
// worker round of a sender does.
func BenchmarkGetEndpoint(b *testing.B) {
	s := benchStore(b)
	ep := &store.Endpoint{
		Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"patient.*", "ping"},
		Secrets:  []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		Headers:  map[string]string{"X-Team": "billing"},
		Metadata: map[string]string{"owner": "ops"},
	}
	if err := s.CreateEndpoint(context.Background(), ep); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.GetEndpoint(context.Background(), ep.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWorkerCycle measures a sender worker's store calls per delivery
// from parallel workers: Lease (batches of 10), GetEndpoint, and a Settle of
// each delivery with its attempt and health delta. Deliveries are enqueued
// in untimed refills.
func BenchmarkWorkerCycle(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	ep := &store.Endpoint{
		Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
	}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	data := json.RawMessage(fmt.Sprintf(`{"pad":%q}`, make([]byte, 1000)))
	enqueue := func(n int) {
		for range n {
			ev := event.Event{APIMode: event.ModeTest, Date: now, ID: uuid.NewString(), Type: "ping", Data: data}
			if _, err := s.Enqueue(ctx, enqueueAt(ev, []store.Target{{EndpointID: ep.ID}})); err != nil {
				b.Fatal(err)
			}
		}
	}
	enqueue(b.N + 10*64)
	proto := benchAttempt()
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var held []*store.Delivery
		for pb.Next() {
			if len(held) == 0 {
				ds, err := s.Lease(ctx, store.LeaseRequest{Now: now, Limit: 10, Duration: time.Minute, Worker: "w"})
				if err != nil || len(ds) == 0 {
					b.Fatalf("lease: %d, %v", len(ds), err)
				}
				if _, err := s.GetEndpoint(ctx, ep.ID); err != nil {
					b.Fatal(err)
				}
				held = ds
			}
			d := held[0]
			held = held[1:]
			a := *proto
			a.ID = fmt.Sprint(seq.Add(1))
			a.DeliveryID, a.EndpointID, a.EventID = d.ID, d.EndpointID, d.Event.ID
			batch := store.SettleBatch{
				Settlements: []store.Settlement{{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: now, Attempt: &a}},
				Health:      []store.HealthDelta{{EndpointID: d.EndpointID, LastSuccess: now}},
			}
			if res, err := s.Settle(ctx, batch); err != nil || res.Lost[0] {
				b.Fatalf("settle: %v, %v", res.Lost, err)
			}
		}
	})
}

// BenchmarkAttemptStats reads a tenant's hourly aggregates over 15 days
// with 1,440 attempts (one per endpoint and hour) and 100 times more.
func BenchmarkAttemptStats(b *testing.B) {
	for _, n := range []int{storetest.BenchStatsCells, 100 * storetest.BenchStatsCells} {
		b.Run(fmt.Sprintf("attempts=%d", n), func(b *testing.B) {
			storetest.BenchmarkAttemptStats(b, benchStore, n)
		})
	}
}
