package sender

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

// Delivery control: ordering keys, the per-endpoint circuit breaker and
// the slow start. The state machines (breaker, ramp) take the time as an
// argument and are used under perEndpoint's lock.

// Defaults of [BreakerConfig] and [SlowStartConfig].
const (
	// DefaultBreakerFailures is how many consecutive failed attempts open
	// an endpoint's breaker: half of [DefaultDisableAfterFailures], so the
	// breaker stops the flood long before the endpoint is disabled.
	DefaultBreakerFailures = 10
	// DefaultBreakerWindow and DefaultBreakerMinAttempts frame the failure
	// rate rule (BreakerConfig.FailureRate), which is off by default.
	DefaultBreakerWindow      = time.Minute
	DefaultBreakerMinAttempts = 20
	// DefaultBreakerProbeInterval is the wait before an open breaker's
	// first probe; each failed probe doubles it, up to
	// DefaultBreakerMaxProbeInterval.
	DefaultBreakerProbeInterval    = 5 * time.Second
	DefaultBreakerMaxProbeInterval = 5 * time.Minute
	// DefaultSlowStartInitial is the requests in flight a ramp starts at.
	DefaultSlowStartInitial = 1
	// DefaultSlowStartIdle and DefaultSlowStartBacklog: an endpoint that has
	// had no attempt from this sender for DefaultSlowStartIdle and then gets
	// at least DefaultSlowStartBacklog deliveries in one lease (a backlog
	// falling due) starts a ramp.
	DefaultSlowStartIdle    = time.Minute
	DefaultSlowStartBacklog = 32
	// MaxOrderingKey is the longest ordering key, in bytes
	// ([PublishOptions].OrderingKey).
	MaxOrderingKey = 256
)

// KeyGiveUp says what becomes of an ordering key when its head delivery is
// given up (the retry policy stopped, a permanent failure, 410 Gone).
type KeyGiveUp uint8

const (
	// KeySkip fails the delivery and lets the key's next delivery go: the
	// default. Order is kept among the deliveries that succeed.
	KeySkip KeyGiveUp = iota
	// KeyHold fails the delivery and holds the key: the key's later
	// deliveries wait (pending) until the failed one is replayed
	// ([Sender.Retry], [Sender.ReplayFailed]; it then goes first) or
	// pruned with the finished deliveries (Config.Retention). The failed
	// delivery reads [store.Delivery].HoldsKey. For consumers that must
	// never see an event without the ones before it.
	KeyHold
)

// BreakerConfig configures the per-endpoint circuit breaker. The zero value
// is on, with the defaults below. The breaker is per sender: each process
// sharing a store runs its own from its own attempts, and records its
// transitions on the endpoint ([store.Health].Breaker) for people and other
// tools.
type BreakerConfig struct {
	// Disabled turns the breaker off: every due delivery is attempted.
	Disabled bool
	// Failures is how many consecutive failed attempts (network errors,
	// timeouts, 408, 429 and 5xx answers; other 4xx and 3xx answers count
	// neither way) open the breaker. Zero: [DefaultBreakerFailures].
	Failures int
	// FailureRate, when set (0 < FailureRate <= 1), opens the breaker too
	// when at least MinAttempts attempts started in one Window and this
	// share of them failed. Zero: off.
	FailureRate float64
	// Window is the failure rate's window. Zero: [DefaultBreakerWindow].
	Window time.Duration
	// MinAttempts is the fewest attempts in a Window the failure rate is
	// judged on. Zero: [DefaultBreakerMinAttempts].
	MinAttempts int
	// ProbeInterval is how long an open breaker waits before it lets one
	// delivery through as a probe; each failed probe doubles the wait, up
	// to MaxProbeInterval. A probe that does not fail closes the breaker.
	// Zero: [DefaultBreakerProbeInterval] and
	// [DefaultBreakerMaxProbeInterval].
	ProbeInterval, MaxProbeInterval time.Duration
	// KeepRetrySchedule leaves the deliveries that failed while the
	// endpoint was down at the steps of the retry policy they were given.
	// By default (false), when the breaker closes, the endpoint's pending
	// deliveries waiting for the retry of an attempt that failed in the
	// run that opened the breaker (from the first failure since the last
	// success, probes included) are made due at once, when the store is a
	// [store.RetryAdvancer]: their attempts failed because the endpoint was
	// down, and they should not wait minutes or hours behind an endpoint
	// that is up again. They keep their attempt count, so the retry policy
	// goes on from the step it reached if they fail again.
	KeepRetrySchedule bool
}

