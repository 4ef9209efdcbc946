package sender_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestDeliverSuccess(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	ep, sec := addEndpoint(t, st, srv.URL, func(ep *store.Endpoint) {
		ep.Headers = map[string]string{"X-Tenant": "acme", "content-type": "text/plain", "webhook-id": "forged"}
	})
	var hooked []*store.Attempt
	var mu sync.Mutex
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.UserAgent = "test-agent/1"
		c.Hooks.OnAttempt = func(_ context.Context, a *store.Attempt) {
			mu.Lock()
			hooked = append(hooked, a)
			mu.Unlock()
		}
	})

	// Data bytes with unusual spacing must arrive verbatim, never re-encoded.
	data := `{"task_id": "fedec7b78cf6905872032b426473",  "n":1.50}`
	ev := newEvent(t, clk, "patient.ehi_export_success", data)
	ev.Date = clk.Now().Add(-time.Minute) // published a minute ago
	n, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	clk.Advance(time.Second)
	require.Equal(t, 1, processDue(t, s))

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.Equal(t, "test-agent/1", r.Header.Get("User-Agent"))
	require.Equal(t, "acme", r.Header.Get("X-Tenant"))
	require.Equal(t, ev.ID, r.Header.Get(signature.HeaderID))
	require.NoError(t, verify(t, r, clk.Now(), sec))
	require.Contains(t, string(r.Body), `"data":`+data)
	require.Equal(t, ev.ID, r.Event.ID)
	require.Equal(t, event.ModeTest, r.Event.APIMode)
	require.True(t, r.Event.Date.Equal(clk.Now()), "date is the attempt's time, not the publish time")

	d := delivery(t, st, ev.ID)
	require.Equal(t, store.StateSucceeded, d.State)
	require.Equal(t, 1, d.Attempts)

	as := attemptsOf(t, st, ev.ID)
	require.Len(t, as, 1)
	a := as[0]
	require.True(t, a.Success)
	require.Equal(t, 200, a.StatusCode)
	require.Equal(t, "ok", string(a.ResponseBody))
	require.Equal(t, r.Body, a.RequestBody)
	require.Equal(t, d.ID, a.DeliveryID)
	require.Equal(t, ep.ID, a.EndpointID)
	require.Equal(t, 1, a.Number)
	require.Equal(t, r.Header.Get(signature.HeaderSignature), a.RequestHeaders.Get(signature.HeaderSignature))
	// The secret itself is nowhere in the attempt.
	for k, vs := range a.RequestHeaders {
		for _, v := range vs {
			require.NotContains(t, v, strings.TrimPrefix(sec.String(), "whsec_"), k)
		}
	}

	mu.Lock()
	require.Len(t, hooked, 1)
	require.Equal(t, a.ID, hooked[0].ID)
	mu.Unlock()

	ep2, err := st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, clk.Now(), ep2.Health.LastSuccessAt)

	// Nothing left to do.
	require.Equal(t, 0, processDue(t, s))
}

func TestRetriesKeepIDWithFreshDateAndSignature(t *testing.T) {
	clk := newClock()
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n < 3 {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	_, sec := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry = retry.Schedule{Delays: []time.Duration{time.Minute, time.Minute, time.Minute}}
	})
	ev := newEvent(t, clk, "a.b", `{"x":1}`)
	_, err := s.Publish(context.Background(), ev, sender.ToTenant(""), nil)
	require.NoError(t, err)

	var times []time.Time
	for i := range 3 {
		times = append(times, clk.Now())
		require.Equal(t, 1, processDue(t, s), "attempt %d", i+1)
		// Not due again until the delay has passed.
		require.Equal(t, 0, processDue(t, s))
		clk.Advance(time.Minute)
	}
	reqs := srv.requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		require.Equal(t, ev.ID, r.Event.ID)
		require.Equal(t, ev.ID, r.Header.Get(signature.HeaderID))
		require.True(t, r.Event.Date.Equal(times[i]), "attempt %d date %v want %v", i+1, r.Event.Date, times[i])
		require.NoError(t, verify(t, r, times[i], sec), "attempt %d", i+1)
		require.JSONEq(t, `{"x":1}`, string(r.Event.Data))
	}
	require.NotEqual(t, reqs[0].Header.Get(signature.HeaderSignature), reqs[1].Header.Get(signature.HeaderSignature))

	d := delivery(t, st, ev.ID)
	require.Equal(t, store.StateSucceeded, d.State)
	require.Equal(t, 3, d.Attempts)
	as := attemptsOf(t, st, ev.ID)
	require.Len(t, as, 3)
	require.Equal(t, "500 Internal Server Error", as[2].Error) // newest first
	require.Equal(t, 3, as[0].Number)
}

