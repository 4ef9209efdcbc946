package store_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

func TestClassOf(t *testing.T) {
	for status, want := range map[int]store.Class{
		0: store.ClassNetwork, 200: store.Class2xx, 299: store.Class2xx, 301: store.ClassOther, 101: store.ClassOther,
		400: store.Class4xx, 429: store.Class4xx, 500: store.Class5xx, 599: store.Class5xx, 600: store.ClassOther,
	} {
		require.Equal(t, want, store.ClassOf(status), "status %d", status)
	}
}

func TestLatencyBucket(t *testing.T) {
	require.Equal(t, 0, store.LatencyBucket(0))
	require.Equal(t, 0, store.LatencyBucket(5*time.Millisecond), "a bound is in its bucket")
	require.Equal(t, 1, store.LatencyBucket(5*time.Millisecond+1))
	require.Equal(t, store.NumLatencyBuckets-2, store.LatencyBucket(time.Minute))
	require.Equal(t, store.NumLatencyBuckets-1, store.LatencyBucket(time.Hour))
}

// TestQuantilePrecision checks the documented precision on random
// samples: each estimate lies in the bucket of the true quantile, so
// within a factor of 2.5 of it below 10 s (3 from 10 to 30 s).
func TestQuantilePrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var h store.HourStats
		n := 1 + rng.IntN(500)
		scale := []time.Duration{time.Millisecond, 20 * time.Millisecond, 300 * time.Millisecond, 4 * time.Second}[rng.IntN(4)]
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = time.Duration(rng.ExpFloat64() * float64(scale))
			h.Record(&store.Attempt{Duration: ds[i], StatusCode: 200})
		}
		slices.Sort(ds)
		for _, q := range []float64{0.5, 0.95} {
			rank := int(q*float64(n)+0.999999) - 1 // the nearest-rank quantile
			truth, est := ds[rank], h.Quantile(q)
			if truth > time.Minute {
				require.Equal(t, time.Minute, est)
				continue
			}
			b := store.LatencyBucket(truth)
			lo := time.Duration(0)
			if b > 0 {
				lo = store.LatencyBounds[b-1]
			}
			require.GreaterOrEqual(t, est, lo, "q%v of %d: true %v", q, n, truth)
			require.LessOrEqual(t, est, store.LatencyBounds[b], "q%v of %d: true %v", q, n, truth)
		}
	}
	var empty store.HourStats
	require.Zero(t, empty.Quantile(0.5))
	require.Zero(t, empty.SuccessRate())
}

func TestAggregateAttempts(t *testing.T) {
	h := time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)
	rows := store.AggregateAttempts([]*store.Attempt{
		{EndpointID: "b", Tenant: "t", At: h.Add(90 * time.Minute), StatusCode: 200},
		{EndpointID: "a", Tenant: "t", At: h.Add(30 * time.Minute), StatusCode: 500},
		nil,
		{EndpointID: "b", Tenant: "t", At: h.Add(10 * time.Minute), StatusCode: 0},
		{EndpointID: "b", Tenant: "t", At: h.Add(20 * time.Minute).In(time.FixedZone("x", 3600)), StatusCode: 404},
	})
	require.Len(t, rows, 3)
	require.Equal(t, []string{"a", "b", "b"}, []string{rows[0].EndpointID, rows[1].EndpointID, rows[2].EndpointID})
	require.Equal(t, h, rows[1].Hour)
	require.Equal(t, h.Add(time.Hour), rows[2].Hour)
	require.Equal(t, int64(2), rows[1].Total())
	require.Equal(t, int64(1), rows[1].Counts[store.Class4xx])
	require.Equal(t, int64(1), rows[1].Counts[store.ClassNetwork])
}
