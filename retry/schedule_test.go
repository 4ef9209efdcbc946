package retry_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
)

func fixed(f float64) func() float64 { return func() float64 { return f } }

// pct returns d scaled by p percent, exactly as an integer computation.
func pct(d time.Duration, p int64) time.Duration { return d * time.Duration(p) / 100 }

func TestDefaultDelays(t *testing.T) {
	want := []time.Duration{
		5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
	}
	require.Equal(t, want, retry.DefaultDelays())

	var total time.Duration
	for _, d := range want {
		total += d
	}
	require.Equal(t, 75*time.Hour+35*time.Minute+5*time.Second, total)
	// Even the top of the jitter band ends before the give-up age.
	require.Less(t, pct(total, 120), retry.DefaultMaxAge)

	// A fresh copy each time: mutating one does not change the next.
	d := retry.DefaultDelays()
	d[0] = time.Hour
	require.Equal(t, 5*time.Second, retry.DefaultDelays()[0])
}

func TestScheduleJitterBand(t *testing.T) {
	delays := retry.DefaultDelays()
	tests := []struct {
		name string
		rand float64
		lo   int64 // expected delay as a percentage of the scheduled one (bounds, inclusive)
		hi   int64
	}{
		{"min", 0, 80, 80},
		{"mid", 0.5, 100, 100},
		{"max", 0.999, 119, 120},
		{"rand below range clamps to min", -3, 80, 80},
		{"rand above range clamps to max", 7, 119, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := retry.Schedule{Jitter: 0.2, Rand: fixed(tt.rand)}
			for i, want := range delays {
				got, ok := s.Next(retry.Failure{Number: i + 1})
				require.True(t, ok, "attempt %d", i+1)
				require.GreaterOrEqual(t, got, pct(want, tt.lo)-time.Microsecond, "attempt %d", i+1)
				require.LessOrEqual(t, got, pct(want, tt.hi)+time.Microsecond, "attempt %d", i+1)
			}
		})
	}
	t.Run("exact min and mid", func(t *testing.T) {
		got, _ := retry.Schedule{Jitter: 0.2, Rand: fixed(0)}.Next(retry.Failure{Number: 1})
		require.Equal(t, 4*time.Second, got)
		got, _ = retry.Schedule{Jitter: 0.2, Rand: fixed(0.5)}.Next(retry.Failure{Number: 2})
		require.Equal(t, 5*time.Minute, got)
		got, _ = retry.Schedule{Jitter: 0.2, Rand: fixed(0.999)}.Next(retry.Failure{Number: 9})
		require.Equal(t, time.Duration(float64(24*time.Hour)*(1+0.2*(2*0.999-1))), got)
	})
}

func TestScheduleNoJitter(t *testing.T) {
	for _, s := range []retry.Schedule{
		{},
		{Jitter: 0, Rand: fixed(0)},
		{Jitter: -1, Rand: fixed(0)},
	} {
		for i, want := range retry.DefaultDelays() {
			got, ok := s.Next(retry.Failure{Number: i + 1})
			require.True(t, ok)
			require.Equal(t, want, got)
		}
	}
	// Jitter above 1 is read as 1: factor in [0, 2).
	got, _ := retry.Schedule{Jitter: 5, Rand: fixed(0)}.Next(retry.Failure{Number: 1})
	require.Zero(t, got)
	got, _ = retry.Schedule{Jitter: 5, Rand: fixed(0.75)}.Next(retry.Failure{Number: 1})
	require.Equal(t, 7500*time.Millisecond, got)
}

// TestScheduleBoundsProperty checks, over many random inputs, that every
// delay lies in [max(MinDelay, lo), max(MinDelay, hi)] where [lo, hi] is the
// jitter band of the scheduled delay.
func TestScheduleBoundsProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		delay := time.Duration(rng.Int64N(int64(48 * time.Hour)))
		jitter := rng.Float64()
		minDelay := time.Duration(rng.Int64N(int64(10 * time.Hour)))
		s := retry.Schedule{
			Delays:   []time.Duration{delay},
			Jitter:   jitter,
			MinDelay: minDelay,
			MaxAge:   -1,
			Rand:     rng.Float64,
		}
		got, ok := s.Next(retry.Failure{Number: 1})
		require.True(t, ok)
		lo := time.Duration(float64(delay) * (1 - jitter))
		hi := time.Duration(float64(delay) * (1 + jitter))
		require.GreaterOrEqual(t, got, minDelay, "delay=%v jitter=%v min=%v", delay, jitter, minDelay)
		require.GreaterOrEqual(t, got, lo-1, "delay=%v jitter=%v min=%v", delay, jitter, minDelay)
		require.LessOrEqual(t, got, max(hi+1, minDelay), "delay=%v jitter=%v min=%v", delay, jitter, minDelay)
	}
}

