package sender

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

var (
	fbOK       = feedback{success: true}
	fbFail     = feedback{failure: true}
	fbNeutral  = feedback{}
	fbThrottle = feedback{failure: true, throttle: true}
)

func breakerConfig(t *testing.T, edit func(*BreakerConfig)) *BreakerConfig {
	t.Helper()
	s := &settings{}
	if edit != nil {
		edit(&s.Breaker)
	}
	require.NoError(t, s.fillFlow())
	return &s.Breaker
}

// TestBreakerConsecutiveFailures walks the breaker through opening, failed
// probes at doubling (capped) intervals, and closing, on a fake clock.
func TestBreakerConsecutiveFailures(t *testing.T) {
	cfg := breakerConfig(t, func(c *BreakerConfig) {
		c.Failures, c.ProbeInterval, c.MaxProbeInterval = 3, 10*time.Second, 35*time.Second
	})
	clock := newFakeClock()
	var b breaker

	allow := func(wantOK, wantProbe bool, what string) time.Time {
		t.Helper()
		ok, probe, until := b.allow(clock.Now())
		require.Equal(t, wantOK, ok, what)
		require.Equal(t, wantProbe, probe, what)
		return until
	}
	allow(true, false, "closed")
	require.False(t, b.record(cfg, clock.Now(), fbFail, false))
	require.False(t, b.record(cfg, clock.Now(), fbFail, false))
	require.False(t, b.record(cfg, clock.Now(), fbOK, false), "a success resets the run")
	require.False(t, b.record(cfg, clock.Now(), fbNeutral, false), "a 4xx counts neither way")
	require.False(t, b.record(cfg, clock.Now(), fbFail, false))
	require.False(t, b.record(cfg, clock.Now(), fbFail, false))
	opened := clock.Now()
	require.True(t, b.record(cfg, clock.Now(), fbFail, false), "the third failure in a row opens it")
	require.Equal(t, store.BreakerOpen, b.state)
	require.Equal(t, opened, b.since)
	require.False(t, b.record(cfg, clock.Now(), fbOK, false), "a request started before it opened changes nothing")
	require.Equal(t, store.BreakerOpen, b.state)

	// Probes at 10 s, then 20 s, then 35 s (capped) after each failed one.
	for i, wait := range []time.Duration{10 * time.Second, 20 * time.Second, 35 * time.Second, 35 * time.Second} {
		what := fmt.Sprintf("probe %d", i)
		until := allow(false, false, what+": too early")
		require.Equal(t, clock.Now().Add(wait), until, what+": the probe's time")
		require.True(t, b.blocked(clock.Now()))
		clock.Advance(wait - time.Millisecond)
		allow(false, false, what+": a millisecond early")
		clock.Advance(time.Millisecond)
		allow(true, true, what)
		require.Equal(t, store.BreakerHalfOpen, b.state)
		allow(false, false, what+": one probe at a time")
		require.False(t, b.record(cfg, clock.Now(), fbThrottle, true), what+": a failed probe leaves it open")
		require.Equal(t, store.BreakerOpen, b.state)
	}

	// A probe taken back (not attempted) may go again at once.
	clock.Advance(35 * time.Second)
	allow(true, true, "probe")
	b.cancel(clock.Now())
	require.Equal(t, store.BreakerOpen, b.state)
	allow(true, true, "probe again after a cancel")

	require.True(t, b.record(cfg, clock.Now(), fbNeutral, true), "a probe that does not fail closes it")
	require.Equal(t, store.BreakerClosed, b.state)
	require.Equal(t, clock.Now(), b.since)
	allow(true, false, "closed again")
	require.False(t, b.blocked(clock.Now()))
}

// TestBreakerFailureRate opens the breaker on its failure rate within a
// window, and forgets a window once it ends.
func TestBreakerFailureRate(t *testing.T) {
	cfg := breakerConfig(t, func(c *BreakerConfig) {
		c.Failures, c.FailureRate, c.MinAttempts, c.Window = 1000, 0.5, 10, time.Minute
	})
	clock := newFakeClock()
	var b breaker
	// 4 failures in 9 attempts: too few attempts to judge.
	for i := range 9 {
		fb := fbOK
		if i%2 == 1 {
			fb = fbFail
		}
		require.False(t, b.record(cfg, clock.Now(), fb, false), "attempt %d", i)
		clock.Advance(time.Second)
	}
	// The window ends: its attempts are forgotten.
	clock.Advance(time.Minute)
	for i := range 9 {
		fb := fbOK
		if i%2 == 0 {
			fb = fbFail
		}
		require.False(t, b.record(cfg, clock.Now(), fb, false), "attempt %d of the new window", i)
	}
	require.True(t, b.record(cfg, clock.Now(), fbFail, false), "6 failures in 10 attempts: over half")
	require.Equal(t, store.BreakerOpen, b.state)
}

