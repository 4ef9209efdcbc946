package receiver_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
)

// acceptedLog records Hooks.OnAccepted calls.
type acceptedLog struct {
	mu    sync.Mutex
	infos []receiver.AcceptedInfo
}

func (l *acceptedLog) hook(_ context.Context, ai receiver.AcceptedInfo) {
	l.mu.Lock()
	l.infos = append(l.infos, ai)
	l.mu.Unlock()
}

func (l *acceptedLog) all() []receiver.AcceptedInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]receiver.AcceptedInfo(nil), l.infos...)
}

// TestAcceptedHook: Accepted reports each accepted request once, with its
// key, event, raw body and headers, as copies that stay valid after the
// request; duplicates, refusals and queue-full answers are not reported.
func TestAcceptedHook(t *testing.T) {
	tests := []struct {
		name     string
		byHeader bool
	}{
		{"envelope id", false},
		{"webhook-id header", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKeyPair(t)
			var log acceptedLog
			rc := newRecorder()
			r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, DedupByHeader: tt.byHeader,
				Hooks: receiver.Hooks{OnAccepted: log.hook}})

			ev := newEvent(t, event.ModeTest, "ping")
			body := eventBody(t, ev)
			req := signedRequest(k.Signer, "msg_header_id", testNow, append([]byte(nil), body...))
			req.Header.Set("X-Custom", "kept")
			wantHeader := req.Header.Clone()
			require.Equal(t, 200, serve(r, req).Code)
			require.Equal(t, ev.ID, rc.Next(t).ID)

			// A duplicate, a forged request and a request of another event
			// that reuses the pooled body buffer.
			dup := signedRequest(k.Signer, "msg_header_id", testNow, body)
			require.Equal(t, 200, serve(r, dup).Code)
			forged := eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))
			forged.Header.Set("Webhook-Signature", "v1,"+rawHMAC(k.Secret, "something else"))
			require.Equal(t, 401, serve(r, forged).Code)
			ev2 := newEvent(t, event.ModeTest, "other")
			require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev2)).Code)
			rc.Next(t)
			drain(t, r)

			got := log.all()
			require.Len(t, got, 2)
			want := ev.ID
			if tt.byHeader {
				want = "msg_header_id"
			}
			require.Equal(t, want, got[0].Key)
			require.Equal(t, ev.ID, got[0].Event.ID)
			require.Equal(t, "ping", got[0].Event.Type)
			require.Equal(t, body, got[0].Body, "the body kept after later requests")
			require.Equal(t, wantHeader, got[0].Header)
			require.Equal(t, "kept", got[0].Header.Get("X-Custom"))
			require.Equal(t, ev2.ID, got[1].Event.ID)
			require.Equal(t, eventBody(t, ev2), got[1].Body)

			// Copies: changing them changes nothing else.
			got[0].Body[0] = 'X'
			got[0].Header.Set("X-Custom", "changed")
			require.Equal(t, byte('X'), log.all()[0].Body[0])
			require.NotEqual(t, byte('X'), got[1].Body[0])
		})
	}
}

// TestAcceptedHookNotCalledWhenRefused: a queue-full 503 releases the claim
// and is not reported as accepted; the retry that is accepted is.
func TestAcceptedHookNotCalledWhenRefused(t *testing.T) {
	k := newKeyPair(t)
	var log acceptedLog
	started := make(chan string, 10)
	gate := make(chan struct{})
	rc := newRecorder()
	rc.Fn = func(_ context.Context, ev event.Event, _ int64) error {
		started <- ev.ID
		<-gate
		return nil
	}
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, QueueSize: 1, Workers: 1,
		Hooks: receiver.Hooks{OnAccepted: log.hook}})
	e1, e2, e3 := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e1)).Code)
	require.Equal(t, e1.ID, <-started)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e2)).Code)
	require.Equal(t, http.StatusServiceUnavailable, serve(r, eventRequest(t, k.Signer, e3)).Code)
	require.Len(t, log.all(), 2)
	close(gate)
	require.Eventually(t, func() bool { return r.Stats().Queued == 0 }, waitTimeout, time.Millisecond)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e3)).Code)
	drain(t, r)
	var ids []string
	for _, ai := range log.all() {
		ids = append(ids, ai.Event.ID)
	}
	require.Equal(t, []string{e1.ID, e2.ID, e3.ID}, ids)
}

// TestAcceptedHookHappensBeforeCallback: a worker that has taken the event
// off the queue waits for Accepted to return before calling the callback.
func TestAcceptedHookHappensBeforeCallback(t *testing.T) {
	k := newKeyPair(t)
	inHook := make(chan struct{})
	gate := make(chan struct{})
	var hookDone atomic.Bool
	var sawHook atomic.Bool
	rc := newRecorder()
	rc.Fn = func(context.Context, event.Event, int64) error {
		sawHook.Store(hookDone.Load())
		return nil
	}
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Workers: 1,
		Hooks: receiver.Hooks{OnAccepted: func(context.Context, receiver.AcceptedInfo) {
			close(inHook)
			<-gate
			hookDone.Store(true)
		}}})
	served := make(chan int, 1)
	go func() { served <- serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))).Code }()
	<-inHook
	// The worker has taken the event off the queue: without the ordering
	// it would call the callback now, while the hook still runs.
	require.Eventually(t, func() bool { return r.Stats().Queued == 0 }, waitTimeout, time.Millisecond)
	close(gate)
	require.Equal(t, 200, <-served)
	rc.Next(t)
	drain(t, r)
	require.True(t, sawHook.Load(), "the callback ran after Accepted returned")
}

// TestPanickingAcceptedHook: a panic in Accepted is recovered; the request
// is still answered 200 and the event handled.
func TestPanickingAcceptedHook(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}},
		Hooks: receiver.Hooks{OnAccepted: func(context.Context, receiver.AcceptedInfo) { panic("hook bug") }}})
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	require.Equal(t, ev.ID, rc.Next(t).ID)
	drain(t, r)
	require.Equal(t, uint64(1), r.Stats().Handled)
}
