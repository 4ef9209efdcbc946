package receiver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

func TestAcceptedEventIsHandled(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	ib := newTestInbox()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: plain{ib}})

	ev := newEvent(t, event.ModeTest, "patient.ehi_export_success")
	w := serve(r, eventRequest(t, k.Signer, ev))
	require.Equal(t, http.StatusOK, w.Code)

	got := rc.Next(t)
	require.Equal(t, ev.ID, got.ID)
	require.Equal(t, ev.Type, got.Type)
	require.Equal(t, ev.APIMode, got.APIMode)
	require.True(t, ev.Date.Equal(got.Date))
	require.JSONEq(t, string(ev.Data), string(got.Data))

	drain(t, r)
	require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	require.Empty(t, ib.entry(ev.ID).Body, "a non-durable inbox is not given the body")
	st := r.Stats()
	require.Equal(t, uint64(1), st.Accepted)
	require.Equal(t, uint64(1), st.Handled)
	require.Equal(t, uint64(1), st.Callbacks)
	require.Zero(t, st.Pending)
}

// TestStatusCodes covers every answer of the receiving table.
func TestStatusCodes(t *testing.T) {
	k := newKeyPair(t)
	other := newKeyPair(t)
	ev := newEvent(t, event.ModeTest, "ping")
	body := eventBody(t, ev)

	type tc struct {
		name   string
		cfg    func(*receiver.Config)
		req    func() *http.Request
		status int
		reason receiver.Reason
	}
	post := func(mod func(*http.Request)) func() *http.Request {
		return func() *http.Request {
			req := signedRequest(k.Signer, ev.ID, testNow, body)
			if mod != nil {
				mod(req)
			}
			return req
		}
	}
	cases := []tc{
		{name: "accepted", req: post(nil), status: 200, reason: receiver.ReasonAccepted},
		{name: "GET", req: post(func(r *http.Request) { r.Method = http.MethodGet }), status: 405, reason: receiver.ReasonMethod},
		{name: "text/plain", req: post(func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }), status: 415, reason: receiver.ReasonMediaType},
		{name: "gzip", req: post(func(r *http.Request) { r.Header.Set("Content-Encoding", "gzip") }), status: 415, reason: receiver.ReasonMediaType},
		{name: "declared too large", cfg: func(c *receiver.Config) { c.MaxBodyBytes = 16 },
			req: post(nil), status: 413, reason: receiver.ReasonTooLarge},
		{name: "undeclared too large", cfg: func(c *receiver.Config) { c.MaxBodyBytes = 16 },
			req: post(func(r *http.Request) { r.ContentLength = -1 }), status: 413, reason: receiver.ReasonTooLarge},
		{name: "read deadline", req: post(func(r *http.Request) {
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader("{"), errReader{os.ErrDeadlineExceeded}))
		}), status: 408, reason: receiver.ReasonReadTimeout},
		{name: "read error", req: post(func(r *http.Request) {
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader("{"), errReader{io.ErrUnexpectedEOF}))
		}), status: 400, reason: receiver.ReasonUnreadable},
		{name: "missing header", req: post(func(r *http.Request) { r.Header.Del("Webhook-Id") }), status: 400, reason: receiver.ReasonHeaders},
		{name: "stale", req: func() *http.Request { return signedRequest(k.Signer, ev.ID, testNow.Add(-10*time.Minute), body) },
			status: 401, reason: receiver.ReasonTimestamp},
		{name: "forged", req: func() *http.Request { return signedRequest(other.Signer, ev.ID, testNow, body) },
			status: 401, reason: receiver.ReasonSignature},
		{name: "invalid envelope", req: func() *http.Request { return signedRequest(k.Signer, "msg_1", testNow, []byte(`{"id":1}`)) },
			status: 400, reason: receiver.ReasonInvalidEvent},
		{name: "mode mismatch", cfg: func(c *receiver.Config) { c.Keys[0].Mode = event.ModeLive },
			req: post(nil), status: 400, reason: receiver.ReasonMode},
		{name: "inbox failing", cfg: func(c *receiver.Config) {
			ib := newTestInbox()
			ib.claimErr = errors.New("database down")
			c.Inbox = ib
		}, req: post(nil), status: 503, reason: receiver.ReasonInbox},
		{name: "inbox full", cfg: func(c *receiver.Config) {
			ib := newTestInbox()
			ib.claimErr = fmt.Errorf("capped: %w", store.ErrInboxFull)
			c.Inbox = ib
		}, req: post(nil), status: 503, reason: receiver.ReasonInboxFull},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := newRecorder()
			cfg := receiver.Config{Keys: []receiver.Key{{Text: k.Text}}}
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			var infos []receiver.ResponseInfo
			cfg.Hooks.OnResponse = func(_ context.Context, i receiver.ResponseInfo) { infos = append(infos, i) }
			r := newReceiver(t, rc, cfg)
			w := serve(r, c.req())
			require.Equal(t, c.status, w.Code)
			require.Len(t, infos, 1)
			require.Equal(t, c.reason, infos[0].Reason)
			require.Equal(t, c.status, infos[0].Status)
			switch c.status {
			case 200:
				require.Equal(t, ev.ID, infos[0].EventID)
				require.Equal(t, "ping", infos[0].EventType)
				require.Empty(t, w.Body.String(), "an accepted event's 200 has no body")
				require.Empty(t, w.Header().Get(receiver.HeaderDuplicate))
			case 405:
				require.Equal(t, "POST", w.Header().Get("Allow"))
				require.Equal(t, string(c.reason)+"\n", w.Body.String())
			case 503:
				require.Equal(t, "5", w.Header().Get("Retry-After"))
				require.Equal(t, string(c.reason)+"\n", w.Body.String())
			default:
				require.Equal(t, string(c.reason)+"\n", w.Body.String())
			}
			drain(t, r)
			if c.status == 200 {
				require.EqualValues(t, 1, rc.Calls.Load())
			} else {
				require.Zero(t, rc.Calls.Load(), "callback must not run")
				require.Zero(t, r.Stats().Accepted)
			}
			if c.reason == receiver.ReasonInboxFull {
				require.Equal(t, uint64(1), r.Stats().InboxFull)
				require.Equal(t, uint64(1), r.Stats().Unavailable)
			} else {
				require.Zero(t, r.Stats().InboxFull)
			}
		})
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestMethodBodyNotRead: a 405 answers without touching the body.
func TestMethodBodyNotRead(t *testing.T) {
	k := newKeyPair(t)
	r := newReceiver(t, newRecorder(), receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		req := httptest.NewRequest(m, "/", nil)
		req.Body = io.NopCloser(errReader{errors.New("body must not be read")})
		req.Body = panicBody{}
		w := serve(r, req)
		require.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		require.Equal(t, "POST", w.Header().Get("Allow"))
	}
}