func TestRetryAfterHonoured(t *testing.T) {
	clk := newClock()
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry = retry.Schedule{Delays: []time.Duration{time.Second}}
	})
	ev := newEvent(t, clk, "a.b", `{}`)
	_, err := s.Publish(context.Background(), ev, sender.ToTenant(""), nil)
	require.NoError(t, err)
	start := clk.Now()
	require.Equal(t, 1, processDue(t, s))
	d := delivery(t, st, ev.ID)
	require.Equal(t, store.StatePending, d.State)
	require.Equal(t, start.Add(120*time.Second), d.NextAttemptAt)

	clk.Advance(time.Minute)
	require.Equal(t, 0, processDue(t, s), "Retry-After: 120 beats the 1 s schedule")
	clk.Advance(time.Minute)
	require.Equal(t, 1, processDue(t, s))
	require.Equal(t, store.StateSucceeded, delivery(t, st, ev.ID).State)
}

// hookLog records hook calls in order.
type hookLog struct {
	mu    sync.Mutex
	calls []string
}

func (h *hookLog) add(s string) {
	h.mu.Lock()
	h.calls = append(h.calls, s)
	h.mu.Unlock()
}

func (h *hookLog) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

func (h *hookLog) hooks() sender.Hooks {
	return sender.Hooks{
		OnDeliveryExhausted: func(_ context.Context, d *store.Delivery, reason string) { h.add("exhausted:" + reason) },
		OnEndpointWarning:   func(_ context.Context, ep *store.Endpoint) { h.add("warning") },
		OnEndpointDisabled:  func(_ context.Context, ep *store.Endpoint) { h.add("disabled:" + ep.DisabledReason) },
		OnEndpointRecovered: func(_ context.Context, ep *store.Endpoint) { h.add("recovered") },
	}
}