func TestScheduleGiveUp(t *testing.T) {
	t.Run("by attempts", func(t *testing.T) {
		s := retry.Schedule{}
		for n := 1; n <= 9; n++ {
			_, ok := s.Next(retry.Failure{Number: n})
			require.True(t, ok, "attempt %d", n)
		}
		for _, n := range []int{10, 11, 1000} {
			_, ok := s.Next(retry.Failure{Number: n})
			require.False(t, ok, "attempt %d", n)
		}
	})
	t.Run("custom delays", func(t *testing.T) {
		s := retry.Schedule{Delays: []time.Duration{time.Millisecond, 2 * time.Millisecond}}
		d, ok := s.Next(retry.Failure{Number: 2})
		require.True(t, ok)
		require.Equal(t, 2*time.Millisecond, d)
		_, ok = s.Next(retry.Failure{Number: 3})
		require.False(t, ok)
	})
	t.Run("empty delays: one attempt", func(t *testing.T) {
		_, ok := retry.Schedule{Delays: []time.Duration{}}.Next(retry.Failure{Number: 1})
		require.False(t, ok)
	})
	t.Run("number below 1 is attempt 1", func(t *testing.T) {
		d, ok := retry.Schedule{}.Next(retry.Failure{})
		require.True(t, ok)
		require.Equal(t, 5*time.Second, d)
		d, ok = retry.Schedule{}.Next(retry.Failure{Number: -4})
		require.True(t, ok)
		require.Equal(t, 5*time.Second, d)
	})
	t.Run("negative delay is zero", func(t *testing.T) {
		d, ok := retry.Schedule{Delays: []time.Duration{-time.Second}, Jitter: 0.2}.Next(retry.Failure{Number: 1})
		require.True(t, ok)
		require.Zero(t, d)
	})
	t.Run("by default age", func(t *testing.T) {
		s := retry.Schedule{}
		_, ok := s.Next(retry.Failure{Number: 2, Age: retry.DefaultMaxAge - time.Nanosecond})
		require.True(t, ok)
		_, ok = s.Next(retry.Failure{Number: 2, Age: retry.DefaultMaxAge})
		require.False(t, ok)
	})
	t.Run("by custom age", func(t *testing.T) {
		s := retry.Schedule{MaxAge: time.Hour}
		_, ok := s.Next(retry.Failure{Number: 1, Age: 59 * time.Minute})
		require.True(t, ok)
		_, ok = s.Next(retry.Failure{Number: 1, Age: time.Hour})
		require.False(t, ok)
	})
	t.Run("no age limit", func(t *testing.T) {
		_, ok := retry.Schedule{MaxAge: -1}.Next(retry.Failure{Number: 1, Age: 365 * 24 * time.Hour})
		require.True(t, ok)
	})
	t.Run("permanent", func(t *testing.T) {
		_, ok := retry.Schedule{}.Next(retry.Failure{Number: 1, Err: retry.Permanent(errBase)})
		require.False(t, ok)
		// Permanent wins over After.
		_, ok = retry.Schedule{}.Next(retry.Failure{Number: 1, Err: retry.After(time.Second, retry.Permanent(errBase))})
		require.False(t, ok)
	})
	t.Run("after does not bypass give-up rules", func(t *testing.T) {
		_, ok := retry.Schedule{}.Next(retry.Failure{Number: 10, Err: retry.After(time.Second, errBase)})
		require.False(t, ok)
		_, ok = retry.Schedule{}.Next(retry.Failure{Number: 1, Age: retry.DefaultMaxAge, Err: retry.After(time.Second, errBase)})
		require.False(t, ok)
	})
}

