package sender_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// everySecond retries every failure a second later, forever.
var everySecond = retry.PolicyFunc(func(retry.Failure) (time.Duration, bool) { return time.Second, true })

// publishKeyed publishes an event of type "order.updated" with data
// {"seq": n} and the ordering key (none when empty) to the endpoint.
func publishKeyed(t testing.TB, s *sender.Sender, clk *clock, epID, key string, n int) event.Event {
	t.Helper()
	ev := newEvent(t, clk, "order.updated", fmt.Sprintf(`{"seq":%d}`, n))
	_, err := s.Publish(context.Background(), ev, sender.ToEndpoint(epID), &sender.PublishOptions{OrderingKey: key})
	require.NoError(t, err)
	return ev
}

// seqs returns the "seq" of each request's data, in arrival order.
func seqs(t testing.TB, reqs []request) []string {
	t.Helper()
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = string(r.Event.Data)
	}
	return out
}

func TestOrderingKeyBlocksOnlyItsKey(t *testing.T) {
	clk := newClock()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError) // the key's first delivery fails once
		}
	})
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) { c.Retry, c.Workers = everySecond, 1 })

	first := publishKeyed(t, s, clk, ep.ID, "order-1", 1)
	publishKeyed(t, s, clk, ep.ID, "order-1", 2)
	publishKeyed(t, s, clk, ep.ID, "order-1", 3)
	publishKeyed(t, s, clk, ep.ID, "order-2", 4)
	publishKeyed(t, s, clk, ep.ID, "", 5)
	require.Equal(t, "order-1", delivery(t, st, first.ID).OrderingKey)

	processDue(t, s)
	require.Equal(t, []string{`{"seq":1}`, `{"seq":4}`, `{"seq":5}`}, seqs(t, srv.requests()),
		"the failed head holds up its key only: the other key and the unkeyed event go")
	processDue(t, s)
	require.Equal(t, 3, srv.count(), "the key waits for its head's retry")

	clk.Advance(time.Second)
	processDue(t, s)
	require.Equal(t, []string{`{"seq":1}`, `{"seq":4}`, `{"seq":5}`, `{"seq":1}`, `{"seq":2}`, `{"seq":3}`}, seqs(t, srv.requests()),
		"then the key's deliveries in publish order")
}

func TestOrderingKeyGiveUp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy sender.KeyGiveUp
	}{{"skip", sender.KeySkip}, {"hold", sender.KeyHold}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					w.WriteHeader(http.StatusBadRequest)
				}
			})
			st := newStore()
			ep, _ := addEndpoint(t, st, srv.URL, nil)
			giveUp := retry.PolicyFunc(func(retry.Failure) (time.Duration, bool) { return 0, false })
			s := newSender(t, st, clk, func(c *sender.Config) { c.Retry, c.OnKeyGiveUp, c.Workers = giveUp, tc.policy, 1 })
			first := publishKeyed(t, s, clk, ep.ID, "k", 1)
			publishKeyed(t, s, clk, ep.ID, "k", 2)

			processDue(t, s)
			d := delivery(t, st, first.ID)
			require.Equal(t, store.StateFailed, d.State)
			if tc.policy == sender.KeySkip {
				require.False(t, d.HoldsKey)
				require.Equal(t, []string{`{"seq":1}`, `{"seq":2}`}, seqs(t, srv.requests()), "skip: the next goes")
				return
			}
			require.True(t, d.HoldsKey, "hold: the failed head holds its key")
			clk.Advance(time.Hour)
			processDue(t, s)
			require.Equal(t, []string{`{"seq":1}`}, seqs(t, srv.requests()), "hold: the key waits")

			require.NoError(t, s.Retry(context.Background(), d.ID))
			processDue(t, s)
			require.Equal(t, []string{`{"seq":1}`, `{"seq":1}`, `{"seq":2}`}, seqs(t, srv.requests()),
				"the replayed head goes first, then the rest of the key")
		})
	}
}

func TestOrderingKeyInvalid(t *testing.T) {
	s := newSender(t, newStore(), nil, nil)
	for _, key := range []string{string(make([]byte, sender.MaxOrderingKey+1)), "a\x00b", "\xff"} {
		_, err := s.Publish(context.Background(), newEvent(t, nil, "ping", `{}`), sender.ToTenant(""), &sender.PublishOptions{OrderingKey: key})
		require.ErrorIs(t, err, sender.ErrInvalidOptions)
	}
}