func TestGoneDisablesEndpoint(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusGone) })
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	var hl hookLog
	s := newSender(t, st, clk, func(c *sender.Config) { c.Hooks = hl.hooks() })
	ev1, ev2 := newEvent(t, clk, "a.b", `{}`), newEvent(t, clk, "a.b", `{}`)
	for _, ev := range []event.Event{ev1, ev2} {
		_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
	}
	// One worker: the first 410 disables the endpoint, which pauses the other.
	n, err := s.ProcessDue(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 1)

	got, err := st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled)
	require.Equal(t, "410 Gone", got.DisabledReason)
	calls := hl.get()
	require.Contains(t, calls, "disabled:410 Gone")
	require.Contains(t, calls, "exhausted:410 Gone")
	require.Equal(t, 1, strings.Count(strings.Join(calls, ","), "disabled:"))
	failed := 0
	for _, ev := range []event.Event{ev1, ev2} {
		if delivery(t, st, ev.ID).State == store.StateFailed {
			failed++
		}
	}
	require.GreaterOrEqual(t, failed, 1)

	// A disabled endpoint gets no new deliveries.
	n, err = s.Publish(ctx, newEvent(t, clk, "a.b", `{}`), sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestWarningThenDisableThenReenableResumes(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	var healthy atomic.Bool
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	var hl hookLog
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.DisableAfterFailures = 4
		c.DisableAfterDuration = time.Hour
		c.Retry = retry.Schedule{Delays: slicesRepeat(10*time.Minute, 50)}
		c.Hooks = hl.hooks()
	})
	ev := newEvent(t, clk, "a.b", `{}`)
	_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
	require.NoError(t, err)

	// Attempts at 0, 10, ..., 60 min: warning at the 2nd failure; 4 failures
	// are reached at 30 min but the endpoint must have been failing for an
	// hour, so it is disabled at the 7th, at 60 min.
	for i := 1; i <= 7; i++ {
		require.Equal(t, 1, processDue(t, s), "attempt %d", i)
		got, err := st.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, i == 7, got.Disabled, "after attempt %d", i)
		if i < 2 {
			require.Empty(t, hl.get())
		}
		clk.Advance(10 * time.Minute)
	}
	got, err := st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Contains(t, got.DisabledReason, "7 consecutive failed attempts")
	require.Equal(t, []string{"warning", "disabled:" + got.DisabledReason}, hl.get())

	// Paused: nothing is delivered while disabled, however long we wait.
	require.Equal(t, store.StatePaused, delivery(t, st, ev.ID).State)
	clk.Advance(time.Hour)
	require.Equal(t, 0, processDue(t, s))

	healthy.Store(true)
	require.NoError(t, s.Endpoints().Enable(ctx, ep.ID))
	require.Equal(t, 1, processDue(t, s))
	require.Equal(t, store.StateSucceeded, delivery(t, st, ev.ID).State)
	require.Equal(t, []string{"warning", "disabled:" + got.DisabledReason, "recovered"}, hl.get())
	require.Equal(t, 8, srv.count())
}

func TestRecoveredAfterWarning(t *testing.T) {
	clk := newClock()
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= 3 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	addEndpoint(t, st, srv.URL, nil)
	var hl hookLog
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.DisableAfterFailures = 6
		c.Retry = retry.Schedule{Delays: slicesRepeat(time.Minute, 10)}
		c.Hooks = hl.hooks()
	})
	_, err := s.Publish(context.Background(), newEvent(t, clk, "a.b", `{}`), sender.ToTenant(""), nil)
	require.NoError(t, err)
	for range 4 {
		require.Equal(t, 1, processDue(t, s))
		clk.Advance(time.Minute)
	}
	require.Equal(t, []string{"warning", "recovered"}, hl.get())
}

func slicesRepeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestRateLimitDoesNotHoldBackOthers(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	slow := newServer(t, nil)
	fast := newServer(t, nil)
	addEndpoint(t, st, slow.URL, func(ep *store.Endpoint) { ep.RateLimit = 1; ep.Burst = 2 })
	addEndpoint(t, st, fast.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) { c.Workers = 4 })
	for range 10 {
		_, err := s.Publish(ctx, newEvent(t, clk, "a.b", `{}`), sender.ToTenant(""), nil)
		require.NoError(t, err)
	}
	// At t0 the limited endpoint gets its burst of 2; the other all 10.
	require.Equal(t, 12, processDue(t, s))
	require.Equal(t, 2, slow.count())
	require.Equal(t, 10, fast.count())

	// Then one per second of (fake) time, however often we ask.
	require.Equal(t, 0, processDue(t, s))
	for i := 1; i <= 8; i++ {
		clk.Advance(500 * time.Millisecond)
		processDue(t, s)
		clk.Advance(500 * time.Millisecond)
		processDue(t, s)
		require.Equal(t, 2+i, slow.count(), "after %d s", i)
	}
	require.Equal(t, 10, fast.count())
	require.Equal(t, 0, processDue(t, s))
}

