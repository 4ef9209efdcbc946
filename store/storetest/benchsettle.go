package storetest

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// benchSettleEndpoints is how many endpoints the settle benchmarks spread
// deliveries over: a batch carries one health delta for each.
const benchSettleEndpoints = 4

// BenchmarkSettle measures what settling a delivery costs: one op is one
// leased delivery settled as succeeded, with an attempt of a 1 KiB
// request, in groups of n (spread over four endpoints), each group with one
// Settle: its settlements, their attempts and one health delta per endpoint
// in one transaction. Run it with n of 1, 32 and 256 to see what batching
// saves. Besides ns/op it reports ns/delivery, the time of the timed loop
// over the deliveries it settled (b.N rounded up to whole groups): the
// figure to compare across group sizes. The deliveries (n per group,
// created through [BacklogSeeder] when the store has it, else Enqueue) are
// created and leased before timing starts.
//
// newStore makes the store, as a [Factory] does; BenchmarkSettle fails b
// if any call fails or a lease is lost.
func BenchmarkSettle(b *testing.B, newStore func(testing.TB) Store, n int) {
	ctx := b.Context()
	s := newStore(b)
	var ts []store.Target
	for range benchSettleEndpoints {
		ep := validEndpoint()
		if err := s.CreateEndpoint(ctx, ep); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, store.Target{EndpointID: ep.ID, Tenant: ep.Tenant})
	}
	due := at(-time.Hour)
	groups := (b.N + n - 1) / n
	total := groups * n
	if seeder, ok := s.(BacklogSeeder); ok {
		if err := seeder.SeedBacklog(ctx, ts, total, due); err != nil {
			b.Fatal(err)
		}
	} else {
		for i := 0; i < total; i += len(ts) {
			if _, err := s.Enqueue(ctx, enqueueAt(newEvent("bench.settle", due), ts[:min(len(ts), total-i)])); err != nil {
				b.Fatal(err)
			}
		}
	}
	now := at(0)
	var held []*store.Delivery
	for len(held) < total {
		ds, err := s.Lease(ctx, store.LeaseRequest{Now: now, Limit: min(total-len(held), 1000), Duration: time.Hour, Worker: "bench"})
		if err != nil || len(ds) == 0 {
			b.Fatalf("storetest: leased %d of %d deliveries (err %v)", len(held), total, err)
		}
		held = append(held, ds...)
	}
	body := bytes.Repeat([]byte("x"), 1024)
	b.ResetTimer()
	for g := range groups {
		benchSettleBatch(b, s, held[g*n:(g+1)*n], body, now)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/delivery")
}

// benchAttempt returns a successful attempt of d with a 1 KiB request body.
func benchAttempt(d *store.Delivery, body []byte, t time.Time) *store.Attempt {
	return &store.Attempt{
		DeliveryID: d.ID, EndpointID: d.EndpointID, Tenant: d.Tenant, EventID: d.Event.ID,
		EventType: d.Event.Type, Mode: d.Event.APIMode, Number: d.Attempts, At: t, Duration: 3 * time.Millisecond,
		URL: "https://hooks.example.com/in",
		RequestHeaders: http.Header{
			"Content-Type":      {"application/json"},
			"Webhook-Id":        {d.Event.ID},
			"Webhook-Timestamp": {"1893553445"},
			"Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		},
		RequestBody:     body,
		StatusCode:      200,
		ResponseHeaders: http.Header{"Content-Length": {"2"}},
		ResponseBody:    []byte("ok"),
		Success:         true,
	}
}

func benchSettleBatch(b *testing.B, s Store, ds []*store.Delivery, body []byte, t time.Time) {
	batch := store.SettleBatch{Settlements: make([]store.Settlement, len(ds))}
	deltas := make(map[string]int, benchSettleEndpoints)
	for i, d := range ds {
		batch.Settlements[i] = store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: benchAttempt(d, body, t)}
		j, ok := deltas[d.EndpointID]
		if !ok {
			j = len(batch.Health)
			deltas[d.EndpointID] = j
			batch.Health = append(batch.Health, store.HealthDelta{EndpointID: d.EndpointID})
		}
		batch.Health[j].Add(true, t)
	}
	res, err := s.Settle(b.Context(), batch)
	if err != nil {
		b.Fatal(err)
	}
	for i, lost := range res.Lost {
		if lost {
			b.Fatalf("storetest: settlement %d lost its lease", i)
		}
	}
}

// BenchmarkClaimBatch measures what claiming a new event costs: one op is
// one new key claimed, with a 1 KiB body, in groups of n: each group with
// one [store.InboxBatcher.ClaimBatch] (batched true) or n Claims (false).
// It skips a store without InboxBatcher when batched.
func BenchmarkClaimBatch(b *testing.B, newStore func(testing.TB) Store, n int, batched bool) {
	ctx := b.Context()
	s := newStore(b)
	bs, ok := s.(store.InboxBatcher)
	if batched && !ok {
		b.Skip("storetest: the store does not implement store.InboxBatcher")
	}
	body := bytes.Repeat([]byte("x"), 1024)
	groups := (b.N + n - 1) / n
	all := make([]store.Claim, groups*n)
	for i := range all {
		all[i] = store.Claim{Key: fmt.Sprintf("msg_%09d", i), Body: body, Now: at(0), TTL: time.Hour, Lease: time.Minute}
	}
	b.ResetTimer()
	for g := range groups {
		cs := all[g*n : (g+1)*n]
		if batched {
			won, err := bs.ClaimBatch(ctx, cs)
			if err != nil {
				b.Fatal(err)
			}
			for i, w := range won {
				if !w {
					b.Fatalf("storetest: new key %s lost", cs[i].Key)
				}
			}
			continue
		}
		for _, c := range cs {
			if won, err := s.Claim(ctx, c); err != nil || !won {
				b.Fatalf("storetest: claim of new key %s: won %v, err %v", c.Key, won, err)
			}
		}
	}
}