// SlowStartConfig configures the ramp that brings an endpoint back to its
// limits: after its breaker closes, when it is enabled again, and when a
// backlog falls due after it was idle, the endpoint's requests in flight
// (and its rate limit, in proportion) start at Initial and grow by one per
// round of successes (additive increase) up to its limits; a 429, a 503 or
// a timeout halves them (multiplicative decrease) and a Retry-After pauses
// the endpoint for as long. The same decrease applies to an endpoint at
// full speed, which then ramps up again. The zero value is on, with the
// defaults below.
type SlowStartConfig struct {
	// Disabled turns the ramp off: endpoints run at their limits at once,
	// and throttling answers only schedule retries.
	Disabled bool
	// Initial is the requests in flight a ramp starts at. Zero:
	// [DefaultSlowStartInitial].
	Initial int
	// Idle and Backlog decide when a backlog starts a ramp: an endpoint
	// this sender has not attempted for Idle that gets at least Backlog
	// deliveries in one lease. Zero: [DefaultSlowStartIdle] and
	// [DefaultSlowStartBacklog].
	Idle    time.Duration
	Backlog int
}

// fillFlow fills and checks Config.Breaker and Config.SlowStart.
func (s *settings) fillFlow() error {
	b := &s.Breaker
	switch {
	case b.Failures < 0, b.Window < 0, b.MinAttempts < 0, b.ProbeInterval < 0, b.MaxProbeInterval < 0:
		return fmt.Errorf("%w: Config.Breaker: negative value", ErrInvalidConfig)
	case b.FailureRate < 0 || b.FailureRate > 1 || math.IsNaN(b.FailureRate):
		return fmt.Errorf("%w: Config.Breaker.FailureRate %v: want 0 to 1", ErrInvalidConfig, b.FailureRate)
	case s.OnKeyGiveUp > KeyHold:
		return fmt.Errorf("%w: Config.OnKeyGiveUp %d", ErrInvalidConfig, s.OnKeyGiveUp)
	}
	if b.Failures == 0 {
		b.Failures = DefaultBreakerFailures
	}
	if b.Window == 0 {
		b.Window = DefaultBreakerWindow
	}
	if b.MinAttempts == 0 {
		b.MinAttempts = DefaultBreakerMinAttempts
	}
	if b.ProbeInterval == 0 {
		b.ProbeInterval = DefaultBreakerProbeInterval
	}
	if b.MaxProbeInterval == 0 {
		b.MaxProbeInterval = max(DefaultBreakerMaxProbeInterval, b.ProbeInterval)
	}
	if b.MaxProbeInterval < b.ProbeInterval {
		return fmt.Errorf("%w: Config.Breaker.MaxProbeInterval is below ProbeInterval", ErrInvalidConfig)
	}
	r := &s.SlowStart
	if r.Initial < 0 || r.Idle < 0 || r.Backlog < 0 {
		return fmt.Errorf("%w: Config.SlowStart: negative value", ErrInvalidConfig)
	}
	if r.Initial == 0 {
		r.Initial = DefaultSlowStartInitial
	}
	if r.Idle == 0 {
		r.Idle = DefaultSlowStartIdle
	}
	if r.Backlog == 0 {
		r.Backlog = DefaultSlowStartBacklog
	}
	return nil
}