type panicBody struct{}

func (panicBody) Read([]byte) (int, error) { panic("body read") }
func (panicBody) Close() error             { return nil }

func TestDuplicateNotHandledAgain(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	rc.Next(t)
	// A retry carries a new date and a new signature; same id.
	ev2 := ev
	ev2.Date = testNow.Add(-time.Minute)
	req := signedRequest(k.Signer, ev.ID, testNow.Add(time.Second), eventBody(t, ev2))
	requireDuplicate(t, serve(r, req))
	drain(t, r)
	require.EqualValues(t, 1, rc.Calls.Load())
	require.Equal(t, uint64(1), r.Stats().Duplicates)
}

// TestInboxFullRefusedUntilHandled: a capped memory inbox whose entries are
// all claimed refuses a new event (503, Retry-After) instead of evicting a
// claimed one, whose redelivery stays a duplicate; once events are handled
// there is room again.
func TestInboxFullRefusedUntilHandled(t *testing.T) {
	k := newKeyPair(t)
	started := make(chan string, 10)
	gate := make(chan struct{})
	openGate := sync.OnceFunc(func() { close(gate) })
	defer openGate()
	rc := newRecorder()
	rc.Fn = func(_ context.Context, ev event.Event, _ int64) error {
		started <- ev.ID
		<-gate
		return nil
	}
	inbox := memory.New(&memory.Config{MaxInboxEntries: 2, Logger: quiet})
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Workers: 1, Inbox: inbox})
	e1, e2, e3 := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e1)).Code)
	require.Equal(t, e1.ID, <-started)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e2)).Code) // queued

	w := serve(r, eventRequest(t, k.Signer, e3))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	require.Equal(t, string(receiver.ReasonInboxFull)+"\n", w.Body.String())
	requireDuplicate(t, serve(r, eventRequest(t, k.Signer, e1)))
	st := r.Stats()
	require.Equal(t, uint64(1), st.InboxFull)
	require.Equal(t, uint64(1), st.Unavailable)
	require.Equal(t, uint64(1), inbox.Stats().InboxRefused)

	openGate()
	require.Equal(t, e2.ID, <-started)
	require.Eventually(t, func() bool { return r.Stats().Handled == 2 }, waitTimeout, time.Millisecond)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e3)).Code, "the sender's retry finds room")
	require.Equal(t, e3.ID, <-started)
	drain(t, r)
	require.EqualValues(t, 3, rc.Calls.Load(), "each event handled once")
}

