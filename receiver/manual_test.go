package receiver_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

// manualRig is a started receiver with ManualRetries on a fake clock, a
// callback failing its first failures calls, and a record of every attempt
// and dead letter.
type manualRig struct {
	k     keyPair
	clk   *clock
	rc    *recorder
	ib    *testInbox
	r     *receiver.Receiver
	mu    sync.Mutex
	infos []receiver.CallbackInfo
	dead  []error
}

var errFlaky = errors.New("database unavailable")

func newManualRig(t *testing.T, failures int64, cfg receiver.Config) *manualRig {
	t.Helper()
	m := &manualRig{k: newKeyPair(t), clk: newClock(testNow), rc: newRecorder(), ib: newTestInbox()}
	m.rc.Fn = func(_ context.Context, _ event.Event, n int64) error {
		if n <= failures {
			return errFlaky
		}
		return nil
	}
	cfg.Keys = []receiver.Key{{Text: m.k.Text}}
	cfg.Now = m.clk.Now
	cfg.ManualRetries = true
	if cfg.Inbox == nil {
		cfg.Inbox = plain{m.ib}
	}
	cfg.Hooks.OnDead = func(_ context.Context, _ event.Event, err error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.dead = append(m.dead, err)
	}
	cfg.Hooks.OnCallback = func(_ context.Context, i receiver.CallbackInfo) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.infos = append(m.infos, i)
	}
	m.r = newReceiver(t, m.rc, cfg)
	return m
}

func (m *manualRig) post(t *testing.T) event.Event {
	t.Helper()
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, http.StatusOK, serve(m.r, eventRequest(t, m.k.Signer, ev)).Code)
	return ev
}

// run calls RunRetries and requires it to make want attempts.
func (m *manualRig) run(t *testing.T, want int) {
	t.Helper()
	n, err := m.r.RunRetries(t.Context())
	require.NoError(t, err)
	require.Equal(t, want, n, "attempts made by RunRetries at %v", m.clk.Now().Sub(testNow))
}

func (m *manualRig) attempts() []receiver.CallbackInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]receiver.CallbackInfo(nil), m.infos...)
}

func (m *manualRig) deadLetters() []error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]error(nil), m.dead...)
}

func TestManualRetriesFollowTheClock(t *testing.T) {
	delays := []time.Duration{time.Second, 5 * time.Second, 30 * time.Second} // 4 attempts in all
	tests := []struct {
		name      string
		failures  int64
		wantCalls int64
		want      []receiver.Result
		wantState store.InboxState
	}{
		{name: "handled on the first retry", failures: 1, wantCalls: 2,
			want: []receiver.Result{receiver.ResultRetry, receiver.ResultHandled}, wantState: store.InboxHandled},
		{name: "handled on the last attempt", failures: 3, wantCalls: 4,
			want:      []receiver.Result{receiver.ResultRetry, receiver.ResultRetry, receiver.ResultRetry, receiver.ResultHandled},
			wantState: store.InboxHandled},
		{name: "dead after the last attempt", failures: 100, wantCalls: 4,
			want:      []receiver.Result{receiver.ResultRetry, receiver.ResultRetry, receiver.ResultRetry, receiver.ResultDead},
			wantState: store.InboxDead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManualRig(t, tt.failures, receiver.Config{Retry: retry.Schedule{Delays: delays}})
			ev := m.post(t)
			m.run(t, 0) // settles the first attempt, made by a worker
			require.EqualValues(t, 1, m.rc.Calls.Load())

			calls := int64(1)
			for _, d := range delays {
				if calls == tt.wantCalls {
					// Finished: moving the clock runs nothing.
					m.clk.Add(d)
					m.run(t, 0)
					continue
				}
				m.clk.Add(d - time.Nanosecond)
				m.run(t, 0) // not due yet
				require.Equal(t, calls, m.rc.Calls.Load())
				m.clk.Add(time.Nanosecond)
				m.run(t, 1) // due: run before RunRetries returns
				calls++
				require.Equal(t, calls, m.rc.Calls.Load())
			}
			require.Equal(t, tt.wantCalls, m.rc.Calls.Load())

			infos := m.attempts()
			require.Len(t, infos, len(tt.want))
			for i, info := range infos {
				require.Equal(t, ev.ID, info.Event.ID)
				require.Equal(t, i+1, info.Number)
				require.Equal(t, tt.want[i], info.Result, "attempt %d", i+1)
				if info.Result == receiver.ResultRetry {
					require.Equal(t, delays[i], info.Retry)
					require.ErrorIs(t, info.Err, errFlaky)
				}
			}
			require.Equal(t, tt.wantState, m.ib.state(ev.ID))
			st := m.r.Stats()
			require.Zero(t, st.Pending)
			require.Equal(t, uint64(len(tt.want)-1), st.Retries)
			if tt.wantState == store.InboxDead {
				dead := m.deadLetters()
				require.Len(t, dead, 1, "OnDead is called once, after the last attempt")
				require.ErrorIs(t, dead[0], errFlaky)
				require.Equal(t, uint64(1), st.Dead)
			} else {
				require.Empty(t, m.deadLetters())
				require.Equal(t, uint64(1), st.Handled)
			}
			drain(t, m.r)
		})
	}
}

