package retry

import (
	"math"
	"time"
)

// Defaults of [Exponential].
const (
	// DefaultBase is the zero-value [Exponential]'s upper bound for the first
	// retry's delay, the same 5 s as the default schedule's first retry.
	DefaultBase = 5 * time.Second

	// DefaultMax is the zero-value [Exponential]'s cap on the upper bound of
	// any delay, the default schedule's longest delay.
	DefaultMax = 24 * time.Hour

	// DefaultMaxAttempts is the zero-value [Exponential]'s attempt limit.
	// With DefaultBase and DefaultMax, full jitter waits on average about
	// 71 h in total over the 19 retries (at most twice that, cut at
	// [DefaultMaxAge]), about as long as the default schedule.
	DefaultMaxAttempts = 20
)

// Exponential is a [Policy] of exponential backoff with "full jitter" (as
// described by AWS): after attempt n fails it waits
//
//	MinDelay + rand*min(Max, Base*2^(n-1))
//
// with rand uniform in [0, 1). The jitter is applied above the floor: no
// delay is shorter than MinDelay, and retries of many deliveries that failed
// together spread over the whole band.
//
// It gives up after MaxAttempts attempts, once Failure.Age reaches MaxAge,
// and on errors marked with [Permanent]. The Retry-After of a 429 or 503
// response lengthens a delay, and an [After] error replaces it, as for
// [Schedule]; both are capped at MaxRetryAfter and raised to MinDelay.
//
// The zero value is usable: [DefaultBase], [DefaultMax],
// [DefaultMaxAttempts], no floor, [DefaultMaxAge] and
// [DefaultMaxRetryAfter]. An Exponential is safe for concurrent use when Rand
// is.
type Exponential struct {
	// Base is the upper bound of the first retry's jittered part; it doubles
	// with each attempt. Zero or negative: [DefaultBase].
	Base time.Duration
	// Max caps the jittered part. Zero or negative: [DefaultMax].
	Max time.Duration
	// MinDelay is the floor every delay starts from. Zero: no floor.
	MinDelay time.Duration
	// MaxAttempts is the total number of attempts, the first included; 1
	// means no retries. Zero or negative: [DefaultMaxAttempts].
	MaxAttempts int
	// MaxAge is the give-up age: Next gives up once Failure.Age >= MaxAge.
	// Zero: [DefaultMaxAge]. Negative: no age limit.
	MaxAge time.Duration
	// MaxRetryAfter caps delays from Retry-After headers and [After]
	// errors. Zero or negative: [DefaultMaxRetryAfter].
	MaxRetryAfter time.Duration
	// Rand returns a uniform random number in [0, 1); values outside are
	// clamped. It must be safe for concurrent use. Nil: the math/rand/v2
	// top-level source.
	Rand func() float64
}

// Next implements [Policy]; see [Exponential] for the rules.
func (e Exponential) Next(f Failure) (time.Duration, bool) {
	base, ceiling, attempts := e.Base, e.Max, e.MaxAttempts
	if base <= 0 {
		base = DefaultBase
	}
	if ceiling <= 0 {
		ceiling = DefaultMax
	}
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	d := decision{
		minDelay:      e.MinDelay,
		maxAge:        ageLimit(e.MaxAge),
		maxRetryAfter: retryAfterCap(e.MaxRetryAfter),
		maxAttempts:   attempts,
	}
	return d.next(f, func(n int) time.Duration {
		bound := ceiling
		if shift := n - 1; shift < 62 && base <= ceiling>>shift {
			bound = base << shift
		}
		jittered := scale(bound, uniform(e.Rand))
		floor := max(e.MinDelay, 0)
		if jittered > math.MaxInt64-floor {
			return math.MaxInt64
		}
		return floor + jittered
	})
}
