package receiver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

// startUnmanaged builds and starts a receiver on ctx, without the Close at
// cleanup that newReceiver adds (the test closes it itself).
func startUnmanaged(tb testing.TB, ctx context.Context, h receiver.Handler, cfg receiver.Config) *receiver.Receiver {
	tb.Helper()
	cfg.Logger, cfg.Now = quiet, fixedNow
	r, err := receiver.New(h, &cfg)
	require.NoError(tb, err)
	require.NoError(tb, r.Start(ctx))
	return r
}

// result waits for the error sent on ch; a bounded wait, so a stop that
// never comes fails the test instead of hanging it.
func result(tb testing.TB, ch <-chan error) error {
	tb.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(waitTimeout):
		tb.Fatal("timed out waiting for the receiver to stop")
		return nil
	}
}

// TestStartContextCancelStops: cancelling Start's context stops the
// receiver as Close does: running callbacks are cancelled, queued events
// are left (their non-durable claims released), requests are refused, and
// Shutdown and Close, called afterwards, wait for that stop and return nil.
func TestStartContextCancelStops(t *testing.T) {
	k := newKeyPair(t)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	var exited atomic.Bool
	rc := newRecorder()
	rc.Fn = func(ctx context.Context, _ event.Event, _ int64) error {
		started <- struct{}{}
		<-ctx.Done() // only the receiver's stop ends this callback
		<-release
		exited.Store(true)
		return ctx.Err()
	}
	ib := newTestInbox()
	ctx, cancel := context.WithCancel(context.Background())
	r := startUnmanaged(t, ctx, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Workers: 1, Inbox: plain{ib}})

	running, queued := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")
	require.Equal(t, http.StatusOK, serve(r, eventRequest(t, k.Signer, running)).Code)
	<-started
	require.Equal(t, http.StatusOK, serve(r, eventRequest(t, k.Signer, queued)).Code)

	cancel()
	left := 2 + len(untilRefused(t, r, k.Signer)) // some accepted before the stop began

	shut := make(chan error, 1)
	go func() { shut <- r.Shutdown(context.Background()) }()
	close(release)
	require.NoError(t, result(t, shut), "Shutdown after the context's stop returns nil")
	require.True(t, exited.Load(), "Shutdown returned only after the running callback did")
	require.NoError(t, r.Close(), "so does Close")
	require.ErrorIs(t, r.Start(context.Background()), receiver.ErrClosed)

	st := r.Stats()
	require.EqualValues(t, left, st.Interrupted, "the running and the queued events were left, as by Close")
	require.Zero(t, st.Pending)
	require.Equal(t, store.InboxState(""), ib.state(running.ID), "non-durable claims are released")
	require.Equal(t, store.InboxState(""), ib.state(queued.ID))
}

// TestStopDuringShutdown: Close, or the end of Start's context, cuts a
// graceful drain short; Shutdown reports the events left and wraps
// ErrClosed.
func TestStopDuringShutdown(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(r *receiver.Receiver, cancel context.CancelFunc)
	}{
		{"Close", func(r *receiver.Receiver, _ context.CancelFunc) { require.NoError(t, r.Close()) }},
		{"Start's context ends", func(_ *receiver.Receiver, cancel context.CancelFunc) { cancel() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKeyPair(t)
			started := make(chan struct{}, 1)
			rc := newRecorder()
			rc.Fn = func(ctx context.Context, _ event.Event, _ int64) error {
				started <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := startUnmanaged(t, ctx, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Workers: 1})
			require.Equal(t, http.StatusOK, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
			<-started
			shut := make(chan error, 1)
			go func() { shut <- r.Shutdown(context.Background()) }() // would wait forever
			left := 1 + len(untilRefused(t, r, k.Signer))            // Shutdown has begun
			tc.stop(r, cancel)
			err := result(t, shut)
			require.ErrorIs(t, err, receiver.ErrClosed)
			require.ErrorContains(t, err, fmt.Sprintf("%d events left unhandled", left))
			require.NoError(t, r.Close())
		})
	}
}