// TestRamp walks the slow start: additive increase per round of
// successes, multiplicative decrease on throttling, a Retry-After pause,
// and the end of the ramp at capacity.
func TestRamp(t *testing.T) {
	clock := newFakeClock()
	var r ramp
	const capacity = 8
	require.Equal(t, capacity, r.limit(capacity), "no ramp: full capacity")
	r.start(1, capacity)
	require.True(t, r.active)

	// Successes: the window grows by one per window of successes.
	var limits []int
	for range 20 {
		limits = append(limits, r.limit(capacity))
		r.record(clock.Now(), fbOK, capacity)
	}
	require.Equal(t, []int{1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6}, limits)

	// A 429 halves it and pauses for its Retry-After.
	r.record(clock.Now(), feedback{failure: true, throttle: true, retryAfter: 30 * time.Second}, capacity)
	require.Equal(t, 3, r.limit(capacity))
	require.Equal(t, clock.Now().Add(30*time.Second), r.pauseUntil)
	r.record(clock.Now(), fbThrottle, capacity)
	r.record(clock.Now(), fbThrottle, capacity)
	r.record(clock.Now(), fbThrottle, capacity)
	require.Equal(t, 1, r.limit(capacity), "never below one")
	r.record(clock.Now(), fbFail, capacity)
	require.Equal(t, 1, r.limit(capacity), "a failure that is not throttling does not slow it")

	for range 100 {
		r.record(clock.Now(), fbOK, capacity)
	}
	require.False(t, r.active, "the ramp ends at capacity")
	require.Equal(t, capacity, r.limit(capacity))

	// Throttling at full speed halves capacity and ramps again.
	r.record(clock.Now(), fbThrottle, capacity)
	require.True(t, r.active)
	require.Equal(t, 4, r.limit(capacity))

	var none ramp
	none.start(8, capacity)
	require.False(t, none.active, "a ramp that would start at capacity does not start")
}

func TestFeedbackOf(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(code int, err error, h http.Header) *result {
		r := &result{a: &store.Attempt{StatusCode: code}, err: err, header: h}
		r.class = retry.Classifier{}.Classify(code, err)
		return r
	}
	for _, tc := range []struct {
		name string
		res  *result
		want feedback
	}{
		{"200", mk(200, nil, nil), feedback{success: true}},
		{"400", mk(400, nil, nil), feedback{}},
		{"500", mk(500, nil, nil), feedback{failure: true}},
		{"503 Retry-After", mk(503, nil, http.Header{"Retry-After": {"7"}}), feedback{failure: true, throttle: true, retryAfter: 7 * time.Second}},
		{"429", mk(429, nil, http.Header{}), feedback{failure: true, throttle: true}},
		{"timeout", mk(0, fmt.Errorf("post: %w", errTimeout{}), nil), feedback{failure: true, throttle: true}},
		{"refused", mk(0, errors.New("connection refused"), nil), feedback{failure: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, feedbackOf(tc.res, now))
		})
	}
}

type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }

// fakeClock is a clock that moves only when told (webhooktest's Clock
// imports this package).
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock {
	return &fakeClock{time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// TestBreakerFailedFrom: the breaker remembers the earliest lease time of
// the failed attempts since the last success, the requests that started
// before it opened and its probes included, through opening and until it
// closes; perEndpoint.feedback hands it over with the close.
func TestBreakerFailedFrom(t *testing.T) {
	cfg := breakerConfig(t, func(c *BreakerConfig) { c.Failures, c.ProbeInterval = 2, time.Second })
	clock := newFakeClock()
	leased := func(fb feedback, d time.Duration) feedback { fb.leased = clock.Now().Add(-d); return fb }
	var b breaker
	b.record(cfg, clock.Now(), leased(fbFail, time.Second), false)
	b.record(cfg, clock.Now(), fbOK, false)
	require.True(t, b.from.IsZero(), "a success ends the run")

	clock.Advance(time.Minute)
	first := clock.Now().Add(-time.Second)
	b.record(cfg, clock.Now(), leased(fbFail, time.Second), false)
	require.True(t, b.record(cfg, clock.Now(), leased(fbFail, 0), false), "opens")
	require.Equal(t, first, b.from, "kept through the opening")
	b.record(cfg, clock.Now(), leased(fbFail, 5*time.Second), false) // started before it opened
	straggler := clock.Now().Add(-5 * time.Second)
	require.Equal(t, straggler, b.from, "a request that started before it opened, leased earlier")
	clock.Advance(time.Second)
	ok, probe, _ := b.allow(clock.Now())
	require.True(t, ok && probe)
	b.record(cfg, clock.Now(), leased(fbFail, 0), true)
	require.Equal(t, straggler, b.from, "a failed probe, leased later")

	l := newPerEndpoint(&settings{Config: Config{Breaker: *cfg}}, func() {})
	es := l.state("ep")
	es.brk, es.probing = b, true
	es.brk.state = store.BreakerHalfOpen
	ch, changed := l.feedback("ep", clock.Now(), fbOK)
	require.True(t, changed)
	require.Equal(t, store.BreakerClosed, ch.state)
	require.Equal(t, straggler, ch.failedFrom, "handed over with the close")
	require.True(t, es.brk.from.IsZero(), "a closed breaker starts afresh")
}
