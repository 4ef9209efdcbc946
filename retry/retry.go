package retry

import (
	"net/http"
	"time"
)

// Failure describes a finished, failed attempt. It is the input to
// [Policy.Next].
//
// The zero value is a valid, if uninformative, failure: attempt 1 (a Number
// below 1 is read as 1), no response, no error, age zero.
type Failure struct {
	// Number is the 1-based number of the attempt that just finished.
	Number int
	// StatusCode is the HTTP status of the response, or 0 when there was no
	// response (network error, timeout) or the attempt was not an HTTP
	// request (a receiver's callback).
	StatusCode int
	// Header holds the response headers; it may be nil. Policies read
	// Retry-After (on 429 and 503) and Date from it.
	Header http.Header
	// Err is the transport error or the callback's error, if any. It may
	// carry the [Permanent] and [After] wrappers.
	Err error
	// Age is the time since the FIRST attempt of this delivery started.
	Age time.Duration
	// Time is when this attempt finished. Policies use it only to turn a
	// Retry-After HTTP-date into a delay when the response carries no valid
	// Date header. Zero means time.Now().
	Time time.Time
}

// Policy answers "retry after how long, or give up" for a failed attempt.
//
// Next returns the delay before the next attempt and ok == true, or ok ==
// false to give up. The delay is measured from the end of the failed attempt
// and is never negative.
//
// A sender asks a Policy only about failures it classified as retryable (see
// [Classify]); still, every Policy in this package gives up on an error
// marked with [Permanent]. Implementations must be safe for concurrent use.
type Policy interface {
	Next(f Failure) (delay time.Duration, ok bool)
}

// PolicyFunc adapts an ordinary function to a [Policy]. It is safe for
// concurrent use when f is.
type PolicyFunc func(f Failure) (delay time.Duration, ok bool)

// Next calls fn(f).
func (fn PolicyFunc) Next(f Failure) (time.Duration, bool) { return fn(f) }

// Never is a [Policy] that never retries: every failure is final. Its zero
// value is ready to use and it is safe for concurrent use.
type Never struct{}

// Next always returns 0, false.
func (Never) Next(Failure) (time.Duration, bool) { return 0, false }

// Default returns the documented default policy: a [Schedule] over
// [DefaultDelays] with [DefaultJitter] and a give-up age of [DefaultMaxAge]
// (see the package documentation for the reasoning). Each call returns a new
// value; it is safe for concurrent use.
func Default() Policy {
	return Schedule{
		Delays: DefaultDelays(),
		Jitter: DefaultJitter,
		MaxAge: DefaultMaxAge,
	}
}

// decision holds the give-up rules and bounds both policies share.
type decision struct {
	minDelay      time.Duration
	maxAge        time.Duration // <= 0: no age limit
	maxRetryAfter time.Duration
	maxAttempts   int
}

// next applies the rules shared by [Schedule] and [Exponential]: give up on
// a permanent error, by attempts, or by age; otherwise an explicit After
// delay replaces the scheduled one, and a Retry-After header lengthens it.
// scheduled(n) returns the policy's own (jittered) delay after attempt n.
func (d decision) next(f Failure, scheduled func(n int) time.Duration) (time.Duration, bool) {
	if IsPermanent(f.Err) {
		return 0, false
	}
	n := max(f.Number, 1)
	if n >= d.maxAttempts {
		return 0, false
	}
	if d.maxAge > 0 && f.Age >= d.maxAge {
		return 0, false
	}
	var delay time.Duration
	if after, ok := RetryAfterOf(f.Err); ok {
		delay = min(after, d.maxRetryAfter)
	} else {
		delay = scheduled(n)
		if ra, ok := retryAfterHeader(f); ok {
			delay = max(delay, min(ra, d.maxRetryAfter))
		}
	}
	return max(delay, d.minDelay, 0), true
}

// retryAfterHeader returns the Retry-After of a 429 or 503 response. An
// HTTP-date is measured against the response's own Date header when it has a
// valid one (so clock skew between sender and receiver cancels out), else
// against f.Time, else against the current time.
func retryAfterHeader(f Failure) (time.Duration, bool) {
	if f.Header == nil {
		return 0, false
	}
	if f.StatusCode != http.StatusTooManyRequests && f.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	now := f.Time
	if date, err := http.ParseTime(f.Header.Get("Date")); err == nil {
		now = date
	} else if now.IsZero() {
		now = time.Now()
	}
	return ParseRetryAfter(f.Header, now)
}
