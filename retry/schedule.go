package retry

import (
	"math"
	"math/rand/v2"
	"time"
)

// Defaults of [Schedule] and [Default]; see the package documentation for
// why they are what they are.
const (
	// DefaultMaxAge is the give-up age: no attempt starts once the first one
	// is this old. It is longer than the default schedule even at the top of
	// its jitter band (about 91 h), so it only cuts deliveries that waited
	// for other reasons (a disabled endpoint, a backlog), and it is shorter
	// than a receiver's 7-day de-duplication window, so a late retry is
	// still recognised as a duplicate.
	DefaultMaxAge = 4 * 24 * time.Hour

	// DefaultJitter is the jitter fraction of [Default]: each delay is
	// multiplied by a random factor in [0.8, 1.2).
	DefaultJitter = 0.2

	// DefaultMaxRetryAfter caps how long a Retry-After header or an [After]
	// error can make us wait. A receiver that asks for more than an hour is
	// down for maintenance, not shedding load; the schedule's own later
	// delays (2 h and up) cover that case, while a misconfigured or hostile
	// header cannot park a delivery for days and skip the retries that would
	// have found the receiver back.
	DefaultMaxRetryAfter = time.Hour
)

// DefaultDelays returns the default schedule's delays, a new slice on each
// call: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. With the
// immediate first attempt that makes 10 attempts, the last about 75 h 35 min
// after the first (before jitter).
func DefaultDelays() []time.Duration {
	return []time.Duration{
		5 * time.Second,
		5 * time.Minute,
		30 * time.Minute,
		2 * time.Hour,
		5 * time.Hour,
		10 * time.Hour,
		14 * time.Hour,
		20 * time.Hour,
		24 * time.Hour,
	}
}

// Schedule is a [Policy] over a fixed list of delays.
//
// Delays[i] is the wait after attempt i+1 fails; after len(Delays)+1
// attempts it gives up. It also gives up once Failure.Age reaches MaxAge, and
// on errors marked with [Permanent].
//
// The scheduled delay is jittered, then lengthened to the Retry-After of a
// 429 or 503 response when that is longer (capped at MaxRetryAfter: we never
// retry sooner than our schedule says, and never later than the cap because
// of a header). An [After] error replaces the scheduled delay, capped at
// MaxRetryAfter. Whatever the source, the result is never below MinDelay.
//
// The zero value is usable: the default delays, no jitter, no floor, a
// give-up age of [DefaultMaxAge] and a Retry-After cap of
// [DefaultMaxRetryAfter]. [Default] adds [DefaultJitter]. A Schedule is safe
// for concurrent use (when Rand is) provided it is not modified meanwhile;
// copying one shares its Delays.
type Schedule struct {
	// Delays lists the waits between attempts. Nil: [DefaultDelays]. An
	// empty, non-nil slice means a single attempt and no retries. Negative
	// delays are read as 0.
	Delays []time.Duration

	// Jitter is the fraction by which each scheduled delay varies: 0.2
	// multiplies it by a uniform factor in [0.8, 1.2). Zero or negative: no
	// jitter. Values above 1 are read as 1. Jitter applies to the schedule
	// only, not to Retry-After or [After] delays.
	Jitter float64

	// MinDelay is the floor of every delay, including those from
	// Retry-After and [After]. Zero: no floor.
	MinDelay time.Duration

	// MaxAge is the give-up age: Next gives up once Failure.Age >= MaxAge.
	// Zero: [DefaultMaxAge]. Negative: no age limit.
	MaxAge time.Duration

	// MaxRetryAfter caps delays from Retry-After headers and [After]
	// errors. Zero or negative: [DefaultMaxRetryAfter].
	MaxRetryAfter time.Duration

	// Rand returns a uniform random number in [0, 1) for the jitter; values
	// outside are clamped. It must be safe for concurrent use. Nil: the
	// math/rand/v2 top-level source. Tests inject a fixed function.
	Rand func() float64
}

// Next implements [Policy]; see [Schedule] for the rules.
func (s Schedule) Next(f Failure) (time.Duration, bool) {
	delays := s.Delays
	if delays == nil {
		delays = DefaultDelays()
	}
	d := decision{
		minDelay:      s.MinDelay,
		maxAge:        ageLimit(s.MaxAge),
		maxRetryAfter: retryAfterCap(s.MaxRetryAfter),
		maxAttempts:   len(delays) + 1,
	}
	return d.next(f, func(n int) time.Duration {
		base := max(delays[n-1], 0)
		j := min(s.Jitter, 1)
		if j <= 0 || base == 0 {
			return base
		}
		return scale(base, 1+j*(2*uniform(s.Rand)-1))
	})
}

// ageLimit turns a MaxAge field into a limit; <= 0 in the result means none.
func ageLimit(maxAge time.Duration) time.Duration {
	if maxAge == 0 {
		return DefaultMaxAge
	}
	return maxAge
}

func retryAfterCap(c time.Duration) time.Duration {
	if c <= 0 {
		return DefaultMaxRetryAfter
	}
	return c
}

// uniform draws from r (or math/rand/v2), clamped to [0, 1).
func uniform(r func() float64) float64 {
	var f float64
	if r == nil {
		f = rand.Float64()
	} else {
		f = r()
	}
	switch {
	case !(f >= 0): // negative or NaN
		return 0
	case f >= 1:
		return math.Nextafter(1, 0)
	}
	return f
}

// scale returns d*f (f >= 0), saturating instead of overflowing.
func scale(d time.Duration, f float64) time.Duration {
	v := float64(d) * f
	if v >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(v)
}