func TestMaxInFlightPerEndpoint(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	release := make(chan struct{})
	var inFlight, peak atomic.Int32
	blocked := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		cur := inFlight.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
	})
	// Let held requests go however the test ends: the server's Close waits
	// for them.
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	other := newServer(t, nil)
	addEndpoint(t, st, blocked.URL, func(ep *store.Endpoint) { ep.MaxInFlight = 2 })
	addEndpoint(t, st, other.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) { c.Workers = 4; c.PollInterval = 10 * time.Millisecond })
	require.NoError(t, s.Start(ctx))
	for range 6 {
		_, err := s.Publish(ctx, newEvent(t, nil, "a.b", `{}`), sender.ToTenant(""), nil)
		require.NoError(t, err)
	}
	// The blocked endpoint holds only 2 of the 4 workers, so all 6 events
	// reach the other endpoint while it hangs.
	require.Eventually(t, func() bool { return other.count() == 6 }, 10*time.Second, 5*time.Millisecond)
	// The second held request may still be on its way to the server.
	require.Eventually(t, func() bool { return inFlight.Load() == 2 }, 10*time.Second, 5*time.Millisecond)
	unblock()
	require.Eventually(t, func() bool { return blocked.count() == 6 && inFlight.Load() == 0 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, int32(2), peak.Load())
	require.NoError(t, s.Shutdown(ctx))
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	clk := newClock()
	st := newStore()
	target := newServer(t, nil)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, nil)
	ev := newEvent(t, clk, "a.b", `{}`)
	_, err := s.Publish(context.Background(), ev, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Equal(t, 1, processDue(t, s))
	require.Zero(t, target.count())
	as := attemptsOf(t, st, ev.ID)
	require.Len(t, as, 1)
	require.Equal(t, http.StatusTemporaryRedirect, as[0].StatusCode)
	require.False(t, as[0].Success)
	require.Equal(t, target.URL, as[0].ResponseHeaders.Get("Location"))
	require.Equal(t, store.StatePending, delivery(t, st, ev.ID).State, "a 3xx is a failure to retry")
}

func TestPrivateAddressesRefused(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) { c.AllowPrivateNetworks = false })
	ev := newEvent(t, clk, "a.b", `{}`)
	_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Equal(t, 1, processDue(t, s))
	require.Zero(t, srv.count(), "the connection must not even be made")
	as := attemptsOf(t, st, ev.ID)
	require.Len(t, as, 1)
	require.Contains(t, as[0].Error, "non-public address")
	require.Zero(t, as[0].StatusCode)
	require.Equal(t, store.StatePending, delivery(t, st, ev.ID).State)

	a, err := s.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrPrivateAddress)
	require.NotNil(t, a)
	require.Zero(t, srv.count())

	// With a user transport too: it is cloned and guarded.
	s2 := newSender(t, st, clk, func(c *sender.Config) {
		c.AllowPrivateNetworks = false
		c.Transport = &http.Transport{}
	})
	_, err = s2.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrPrivateAddress)
	s3 := newSender(t, st, clk, func(c *sender.Config) {
		c.AllowPrivateNetworks = false
		c.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext}}
	})
	_, err = s3.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrPrivateAddress)
	require.Zero(t, srv.count())

	// A transport the guard cannot enter is refused.
	_, err = sender.New(st, &sender.Config{Transport: roundTripFunc(nil)})
	require.ErrorIs(t, err, sender.ErrUnguardedTransport)

	// So is one with a proxy (the guard would check the proxy's address),
	// as http.DefaultTransport.Clone() has; allowed when the guard is off.
	proxied := http.DefaultTransport.(*http.Transport).Clone()
	require.NotNil(t, proxied.Proxy)
	_, err = sender.New(st, &sender.Config{Transport: proxied})
	require.ErrorIs(t, err, sender.ErrUnguardedTransport)
	_, err = sender.New(st, &sender.Config{HTTPClient: &http.Client{Transport: proxied}})
	require.ErrorIs(t, err, sender.ErrUnguardedTransport)
	_, err = sender.New(st, &sender.Config{Transport: proxied, AllowPrivateNetworks: true})
	require.NoError(t, err)
}