// TestConcurrentDuplicates posts one event 100 times at once over HTTP.
func TestConcurrentDuplicates(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	srv := httptest.NewServer(r)
	defer srv.Close()
	ev := newEvent(t, event.ModeTest, "patient.connection_success")
	body := eventBody(t, ev)

	const n = 100
	var wg sync.WaitGroup
	codes := make([]int, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			k.Signer.SignHeader(req.Header, ev.ID, testNow, body)
			resp, err := srv.Client().Do(req)
			if err != nil {
				codes[i] = -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		require.Equal(t, 200, c, "request %d", i)
	}
	drain(t, r)
	require.EqualValues(t, 1, rc.Calls.Load(), "the callback runs exactly once")
	st := r.Stats()
	require.Equal(t, uint64(1), st.Accepted)
	require.Equal(t, uint64(n-1), st.Duplicates)
}

func TestDedupByHeader(t *testing.T) {
	k := newKeyPair(t)
	for _, byHeader := range []bool{false, true} {
		t.Run(map[bool]string{false: "envelope id", true: "header id"}[byHeader], func(t *testing.T) {
			rc := newRecorder()
			ib := newTestInbox()
			r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, DedupByHeader: byHeader, Inbox: plain{ib}})
			a := newEvent(t, event.ModeTest, "ping")
			b := newEvent(t, event.ModeTest, "ping")
			// Same webhook-id header, different envelope ids.
			require.Equal(t, 200, serve(r, signedRequest(k.Signer, "msg_same", testNow, eventBody(t, a))).Code)
			require.Equal(t, 200, serve(r, signedRequest(k.Signer, "msg_same", testNow, eventBody(t, b))).Code)
			// Same envelope id, different header ids.
			require.Equal(t, 200, serve(r, signedRequest(k.Signer, "msg_other", testNow, eventBody(t, a))).Code)
			drain(t, r)
			if byHeader {
				require.EqualValues(t, 2, rc.Calls.Load()) // msg_same once, msg_other once
				require.Equal(t, store.InboxHandled, ib.state("msg_same"))
				require.Equal(t, store.InboxHandled, ib.state("msg_other"))
			} else {
				require.EqualValues(t, 2, rc.Calls.Load()) // a once, b once
				require.Equal(t, store.InboxHandled, ib.state(a.ID))
				require.Equal(t, store.InboxHandled, ib.state(b.ID))
			}
		})
	}
}

func TestQueueFullThenRetryProcessed(t *testing.T) {
	k := newKeyPair(t)
	started := make(chan string, 10)
	gate := make(chan struct{})
	rc := newRecorder()
	rc.Fn = func(ctx context.Context, ev event.Event, _ int64) error {
		started <- ev.ID
		<-gate
		return nil
	}
	ib := newTestInbox()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, QueueSize: 1, Workers: 1, Inbox: plain{ib}})

	e1, e2, e3 := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e1)).Code)
	require.Equal(t, e1.ID, <-started) // the worker holds e1
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e2)).Code)
	claims := ib.claims.Load()
	w := serve(r, eventRequest(t, k.Signer, e3)) // queue holds e2: full
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	require.Equal(t, string(receiver.ReasonQueueFull)+"\n", w.Body.String())
	require.Equal(t, store.InboxState(""), ib.state(e3.ID), "nothing is claimed")
	require.Equal(t, claims, ib.claims.Load(), "a full queue refuses before the inbox is asked")

	close(gate)
	require.Equal(t, e2.ID, <-started)
	// The sender retries later: accepted and processed.
	require.Eventually(t, func() bool { return r.Stats().Queued == 0 }, waitTimeout, time.Millisecond)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e3)).Code)
	require.Equal(t, e3.ID, <-started)
	drain(t, r)
	require.EqualValues(t, 3, rc.Calls.Load())
	for _, ev := range []event.Event{e1, e2, e3} {
		require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	}
	require.Equal(t, uint64(1), r.Stats().Unavailable)
}

func TestRetriedThenDeadLettered(t *testing.T) {
	k := newKeyPair(t)
	boom := errors.New("boom")
	rc := newRecorder()
	rc.Fn = func(context.Context, event.Event, int64) error { return boom }
	ib := newTestInbox()
	var mu sync.Mutex
	var dead []error
	var attempts []receiver.CallbackInfo
	r := newReceiver(t, rc, receiver.Config{
		Keys:  []receiver.Key{{Text: k.Text}},
		Inbox: plain{ib},
		Retry: retry.Exponential{Base: time.Millisecond, Max: time.Millisecond, MaxAttempts: 4},
		Hooks: receiver.Hooks{
			OnDead: func(ctx context.Context, ev event.Event, err error) {
				require.NoError(t, ctx.Err())
				mu.Lock()
				dead = append(dead, err)
				mu.Unlock()
			},
			OnCallback: func(_ context.Context, i receiver.CallbackInfo) {
				mu.Lock()
				attempts = append(attempts, i)
				mu.Unlock()
			},
		},
	})
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	drain(t, r)

	require.EqualValues(t, 4, rc.Calls.Load())
	require.Len(t, dead, 1, "OnDead is called once")
	require.ErrorIs(t, dead[0], boom)
	require.Equal(t, store.InboxDead, ib.state(ev.ID))
	require.Equal(t, "boom", ib.entry(ev.ID).LastError)
	require.Len(t, attempts, 4)
	for i, a := range attempts {
		require.Equal(t, i+1, a.Number)
		require.ErrorIs(t, a.Err, boom)
		if i < 3 {
			require.Equal(t, receiver.ResultRetry, a.Result)
		} else {
			require.Equal(t, receiver.ResultDead, a.Result)
		}
	}
	st := r.Stats()
	require.Equal(t, uint64(1), st.Dead)
	require.Equal(t, uint64(3), st.Retries)
	require.Zero(t, st.Handled)
}