func TestManualRetriesEarliestFirst(t *testing.T) {
	// Each event asks for its own delay with retry.After; RunRetries runs
	// the due retries in due order, not in the order they failed.
	k := newKeyPair(t)
	clk := newClock(testNow)
	delays := map[string]time.Duration{}
	var mu sync.Mutex
	var order []string
	h := receiver.HandlerFunc(func(_ context.Context, ev event.Event) error {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, ev.ID)
		if len(order) <= len(delays) {
			return retry.After(delays[ev.ID], errFlaky)
		}
		return nil
	})
	r := newReceiver(t, h, receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, Now: clk.Now, ManualRetries: true, Workers: 1,
		Retry: retry.Exponential{Base: time.Hour, MaxAttempts: 2},
	})
	var evs []event.Event
	for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
		ev := newEvent(t, event.ModeTest, "ping")
		delays[ev.ID] = d
		evs = append(evs, ev)
	}
	for _, ev := range evs {
		require.Equal(t, http.StatusOK, serve(r, eventRequest(t, k.Signer, ev)).Code)
	}
	n, err := r.RunRetries(t.Context())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, 3, r.Stats().Pending)

	clk.Add(2 * time.Second) // two of three due
	n, err = r.RunRetries(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	clk.Add(time.Second)
	n, err = r.RunRetries(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, order, 6)
	require.Equal(t, []string{evs[1].ID, evs[2].ID, evs[0].ID}, order[3:])
	require.Equal(t, uint64(3), r.Stats().Handled)
}

func TestManualRetriesWithoutDelay(t *testing.T) {
	// A retry due at once still waits for RunRetries, which runs it, and
	// its own immediate retries, before returning.
	m := newManualRig(t, 100, receiver.Config{Retry: retry.Schedule{Delays: []time.Duration{0, 0}}})
	ev := m.post(t)
	m.run(t, 2)
	require.EqualValues(t, 3, m.rc.Calls.Load())
	require.Equal(t, store.InboxDead, m.ib.state(ev.ID))
	require.Len(t, m.deadLetters(), 1)
	m.run(t, 0)
}

func TestShutdownLeavesManualRetries(t *testing.T) {
	tests := []struct {
		name    string
		durable bool
		want    store.InboxState
	}{
		{name: "released from a non-durable inbox", want: ""},
		{name: "kept claimed in a durable inbox", durable: true, want: store.InboxClaimed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ib := newTestInbox()
			cfg := receiver.Config{Retry: retry.Schedule{Delays: []time.Duration{time.Minute}}, Inbox: plain{ib}}
			if tt.durable {
				cfg.Inbox = ib
			}
			m := newManualRig(t, 1, cfg)
			waiting := m.post(t)
			m.run(t, 0) // waiting's first attempt failed; its retry waits
			done := m.post(t)
			m.run(t, 0) // done's first attempt succeeded
			require.Equal(t, 1, m.r.Stats().Pending)

			// Shutdown drains what runs, and does not wait for the retry,
			// which nothing but RunRetries would run.
			err := m.r.Shutdown(context.Background())
			require.ErrorIs(t, err, receiver.ErrClosed)
			require.ErrorContains(t, err, "1 events left unhandled (waiting for RunRetries)")
			require.Equal(t, tt.want, ib.state(waiting.ID))
			require.Equal(t, store.InboxHandled, ib.state(done.ID))
			st := m.r.Stats()
			require.Equal(t, uint64(1), st.Interrupted)
			require.Zero(t, st.Pending)
			require.Empty(t, m.deadLetters(), "an event left waiting is not dead")

			m.clk.Add(time.Hour)
			n, err := m.r.RunRetries(t.Context())
			require.ErrorIs(t, err, receiver.ErrClosed)
			require.Zero(t, n)
			require.EqualValues(t, 2, m.rc.Calls.Load())
		})
	}
}

func TestShutdownAfterManualRetriesDrained(t *testing.T) {
	m := newManualRig(t, 1, receiver.Config{Retry: retry.Schedule{Delays: []time.Duration{time.Second}}})
	ev := m.post(t)
	m.run(t, 0)
	m.clk.Add(time.Second)
	m.run(t, 1)
	drain(t, m.r) // nothing left: nil
	require.Equal(t, store.InboxHandled, m.ib.state(ev.ID))
}

