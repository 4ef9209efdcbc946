package loadtest_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// keyBacklogStore is a store holding one ordering key's backlog of n due
// deliveries blocked behind a head that waits for its retry, and an
// endpoint without keys whose deliveries the benchmark leases.
type keyBacklogStore struct {
	st    *loadtest.Store
	plain store.Target
	n     int
}

// keyBacklogBase is the benchmark's clock: the keyed backlog falls due at
// it, the unkeyed deliveries a minute later, so a lease that walks the due
// deliveries in due order meets the blocked backlog first.
var keyBacklogBase = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// openKeyBacklog creates a store of kind holding the blocked backlog of n
// (untimed setup: n enqueues, 8 at a time).
func openKeyBacklog(tb testing.TB, kind string, n int) *keyBacklogStore {
	tb.Helper()
	ctx := context.Background()
	st, err := loadtest.OpenStore(ctx, kind, loadtest.StoreOptions{MaxConns: 16, DisableNotify: true})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = st.Close() })
	newEndpoint := func() store.Target {
		sec, err := signature.NewSecret()
		require.NoError(tb, err)
		ep := &store.Endpoint{Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
			Secrets: []store.SigningKey{{Key: sec.String()}}}
		require.NoError(tb, st.Sender.CreateEndpoint(ctx, ep))
		return store.Target{EndpointID: ep.ID, Tenant: ep.Tenant}
	}
	keyed, plain := newEndpoint(), newEndpoint()
	enqueue := func(key string, due time.Time, to store.Target) {
		ev, err := event.New(event.ModeTest, "bench.keyed", map[string]string{"key": key})
		require.NoError(tb, err)
		_, err = st.Sender.Enqueue(ctx, store.EnqueueRequest{Event: ev, Targets: []store.Target{to},
			Now: keyBacklogBase, DueAt: due, OrderingKey: key})
		require.NoError(tb, err)
	}
	// The head fails: it is retried in a day, and blocks its key.
	enqueue("hot", keyBacklogBase, keyed)
	head, err := st.Sender.Lease(ctx, store.LeaseRequest{Now: keyBacklogBase, Limit: 1, Duration: time.Minute})
	require.NoError(tb, err)
	require.Len(tb, head, 1)
	_, err = st.Sender.Settle(ctx, store.SettleBatch{Settlements: []store.Settlement{{Ref: head[0].Ref(),
		Outcome: store.OutcomeRetry, Next: keyBacklogBase.Add(24 * time.Hour), Error: "503"}}})
	require.NoError(tb, err)
	// Key enqueues are serialized per key (by the store or, on PostgreSQL,
	// its advisory lock), so eight goroutines only overlap the round trips.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				enqueue("hot", keyBacklogBase, keyed)
			}
		})
	}
	wg.Wait()
	return &keyBacklogStore{st: st, plain: plain, n: n}
}

// leaseRate enqueues count unkeyed deliveries due a minute after the
// backlog (untimed), then leases them 10 at a time, settling each batch
// as succeeded, and returns leases per second (deliveries leased and
// settled per second).
func (k *keyBacklogStore) leaseRate(tb testing.TB, count int) float64 {
	tb.Helper()
	ctx := context.Background()
	due := keyBacklogBase.Add(time.Minute)
	for range count {
		ev, err := event.New(event.ModeTest, "bench.plain", map[string]int{"n": 1})
		require.NoError(tb, err)
		_, err = k.st.Sender.Enqueue(ctx, store.EnqueueRequest{Event: ev, Targets: []store.Target{k.plain}, Now: due, DueAt: due})
		require.NoError(tb, err)
	}
	now := keyBacklogBase.Add(time.Hour)
	req := store.LeaseRequest{Now: now, Limit: 10, Duration: time.Hour, Mode: event.ModeTest, Worker: "bench"}
	start := time.Now()
	for got := 0; got < count; {
		ds, err := k.st.Sender.Lease(ctx, req)
		require.NoError(tb, err)
		require.NotEmpty(tb, ds, "leased %d of %d", got, count)
		var b store.SettleBatch
		for _, d := range ds {
			require.Empty(tb, d.OrderingKey, "the blocked backlog is not leased")
			b.Settlements = append(b.Settlements, store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: now})
		}
		res, err := k.st.Sender.Settle(ctx, b)
		require.NoError(tb, err)
		require.NotContains(tb, res.Lost, true)
		got += len(ds)
	}
	return float64(count) / time.Since(start).Seconds()
}

// keyBacklogSizes are the blocked backlogs measured; the first is the
// baseline. WEBHOOKKIT_KEY_BACKLOG (comma-separated) overrides the others.
func keyBacklogSizes(tb testing.TB) []int {
	sizes := []int{0, 10_000, 50_000}
	if v := os.Getenv("WEBHOOKKIT_KEY_BACKLOG"); v != "" {
		sizes = []int{0}
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(f)
			require.NoError(tb, err)
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// BenchmarkKeyBacklogLease measures what one ordering key's blocked
// backlog costs everyone else: the rate at which a worker leases (10 at a
// time) and settles unkeyed deliveries while one key has N deliveries due
// ahead of them, queued behind a head that waits for its retry, for N =
// 0, 10,000 and 50,000, on each store. The stores are filled once
// (untimed); each round measures every N in turn (the order rotating) on
// 500 fresh unkeyed deliveries (20,000 on memory), and the benchmark reports the median rate
// per N and its ratio to N = 0. A store that keeps the non-head deliveries
// of a key out of its lease path shows ratios near 1.
func BenchmarkKeyBacklogLease(b *testing.B) {
	sizes := keyBacklogSizes(b)
	for _, kind := range flowKinds() {
		b.Run(kind, func(b *testing.B) {
			perRound := 500
			if kind == loadtest.Memory {
				perRound = 20_000 // 500 take well under a millisecond
			}
			stores := make([]*keyBacklogStore, len(sizes))
			for i, n := range sizes {
				stores[i] = openKeyBacklog(b, kind, n)
			}
			rates := make([][]float64, len(sizes))
			round := 0
			for b.Loop() {
				for j := range sizes {
					i := (j + round) % len(sizes)
					rates[i] = append(rates[i], stores[i].leaseRate(b, perRound))
				}
				round++
			}
			base := loadtest.Median(rates[0])
			var line []string
			for i, n := range sizes {
				m := loadtest.Median(rates[i])
				b.ReportMetric(m, fmt.Sprintf("leases/s@%d", n))
				if i > 0 {
					b.ReportMetric(m/base, fmt.Sprintf("ratio@%d", n))
				}
				line = append(line, fmt.Sprintf("N=%d: %s", n, fmtRates(rates[i])))
			}
			b.Logf("%s rates per round (leases/s): %s", kind, strings.Join(line, "; "))
		})
	}
}

func fmtRates(rs []float64) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = strconv.Itoa(int(r))
	}
	return strings.Join(s, " ")
}