func retryAfter(v string) http.Header {
	h := http.Header{}
	h.Set("Retry-After", v)
	return h
}

func TestRetryAfterInPolicies(t *testing.T) {
	policies := map[string]func(minDelay, maxRA time.Duration) retry.Policy{
		"schedule": func(minDelay, maxRA time.Duration) retry.Policy {
			// Scheduled delay after attempt 1: 5 s (Rand 0.5 = no change).
			return retry.Schedule{Jitter: 0.2, Rand: fixed(0.5), MinDelay: minDelay, MaxRetryAfter: maxRA}
		},
		"exponential": func(minDelay, maxRA time.Duration) retry.Policy {
			// Scheduled delay after attempt 1: minDelay + 0.5*10 s.
			return retry.Exponential{Base: 10 * time.Second, Rand: fixed(0.5), MinDelay: minDelay, MaxRetryAfter: maxRA}
		},
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		status   int
		header   http.Header
		err      error
		minDelay time.Duration
		maxRA    time.Duration
		want     time.Duration
		wantExp  time.Duration // for the exponential, when it differs
	}{
		{name: "no header", status: 503, want: 5 * time.Second},
		{name: "429 longer wins", status: 429, header: retryAfter("120"), want: 120 * time.Second},
		{name: "503 longer wins", status: 503, header: retryAfter("120"), want: 120 * time.Second},
		{name: "shorter is ignored", status: 503, header: retryAfter("1"), want: 5 * time.Second},
		{name: "zero is ignored", status: 429, header: retryAfter("0"), want: 5 * time.Second},
		{name: "500 ignores header", status: 500, header: retryAfter("120"), want: 5 * time.Second},
		{name: "502 ignores header", status: 502, header: retryAfter("120"), want: 5 * time.Second},
		{name: "no response ignores header", status: 0, header: retryAfter("120"), want: 5 * time.Second},
		{name: "garbage", status: 429, header: retryAfter("soon"), want: 5 * time.Second},
		{name: "negative", status: 429, header: retryAfter("-60"), want: 5 * time.Second},
		{name: "huge capped at default", status: 429, header: retryAfter("99999999999999999999999"), want: retry.DefaultMaxRetryAfter},
		{name: "capped at custom", status: 503, header: retryAfter("3600"), maxRA: time.Minute, want: time.Minute},
		{
			name: "http-date against Date header", status: 503,
			header: http.Header{
				"Retry-After": {now.Add(10 * time.Minute).Format(http.TimeFormat)},
				"Date":        {now.Format(http.TimeFormat)},
			},
			want: 10 * time.Minute,
		},
		{name: "floored at MinDelay", status: 429, header: retryAfter("1"), minDelay: 30 * time.Second, want: 30 * time.Second, wantExp: 35 * time.Second},
		{name: "after replaces schedule (shorter)", status: 503, err: retry.After(time.Second, errBase), want: time.Second},
		{name: "after beats header", status: 503, header: retryAfter("600"), err: retry.After(time.Second, errBase), want: time.Second},
		{name: "after replaces schedule (longer)", err: retry.After(20*time.Minute, errBase), want: 20 * time.Minute},
		{name: "after capped", err: retry.After(48*time.Hour, errBase), want: retry.DefaultMaxRetryAfter},
		{name: "after capped custom", err: retry.After(time.Hour, errBase), maxRA: 2 * time.Minute, want: 2 * time.Minute},
		{name: "after floored", err: retry.After(0, nil), minDelay: 3 * time.Second, want: 3 * time.Second},
	}
	for pname, newPolicy := range policies {
		for _, tt := range tests {
			t.Run(pname+"/"+tt.name, func(t *testing.T) {
				want := tt.want
				if pname == "exponential" && tt.wantExp != 0 {
					want = tt.wantExp
				}
				got, ok := newPolicy(tt.minDelay, tt.maxRA).Next(retry.Failure{
					Number: 1, StatusCode: tt.status, Header: tt.header, Err: tt.err,
				})
				require.True(t, ok)
				require.Equal(t, want, got)
			})
		}
	}
}