func TestRetryThenSuccess(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	rc.Fn = func(_ context.Context, _ event.Event, n int64) error {
		if n < 3 {
			return errors.New("not yet")
		}
		return nil
	}
	ib := newTestInbox()
	r := newReceiver(t, rc, receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, Inbox: plain{ib},
		Retry: retry.Exponential{Base: time.Millisecond, Max: time.Millisecond, MaxAttempts: 5},
		Hooks: receiver.Hooks{OnDead: func(context.Context, event.Event, error) { t.Error("OnDead called") }},
	})
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	rc.Next(t)
	drain(t, r)
	require.EqualValues(t, 3, rc.Calls.Load())
	require.Equal(t, store.InboxHandled, ib.state(ev.ID))
}

func TestPermanentAndAfter(t *testing.T) {
	k := newKeyPair(t)
	t.Run("permanent", func(t *testing.T) {
		rc := newRecorder()
		rc.Fn = func(context.Context, event.Event, int64) error { return retry.Permanent(errors.New("bad payload")) }
		var deadN int
		r := newReceiver(t, rc, receiver.Config{
			Keys: []receiver.Key{{Text: k.Text}}, Retry: retry.Exponential{Base: time.Millisecond, MaxAttempts: 10},
			Hooks: receiver.Hooks{OnDead: func(context.Context, event.Event, error) { deadN++ }},
		})
		require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
		drain(t, r)
		require.EqualValues(t, 1, rc.Calls.Load())
		require.Equal(t, 1, deadN)
	})
	t.Run("after", func(t *testing.T) {
		rc := newRecorder()
		rc.Fn = func(_ context.Context, _ event.Event, n int64) error {
			if n == 1 {
				return retry.After(3*time.Millisecond, errors.New("dependency back soon"))
			}
			return nil
		}
		var retryIn time.Duration
		r := newReceiver(t, rc, receiver.Config{
			Keys: []receiver.Key{{Text: k.Text}}, Retry: retry.Exponential{Base: time.Hour, MaxAttempts: 3},
			Hooks: receiver.Hooks{OnCallback: func(_ context.Context, i receiver.CallbackInfo) {
				if i.Result == receiver.ResultRetry {
					retryIn = i.Retry
				}
			}},
		})
		require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
		rc.Next(t)
		drain(t, r)
		require.Equal(t, 3*time.Millisecond, retryIn, "retry.After replaces the hour-long backoff")
	})
}

func TestPanickingCallback(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	rc.Fn = func(_ context.Context, _ event.Event, n int64) error {
		if n == 1 {
			panic("callback bug")
		}
		return nil
	}
	var firstErr error
	r := newReceiver(t, rc, receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, Retry: retry.Exponential{Base: time.Millisecond, MaxAttempts: 3},
		Hooks: receiver.Hooks{OnCallback: func(_ context.Context, i receiver.CallbackInfo) {
			if i.Number == 1 {
				firstErr = i.Err
			}
		}},
	})
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	require.Equal(t, ev.ID, rc.Next(t).ID)
	drain(t, r)
	require.ErrorContains(t, firstErr, "callback panicked: callback bug")
	require.EqualValues(t, 2, rc.Calls.Load())
}

func TestCallbackContext(t *testing.T) {
	k := newKeyPair(t)
	type seen struct {
		err      error
		deadline bool
	}
	ch := make(chan seen, 1)
	rc := newRecorder()
	rc.Fn = func(ctx context.Context, _ event.Event, _ int64) error {
		_, ok := ctx.Deadline()
		ch <- seen{ctx.Err(), ok}
		return nil
	}
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, CallbackTimeout: time.Minute})
	reqCtx, cancel := context.WithCancel(context.Background())
	req := eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping")).WithContext(reqCtx)
	require.Equal(t, 200, serve(r, req).Code)
	cancel() // the request is over; the callback must not notice
	s := <-ch
	require.NoError(t, s.err)
	require.True(t, s.deadline, "CallbackTimeout bounds the callback")
	drain(t, r)
}

func TestCallbackTimeoutIsAFailedAttempt(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	rc.Fn = func(ctx context.Context, _ event.Event, _ int64) error {
		<-ctx.Done()
		return ctx.Err()
	}
	ib := newTestInbox()
	r := newReceiver(t, rc, receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, Inbox: plain{ib}, CallbackTimeout: 5 * time.Millisecond,
		Retry: retry.Exponential{Base: time.Millisecond, MaxAttempts: 2},
	})
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	drain(t, r)
	require.EqualValues(t, 2, rc.Calls.Load())
	require.Equal(t, store.InboxDead, ib.state(ev.ID))
	require.Contains(t, ib.entry(ev.ID).LastError, "deadline exceeded")
}

func TestShutdownDrains(t *testing.T) {
	k := newKeyPair(t)
	gate := make(chan struct{})
	started := make(chan struct{}, 100)
	rc := newRecorder()
	rc.Fn = func(context.Context, event.Event, int64) error {
		started <- struct{}{}
		<-gate
		return nil
	}
	ib := newTestInbox()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Workers: 2, Inbox: plain{ib}})
	var evs []event.Event
	for range 10 {
		ev := newEvent(t, event.ModeTest, "ping")
		evs = append(evs, ev)
		require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	}
	<-started
	done := make(chan error, 1)
	go func() { done <- r.Shutdown(context.Background()) }()
	// Once shutdown has begun, new events are refused with 503. (Events
	// posted before it began are accepted and must be drained too.)
	evs = append(evs, untilRefused(t, r, k.Signer)...)
	w := serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping")))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v before the queue drained", err)
	default:
	}
	close(gate)
	require.NoError(t, <-done)
	require.EqualValues(t, len(evs), rc.Calls.Load())
	for _, ev := range evs {
		require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	}
	require.NoError(t, r.Shutdown(context.Background()), "a second Shutdown returns nil")
	require.NoError(t, r.Close(), "Close after Shutdown returns nil")
	require.ErrorIs(t, r.Start(context.Background()), receiver.ErrClosed)
}