func TestSimulate(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, func(ep *store.Endpoint) { ep.EventTypes = []string{"other.type"} })

	live := newSender(t, st, clk, func(c *sender.Config) { c.Mode = event.ModeLive })
	_, err := live.Simulate(ctx, ep.ID, "patient.ehi_export_success", json.RawMessage(`{"a":1}`))
	require.ErrorIs(t, err, sender.ErrLiveMode)

	s := newSender(t, st, clk, nil)
	ev, err := s.Simulate(ctx, ep.ID, "patient.ehi_export_success", json.RawMessage(`{"a":1}`))
	require.NoError(t, err)
	require.Equal(t, 1, processDue(t, s))
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, ev.ID, reqs[0].Event.ID)
	require.Equal(t, "patient.ehi_export_success", reqs[0].Event.Type)
	require.JSONEq(t, `{"a":1}`, string(reqs[0].Event.Data))
	require.Equal(t, store.StateSucceeded, delivery(t, st, ev.ID).State, "simulated events are real deliveries")

	_, err = s.Simulate(ctx, ep.ID, "bad type!", nil)
	require.Error(t, err)
	_, err = s.Simulate(ctx, "nope", "a.b", nil)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestModeMismatch(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	liveEp, _ := addEndpoint(t, st, srv.URL, func(ep *store.Endpoint) { ep.Mode = event.ModeLive })
	testEp, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, nil)

	ev := newEvent(t, clk, "a.b", `{}`)
	ev.APIMode = event.ModeLive
	_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
	require.ErrorIs(t, err, sender.ErrModeMismatch)
	require.ErrorIs(t, send(s, ctx, liveEp.ID, newEvent(t, clk, "a.b", `{}`)), sender.ErrModeMismatch)

	// Empty mode is stamped with the sender's; only the test endpoint gets it.
	ev.APIMode = ""
	n, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 1, processDue(t, s))
	require.Equal(t, testEp.ID, delivery(t, st, ev.ID).EndpointID)

	// A live sender leaves test deliveries alone.
	live := newSender(t, st, clk, func(c *sender.Config) { c.Mode = event.ModeLive })
	require.NoError(t, send(live, ctx, liveEp.ID, event.Event{ID: newEvent(t, clk, "a", `{}`).ID, Type: "a.b", Data: json.RawMessage(`{}`)}))
	require.NoError(t, send(s, ctx, testEp.ID, newEvent(t, clk, "a.b", `{}`)))
	require.Equal(t, 1, processDue(t, live))
	require.Equal(t, 1, processDue(t, s))
}

func TestRequireHTTPSInLive(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, func(ep *store.Endpoint) { ep.Mode = event.ModeLive })
	s := newSender(t, st, clk, func(c *sender.Config) { c.Mode = event.ModeLive; c.RequireHTTPSInLive = true })
	a, err := s.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrInsecureURL)
	require.Equal(t, sender.ErrInsecureURL.Error(), a.Error)
	require.Zero(t, srv.count())
}

