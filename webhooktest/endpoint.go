package webhooktest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/bodyread"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// Request is one HTTP request an Endpoint answered.
type Request struct {
	// At is when the request arrived, by the endpoint's clock (the real
	// clock without [EndpointConfig].Clock).
	At time.Time
	// Method, Header and Body are the request as received.
	Method string
	Header http.Header
	Body   []byte
	// ID is the webhook-id header, as sent (verified only when Status is
	// 200).
	ID string
	// Status is the status the endpoint answered.
	Status int
	// Injected reports that the answer came from [Endpoint.FailNext] and
	// the request never reached the receiver.
	Injected bool
}

// Endpoint is a webhook endpoint for tests: an httptest server running a
// real receiver with its own secret, recording the events it receives.
// Create one with [NewEndpoint] or [NewServer]; all its methods are safe for
// concurrent use.
type Endpoint struct {
	srv     *httptest.Server
	rcv     *receiver.Receiver
	tb      testing.TB // nil for NewServer
	secret  string
	tenant  string
	clock   *Clock
	user    receiver.Handler
	wait    time.Duration
	maxBody int64

	mu       sync.Mutex
	events   []event.Event
	requests []Request
	failures []int                    // statuses of the next requests, FailNext
	done     map[string]chan struct{} // by event id: closed when a callback returned
	changed  chan struct{}            // closed and replaced when events grows
	closed   bool
}

// NewEndpoint starts an Endpoint for the test tb, configured by cfg (nil:
// every default), and closes it when the test ends (tb.Cleanup). A failure
// to start, such as a malformed Secret or receiver configuration, fails the
// test at once (tb.Fatal). Unless cfg.Receiver has a Logger, the receiver
// logs warnings and errors to the test's output (see [LogLevel]).
func NewEndpoint(tb testing.TB, cfg *EndpointConfig) *Endpoint {
	tb.Helper()
	s := cfg.settings()
	if s.Receiver.Logger == nil {
		s.Receiver.Logger = testLogger(tb)
	}
	e, err := start(tb, s)
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	tb.Cleanup(e.Close)
	return e
}

// NewServer starts an Endpoint outside a test (in an Example, say),
// configured by cfg (nil: every default). Like httptest.NewServer it
// takes no testing.TB: the caller must call [Endpoint.Close], and
// registers it with a sender through [Endpoint.Registration]. It returns an
// error for a malformed Secret or an invalid receiver configuration
// (wrapping receiver.ErrInvalidConfig).
func NewServer(cfg *EndpointConfig) (*Endpoint, error) {
	return start(nil, cfg.settings())
}

func start(tb testing.TB, s *EndpointConfig) (*Endpoint, error) {
	secret := s.Secret
	if secret == "" {
		sec, err := signature.NewSecret()
		if err != nil {
			return nil, fmt.Errorf("webhooktest: new secret: %w", err)
		}
		secret = sec.String()
	}
	e := &Endpoint{
		tb:      tb,
		secret:  secret,
		tenant:  s.Tenant,
		clock:   s.Clock,
		user:    s.Handler,
		wait:    s.CallbackWait,
		maxBody: s.Receiver.MaxBodyBytes,
		done:    make(map[string]chan struct{}),
		changed: make(chan struct{}),
	}
	if e.maxBody <= 0 {
		e.maxBody = receiver.DefaultMaxBodyBytes
	}
	cfg := s.Receiver
	cfg.Keys = append(slices.Clone(cfg.Keys), receiver.Key{Text: secret})
	if s.Clock != nil {
		if cfg.Now == nil {
			cfg.Now = s.Clock.Now
		}
		cfg.ManualRetries = true
	}
	// The answer to an accepted event is held until this hook: after the
	// callback, and after the receiver read its clock to schedule a retry.
	userHook := cfg.Hooks.OnCallback
	cfg.Hooks.OnCallback = func(ctx context.Context, info receiver.CallbackInfo) {
		defer e.attempted(info.Event.ID) // also if the user's hook panics
		if userHook != nil {
			userHook(ctx, info)
		}
	}
	rcv, err := receiver.New(recorder{e}, &cfg)
	if err != nil {
		return nil, fmt.Errorf("webhooktest: %w", err)
	}
	if err := rcv.Start(context.Background()); err != nil {
		return nil, fmt.Errorf("webhooktest: %w", err)
	}
	e.rcv = rcv
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e, nil
}

// URL returns the endpoint's URL, http://127.0.0.1:port/.
func (e *Endpoint) URL() string { return e.srv.URL + "/" }

// Secret returns the endpoint's signing secret, "whsec_...".
func (e *Endpoint) Secret() string { return e.secret }