func TestShutdownDeadlineReportsLeftovers(t *testing.T) {
	k := newKeyPair(t)
	started := make(chan struct{}, 10)
	rc := newRecorder()
	rc.Fn = func(ctx context.Context, _ event.Event, _ int64) error {
		started <- struct{}{}
		<-ctx.Done() // stuck until cancelled
		return ctx.Err()
	}
	ib := newTestInbox()
	var dead int
	r := newReceiver(t, rc, receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, Workers: 1, Inbox: plain{ib},
		Hooks: receiver.Hooks{OnDead: func(context.Context, event.Event, error) { dead++ }},
	})
	var evs []event.Event
	for range 3 {
		ev := newEvent(t, event.ModeTest, "ping")
		evs = append(evs, ev)
		require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	}
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.Shutdown(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "3 events left unhandled")
	require.Zero(t, dead, "an interrupted event is not dead")
	for _, ev := range evs {
		require.Equal(t, store.InboxState(""), ib.state(ev.ID), "non-durable claims are released")
	}
	require.Equal(t, uint64(3), r.Stats().Interrupted)
	require.Zero(t, r.Stats().Pending)
}

func TestCloseKeepsDurableClaims(t *testing.T) {
	k := newKeyPair(t)
	started := make(chan struct{}, 10)
	rc := newRecorder()
	rc.Fn = func(ctx context.Context, _ event.Event, _ int64) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	ib := newTestInbox()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Workers: 1, Inbox: ib})
	ev := newEvent(t, event.ModeTest, "ping")
	req := eventRequest(t, k.Signer, ev)
	body := eventBody(t, ev)
	require.Equal(t, 200, serve(r, req).Code)
	require.Equal(t, body, ib.entry(ev.ID).Body, "a durable inbox holds the body before the 200")
	<-started
	require.NoError(t, r.Close())
	require.Equal(t, store.InboxClaimed, ib.state(ev.ID), "a durable claim survives Close for re-drive")
	require.NoError(t, r.Close(), "a second Close returns nil")
}

func TestLifecycle(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	r, err := receiver.New(rc, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Logger: quiet, Now: fixedNow})
	require.NoError(t, err)
	ev := newEvent(t, event.ModeTest, "ping")

	w := serve(r, eventRequest(t, k.Signer, ev))
	require.Equal(t, http.StatusServiceUnavailable, w.Code, "503 before Start")
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	// Garbage is still garbage before Start: never a 5xx for it.
	require.Equal(t, http.StatusUnauthorized, serve(r, signedRequest(newKeyPair(t).Signer, ev.ID, testNow, eventBody(t, ev))).Code)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, r.Start(ctx), context.Canceled)
	require.NoError(t, r.Start(context.Background()))
	require.ErrorIs(t, r.Start(context.Background()), receiver.ErrStarted)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code, "the claim released on the 503 does not block the retry")
	rc.Next(t)
	require.NoError(t, r.Close())
	require.Equal(t, http.StatusServiceUnavailable, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
	require.NoError(t, r.Shutdown(context.Background()), "Shutdown after Close returns nil")
	require.ErrorIs(t, r.Start(context.Background()), receiver.ErrClosed)

	// Never started: Shutdown and Close just close.
	r2, err := receiver.New(rc, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	require.NoError(t, err)
	require.NoError(t, r2.Shutdown(context.Background()))
	require.ErrorIs(t, r2.Start(context.Background()), receiver.ErrClosed)
	r3, err := receiver.New(rc, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	require.NoError(t, err)
	require.NoError(t, r3.Close())
}

func TestNewValidation(t *testing.T) {
	k := newKeyPair(t)
	priv, err := signature.GenerateKey()
	require.NoError(t, err)
	h := newRecorder()
	cases := []struct {
		name  string
		h     receiver.Handler
		cfg   *receiver.Config
		want  error
		field string // named in the error
	}{
		{"nil config", h, nil, receiver.ErrNoKeys, "Config.Keys"},
		{"no keys", h, &receiver.Config{}, receiver.ErrNoKeys, "Config.Keys"},
		{"empty key", h, &receiver.Config{Keys: []receiver.Key{{}}}, signature.ErrInvalidSecret, "Config.Keys[0].Text"},
		{"bad secret", h, &receiver.Config{Keys: []receiver.Key{{Text: "whsec_short"}}}, signature.ErrInvalidSecret, "Config.Keys[0].Text"},
		{"one bad among good", h, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}, {Text: "hunter2"}}}, signature.ErrInvalidSecret, "Config.Keys[1].Text"},
		{"private key", h, &receiver.Config{Keys: []receiver.Key{{Text: priv.String()}}}, receiver.ErrInvalidConfig, "Config.Keys[0].Text"},
		{"bad public key", h, &receiver.Config{Keys: []receiver.Key{{Text: "whpk_AAAA"}}}, signature.ErrInvalidKey, "Config.Keys[0].Text"},
		{"bad mode", h, &receiver.Config{Keys: []receiver.Key{{Text: k.Text, Mode: "prod"}}}, receiver.ErrInvalidConfig, "Config.Keys[0].Mode"},
		{"negative body", h, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, MaxBodyBytes: -1}, receiver.ErrInvalidConfig, "Config.MaxBodyBytes"},
		{"negative workers", h, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Workers: -1}, receiver.ErrInvalidConfig, "Config.Workers"},
		{"negative queue", h, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, QueueSize: -1}, receiver.ErrInvalidConfig, "Config.QueueSize"},
		{"negative tolerance", h, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Tolerance: -1}, receiver.ErrInvalidConfig, "Config.Tolerance"},
		{"negative lease", h, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Lease: -1}, receiver.ErrInvalidConfig, "Config.Lease"},
		{"nil handler", nil, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}}, receiver.ErrInvalidConfig, "Handler"},
		// A request signed at t is accepted from t-Tolerance to
		// t+Tolerance: a window no longer than that forgets its id while
		// a copy would still verify.
		{"dedup window within tolerance", h, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, DedupWindow: 2 * receiver.DefaultTolerance}, receiver.ErrInvalidConfig, "Config.DedupWindow"},
		{"dedup window within a source's tolerance", h, &receiver.Config{DedupWindow: 2 * time.Hour,
			Sources: []receiver.Source{{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: "a"}}, Tolerance: time.Hour}}}, receiver.ErrInvalidConfig, "Config.DedupWindow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := receiver.New(c.h, c.cfg)
			require.ErrorIs(t, err, c.want)
			require.ErrorIs(t, err, receiver.ErrInvalidConfig, "every config error wraps ErrInvalidConfig")
			require.Nil(t, r)
			require.True(t, strings.HasPrefix(err.Error(), "receiver: "), err.Error())
			require.Contains(t, err.Error(), c.field)
			require.NotContains(t, err.Error(), "hunter2", "the key text is not echoed")
		})
	}
}