func TestPing(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	var fail atomic.Bool
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if fail.Load() {
			http.Error(w, "nope", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "pong")
	})
	ep, sec := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, nil)

	a, err := s.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.True(t, a.Success)
	require.Equal(t, 200, a.StatusCode)
	require.Equal(t, "pong", string(a.ResponseBody))
	require.Equal(t, event.TypePing, a.EventType)
	require.Empty(t, a.DeliveryID)
	r := srv.requests()[0]
	require.Equal(t, event.TypePing, r.Event.Type)
	require.NoError(t, verify(t, r, clk.Now(), sec))
	logged, err := st.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, a.EventID, logged.EventID)

	fail.Store(true)
	a, err = s.Ping(ctx, ep.ID)
	var se *sender.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 401, se.StatusCode)
	require.Equal(t, 401, a.StatusCode)
	got, err := st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Zero(t, got.Health.ConsecutiveFailures, "pings do not count against health")

	_, err = s.Ping(ctx, "missing")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestRotateSecretSignsWithBothDuringOverlap(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	ep, oldSec := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, nil)

	// Sign once so the signer is cached; rotation must invalidate it.
	_, err := s.Ping(ctx, ep.ID)
	require.NoError(t, err)

	newSec, err := s.Endpoints().RotateSecret(ctx, ep.ID, time.Hour)
	require.NoError(t, err)
	require.False(t, newSec.Equal(oldSec))

	_, err = s.Ping(ctx, ep.ID)
	require.NoError(t, err)
	r := srv.requests()[1]
	require.Len(t, strings.Fields(r.Header.Get(signature.HeaderSignature)), 2)
	require.NoError(t, verify(t, r, clk.Now(), oldSec), "old secret still verifies during the overlap")
	require.NoError(t, verify(t, r, clk.Now(), newSec), "new secret verifies")

	clk.Advance(time.Hour)
	_, err = s.Ping(ctx, ep.ID)
	require.NoError(t, err)
	r = srv.requests()[2]
	require.Len(t, strings.Fields(r.Header.Get(signature.HeaderSignature)), 1)
	require.ErrorIs(t, verify(t, r, clk.Now(), oldSec), signature.ErrNoMatch)
	require.NoError(t, verify(t, r, clk.Now(), newSec))

	// Rotating again drops the expired secret.
	_, err = s.Endpoints().RotateSecret(ctx, ep.ID, 0)
	require.NoError(t, err)
	got, err := st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Len(t, got.Secrets, 2)
	require.Equal(t, clk.Now().Add(sender.DefaultRotationOverlap), got.Secrets[0].ExpiresAt)
}

func TestMaxPayload(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) { c.MaxPayload = 300 })
	big := newEvent(t, clk, "a.b", `{"pad":"`+strings.Repeat("x", 300)+`"}`)
	_, err := s.Publish(ctx, big, sender.ToTenant(""), nil)
	require.ErrorIs(t, err, sender.ErrPayloadTooLarge)
	require.ErrorIs(t, send(s, ctx, ep.ID, big), sender.ErrPayloadTooLarge)
	_, err = s.Simulate(ctx, ep.ID, "a.b", big.Data)
	require.ErrorIs(t, err, sender.ErrPayloadTooLarge)
	n, err := s.Publish(ctx, newEvent(t, clk, "a.b", `{"pad":"small"}`), sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestOmitBodiesAndResponseLimit(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		_, _ = io.WriteString(w, strings.Repeat("r", 100))
	})
	ep, _ := addEndpoint(t, st, srv.URL, nil)

	s := newSender(t, st, clk, func(c *sender.Config) { c.OmitBodies = true })
	a, err := s.Ping(ctx, ep.ID)
	require.NoError(t, err)
	logged, err := st.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Empty(t, logged.RequestBody)
	require.Empty(t, logged.ResponseBody)
	require.Equal(t, 200, logged.StatusCode)
	require.NotEmpty(t, logged.RequestHeaders.Get(signature.HeaderSignature))

	s2 := newSender(t, st, clk, func(c *sender.Config) { c.MaxResponseBody = 10 })
	a, err = s2.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("r", 10), string(a.ResponseBody))
	require.True(t, a.ResponseTruncated)
	require.NotEmpty(t, a.RequestBody)
}

func TestReplay(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	var ok atomic.Bool
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !ok.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	var hl hookLog
	s := newSender(t, st, clk, func(c *sender.Config) { c.Retry = retry.Never{}; c.Hooks = hl.hooks() })
	ev1, ev2 := newEvent(t, clk, "a.b", `{}`), newEvent(t, clk, "a.b", `{}`)
	for _, ev := range []event.Event{ev1, ev2} {
		_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
	}
	require.Equal(t, 2, processDue(t, s))
	require.Equal(t, store.StateFailed, delivery(t, st, ev1.ID).State)
	require.Len(t, hl.get(), 2)
	require.Contains(t, hl.get()[0], "exhausted:gave up after 1 attempts: 500 Internal Server Error")

	ok.Store(true)
	d1 := delivery(t, st, ev1.ID)
	require.NoError(t, s.Retry(ctx, d1.ID))
	require.ErrorIs(t, s.Retry(ctx, d1.ID), store.ErrConflict, "already pending")
	require.Equal(t, 1, processDue(t, s))
	require.Equal(t, store.StateSucceeded, delivery(t, st, ev1.ID).State)

	n, err := s.ReplayFailed(ctx, ep.ID, clk.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 1, processDue(t, s))
	require.Equal(t, store.StateSucceeded, delivery(t, st, ev2.ID).State)
}

