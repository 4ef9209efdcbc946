package retry_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
)

func TestExponentialValues(t *testing.T) {
	e := retry.Exponential{Base: time.Second, Max: time.Minute, MinDelay: 100 * time.Millisecond, MaxAttempts: 12, MaxAge: -1}
	// Upper bounds of the jittered part: 1, 2, 4, 8, 16, 32, 60, 60... seconds.
	bounds := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60}
	tests := []struct {
		name string
		rand float64
		want func(bound time.Duration) time.Duration
	}{
		{"min", 0, func(time.Duration) time.Duration { return 100 * time.Millisecond }},
		{"mid", 0.5, func(b time.Duration) time.Duration { return 100*time.Millisecond + b/2 }},
		{"max", 0.999, func(b time.Duration) time.Duration {
			return 100*time.Millisecond + time.Duration(0.999*float64(b))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e
			e.Rand = fixed(tt.rand)
			for i, b := range bounds {
				got, ok := e.Next(retry.Failure{Number: i + 1})
				require.True(t, ok, "attempt %d", i+1)
				require.Equal(t, tt.want(b*time.Second), got, "attempt %d", i+1)
			}
			_, ok := e.Next(retry.Failure{Number: 12})
			require.False(t, ok)
		})
	}
}

func TestExponentialZeroValue(t *testing.T) {
	e := retry.Exponential{Rand: fixed(0.999999)}
	var total time.Duration
	for n := 1; n < retry.DefaultMaxAttempts; n++ {
		got, ok := e.Next(retry.Failure{Number: n})
		require.True(t, ok, "attempt %d", n)
		bound := min(retry.DefaultBase<<(n-1), retry.DefaultMax)
		require.LessOrEqual(t, got, bound)
		require.Greater(t, got, bound*99/100)
		total += got
	}
	_, ok := e.Next(retry.Failure{Number: retry.DefaultMaxAttempts})
	require.False(t, ok)
	// The documented expectation: the bounds add up to about 141.5 h, so the
	// mean total under full jitter is about 71 h.
	require.InDelta(t, 141.5, total.Hours(), 0.1)

	_, ok = retry.Exponential{}.Next(retry.Failure{Number: 1, Age: retry.DefaultMaxAge})
	require.False(t, ok)
	_, ok = retry.Exponential{MaxAge: -1}.Next(retry.Failure{Number: 1, Age: 100 * retry.DefaultMaxAge})
	require.True(t, ok)
}

func TestExponentialGiveUp(t *testing.T) {
	e := retry.Exponential{MaxAttempts: 3, MaxAge: time.Hour}
	_, ok := e.Next(retry.Failure{Number: 2})
	require.True(t, ok)
	_, ok = e.Next(retry.Failure{Number: 3})
	require.False(t, ok)
	_, ok = e.Next(retry.Failure{Number: 1, Age: time.Hour})
	require.False(t, ok)
	_, ok = e.Next(retry.Failure{Number: 1, Err: retry.Permanent(errBase)})
	require.False(t, ok)
	_, ok = retry.Exponential{MaxAttempts: 1}.Next(retry.Failure{Number: 1})
	require.False(t, ok)
}

func TestExponentialNoOverflow(t *testing.T) {
	e := retry.Exponential{
		Base: time.Duration(math.MaxInt64 / 4), Max: time.Duration(math.MaxInt64),
		MinDelay: time.Duration(math.MaxInt64 / 2), MaxAttempts: math.MaxInt, MaxAge: -1,
		Rand: fixed(0.999),
	}
	for _, n := range []int{1, 2, 3, 62, 63, 64, 1000, math.MaxInt - 1} {
		got, ok := e.Next(retry.Failure{Number: n})
		require.True(t, ok)
		require.GreaterOrEqual(t, got, e.MinDelay, "attempt %d", n)
	}
	// A huge attempt number with small values stays at the cap.
	got, ok := retry.Exponential{Base: time.Second, Max: time.Minute, MaxAttempts: math.MaxInt, Rand: fixed(0.5)}.
		Next(retry.Failure{Number: math.MaxInt - 1})
	require.True(t, ok)
	require.Equal(t, 30*time.Second, got)
}

// TestExponentialBoundsProperty: over many random configurations every delay
// lies in [MinDelay, MinDelay+min(Max, Base*2^(n-1))].
func TestExponentialBoundsProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		e := retry.Exponential{
			Base:        time.Duration(1 + rng.Int64N(int64(time.Minute))),
			Max:         time.Duration(1 + rng.Int64N(int64(24*time.Hour))),
			MinDelay:    time.Duration(rng.Int64N(int64(time.Hour))),
			MaxAttempts: 100,
			MaxAge:      -1,
			Rand:        rng.Float64,
		}
		n := 1 + rng.IntN(99)
		got, ok := e.Next(retry.Failure{Number: n})
		require.True(t, ok)
		bound := e.Max
		if n-1 < 62 && e.Base <= e.Max>>(n-1) {
			bound = e.Base << (n - 1)
		}
		require.GreaterOrEqual(t, got, e.MinDelay)
		require.LessOrEqual(t, got, e.MinDelay+bound, "n=%d base=%v max=%v", n, e.Base, e.Max)
	}
}