// TestBreaker opens an endpoint's breaker after consecutive failures,
// leaves its deliveries unattempted (attempts unchanged) while it is open,
// probes at growing intervals and closes on success; the state is on the
// endpoint in the store, in the hook and in Sender.Flow.
func TestBreaker(t *testing.T) {
	clk := newClock()
	var failing atomic.Int32
	failing.Store(4) // three attempts, then a failed probe
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if failing.Add(-1) >= 0 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	var (
		mu      sync.Mutex
		changes []store.BreakerState
	)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry, c.Workers = everySecond, 1
		c.Breaker = sender.BreakerConfig{Failures: 3, ProbeInterval: 10 * time.Second, MaxProbeInterval: time.Minute}
		c.SlowStart.Disabled = true
		c.Hooks.OnBreakerChange = func(_ context.Context, ep *store.Endpoint, state store.BreakerState) {
			mu.Lock()
			defer mu.Unlock()
			require.Equal(t, state, ep.Health.Breaker)
			changes = append(changes, state)
		}
	})
	var evs []event.Event
	for i := range 5 {
		evs = append(evs, publishKeyed(t, s, clk, ep.ID, "", i))
	}
	attempts := func() []int {
		var n []int
		for _, ev := range evs {
			n = append(n, delivery(t, st, ev.ID).Attempts)
		}
		return n
	}
	stored := func() store.Health {
		got, err := st.GetEndpoint(context.Background(), ep.ID)
		require.NoError(t, err)
		return got.Health
	}

	processDue(t, s)
	require.Equal(t, 3, srv.count(), "the third failure opens the breaker")
	require.Equal(t, []int{1, 1, 1, 0, 0}, attempts(), "the others wait, their attempts untouched")
	opened := clk.Now()
	require.Equal(t, store.BreakerOpen, stored().Breaker)
	require.Equal(t, opened, stored().BreakerSince)
	f := s.Flow(ep.ID)
	require.Equal(t, store.BreakerOpen, f.Breaker)
	require.Equal(t, opened.Add(10*time.Second), f.NextProbe)

	for _, step := range []time.Duration{time.Second, 8 * time.Second} {
		clk.Advance(step)
		processDue(t, s)
		require.Equal(t, 3, srv.count(), "no attempt while the breaker is open, though retries fall due")
		require.Equal(t, []int{1, 1, 1, 0, 0}, attempts())
	}
	clk.Advance(time.Second)
	processDue(t, s)
	require.Equal(t, 4, srv.count(), "one probe, 10 s after opening")
	require.Equal(t, store.BreakerOpen, s.Flow(ep.ID).Breaker, "a failed probe leaves it open")
	require.Equal(t, clk.Now().Add(20*time.Second), s.Flow(ep.ID).NextProbe, "the next probe waits twice as long")

	clk.Advance(19 * time.Second)
	processDue(t, s)
	require.Equal(t, 4, srv.count())
	clk.Advance(time.Second)
	processDue(t, s)
	processDue(t, s)
	require.Equal(t, 4+5, srv.count(), "the probe succeeds and closes the breaker; then everything goes")
	require.Equal(t, store.BreakerClosed, s.Flow(ep.ID).Breaker)
	require.Equal(t, store.BreakerClosed, stored().Breaker)
	for _, ev := range evs {
		require.Equal(t, store.StateSucceeded, delivery(t, st, ev.ID).State)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []store.BreakerState{store.BreakerOpen, store.BreakerClosed}, changes)
}

// TestBreakerStillDisables: the endpoint is still disabled after its own
// threshold and duration while its breaker is open, by the failed probes.
func TestBreakerStillDisables(t *testing.T) {
	clk := newClock()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusServiceUnavailable) })
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry, c.Workers = everySecond, 1
		c.DisableAfterFailures, c.DisableAfterDuration = 6, time.Minute
		c.Breaker = sender.BreakerConfig{Failures: 2, ProbeInterval: 10 * time.Second, MaxProbeInterval: 20 * time.Second}
	})
	for i := range 3 {
		publishKeyed(t, s, clk, ep.ID, "", i)
	}
	for range 20 {
		processDue(t, s)
		clk.Advance(10 * time.Second)
	}
	got, err := st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled, "disabled after 6 failures over a minute, probes included")
}