func TestDisableEnableEndpointHooks(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	var hl hookLog
	s := newSender(t, st, clk, func(c *sender.Config) { c.Hooks = hl.hooks() })
	ev := newEvent(t, clk, "a.b", `{}`)
	require.NoError(t, send(s, ctx, ep.ID, ev))
	require.NoError(t, s.Endpoints().Disable(ctx, ep.ID, ""))
	require.NoError(t, s.Endpoints().Disable(ctx, ep.ID, "again"))
	require.ErrorIs(t, send(s, ctx, ep.ID, newEvent(t, clk, "a.b", `{}`)), sender.ErrEndpointDisabled)
	require.Equal(t, 0, processDue(t, s))
	require.NoError(t, s.Endpoints().Enable(ctx, ep.ID))
	require.NoError(t, s.Endpoints().Enable(ctx, ep.ID))
	require.Equal(t, 1, processDue(t, s))
	require.Equal(t, []string{"disabled:disabled manually", "recovered"}, hl.get())
	require.ErrorIs(t, s.Endpoints().Disable(ctx, "missing", ""), store.ErrNotFound)
}

func TestEndpointDeletedWhileQueued(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, nil)
	ev := newEvent(t, clk, "a.b", `{}`)
	require.NoError(t, send(s, ctx, ep.ID, ev))
	// Lease it, then delete the endpoint behind the sender's back: the
	// store keeps leased deliveries, and the sender must settle it.
	ds, err := st.Lease(ctx, store.LeaseRequest{Now: clk.Now(), Limit: 1, Duration: time.Second})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.NoError(t, st.DeleteEndpoint(ctx, ep.ID))
	clk.Advance(2 * time.Second)
	require.Equal(t, 0, processDue(t, s))
	require.Equal(t, store.StateFailed, delivery(t, st, ev.ID).State)
	require.Equal(t, "endpoint deleted", delivery(t, st, ev.ID).LastError)
	require.Zero(t, srv.count())
}