// TestDedupWindowOutlastsSignatures: a DedupWindow longer than twice
// every tolerance is accepted.
func TestDedupWindowOutlastsSignatures(t *testing.T) {
	k := newKeyPair(t)
	_, err := receiver.New(newRecorder(), &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, DedupWindow: 2*receiver.DefaultTolerance + time.Second,
		Sources: []receiver.Source{{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: "a"}}, Tolerance: time.Minute}}})
	require.NoError(t, err)
}

func TestModes(t *testing.T) {
	testKey, liveKey, anyKey := newKeyPair(t), newKeyPair(t), newKeyPair(t)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{
		{Text: testKey.Text, Mode: event.ModeTest},
		{Text: liveKey.Text, Mode: event.ModeLive},
		{Text: anyKey.Text},
	}})
	for _, c := range []struct {
		key    keyPair
		mode   event.Mode
		status int
	}{
		{testKey, event.ModeTest, 200},
		{testKey, event.ModeLive, 400}, // a test secret cannot sign a live event
		{liveKey, event.ModeLive, 200},
		{liveKey, event.ModeTest, 400},
		{anyKey, event.ModeTest, 200},
		{anyKey, event.ModeLive, 200},
	} {
		w := serve(r, eventRequest(t, c.key.Signer, newEvent(t, c.mode, "ping")))
		require.Equal(t, c.status, w.Code, "%s event", c.mode)
		if c.status == 400 {
			require.Equal(t, string(receiver.ReasonMode)+"\n", w.Body.String())
		}
	}
	drain(t, r)
	require.EqualValues(t, 4, rc.Calls.Load())

	// Only mode-restricted keys, and none for test: test events are refused.
	r2 := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: liveKey.Text, Mode: event.ModeLive}}})
	require.Equal(t, 400, serve(r2, eventRequest(t, liveKey.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
}

func TestPublicKeyV1a(t *testing.T) {
	priv, err := signature.GenerateKey()
	require.NoError(t, err)
	signer, err := signature.NewSigner(nil, priv)
	require.NoError(t, err)
	hmacKey := newKeyPair(t)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: priv.Public().String()}}})

	ev := newEvent(t, event.ModeLive, "patient.ehi_export_success")
	require.Equal(t, 200, serve(r, eventRequest(t, signer, ev)).Code)
	require.Equal(t, ev.ID, rc.Next(t).ID)
	// An HMAC signature means nothing to a public-key-only receiver.
	require.Equal(t, 401, serve(r, eventRequest(t, hmacKey.Signer, newEvent(t, event.ModeLive, "ping"))).Code)
	// Another key pair's signature does not verify.
	other, err := signature.GenerateKey()
	require.NoError(t, err)
	otherSigner, err := signature.NewSigner(nil, other)
	require.NoError(t, err)
	require.Equal(t, 401, serve(r, eventRequest(t, otherSigner, newEvent(t, event.ModeLive, "ping"))).Code)
	drain(t, r)
	require.EqualValues(t, 1, rc.Calls.Load())
}

