package sender_test

// Helpers for the sender's tests over PostgreSQL, trimmed from the sender
// package's own test helpers (which this module cannot import).

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// quietPeriod is how long a sender must have left the store alone to count
// as idle. It bounds an absence, never the speed of anything.
const quietPeriod = 300 * time.Millisecond

// wakeWait bounds the wait for a woken sender's delivery: generous, far
// below the hour the tests' senders wait between polls.
const wakeWait = 10 * time.Second

// request is what a test server received.
type request struct {
	Header http.Header
	Body   []byte
	Event  event.Event
}

// server is an httptest server recording every request and answering 200.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

// newServer starts a recording server; respond must be nil (every request
// is answered 200 "ok"), as in the sender package's helper of that name.
func newServer(t testing.TB, respond func(w http.ResponseWriter, r *http.Request, n int)) *server {
	t.Helper()
	require.Nil(t, respond)
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, _ := event.Decode(body)
		s.mu.Lock()
		s.reqs = append(s.reqs, request{Header: r.Header.Clone(), Body: body, Event: ev})
		s.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// addEndpoint creates an endpoint for url with a fresh secret, applying
// edit before creating it, and returns it with the secret.
func addEndpoint(t testing.TB, st store.Endpoints, url string, edit func(*store.Endpoint)) (*store.Endpoint, signature.Secret) {
	t.Helper()
	sec, err := signature.NewSecret()
	require.NoError(t, err)
	ep := &store.Endpoint{
		Mode:       event.ModeTest,
		URL:        url,
		EventTypes: []string{"*"},
		Secrets:    []store.Secret{{Key: sec.String()}},
	}
	if edit != nil {
		edit(ep)
	}
	require.NoError(t, st.CreateEndpoint(context.Background(), ep))
	return ep, sec
}

// newSender builds a sender allowed to reach loopback (httptest), on the
// clock now when not nil, closed at the end of the test.
func newSender(t testing.TB, st store.SenderStore, now func() time.Time, edit func(*sender.Config)) *sender.Sender {
	t.Helper()
	cfg := &sender.Config{AllowPrivateNetworks: true, Logger: slog.New(slog.DiscardHandler), Now: now}
	if edit != nil {
		edit(cfg)
	}
	s, err := sender.New(st, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newEvent returns a valid event, dated by now when not nil.
func newEvent(t testing.TB, now func() time.Time, typ string, data string) event.Event {
	t.Helper()
	ev, err := event.New(event.ModeTest, typ, json.RawMessage(data))
	require.NoError(t, err)
	if now != nil {
		ev.Date = now()
	}
	return ev
}

// watchedStore wraps a store and watches the sender's leases, so a test can
// wait until the sender is idle: waiting for its next poll, with nothing
// left to wake it.
type watchedStore struct {
	store.SenderStore

	mu        sync.Mutex
	started   int  // leases started
	running   int  // leases not yet returned
	lastEmpty bool // the last lease returned nothing
}

func (w *watchedStore) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	w.mu.Lock()
	w.started++
	w.running++
	w.mu.Unlock()
	ds, err := w.SenderStore.Lease(ctx, req)
	w.mu.Lock()
	w.running--
	w.lastEmpty = err == nil && len(ds) == 0
	w.mu.Unlock()
	return ds, err
}

// waitIdle waits until the sender's last lease found nothing and no lease
// has started for quietPeriod: it sleeps until its next poll, or a wakeup.
func (w *watchedStore) waitIdle(tb testing.TB) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		w.mu.Lock()
		before := w.started
		w.mu.Unlock()
		<-time.After(quietPeriod)
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.started == before && w.running == 0 && w.lastEmpty
	}, wakeWait, time.Millisecond, "the sender never went idle")
}

// notifyingStore is a watched store that is also a [store.Notifier].
type notifyingStore struct {
	*watchedStore
	store.Notifier
}