func TestRetryAfterHTTPDateClock(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := retryAfter(at.Add(time.Hour / 2).Format(http.TimeFormat))
	s := retry.Schedule{}

	// No Date header: measured from Failure.Time.
	got, ok := s.Next(retry.Failure{Number: 1, StatusCode: 503, Header: h, Time: at})
	require.True(t, ok)
	require.Equal(t, 30*time.Minute, got)

	// A Date header takes precedence over Failure.Time (the server's clock
	// on both sides cancels skew).
	h2 := h.Clone()
	h2.Set("Date", at.Add(20*time.Minute).Format(http.TimeFormat))
	got, _ = s.Next(retry.Failure{Number: 1, StatusCode: 503, Header: h2, Time: at})
	require.Equal(t, 10*time.Minute, got)

	// An invalid Date header falls back to Failure.Time.
	h3 := h.Clone()
	h3.Set("Date", "yesterday")
	got, _ = s.Next(retry.Failure{Number: 1, StatusCode: 503, Header: h3, Time: at})
	require.Equal(t, 30*time.Minute, got)

	// No Time either: the current clock. A date a day ahead is capped.
	h4 := retryAfter(time.Now().Add(24 * time.Hour).Format(http.TimeFormat))
	got, _ = s.Next(retry.Failure{Number: 1, StatusCode: 429, Header: h4})
	require.Equal(t, retry.DefaultMaxRetryAfter, got)
}

func TestMinDelayFloorsSchedule(t *testing.T) {
	s := retry.Schedule{Delays: []time.Duration{time.Millisecond}, Jitter: 0.2, MinDelay: time.Second, Rand: fixed(0)}
	got, ok := s.Next(retry.Failure{Number: 1})
	require.True(t, ok)
	require.Equal(t, time.Second, got)
}

func TestPoliciesConcurrent(t *testing.T) {
	policies := []retry.Policy{retry.Default(), retry.Schedule{}, retry.Exponential{}}
	var wg sync.WaitGroup
	for _, p := range policies {
		for g := range 4 {
			wg.Go(func() {
				for n := 1; n <= 200; n++ {
					h := retryAfter(strconv.Itoa(n))
					d, ok := p.Next(retry.Failure{Number: n%9 + 1, StatusCode: 429, Header: h, Err: errors.New(strconv.Itoa(g))})
					if ok && d < 0 {
						t.Errorf("negative delay %v", d)
					}
				}
			})
		}
	}
	wg.Wait()
}

func TestDefault(t *testing.T) {
	p := retry.Default()
	s, ok := p.(retry.Schedule)
	require.True(t, ok)
	require.Equal(t, retry.DefaultDelays(), s.Delays)
	require.Equal(t, retry.DefaultJitter, s.Jitter)
	require.Equal(t, retry.DefaultMaxAge, s.MaxAge)

	// Every default delay stays within ±20% over many draws.
	for range 1000 {
		for i, want := range retry.DefaultDelays() {
			got, ok := p.Next(retry.Failure{Number: i + 1})
			require.True(t, ok)
			require.GreaterOrEqual(t, got, pct(want, 80))
			require.LessOrEqual(t, got, pct(want, 120))
		}
	}
	_, ok = p.Next(retry.Failure{Number: 10})
	require.False(t, ok)
}

func TestNeverAndPolicyFunc(t *testing.T) {
	_, ok := retry.Never{}.Next(retry.Failure{Number: 1, StatusCode: 503})
	require.False(t, ok)

	var got retry.Failure
	f := retry.PolicyFunc(func(a retry.Failure) (time.Duration, bool) {
		got = a
		return time.Duration(a.Number) * time.Second, a.Number < 3
	})
	var p retry.Policy = f
	d, ok := p.Next(retry.Failure{Number: 2, StatusCode: 500})
	require.True(t, ok)
	require.Equal(t, 2*time.Second, d)
	require.Equal(t, 500, got.StatusCode)
	_, ok = p.Next(retry.Failure{Number: 3})
	require.False(t, ok)
}

func TestScheduleSaturates(t *testing.T) {
	s := retry.Schedule{Delays: []time.Duration{math.MaxInt64}, Jitter: 0.2, MaxAge: -1, Rand: fixed(0.999)}
	got, ok := s.Next(retry.Failure{Number: 1})
	require.True(t, ok)
	require.Equal(t, time.Duration(math.MaxInt64), got)
}