// TestSlowStartAfterBreaker: when the breaker closes, the endpoint's
// requests in flight start at one and grow with successes up to its cap,
// never above it; a 429 with Retry-After halves them and pauses the
// endpoint.
func TestSlowStartAfterBreaker(t *testing.T) {
	clk := newClock()
	var (
		phase    atomic.Int32 // 0: down, 1: up, 2: one 429 then up
		inFlight atomic.Int32
		most     atomic.Int32
	)
	var (
		limitsMu sync.Mutex
		limits   []int
		s        *sender.Sender
		epID     string
	)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if phase.Load() == 1 {
			limitsMu.Lock()
			limits = append(limits, s.Flow(epID).InFlightLimit)
			limitsMu.Unlock()
		}
		now := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if now <= m || most.CompareAndSwap(m, now) {
				break
			}
		}
		switch {
		case phase.Load() == 0:
			w.WriteHeader(http.StatusBadGateway)
		case phase.CompareAndSwap(2, 1):
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, func(e *store.Endpoint) { e.MaxInFlight = 4 })
	epID = ep.ID
	s = newSender(t, st, clk, func(c *sender.Config) {
		c.Retry, c.Workers = everySecond, 16
		c.Breaker = sender.BreakerConfig{Failures: 2, ProbeInterval: 10 * time.Second}
		c.SlowStart = sender.SlowStartConfig{Backlog: 1000}
	})
	publishKeyed(t, s, clk, ep.ID, "", 0)
	publishKeyed(t, s, clk, ep.ID, "", -1)
	processDue(t, s)
	require.Equal(t, store.BreakerOpen, s.Flow(ep.ID).Breaker)
	for i := range 60 {
		publishKeyed(t, s, clk, ep.ID, "", i+1)
	}
	phase.Store(1)
	clk.Advance(10 * time.Second)
	for processDue(t, s) > 0 {
	}
	limitsMu.Lock()
	got := slices.Clone(limits)
	limitsMu.Unlock()
	require.Len(t, got, 62)
	require.Equal(t, []int{1, 1}, got[:2], "the probe, then the breaker closed: the ramp starts at one")
	require.Equal(t, 4, got[len(got)-1], "and ends at the cap")
	for i := 1; i < len(got); i++ {
		require.GreaterOrEqual(t, got[i], got[i-1], "successes only widen it: %v", got)
	}
	require.LessOrEqual(t, most.Load(), int32(4), "never more than the endpoint's cap in flight")
	require.False(t, s.Flow(ep.ID).Ramping)
	t.Logf("requests in flight allowed at each request after the breaker closed: %v", got)

	phase.Store(2)
	publishKeyed(t, s, clk, ep.ID, "", 100)
	publishKeyed(t, s, clk, ep.ID, "", 101)
	processDue(t, s)
	f := s.Flow(ep.ID)
	require.True(t, f.Ramping, "a 429 at full speed ramps again")
	require.Equal(t, 2, f.InFlightLimit, "halved")
	require.Equal(t, clk.Now().Add(30*time.Second), f.PausedUntil, "Retry-After pauses the endpoint")
	before := srv.count()
	clk.Advance(29 * time.Second)
	processDue(t, s)
	require.Equal(t, before, srv.count(), "nothing during the pause")
	clk.Advance(2 * time.Second)
	processDue(t, s)
	require.Greater(t, srv.count(), before)
}

// TestSlowStartAfterEnableAndBacklog: re-enabling an endpoint,
// or a backlog falling due after it was idle, starts a ramp.
func TestSlowStartAfterEnableAndBacklog(t *testing.T) {
	clk := newClock()
	srv := newServer(t, nil)
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, func(e *store.Endpoint) { e.MaxInFlight = 8 })
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.SlowStart = sender.SlowStartConfig{Initial: 2, Backlog: 10, Idle: time.Minute}
	})
	ctx := context.Background()
	publishKeyed(t, s, clk, ep.ID, "", 0)
	processDue(t, s)
	require.False(t, s.Flow(ep.ID).Ramping, "one delivery is no backlog")

	require.NoError(t, s.Endpoints().Disable(ctx, ep.ID, "test"))
	require.NoError(t, s.Endpoints().Enable(ctx, ep.ID))
	f := s.Flow(ep.ID)
	require.True(t, f.Ramping, "enabled again: a ramp")
	require.Equal(t, 2, f.InFlightLimit)
	for i := range 40 {
		publishKeyed(t, s, clk, ep.ID, "", i+1)
	}
	processDue(t, s)
	require.False(t, s.Flow(ep.ID).Ramping, "the ramp ends at the cap")

	clk.Advance(2 * time.Minute)
	for i := range 20 {
		publishKeyed(t, s, clk, ep.ID, "", i+100)
	}
	var (
		mu   sync.Mutex
		seen []int
		s2   *sender.Sender
	)
	s2 = newSender(t, st, clk, func(c *sender.Config) {
		c.SlowStart = sender.SlowStartConfig{Initial: 2, Backlog: 10, Idle: time.Minute}
		c.Hooks.OnAttempt = func(context.Context, *store.Attempt) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, s2.Flow(ep.ID).InFlightLimit)
		}
	})
	processDue(t, s2)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 20)
	require.Less(t, seen[0], 8, "a backlog of 20 after an idle minute ramps: %v", seen)
	require.True(t, slices.IsSorted(seen), "widening with successes: %v", seen)
	require.Greater(t, seen[len(seen)-1], seen[0], "widening with successes: %v", seen)
	require.Equal(t, 61, srv.count())
}

