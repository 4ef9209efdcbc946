package loadtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// flowKinds are the stores the delivery-control benchmarks run on:
// PostgreSQL only when its DSN is set.
func flowKinds() []string {
	kinds := []string{loadtest.Memory, loadtest.SQLite}
	if os.Getenv(loadtest.EnvDSN) != "" {
		kinds = append(kinds, loadtest.Postgres)
	}
	return kinds
}

// deliverBatch publishes n events to one endpoint of a fresh store of kind
// (untimed), keys[i%len(keys)] as the ordering key of event i (none when
// keys is empty), then times a started sender of 32 workers delivering
// all of them to url. It returns deliveries per second.
func deliverBatch(tb testing.TB, kind, url string, n int, keys []string) float64 {
	tb.Helper()
	ctx := context.Background()
	st, err := loadtest.OpenStore(ctx, kind, loadtest.StoreOptions{MaxConns: 32})
	require.NoError(tb, err)
	defer st.Close() //nolint:errcheck // a temporary store
	sec, err := signature.NewSecret()
	require.NoError(tb, err)
	ep := &store.Endpoint{Mode: event.ModeTest, URL: url, EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: sec.String()}}, MaxInFlight: 32}
	require.NoError(tb, st.Sender.CreateEndpoint(ctx, ep))
	var ok atomic.Int64
	done := make(chan struct{})
	s, err := sender.New(st.Sender, &sender.Config{
		Workers:              32,
		AllowPrivateNetworks: true,
		Logger:               loadtest.Discard(),
		SlowStart:            sender.SlowStartConfig{Disabled: true}, // measure the keys alone
		Hooks: sender.Hooks{OnAttempt: func(_ context.Context, a *store.Attempt) {
			if a.Success && ok.Add(1) == int64(n) {
				close(done)
			}
		}},
	})
	require.NoError(tb, err)
	defer s.Close() //nolint:errcheck // after Shutdown it returns nil
	for i := range n {
		ev, err := event.New(event.ModeTest, "bench.ordered", map[string]int{"seq": i})
		require.NoError(tb, err)
		var opts *sender.PublishOptions
		if len(keys) > 0 {
			opts = &sender.PublishOptions{OrderingKey: keys[i%len(keys)]}
		}
		_, err = s.Publish(ctx, ev, sender.ToTenant(""), opts)
		require.NoError(tb, err)
	}
	start := time.Now()
	require.NoError(tb, s.Start(ctx))
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		tb.Fatalf("%d of %d delivered after 5 minutes", ok.Load(), n)
	}
	elapsed := time.Since(start)
	require.NoError(tb, s.Shutdown(ctx))
	return float64(n) / elapsed.Seconds()
}

// BenchmarkOrderingKeys compares delivery throughput with 1,000 ordering
// keys (each key's deliveries one at a time, in order) against the same
// deliveries without keys, A/B in each round on fresh stores, to one local
// endpoint that answers at once (so the cost measured is the keys' own:
// leasing only heads, and a key's next delivery waiting for its
// settlement). It reports the median rates and their ratio per store.
// Batch: 4,000 deliveries (4 per key), 20,000 with WEBHOOKKIT_FULL=1.
func BenchmarkOrderingKeys(b *testing.B) {
	n := 4000
	if os.Getenv("WEBHOOKKIT_FULL") == "1" {
		n = 20000
	}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("order-%04d", i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	for _, kind := range flowKinds() {
		b.Run(kind, func(b *testing.B) {
			var plain, keyed []float64
			for b.Loop() {
				plain = append(plain, deliverBatch(b, kind, srv.URL, n, nil))
				keyed = append(keyed, deliverBatch(b, kind, srv.URL, n, keys))
			}
			p, k := loadtest.Median(plain), loadtest.Median(keyed)
			b.ReportMetric(p, "unkeyed-deliveries/s")
			b.ReportMetric(k, "keyed-deliveries/s")
			b.ReportMetric(k/p, "ratio")
		})
	}
}

// BenchmarkSlowStartRamp shows the ramp as a table: a started sender's
// endpoint with MaxInFlight 16 is down (502) while a backlog of 10,000
// deliveries is published (by 16 goroutines, so the stores' group commit
// batches the writes) and its breaker opens; then it comes back, answering
// each request after 2 ms, and the next probe closes the breaker. The
// benchmark logs, per 20 ms after the breaker closed (the time the breaker
// records, not the later OnBreakerChange call), the deliveries made, the
// requests the sender allowed in flight, and the most the endpoint saw at
// once. It requires that the endpoint never saw more than 16, and that
// every delivery is finished at the end. With WEBHOOKKIT_FULL=1 the
// backlog is 100,000.
func BenchmarkSlowStartRamp(b *testing.B) {
	backlog := 10_000
	if os.Getenv("WEBHOOKKIT_FULL") == "1" {
		backlog = 100_000
	}
	for _, kind := range flowKinds() {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				runRamp(b, kind, backlog)
			}
		})
	}
}