// Receiver returns the endpoint's receiver, for its Stats.
func (e *Endpoint) Receiver() *receiver.Receiver { return e.rcv }

// RunRetries runs the callback retries of the endpoint's receiver that are
// due by the [EndpointConfig].Clock, synchronously (see
// receiver.Receiver.RunRetries): a test makes the callback fail, moves the
// clock past the receiver's retry delay (receiver.Config.Retry, set in
// [EndpointConfig].Receiver; by default jittered and at most 1 s before the
// first retry), calls RunRetries, and finds the retried event in
// [Endpoint.Events] when it returns. It first waits for callbacks in
// progress, so an attempt that has just failed is waiting for its retry by
// then. It returns the number of callback attempts made.
//
// Errors, wrapped: receiver.ErrInvalidConfig for an endpoint without a
// Clock, whose retries run on real timers; receiver.ErrClosed after
// [Endpoint.Close]; ctx's error when ctx ends first.
func (e *Endpoint) RunRetries(ctx context.Context) (int, error) {
	n, err := e.rcv.RunRetries(ctx)
	if err != nil {
		return n, fmt.Errorf("webhooktest: run retries: %w", err)
	}
	return n, nil
}

// Register registers the endpoint with the sender s through its endpoint
// owner (sender.Sender.Endpoints), as an application registers a
// customer's URL, and returns the stored endpoint (its ID set): the
// [Endpoint.Registration] of patterns (none: every type, "*"), created with
// s.Endpoints().Create on tb's context. The sender's rules apply: give it
// private networks (as [NewSender] does), since the endpoint listens on
// loopback, and patterns that select a type of its catalog, if it has one.
// A refusal fails the test tb (tb.Fatalf), which may be a subtest of the
// one that made the endpoint. Each call registers one more endpoint with
// the same URL and secret.
//
// Outside a test, as with an endpoint from [NewServer], create
// [Endpoint.Registration] with the sender yourself and handle the error.
func (e *Endpoint) Register(tb testing.TB, s *sender.Sender, patterns ...string) *store.Endpoint {
	tb.Helper()
	ep := e.Registration(patterns...)
	if _, err := s.Endpoints().Create(tb.Context(), ep); err != nil {
		tb.Fatalf("webhooktest: register endpoint: %v", err)
	}
	return ep
}

// Registration returns, not yet stored, the endpoint [Endpoint.Register]
// stores: the endpoint's URL and secret, [EndpointConfig].Tenant, the
// description "webhooktest endpoint", subscribed to patterns (none: every
// type, "*"). Register it with a sender's endpoint owner, which fills in
// its ID, mode and dates and returns no secret (it has its own):
//
//	ep, err := webhooktest.NewServer(nil)
//	...
//	defer ep.Close()
//	if _, err := s.Endpoints().Create(ctx, ep.Registration("order.*")); err != nil {
//		...
//	}
//
// Change a field first to register something else, such as the
// event-payload Format, whose bodies the endpoint's receiver (webhookkit's
// envelope only) answers 400. Each call returns a new value.
func (e *Endpoint) Registration(patterns ...string) *store.Endpoint {
	if len(patterns) == 0 {
		patterns = []string{string(event.PatternAll)}
	}
	return &store.Endpoint{
		Tenant:      e.tenant,
		URL:         e.URL(),
		Description: "webhooktest endpoint",
		EventTypes:  slices.Clone(patterns),
		Secrets:     []store.SigningKey{{Key: e.secret}},
	}
}

// FailNext makes the endpoint answer its next n requests with status (and
// the status text as body), before they reach the receiver: nothing is
// verified, recorded as an event or de-duplicated. Calls queue up: FailNext(2,
// 503) then FailNext(1, 500) fails three requests in that order. A status
// of 410 makes a webhookkit sender disable the endpoint. n <= 0 does nothing.
// It panics for a status outside 100-999, which net/http cannot send.
func (e *Endpoint) FailNext(n, status int) {
	if status < 100 || status > 999 {
		panic(fmt.Sprintf("webhooktest: FailNext: invalid status %d", status))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for range max(n, 0) {
		e.failures = append(e.failures, status)
	}
}

// Events returns the events handed to the callback so far, in the order
// the callback returned, one entry per callback call: an event the receiver
// de-duplicated appears once; an event whose callback failed and was
// retried appears once per attempt.
func (e *Endpoint) Events() []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// Requests returns every request the endpoint answered so far, in order.
func (e *Endpoint) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Request, len(e.requests))
	for i, r := range e.requests {
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		out[i] = r
	}
	return out
}

