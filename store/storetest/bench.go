package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// BacklogSeeder is an optional fast path for [BenchmarkLease]: a store (or a
// test wrapper around one, so the method stays out of the driver's API) that
// has it seeds the backlog in bulk instead of through Enqueue.
type BacklogSeeder interface {
	// SeedBacklog creates n pending test-mode deliveries of type
	// "bench.backlog", spread round-robin over targets, each for an event
	// of its own, all due at due. It is called once, before timing starts.
	SeedBacklog(ctx context.Context, targets []store.Target, n int, due time.Time) error
}

// Benchmark sizes.
const (
	benchBacklogEndpoints = 8    // endpoints sharing the not-yet-due backlog
	benchRefill           = 1000 // due deliveries created per refill, untimed
	benchLeaseBatch       = 10   // Lease limit
)

// BenchmarkLease measures what a sender's worker loop costs per delivery
// when a store holds a backlog of deliveries that are not yet due: one op is
// one due delivery leased (in batches of 10) and settled as succeeded (each
// batch with one Settle, without attempts or health). It seeds backlog
// not-yet-due deliveries over eight endpoints first (through [BacklogSeeder]
// when the store has it, else Enqueue), and creates due deliveries for a
// ninth endpoint in batches of 1,000 with the timer stopped. A store whose
// Lease does not scan what is not due shows about the same ns/op for a
// backlog of 1,000 and of 1,000,000.
//
// newStore makes the store, as a [Factory] does; BenchmarkLease fails b if
// any call fails.
func BenchmarkLease(b *testing.B, newStore Factory[Store], backlog int) {
	ctx := b.Context()
	s := newStore(b)

	var backlogTargets []store.Target
	for range benchBacklogEndpoints {
		ep := validEndpoint()
		if err := s.CreateEndpoint(ctx, ep); err != nil {
			b.Fatal(err)
		}
		backlogTargets = append(backlogTargets, store.Target{EndpointID: ep.ID, Tenant: ep.Tenant})
	}
	dueEp := validEndpoint()
	if err := s.CreateEndpoint(ctx, dueEp); err != nil {
		b.Fatal(err)
	}
	dueTarget := []store.Target{{EndpointID: dueEp.ID, Tenant: dueEp.Tenant}}

	notYet := at(1000 * time.Hour)
	if seeder, ok := s.(BacklogSeeder); ok {
		if err := seeder.SeedBacklog(ctx, backlogTargets, backlog, notYet); err != nil {
			b.Fatal(err)
		}
	} else {
		for i := 0; i < backlog; i += len(backlogTargets) {
			ts := backlogTargets[:min(len(backlogTargets), backlog-i)]
			if _, err := s.Enqueue(ctx, enqueueAt(newEvent("bench.backlog", notYet), ts)); err != nil {
				b.Fatal(err)
			}
		}
	}
	now := at(0)
	if ds, err := s.Lease(ctx, store.LeaseRequest{Now: now, Limit: 1, Duration: time.Minute}); err != nil || len(ds) != 0 {
		b.Fatalf("storetest: the backlog must not be due: leased %d, err %v", len(ds), err)
	}

	req := store.LeaseRequest{Now: now, Duration: time.Hour, Mode: event.ModeTest, Worker: "bench"}
	var held []*store.Delivery
	var batch store.SettleBatch
	available := 0
	for b.Loop() {
		if len(held) == 0 {
			if available == 0 {
				b.StopTimer()
				for range benchRefill {
					if _, err := s.Enqueue(ctx, enqueueAt(newEvent("bench.due", at(-time.Hour)), dueTarget)); err != nil {
						b.Fatal(err)
					}
				}
				available = benchRefill
				b.StartTimer()
			}
			req.Limit = min(benchLeaseBatch, available)
			ds, err := s.Lease(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if len(ds) != req.Limit {
				b.Fatalf("storetest: leased %d due deliveries, want %d", len(ds), req.Limit)
			}
			available -= len(ds)
			held = ds
			batch.Settlements = batch.Settlements[:0]
		}
		batch.Settlements = append(batch.Settlements, succeeded(held[0].Ref(), now))
		held = held[1:]
		if len(held) > 0 {
			continue
		}
		res, err := s.Settle(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		if slices.Contains(res.Lost, true) {
			b.Fatal("storetest: a lease was lost")
		}
	}
}

// Attempt-list benchmark shape: each delivery has benchAttemptsPerDelivery
// attempts, and the deliveries are spread over benchAttemptEndpoints
// endpoints.
const (
	benchAttemptsPerDelivery = 5
	benchAttemptEndpoints    = 10
)

// BenchmarkListAttempts measures what the delivery-logs view costs when the
// attempt log is large: one op is one ListAttempts of one delivery's
// attempts (a delivery's detail page, or a log page asking for each row's
// latest attempt) while the store holds n attempts, five per delivery, over
// ten endpoints. The attempts are added through AddAttempt before timing
// starts. A store that indexes attempts by delivery shows about the same
// ns/op whatever n is.
//
// newStore makes the store, as a [Factory] does; BenchmarkListAttempts
// fails b if any call fails or a list comes back wrong.
func BenchmarkListAttempts(b *testing.B, newStore Factory[Store], n int) {
	ctx := b.Context()
	s := newStore(b)
	deliveries := max(n/benchAttemptsPerDelivery, 1)
	body := []byte(`{"type":"patient.ehi_export_success","data":{"patient_id":"p_1"}}`)
	hdr := map[string][]string{"Content-Type": {"application/json"}, "Webhook-Id": {"msg_1"}}
	for i := range n {
		d := i % deliveries
		a := &store.Attempt{
			DeliveryID:     fmt.Sprintf("d-%07d", d),
			EndpointID:     fmt.Sprintf("ep-%02d", d%benchAttemptEndpoints),
			Tenant:         "acme",
			EventID:        fmt.Sprintf("ev-%07d", d),
			EventType:      "patient.ehi_export_success",
			Mode:           event.ModeTest,
			Number:         i/deliveries + 1,
			At:             at(time.Duration(i) * time.Millisecond),
			URL:            "https://hooks.example.com/in",
			RequestHeaders: hdr,
			RequestBody:    body,
			StatusCode:     503,
		}
		if err := s.AddAttempt(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	want := min(benchAttemptsPerDelivery, n)
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("d-%07d", i%deliveries)
		i += 7919 // a prime: visit deliveries out of order
		as, _, err := s.ListAttempts(ctx, store.AttemptFilter{Tenant: "acme", DeliveryID: id})
		if err != nil {
			b.Fatal(err)
		}
		if len(as) != want || as[0].DeliveryID != id {
			b.Fatalf("storetest: listed %d attempts of %s, want %d", len(as), id, want)
		}
	}
}

// Attempt-stats benchmark shape: attempts spread round-robin over
// benchStatsEndpoints endpoints and the hours of the default retention.
const (
	benchStatsEndpoints = 4
	benchStatsHours     = int(store.DefaultRetention / time.Hour)
	// BenchStatsCells is the number of (endpoint, hour) rows the attempts
	// of [BenchmarkAttemptStats] fill: with n = BenchStatsCells, every
	// row holds one attempt, so larger n only add to the rows' counts.
	BenchStatsCells = benchStatsEndpoints * benchStatsHours
)

// BenchmarkAttemptStats measures what a tenant-wide delivery chart costs:
// one op is one [store.AttemptStats] of a tenant over the default
// retention (15 days) while the store holds n attempts, spread round-robin
// over four endpoints and the window's 360 hours (filling all 1,440 of
// their hourly rows once n reaches [BenchStatsCells]), added through
// AddAttempt by four goroutines before timing starts. A store that reads
// hourly aggregates shows about the same ns/op for n = BenchStatsCells and
// for a hundred times more; one that scanned the attempts would take a
// hundred times longer. It skips a store without AttemptStats.
//
// newStore makes the store, as a [Factory] does; BenchmarkAttemptStats
// fails b if any call fails or the aggregates come back wrong.
func BenchmarkAttemptStats(b *testing.B, newStore Factory[Store], n int) {
	ctx := b.Context()
	s := newStore(b)
	st, ok := s.(store.AttemptStats)
	if !ok {
		b.Skip("the store does not implement store.AttemptStats")
	}
	start := store.Hour(base)
	const workers = 4
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := w; i < n; i += workers {
				hour := (i / benchStatsEndpoints) % benchStatsHours
				a := &store.Attempt{
					DeliveryID: fmt.Sprintf("d-%07d", i), EndpointID: fmt.Sprintf("ep-%d", i%benchStatsEndpoints),
					Tenant: "acme", EventID: fmt.Sprintf("ev-%07d", i), EventType: "patient.ehi_export_success",
					Mode: event.ModeTest, Number: 1, At: start.Add(time.Duration(hour)*time.Hour + time.Duration(i%3600)*time.Second),
					Duration: time.Duration(i%500) * time.Millisecond, URL: "https://hooks.example.com/in",
					StatusCode: []int{200, 200, 200, 503, 0}[i%5],
				}
				if err := s.AddAttempt(ctx, a); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	f := store.StatsFilter{Tenant: "acme", Mode: event.ModeTest, Since: start, Until: start.Add(store.DefaultRetention)}
	want := min(n/benchStatsEndpoints, benchStatsHours)
	for b.Loop() {
		hs, err := st.AttemptStats(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(hs) != want {
			b.Fatalf("storetest: %d hours of stats, want %d", len(hs), want)
		}
	}
}