func TestShutdownWaitsForRunRetries(t *testing.T) {
	// A retry running in RunRetries is a running callback: Shutdown waits
	// for it, and RunRetries starts no other attempt once Shutdown began.
	k := newKeyPair(t)
	clk := newClock(testNow)
	started := make(chan struct{}, 1)
	gate := make(chan struct{})
	rc := newRecorder()
	rc.Fn = func(_ context.Context, _ event.Event, n int64) error {
		switch n {
		case 1, 2:
			return errFlaky // first attempts of both events
		case 3:
			started <- struct{}{}
			<-gate
		}
		return nil
	}
	ib := newTestInbox()
	r := newReceiver(t, rc, receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, Now: clk.Now, ManualRetries: true, Inbox: plain{ib}, Workers: 1,
		Retry: retry.Schedule{Delays: []time.Duration{time.Second}},
	})
	evs := []event.Event{newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")}
	for _, ev := range evs {
		require.Equal(t, http.StatusOK, serve(r, eventRequest(t, k.Signer, ev)).Code)
	}
	n, err := r.RunRetries(t.Context())
	require.NoError(t, err)
	require.Zero(t, n)
	clk.Add(time.Second)

	type result struct {
		n   int
		err error
	}
	ran := make(chan result, 1)
	go func() {
		n, err := r.RunRetries(context.Background())
		ran <- result{n, err}
	}()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- r.Shutdown(context.Background()) }()
	late := untilRefused(t, r, k.Signer) // accepted before Shutdown began; drained by it
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a retry was running", err)
	default:
	}
	close(gate)
	got := <-ran
	require.ErrorIs(t, got.err, receiver.ErrClosed)
	require.Equal(t, 1, got.n, "no attempt started after Shutdown began")
	err = <-shut
	require.ErrorContains(t, err, "1 events left unhandled (waiting for RunRetries)")
	require.EqualValues(t, 3+len(late), rc.Calls.Load())
	for _, ev := range late {
		require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	}
	states := []store.InboxState{ib.state(evs[0].ID), ib.state(evs[1].ID)}
	require.ElementsMatch(t, []store.InboxState{store.InboxHandled, ""}, states)
}

func TestRunRetriesErrors(t *testing.T) {
	k := newKeyPair(t)
	keys := []receiver.Key{{Text: k.Text}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		setup func(t *testing.T) *receiver.Receiver
		ctx   context.Context
		want  error // nil: 0 attempts, no error
	}{
		{name: "without ManualRetries", want: receiver.ErrInvalidConfig, setup: func(t *testing.T) *receiver.Receiver {
			return newReceiver(t, newRecorder(), receiver.Config{Keys: keys})
		}},
		{name: "before Start", setup: func(t *testing.T) *receiver.Receiver {
			r, err := receiver.New(newRecorder(), &receiver.Config{Keys: keys, ManualRetries: true})
			require.NoError(t, err)
			return r
		}},
		{name: "after Close", want: receiver.ErrClosed, setup: func(t *testing.T) *receiver.Receiver {
			r := newReceiver(t, newRecorder(), receiver.Config{Keys: keys, ManualRetries: true})
			require.NoError(t, r.Close())
			return r
		}},
		{name: "cancelled context", ctx: cancelled, want: context.Canceled, setup: func(t *testing.T) *receiver.Receiver {
			return newReceiver(t, newRecorder(), receiver.Config{Keys: keys, ManualRetries: true})
		}},
		{name: "started, nothing pending", setup: func(t *testing.T) *receiver.Receiver {
			return newReceiver(t, newRecorder(), receiver.Config{Keys: keys, ManualRetries: true})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			n, err := tt.setup(t).RunRetries(ctx)
			require.Zero(t, n)
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}
}

func TestRunRetriesWaitsForRunningCallbacks(t *testing.T) {
	// RunRetries waits for a first attempt still in its callback: until
	// its context ends, or until Close stops the receiver.
	for _, byClose := range []bool{false, true} {
		name := map[bool]string{false: "context ends", true: "Close"}[byClose]
		t.Run(name, func(t *testing.T) {
			k := newKeyPair(t)
			started := make(chan struct{}, 1)
			rc := newRecorder()
			rc.Fn = func(ctx context.Context, _ event.Event, _ int64) error {
				started <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			}
			r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, ManualRetries: true})
			require.Equal(t, http.StatusOK, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
			<-started
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ran := make(chan error, 1)
			go func() {
				_, err := r.RunRetries(ctx)
				ran <- err
			}()
			if byClose {
				require.NoError(t, r.Close())
				require.ErrorIs(t, <-ran, receiver.ErrClosed)
				require.Equal(t, uint64(1), r.Stats().Interrupted)
				return
			}
			cancel()
			require.ErrorIs(t, <-ran, context.Canceled)
			require.Equal(t, 1, r.Stats().Pending, "the callback still runs")
		})
	}
}