// checkOrderingKey refuses a key longer than MaxOrderingKey bytes, or that
// is not valid UTF-8 or holds a NUL byte (which PostgreSQL's text cannot).
func checkOrderingKey(k string) error {
	switch {
	case len(k) > MaxOrderingKey:
		return fmt.Errorf("%w: OrderingKey is %d bytes, the limit is %d", ErrInvalidOptions, len(k), MaxOrderingKey)
	case !utf8.ValidString(k):
		return fmt.Errorf("%w: OrderingKey is not valid UTF-8", ErrInvalidOptions)
	}
	for i := range len(k) {
		if k[i] == 0 {
			return fmt.Errorf("%w: OrderingKey holds a NUL byte", ErrInvalidOptions)
		}
	}
	return nil
}

// feedback is what an attempt says about its endpoint's capacity.
type feedback struct {
	// success: a 2xx. failure: a network error, a timeout, 408, 429 or
	// 5xx, which the breaker counts. Neither: another answer, which shows
	// the endpoint is up.
	success, failure bool
	// throttle: 429, 503 or a timeout, which slow the ramp down.
	throttle bool
	// leased is when the attempt's delivery was leased (its
	// LastAttemptAt); zero when not known.
	leased time.Time
	// retryAfter: the Retry-After of a 429 or 503; zero when none.
	retryAfter time.Duration
}