func TestShutdown(t *testing.T) {
	t.Run("waits for in-flight attempts", func(t *testing.T) {
		ctx := context.Background()
		st := newStore()
		entered := make(chan struct{}, 1)
		release := make(chan struct{})
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			entered <- struct{}{}
			<-release
		})
		addEndpoint(t, st, srv.URL, nil)
		s := newSender(t, st, nil, nil)
		require.NoError(t, s.Start(ctx))
		require.ErrorIs(t, s.Start(ctx), sender.ErrStarted)
		ev := newEvent(t, nil, "a.b", `{}`)
		_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
		<-entered

		done := make(chan error, 1)
		go func() { done <- s.Shutdown(ctx) }()
		require.Eventually(t, func() bool {
			_, err := s.Publish(ctx, newEvent(t, nil, "a.b", `{}`), sender.ToTenant(""), nil)
			return errors.Is(err, sender.ErrClosed)
		}, 5*time.Second, time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned %v with an attempt in flight", err)
		default:
		}
		close(release)
		require.NoError(t, <-done)
		require.Equal(t, store.StateSucceeded, delivery(t, st, ev.ID).State)
		_, err = s.ProcessDue(ctx)
		require.ErrorIs(t, err, sender.ErrClosed)
		require.ErrorIs(t, s.Start(ctx), sender.ErrClosed)
		require.NoError(t, s.Close())
	})
	t.Run("deadline cancels and releases", func(t *testing.T) {
		st := newStore()
		entered := make(chan struct{}, 1)
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			entered <- struct{}{}
			<-r.Context().Done()
		})
		addEndpoint(t, st, srv.URL, nil)
		var attempts atomic.Int32
		s := newSender(t, st, nil, func(c *sender.Config) {
			c.Hooks.OnAttempt = func(context.Context, *store.Attempt) { attempts.Add(1) }
		})
		require.NoError(t, s.Start(context.Background()))
		ev := newEvent(t, nil, "a.b", `{}`)
		_, err := s.Publish(context.Background(), ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
		<-entered
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, s.Shutdown(ctx), context.Canceled)
		d := delivery(t, st, ev.ID)
		require.Equal(t, store.StatePending, d.State, "released, due again")
		require.Zero(t, d.Attempts, "an interrupted attempt is not counted")
		require.Zero(t, attempts.Load(), "nor logged")
	})
	t.Run("close is immediate", func(t *testing.T) {
		st := newStore()
		entered := make(chan struct{}, 1)
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			entered <- struct{}{}
			<-r.Context().Done()
		})
		addEndpoint(t, st, srv.URL, nil)
		s := newSender(t, st, nil, nil)
		require.NoError(t, s.Start(context.Background()))
		ev := newEvent(t, nil, "a.b", `{}`)
		_, err := s.Publish(context.Background(), ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
		<-entered
		require.NoError(t, s.Close())
		require.Equal(t, store.StatePending, delivery(t, st, ev.ID).State)
		require.NoError(t, s.Shutdown(context.Background()))
	})
}

func TestConfigValidation(t *testing.T) {
	st := newStore()
	tests := []struct {
		name string
		cfg  sender.Config
		want string
	}{
		{"bad mode", sender.Config{Mode: "prod"}, "Config.Mode"},
		{"negative workers", sender.Config{Workers: -1}, "Config.Workers"},
		{"lease not above timeout", sender.Config{RequestTimeout: time.Minute, LeaseDuration: time.Minute}, "Config.LeaseDuration"},
		{"negative timeout", sender.Config{RequestTimeout: -1}, "Config.RequestTimeout"},
		{"both transports", sender.Config{Transport: &http.Transport{}, HTTPClient: &http.Client{}}, "Config.Transport and Config.HTTPClient"},
		{"unguardable transport", sender.Config{Transport: roundTripFunc(nil)}, "Config.Transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sender.New(st, &tt.cfg)
			require.ErrorContains(t, err, tt.want)
			if tt.name == "unguardable transport" {
				require.ErrorIs(t, err, sender.ErrUnguardedTransport)
			} else {
				require.ErrorIs(t, err, sender.ErrInvalidConfig)
			}
		})
	}
	_, err := sender.New(nil, nil)
	require.ErrorIs(t, err, sender.ErrInvalidConfig, "a nil store")
	s, err := sender.New(st, nil)
	require.NoError(t, err)
	require.Equal(t, event.ModeTest, s.Mode())
	require.NoError(t, s.Close())
	// A long timeout with the default lease: the lease grows to fit.
	s, err = sender.New(st, &sender.Config{RequestTimeout: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPanickingHookDoesNotBreakDelivery(t *testing.T) {
	clk := newClock()
	st := newStore()
	srv := newServer(t, nil)
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Hooks.OnAttempt = func(context.Context, *store.Attempt) { panic("boom") }
	})
	ev := newEvent(t, clk, "a.b", `{}`)
	_, err := s.Publish(context.Background(), ev, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Equal(t, 1, processDue(t, s))
	require.Equal(t, store.StateSucceeded, delivery(t, st, ev.ID).State)
}

// send publishes ev to one endpoint, as the removed SendTo did.
func send(s *sender.Sender, ctx context.Context, endpointID string, ev event.Event) error {
	_, err := s.Publish(ctx, ev, sender.ToEndpoint(endpointID), nil)
	return err
}