func TestRotation(t *testing.T) {
	oldKey, newKey := newKeyPair(t), newKeyPair(t)
	both, err := signature.NewSigner([]signature.Secret{oldKey.Secret, newKey.Secret})
	require.NoError(t, err)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: oldKey.Text}, {Text: newKey.Text}}})
	for _, s := range []*signature.Signer{oldKey.Signer, newKey.Signer, both} {
		require.Equal(t, 200, serve(r, eventRequest(t, s, newEvent(t, event.ModeTest, "ping"))).Code)
	}
	// After the rotation only the new secret is configured.
	r2 := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: newKey.Text}}})
	require.Equal(t, 401, serve(r2, eventRequest(t, oldKey.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
	require.Equal(t, 200, serve(r2, eventRequest(t, both, newEvent(t, event.ModeTest, "ping"))).Code)
	drain(t, r)
	drain(t, r2)
	require.EqualValues(t, 4, rc.Calls.Load())
}

func TestDurableRecovery(t *testing.T) {
	k := newKeyPair(t)
	ib := newTestInbox()
	// An event a previous process accepted (body stored) and died on.
	ev := newEvent(t, event.ModeTest, "patient.ehi_export_success")
	_, err := ib.Claim(context.Background(), store.Claim{
		Key: ev.ID, Body: eventBody(t, ev), Now: testNow.Add(-time.Hour), TTL: store.DefaultDedupWindow, Lease: time.Minute,
	})
	require.NoError(t, err)
	// One whose lease still holds (another process is working on it).
	busy := newEvent(t, event.ModeTest, "ping")
	_, err = ib.Claim(context.Background(), store.Claim{
		Key: busy.ID, Body: eventBody(t, busy), Now: testNow, TTL: store.DefaultDedupWindow, Lease: time.Hour,
	})
	require.NoError(t, err)

	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib})
	got := rc.Next(t)
	require.Equal(t, ev.ID, got.ID)
	require.Equal(t, ev.Type, got.Type)
	// The event is still remembered: a late retry from the sender is a duplicate.
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	drain(t, r)
	require.EqualValues(t, 1, rc.Calls.Load())
	require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	require.Equal(t, store.InboxClaimed, ib.state(busy.ID))
	st := r.Stats()
	require.Equal(t, uint64(1), st.Recovered)
	require.Equal(t, uint64(1), st.Duplicates)
}

func TestMuxRouting(t *testing.T) {
	var mu sync.Mutex
	var routes []string
	h := func(name string) receiver.HandlerFunc {
		return func(context.Context, event.Event) error {
			mu.Lock()
			routes = append(routes, name)
			mu.Unlock()
			return nil
		}
	}
	m := receiver.NewMux()
	require.NoError(t, m.Handle("patient.ehi_export_success", h("exact")))
	require.NoError(t, m.Handle("patient.*", h("patient.*")))
	require.NoError(t, m.Handle("patient.ehi.*", h("patient.ehi.*")))
	require.NoError(t, m.HandleFunc("ping", h("ping")))
	require.ErrorIs(t, m.Handle("patient.", h("x")), event.ErrInvalidPattern)
	require.ErrorIs(t, m.Handle("a.*.b", h("x")), event.ErrInvalidPattern)
	require.Error(t, m.Handle("ping", h("again")))
	require.Error(t, m.Handle("org.*", nil))

	ctx := context.Background()
	route := func(typ string) (string, error) {
		mu.Lock()
		routes = routes[:0]
		mu.Unlock()
		err := m.HandleEvent(ctx, event.Event{Type: typ})
		mu.Lock()
		defer mu.Unlock()
		if len(routes) == 0 {
			return "", err
		}
		return routes[0], err
	}
	for typ, want := range map[string]string{
		"patient.ehi_export_success": "exact",
		"patient.ehi_export_failed":  "patient.*",
		"patient.ehi.partial":        "patient.ehi.*",
		"patient.ehi.a.b":            "patient.ehi.*",
		"ping":                       "ping",
	} {
		got, err := route(typ)
		require.NoError(t, err)
		require.Equal(t, want, got, typ)
	}
	_, err := route("org.created")
	require.ErrorIs(t, err, receiver.ErrNoRoute)
	_, err = route("patient") // "patient.*" needs a further segment
	require.ErrorIs(t, err, receiver.ErrNoRoute)

	// A service routes all its methods, and its own name; a longer prefix
	// and an exact type of it win.
	require.NoError(t, m.Handle("medical-encounters", h("service")))
	require.NoError(t, m.Handle("medical-encounters.notes.*", h("notes.*")))
	for typ, want := range map[string]string{
		"medical-encounters.create":        "service",
		"medical-encounters.remove":        "service",
		"medical-encounters":               "service",
		"medical-encounters.notes.created": "notes.*",
	} {
		got, err := route(typ)
		require.NoError(t, err)
		require.Equal(t, want, got, typ)
	}
	_, err = route("medical-encounters-x.create")
	require.ErrorIs(t, err, receiver.ErrNoRoute)
	require.Error(t, m.Handle("medical-encounters", h("again")))

	m.Default(h("default"))
	got, err := route("org.created")
	require.NoError(t, err)
	require.Equal(t, "default", got)
	require.NoError(t, m.Handle("*", h("*")))
	got, _ = route("org.created")
	require.Equal(t, "*", got, `"*" is a pattern and wins over the default`)
	got, _ = route("patient.x")
	require.Equal(t, "patient.*", got, "a prefix is more specific than *")
}