// feedbackOf reads the feedback of an attempt made at now.
func feedbackOf(res *result, now time.Time) feedback {
	var fb feedback
	code := res.a.StatusCode
	switch {
	case res.class == retry.ClassSuccess:
		fb.success = true
	case res.err != nil:
		fb.failure = true
		fb.throttle = isTimeout(res.err)
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		fb.failure = true
		fb.throttle = code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
		if fb.throttle && res.header != nil {
			fb.retryAfter, _ = retry.ParseRetryAfter(res.header, now)
			fb.retryAfter = min(fb.retryAfter, retry.DefaultMaxRetryAfter)
		}
	}
	return fb
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// breaker is one endpoint's circuit breaker. Its zero value is closed.
type breaker struct {
	state store.BreakerState
	since time.Time
	// closed: the run of failures, and the failure-rate window.
	fails          int
	winStart       time.Time
	winN, winFails int
	// open: the wait before the next probe and when it may go.
	interval time.Duration
	probeAt  time.Time
	// from is the earliest lease time of the failed attempts since the
	// last success (the run that opened the breaker, its probes, and the
	// requests that started before it opened); zero when none.
	from time.Time
}

// allow reports whether a request may start at now. When the breaker is
// open and its probe is due, the request is the probe: the breaker is
// half-open until record or cancel. When it may not, until is when to ask
// again (zero: when the probe in flight ends).
func (b *breaker) allow(now time.Time) (ok, probe bool, until time.Time) {
	switch b.state {
	case store.BreakerOpen:
		if now.Before(b.probeAt) {
			return false, false, b.probeAt
		}
		b.state = store.BreakerHalfOpen
		return true, true, time.Time{}
	case store.BreakerHalfOpen:
		return false, false, time.Time{}
	}
	return true, false, time.Time{}
}

// blocked reports whether no request may start at now.
func (b *breaker) blocked(now time.Time) bool {
	return b.state == store.BreakerHalfOpen || (b.state == store.BreakerOpen && now.Before(b.probeAt))
}

// record folds the feedback of an attempt that ended at now (probe: the
// breaker's probe) and reports whether the breaker changed state, opening
// or closing (a failed probe leaves it open).
func (b *breaker) record(cfg *BreakerConfig, now time.Time, fb feedback, probe bool) bool {
	if fb.failure && !fb.leased.IsZero() && (b.from.IsZero() || fb.leased.Before(b.from)) {
		b.from = fb.leased
	}
	switch {
	case probe && b.state == store.BreakerHalfOpen:
		if fb.failure {
			b.state = store.BreakerOpen
			b.interval = min(2*b.interval, cfg.MaxProbeInterval)
			b.probeAt = now.Add(b.interval)
			return false
		}
		*b = breaker{state: store.BreakerClosed, since: now}
		return true
	case b.state != store.BreakerClosed:
		return false // a request started before the breaker opened
	}
	if !b.winStart.IsZero() && now.Sub(b.winStart) >= cfg.Window {
		b.winStart, b.winN, b.winFails = time.Time{}, 0, 0
	}
	if b.winStart.IsZero() {
		b.winStart = now
	}
	b.winN++
	switch {
	case fb.failure:
		b.fails++
		b.winFails++
	case fb.success:
		b.fails, b.from = 0, time.Time{}
	}
	rate := cfg.FailureRate > 0 && b.winN >= cfg.MinAttempts && float64(b.winFails) >= cfg.FailureRate*float64(b.winN)
	if b.fails < cfg.Failures && !rate {
		return false
	}
	*b = breaker{state: store.BreakerOpen, since: now, interval: cfg.ProbeInterval, probeAt: now.Add(cfg.ProbeInterval), from: b.from}
	return true
}

// cancel takes back a probe that made no attempt: the breaker is open
// again, and the next request at or after now may probe.
func (b *breaker) cancel(now time.Time) {
	if b.state == store.BreakerHalfOpen {
		b.state, b.probeAt = store.BreakerOpen, now
	}
}

// ramp is one endpoint's slow start: while active, its requests in flight
// are held to window, which grows by one after each window of successes
// (acks counts them) and halves on throttling. Its zero value is inactive.
type ramp struct {
	active     bool
	window     int
	acks       int
	pauseUntil time.Time // no request before then (a Retry-After)
}

// start begins a ramp at initial requests in flight (below capacity).
func (r *ramp) start(initial, capacity int) {
	if initial >= capacity {
		return
	}
	r.active, r.window, r.acks = true, max(initial, 1), 0
}

// limit returns the requests in flight allowed: capacity, or the window
// while the ramp is active.
func (r *ramp) limit(capacity int) int {
	if !r.active {
		return capacity
	}
	return min(capacity, r.window)
}

// record folds the feedback of an attempt that ended at now: a window of
// successes widens the window by one, and the ramp ends once it reaches
// capacity; throttling halves it (starting a ramp at half capacity when
// none is active) and a Retry-After pauses requests.
func (r *ramp) record(now time.Time, fb feedback, capacity int) {
	switch {
	case fb.throttle:
		if !r.active {
			r.active, r.window = true, capacity
		}
		r.window, r.acks = max(r.window/2, 1), 0
		if fb.retryAfter > 0 {
			r.pauseUntil = later(r.pauseUntil, now.Add(fb.retryAfter))
		}
	case fb.success && r.active:
		r.acks++
		if r.acks >= r.window {
			r.window, r.acks = r.window+1, 0
		}
		if r.window >= capacity {
			*r = ramp{pauseUntil: r.pauseUntil}
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Flow is one endpoint's delivery control in this sender, as
// [Sender.Flow] reports it.
type Flow struct {
	// Breaker is the endpoint's circuit breaker state, since
	// BreakerSince; NextProbe is when an open breaker lets a probe through.
	Breaker      store.BreakerState
	BreakerSince time.Time
	NextProbe    time.Time
	// Ramping reports a slow start in progress; InFlightLimit is the
	// requests in flight allowed now (0: no cap; 1 while a probe is in
	// flight), and Capacity the endpoint's own limit (0: no cap).
	Ramping                 bool
	InFlightLimit, Capacity int
	// InFlight is the requests in flight now.
	InFlight int
	// PausedUntil is when a Retry-After pause ends; zero when none.
	PausedUntil time.Time
}

// Flow returns the delivery control of the endpoint in this sender: its
// breaker, its ramp and its requests in flight, for metrics and
// dashboards. An endpoint the sender has not attempted yet reads as the
// zero Flow (closed, not ramping). Safe for concurrent use.
func (s *Sender) Flow(endpointID string) Flow {
	return s.per.flow(endpointID)
}