func runRamp(b *testing.B, kind string, backlog int) {
	ctx := context.Background()
	const capacity = 16
	var (
		up       atomic.Bool
		inFlight atomic.Int64
		most     atomic.Int64 // the most in flight in the current bucket
		peak     atomic.Int64 // the most in flight overall
		served   atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		defer inFlight.Add(-1)
		for _, m := range []*atomic.Int64{&most, &peak} {
			for {
				v := m.Load()
				if now <= v || m.CompareAndSwap(v, now) {
					break
				}
			}
		}
		if !up.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		time.Sleep(2 * time.Millisecond)
		served.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	st, err := loadtest.OpenStore(ctx, kind, loadtest.StoreOptions{MaxConns: 32})
	require.NoError(b, err)
	defer st.Close() //nolint:errcheck // a temporary store
	sec, err := signature.NewSecret()
	require.NoError(b, err)
	ep := &store.Endpoint{Mode: event.ModeTest, URL: srv.URL, EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: sec.String()}}, MaxInFlight: capacity}
	require.NoError(b, st.Sender.CreateEndpoint(ctx, ep))
	closed := make(chan time.Time, 1)
	s, err := sender.New(st.Sender, &sender.Config{
		Workers:              32,
		AllowPrivateNetworks: true,
		PollInterval:         10 * time.Millisecond,
		Logger:               loadtest.Discard(),
		DisableAfterFailures: -1,
		Breaker:              sender.BreakerConfig{Failures: 5, ProbeInterval: 50 * time.Millisecond},
		Hooks: sender.Hooks{OnBreakerChange: func(_ context.Context, _ *store.Endpoint, state store.BreakerState) {
			if state == store.BreakerClosed {
				select {
				case closed <- time.Now():
				default:
				}
			}
		}},
	})
	require.NoError(b, err)
	defer s.Close() //nolint:errcheck // after Shutdown it returns nil
	require.NoError(b, s.Start(ctx))
	began := time.Now()
	publishConcurrently(b, s, backlog)
	published := time.Since(began)
	waitUntil(b, func() bool { return s.Flow(ep.ID).Breaker == store.BreakerOpen })
	up.Store(true)
	hooked := <-closed
	// The close is when the probe's answer reached the sender (the breaker
	// records it then); the hook runs once the probe's settlement is
	// written, and the ramp goes on meanwhile. Nothing was served before
	// the endpoint came up, so served counts every delivery made since
	// the close, the probe included.
	start := s.Flow(ep.ID).BreakerSince
	atHook := served.Load()
	most.Store(0)
	b.Logf("%s: published %d in %v (%d goroutines) while the endpoint failed; "+
		"the breaker closed %v before OnBreakerChange reported it, %d deliveries made by then",
		kind, backlog, published.Round(time.Millisecond), publishers, hooked.Sub(start).Round(time.Millisecond), atHook)

	var table strings.Builder
	fmt.Fprintf(&table, "%s, backlog %d, MaxInFlight %d:\n| ms after close | delivered | allowed in flight | most in flight |\n|---|---|---|---|\n", kind, backlog, capacity)
	var mu sync.Mutex
	rows := 0
	// One row per 20 ms during the ramp, then one per second (per ten
	// seconds for a backlog of 100,000).
	every := 50
	if backlog >= 100_000 {
		every = 500
	}
	limit := rampTimeout()
	deadline := time.After(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	// delivered excludes the probe, which closed the breaker.
	delivered := func() int64 { return served.Load() - 1 }
	for served.Load() < int64(backlog) {
		select {
		case <-tick.C:
		case <-deadline:
			b.Log(table.String())
			left, err := st.Sender.Backlog(ctx, "", time.Now())
			b.Fatalf("the backlog did not drain in %v: %d of %d delivered; the endpoint saw at most %d in flight; left in the store: %+v (%v)",
				limit, served.Load(), backlog, peak.Load(), left, err)
		}
		if p := peak.Load(); p > capacity {
			b.Log(table.String())
			b.Fatalf("the endpoint saw %d requests in flight, more than its MaxInFlight %d", p, capacity)
		}
		f := s.Flow(ep.ID)
		mu.Lock()
		if rows < 12 || !f.Ramping && rows%every == 0 {
			fmt.Fprintf(&table, "| %d | %d | %d | %d |\n", time.Since(start).Milliseconds(), delivered(), f.InFlightLimit, most.Swap(0))
		}
		rows++
		mu.Unlock()
	}
	fmt.Fprintf(&table, "drained %d in %v; the endpoint saw at most %d in flight\n", backlog, time.Since(start).Round(time.Millisecond), peak.Load())
	b.Log(table.String())
	left, err := st.Sender.Backlog(ctx, "", time.Now())
	require.NoError(b, err)
	require.Zero(b, left.Pending(), "deliveries left unfinished: %+v", left)
	require.LessOrEqual(b, peak.Load(), int64(capacity), "the endpoint saw more than its MaxInFlight")
	require.NoError(b, s.Shutdown(ctx))
}

// publishers is how many goroutines publish the ramp's backlog: enough for
// the stores' group commit to batch the writes, so that a backlog of
// 100,000 is published in minutes rather than half an hour.
const publishers = 16

// publishConcurrently publishes n events of type bench.ramp through s, from
// publishers goroutines.
func publishConcurrently(tb testing.TB, s *sender.Sender, n int) {
	tb.Helper()
	ctx := context.Background()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, publishers)
	)
	for range publishers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				ev, err := event.New(event.ModeTest, "bench.ramp", map[string]int64{"seq": i})
				if err == nil {
					_, err = s.Publish(ctx, ev, sender.ToTenant(""), nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	require.NoError(tb, <-errs)
}

// rampTimeout is how long runRamp waits for the backlog to drain: five
// minutes, or WEBHOOKKIT_RAMP_TIMEOUT (a time.Duration).
func rampTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("WEBHOOKKIT_RAMP_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 5 * time.Minute
}

func waitUntil(tb testing.TB, cond func() bool) {
	tb.Helper()
	end := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(end) {
			tb.Fatal(errors.New("timed out"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