func TestUnroutedEventsDropped(t *testing.T) {
	k := newKeyPair(t)
	m := receiver.NewMux()
	handled := make(chan string, 1)
	require.NoError(t, m.HandleFunc("patient.*", func(_ context.Context, ev event.Event) error {
		handled <- ev.Type
		return nil
	}))
	ib := newTestInbox()
	dropped := make(chan string, 1)
	r := newReceiver(t, m, receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, Inbox: plain{ib},
		Retry: retry.Exponential{Base: time.Millisecond, MaxAttempts: 5},
		Hooks: receiver.Hooks{
			OnDropped: func(_ context.Context, ev event.Event) { dropped <- ev.Type },
			OnDead:    func(context.Context, event.Event, error) { t.Error("dropped events are not dead") },
		},
	})
	unrouted := newEvent(t, event.ModeTest, "org.created")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, unrouted)).Code)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "patient.connection_success"))).Code)
	require.Equal(t, "org.created", <-dropped)
	require.Equal(t, "patient.connection_success", <-handled)
	drain(t, r)
	st := r.Stats()
	require.Equal(t, uint64(1), st.Dropped)
	require.Equal(t, uint64(1), st.Handled)
	require.Equal(t, uint64(2), st.Callbacks, "a dropped event is not retried")
	require.Equal(t, store.InboxHandled, ib.state(unrouted.ID))
}

func TestTyped(t *testing.T) {
	type data struct {
		PatientID string `json:"patient_id"`
		N         int    `json:"n"`
	}
	got := make(chan data, 1)
	h := receiver.Typed(func(_ context.Context, _ event.Event, d data) error {
		got <- d
		return nil
	})
	ev := newEvent(t, event.ModeTest, "ping")
	require.NoError(t, h.HandleEvent(context.Background(), ev))
	require.Equal(t, data{PatientID: "p-1", N: 1}, <-got)

	type wrong struct {
		N string `json:"n"`
	}
	hw := receiver.Typed(func(context.Context, event.Event, wrong) error {
		t.Error("called with undecodable data")
		return nil
	})
	err := hw.HandleEvent(context.Background(), ev)
	require.ErrorIs(t, err, event.ErrInvalidData)
	require.True(t, retry.IsPermanent(err), "a decode failure is permanent")
}

func TestNilBody(t *testing.T) {
	k := newKeyPair(t)
	r := newReceiver(t, newRecorder(), receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	req := signedRequest(k.Signer, "msg_1", testNow, nil)
	req.Body = nil
	req.ContentLength = 0
	w := serve(r, req)
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Equal(t, string(receiver.ReasonInvalidEvent)+"\n", w.Body.String())
}

type pruneCounter struct {
	*testInbox
	prunes chan time.Time
}

func (p pruneCounter) PruneInbox(_ context.Context, now time.Time) (int, error) {
	select {
	case p.prunes <- now:
	default:
	}
	return 0, nil
}

func TestPeriodicPrune(t *testing.T) {
	k := newKeyPair(t)
	ib := pruneCounter{newTestInbox(), make(chan time.Time, 1)}
	r := newReceiver(t, newRecorder(), receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: plain{ib}, PruneInterval: time.Millisecond})
	select {
	case now := <-ib.prunes:
		require.Equal(t, testNow, now, "pruned with the configured clock")
	case <-time.After(waitTimeout):
		t.Fatal("PruneInbox never called")
	}
	drain(t, r)
}

func TestZeroMux(t *testing.T) {
	var m receiver.Mux
	require.ErrorIs(t, m.HandleEvent(context.Background(), event.Event{Type: "ping"}), receiver.ErrNoRoute)
	called := false
	require.NoError(t, m.HandleFunc("ping", func(context.Context, event.Event) error { called = true; return nil }))
	require.NoError(t, m.HandleEvent(context.Background(), event.Event{Type: "ping"}))
	require.True(t, called)
}

func TestPanickingHooks(t *testing.T) {
	k := newKeyPair(t)
	m := receiver.NewMux()
	dead := make(chan struct{}, 1)
	r := newReceiver(t, m, receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}},
		Hooks: receiver.Hooks{
			OnCallback: func(context.Context, receiver.CallbackInfo) { panic("hook bug") },
			OnDropped:  func(context.Context, event.Event) { panic("hook bug") },
			OnDead:     func(context.Context, event.Event, error) { dead <- struct{}{}; panic("hook bug") },
		},
	})
	require.NoError(t, m.HandleFunc("fail", func(context.Context, event.Event) error { return retry.Permanent(errors.New("no")) }))
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "unrouted"))).Code)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "fail"))).Code)
	<-dead
	drain(t, r)
	st := r.Stats()
	require.Equal(t, uint64(1), st.Dropped)
	require.Equal(t, uint64(1), st.Dead)
}