// WaitFor waits until at least n events were handed to the callback, or
// timeout (real time) passes, and returns the events, as Events does. It
// waits on a condition, not by polling. On timeout, an endpoint from
// NewEndpoint fails the test (tb.Fatalf, so call WaitFor from the test's
// goroutine); one from NewServer returns the fewer events it has.
func (e *Endpoint) WaitFor(n int, timeout time.Duration) []event.Event {
	if e.tb != nil {
		e.tb.Helper()
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		e.mu.Lock()
		if len(e.events) >= n {
			out := slices.Clone(e.events)
			e.mu.Unlock()
			return out
		}
		changed := e.changed
		e.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			got := e.Events()
			if len(got) >= n {
				return got
			}
			if e.tb != nil {
				e.tb.Fatalf("webhooktest: got %d events after %v, want %d", len(got), timeout, n)
			}
			return got
		}
	}
}

// Close shuts the server down (waiting for requests in progress) and closes
// the receiver, cancelling callbacks still running. NewEndpoint registers it
// with tb.Cleanup. Calling it again does nothing.
func (e *Endpoint) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	e.srv.Close()
	_ = e.rcv.Close() // returns nil
}

// serve answers one request: an injected failure, or the receiver's answer,
// held until the accepted event's callback has returned.
func (e *Endpoint) serve(w http.ResponseWriter, req *http.Request) {
	rec := Request{At: e.now(), Method: req.Method, Header: req.Header.Clone(), ID: req.Header.Get(signature.HeaderID)}
	// Read the body here (one byte over the receiver's limit is enough
	// for it to answer 413) so it can be recorded and the accepted event's
	// id read from it.
	body, err := bodyread.Append(nil, req.Body, e.maxBody+1, req.ContentLength)
	if err != nil {
		rec.Status = http.StatusBadRequest
		e.addRequest(rec)
		http.Error(w, "body unreadable", rec.Status)
		return
	}
	rec.Body = body
	req.Body = io.NopCloser(bytes.NewReader(body))

	if status, ok := e.takeFailure(); ok {
		rec.Status, rec.Injected = status, true
		e.addRequest(rec)
		http.Error(w, http.StatusText(status), status)
		return
	}

	hw := &heldWriter{header: w.Header()}
	e.rcv.ServeHTTP(hw, req)
	if hw.status == 0 {
		hw.status = http.StatusOK
	}
	if hw.status == http.StatusOK && e.wait > 0 && req.Method == http.MethodPost {
		// 200: the body was verified and decoded by the receiver.
		if ev, err := event.Decode(body); err == nil {
			e.awaitCallback(req.Context(), ev.ID)
		}
	}
	rec.Status = hw.status
	e.addRequest(rec)
	w.WriteHeader(hw.status)
	_, _ = w.Write(hw.body.Bytes())
}

func (e *Endpoint) now() time.Time {
	if e.clock != nil {
		return e.clock.Now()
	}
	return time.Now()
}

func (e *Endpoint) takeFailure() (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.failures) == 0 {
		return 0, false
	}
	status := e.failures[0]
	e.failures = e.failures[1:]
	return status, true
}

func (e *Endpoint) addRequest(r Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = append(e.requests, r)
}

// doneChan returns the channel closed once an attempt for id ended (its
// callback returned and its outcome was decided); e.mu must be held.
func (e *Endpoint) doneChan(id string) chan struct{} {
	ch, ok := e.done[id]
	if !ok {
		ch = make(chan struct{})
		e.done[id] = ch
	}
	return ch
}

// awaitCallback waits until an attempt for id ended, the request ends or
// the wait bound passes. A duplicate finds the channel closed already
// (or waits for the first delivery's callback still running).
func (e *Endpoint) awaitCallback(ctx context.Context, id string) {
	e.mu.Lock()
	ch := e.doneChan(id)
	e.mu.Unlock()
	timer := time.NewTimer(e.wait)
	defer timer.Stop()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-timer.C:
	}
}

// recorded stores ev and wakes the waiters of WaitFor.
func (e *Endpoint) recorded(ev event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
	close(e.changed)
	e.changed = make(chan struct{})
}

// attempted releases the answers held for the event id.
func (e *Endpoint) attempted(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch := e.doneChan(id)
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// recorder is the receiver's handler: the user's handler, then a record.
type recorder struct{ e *Endpoint }

func (r recorder) HandleEvent(ctx context.Context, ev event.Event) (err error) {
	defer r.e.recorded(ev) // also after a panic, which the receiver recovers
	if r.e.user != nil {
		return r.e.user.HandleEvent(ctx, ev)
	}
	return nil
}

// heldWriter keeps the receiver's answer until the endpoint sends it.
// Headers go straight to the real writer's map, which is not sent before
// its WriteHeader.
type heldWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *heldWriter) Header() http.Header { return w.header }

func (w *heldWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *heldWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