// TestOrderingKeyNextGoesAtOnce checks that a started sender attempts a
// key's next delivery as soon as the previous one settles, not at its next
// poll: with an hour's PollInterval, five deliveries of one key still
// arrive, in order, without waiting for a poll.
func TestOrderingKeyNextGoesAtOnce(t *testing.T) {
	st := newStore()
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) { c.PollInterval = time.Hour })
	require.NoError(t, s.Start(context.Background()))
	for n := range 5 {
		publishKeyed(t, s, nil, ep.ID, "order-1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, s.WaitIdle(ctx), "each settled head must wake the dispatcher")
	require.Equal(t, []string{`{"seq":0}`, `{"seq":1}`, `{"seq":2}`, `{"seq":3}`, `{"seq":4}`}, seqs(t, srv.requests()))
}

// TestBreakerCloseMakesRetriesDue: the deliveries whose attempts failed
// while the endpoint was down (those that opened the breaker, and the
// failed probes) are due again when a probe closes the breaker, rather
// than at the later steps of their retry schedule (here 5 min after their
// second failure); with KeepRetrySchedule they keep it.
func TestBreakerCloseMakesRetriesDue(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("KeepRetrySchedule=%v", keep), func(t *testing.T) {
			clk := newClock()
			var up atomic.Bool
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if !up.Load() {
					w.WriteHeader(http.StatusBadGateway)
				}
			})
			st := newStore()
			ep, _ := addEndpoint(t, st, srv.URL, nil)
			other, _ := addEndpoint(t, st, srv.URL, nil)
			s := newSender(t, st, clk, func(c *sender.Config) {
				c.Retry, c.Workers = retry.Schedule{}, 1 // 5 s, 5 min, 30 min, ... without jitter
				c.Breaker = sender.BreakerConfig{Failures: 3, ProbeInterval: 10 * time.Second, MaxProbeInterval: time.Minute,
					KeepRetrySchedule: keep}
				c.SlowStart.Disabled = true
			})
			var evs []event.Event
			for i := range 5 {
				evs = append(evs, publishKeyed(t, s, clk, ep.ID, "", i))
			}
			// A failure of another endpoint, whose breaker stays closed.
			elsewhere := publishKeyed(t, s, clk, other.ID, "", 9)

			processDue(t, s)
			require.Equal(t, 4, srv.count(), "three failures open the breaker; the other endpoint's fails once")
			for _, step := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute} {
				clk.Advance(step)
				processDue(t, s)
			}
			require.Equal(t, store.BreakerOpen, s.Flow(ep.ID).Breaker)
			var waiting []string
			for _, ev := range evs {
				if d := delivery(t, st, ev.ID); d.Attempts == 2 {
					require.True(t, d.NextAttemptAt.After(clk.Now().Add(3*time.Minute)), "a failed probe pushed its delivery 5 min on")
					waiting = append(waiting, ev.ID)
				}
			}
			require.Len(t, waiting, 2, "the last two probes took deliveries that had failed once")

			up.Store(true)
			clk.Advance(time.Minute)
			processDue(t, s) // the probe closes the breaker
			processDue(t, s)
			require.Equal(t, store.BreakerClosed, s.Flow(ep.ID).Breaker)
			for _, ev := range evs {
				d := delivery(t, st, ev.ID)
				if keep && slices.Contains(waiting, ev.ID) {
					require.Equal(t, store.StatePending, d.State, "KeepRetrySchedule: it waits for its retry")
					require.True(t, d.NextAttemptAt.After(clk.Now()))
					continue
				}
				require.Equal(t, store.StateSucceeded, d.State, "delivered once the breaker closed")
			}
			d := delivery(t, st, elsewhere.ID)
			require.Equal(t, store.StatePending, d.State, "another endpoint's retry keeps its schedule")
			require.Equal(t, 2, d.Attempts)
		})
	}
}