// TestSecondShutdownWaits: a Shutdown called while another drains waits for
// that drain (or its own context) and then returns nil.
func TestSecondShutdownWaits(t *testing.T) {
	k := newKeyPair(t)
	started := make(chan struct{}, 1)
	gate := make(chan struct{})
	rc := newRecorder()
	rc.Fn = func(context.Context, event.Event, int64) error {
		started <- struct{}{}
		<-gate
		return nil
	}
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Workers: 1})
	require.Equal(t, http.StatusOK, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
	<-started
	first := make(chan error, 1)
	go func() { first <- r.Shutdown(context.Background()) }()
	require.Eventually(t, func() bool {
		return errors.Is(r.Start(context.Background()), receiver.ErrClosed)
	}, waitTimeout, time.Millisecond, "the first Shutdown has begun")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, r.Shutdown(ctx), context.Canceled, "a second Shutdown gives up with its context")

	second := make(chan error, 1)
	go func() { second <- r.Shutdown(context.Background()) }()
	close(gate)
	require.NoError(t, result(t, first), "the first Shutdown drained the event")
	require.NoError(t, result(t, second))
	require.EqualValues(t, 1, r.Stats().Handled)
	require.NoError(t, r.Close())
}

type ctxKey struct{}

// TestHooksGetContexts: every hook gets a context first: the request's for
// OnAccepted and OnResponse; one carrying Start's values for the others,
// bounded by CallbackTimeout for OnDead.
func TestHooksGetContexts(t *testing.T) {
	k := newKeyPair(t)
	m := receiver.NewMux()
	require.NoError(t, m.HandleFunc("fail", func(context.Context, event.Event) error { return retry.Permanent(errors.New("no")) }))

	type seen struct {
		hook, value string
		deadline    bool
	}
	got := make(chan seen, 16)
	record := func(hook string, ctx context.Context) {
		v, _ := ctx.Value(ctxKey{}).(string)
		_, dl := ctx.Deadline()
		got <- seen{hook, v, dl}
	}
	cfg := receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, Logger: quiet, Now: fixedNow, CallbackTimeout: time.Hour,
		Hooks: receiver.Hooks{
			OnAccepted: func(ctx context.Context, _ receiver.AcceptedInfo) { record("accepted", ctx) },
			OnResponse: func(ctx context.Context, _ receiver.ResponseInfo) { record("response", ctx) },
			OnCallback: func(ctx context.Context, _ receiver.CallbackInfo) { record("callback", ctx) },
			OnDropped:  func(ctx context.Context, _ event.Event) { record("dropped", ctx) },
			OnDead:     func(ctx context.Context, _ event.Event, _ error) { record("dead", ctx) },
		},
	}
	r, err := receiver.New(m, &cfg)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.WithValue(context.Background(), ctxKey{}, "start")))
	t.Cleanup(func() { _ = r.Close() })

	post := func(typ string) {
		req := eventRequest(t, k.Signer, newEvent(t, event.ModeTest, typ))
		req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, "request"))
		require.Equal(t, http.StatusOK, serve(r, req).Code)
	}
	post("unrouted")
	post("fail")
	drain(t, r)
	close(got)

	byHook := map[string][]seen{}
	for s := range got {
		byHook[s.hook] = append(byHook[s.hook], s)
	}
	want := map[string]struct {
		n        int
		value    string
		deadline bool
	}{
		"accepted": {2, "request", false},
		"response": {2, "request", false},
		"callback": {2, "start", false},
		"dropped":  {1, "start", false},
		"dead":     {1, "start", true},
	}
	for hook, w := range want {
		require.Len(t, byHook[hook], w.n, hook)
		for _, s := range byHook[hook] {
			require.Equal(t, w.value, s.value, "%s: the context's values", hook)
			require.Equal(t, w.deadline, s.deadline, "%s: the context's deadline", hook)
		}
	}
}
