package sender_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// nextAttempt returns s.NextAttempt, which must find one.
func nextAttempt(t testing.TB, s *sender.Sender) time.Time {
	t.Helper()
	at, ok, err := s.NextAttempt(context.Background())
	require.NoError(t, err)
	require.True(t, ok, "a delivery is left to attempt")
	return at
}

func backlog(t testing.TB, s *sender.Sender) sender.Backlog {
	t.Helper()
	b, err := s.Backlog(context.Background())
	require.NoError(t, err)
	return b
}

// TestIdleBehindKeyHead: deliveries queued behind a key's head that waits
// for its retry are not due: WaitIdle returns, NextAttempt is the head's
// retry, and then the key goes in order.
func TestIdleBehindKeyHead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := newClock()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry, c.Workers = retry.Schedule{Delays: []time.Duration{time.Hour}}, 1
	})
	for i := range 3 {
		publishKeyed(t, s, clk, ep.ID, "order-1", i)
	}
	require.Equal(t, 1, processDue(t, s), "the head fails")

	require.Equal(t, sender.Backlog{Backlog: store.Backlog{Scheduled: 1, Waiting: 2}}, backlog(t, s))
	require.NoError(t, s.WaitIdle(ctx), "nothing due: the head's retry is an hour away")
	require.Equal(t, clk.Now().Add(time.Hour), nextAttempt(t, s), "the head's retry, not the due deliveries behind it")

	clk.Advance(time.Hour)
	require.False(t, nextAttempt(t, s).After(clk.Now()))
	require.Equal(t, 3, processDue(t, s)+processDue(t, s)+processDue(t, s))
	require.Equal(t, []string{`{"seq":0}`, `{"seq":0}`, `{"seq":1}`, `{"seq":2}`}, seqs(t, srv.requests()))
	_, ok, err := s.NextAttempt(ctx)
	require.NoError(t, err)
	require.False(t, ok, "nothing left")
}

// TestIdleWhileBreakerOpen: an open breaker holds its endpoint's due
// deliveries: Backlog reports them as Held, WaitIdle returns, NextAttempt
// is the probe; at the probe the endpoint, recovered, gets them all.
func TestIdleWhileBreakerOpen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := newClock()
	var failing atomic.Int32
	failing.Store(2)
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		if failing.Add(-1) >= 0 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry, c.Workers = retry.Schedule{Delays: []time.Duration{time.Second}}, 1
		c.Breaker = sender.BreakerConfig{Failures: 2, ProbeInterval: 10 * time.Second}
		c.SlowStart.Disabled = true
	})
	for i := range 4 {
		publishKeyed(t, s, clk, ep.ID, "", i)
	}
	require.Equal(t, 2, processDue(t, s), "two failures open the breaker")
	probe := clk.Now().Add(10 * time.Second)
	require.Equal(t, probe, s.Flow(ep.ID).NextProbe)

	require.Equal(t, sender.Backlog{Backlog: store.Backlog{Due: 2, Scheduled: 2}, Held: 2}, backlog(t, s),
		"the two not attempted are due, and held")
	require.NoError(t, s.WaitIdle(ctx), "held deliveries do not keep WaitIdle waiting")
	require.Equal(t, probe, nextAttempt(t, s))

	clk.Advance(time.Second) // the retries fall due, and are held too
	require.Equal(t, sender.Backlog{Backlog: store.Backlog{Due: 4}, Held: 4}, backlog(t, s))
	require.NoError(t, s.WaitIdle(ctx))
	require.Equal(t, probe, nextAttempt(t, s), "still the probe, though deliveries are due")

	clk.Advance(9 * time.Second)
	require.Equal(t, sender.Backlog{Backlog: store.Backlog{Due: 4}}, backlog(t, s), "the probe is due: nothing is held")
	require.Equal(t, 4, processDue(t, s)+processDue(t, s), "the probe succeeds, then the rest go")
	require.Equal(t, store.BreakerClosed, s.Flow(ep.ID).Breaker)
	require.Equal(t, sender.Backlog{}, backlog(t, s))
	require.NoError(t, s.WaitIdle(ctx))
}

// TestIdleWhileRetryAfterPause: a 429 with Retry-After pauses the
// endpoint: its due deliveries are held until the pause ends, which
// NextAttempt reports.
func TestIdleWhileRetryAfterPause(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := newClock()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry, c.Workers = retry.Schedule{Delays: []time.Duration{time.Second}}, 1
	})
	for i := range 3 {
		publishKeyed(t, s, clk, ep.ID, "", i)
	}
	require.Equal(t, 1, processDue(t, s), "the first is throttled; the endpoint pauses")
	end := clk.Now().Add(30 * time.Second)
	require.Equal(t, end, s.Flow(ep.ID).PausedUntil)
	b := backlog(t, s)
	require.Equal(t, 2, b.Due)
	require.Equal(t, 2, b.Held, "the other two wait for the pause")
	require.NoError(t, s.WaitIdle(ctx))
	require.Equal(t, end, nextAttempt(t, s))

	clk.Advance(30 * time.Second)
	total := 0
	for range 3 {
		total += processDue(t, s)
	}
	require.Equal(t, 3, total)
	require.Equal(t, sender.Backlog{}, backlog(t, s))
}
