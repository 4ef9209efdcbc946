package sender_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newStore returns the store the tests run against.
func newStore() store.SenderStore { return memory.New(nil) }

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// request is what a test server received.
type request struct {
	Header http.Header
	Body   []byte
	Event  event.Event
}

// server is an httptest server recording every request; respond decides
// the answer (nil: 200 "ok").
type server struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []request
	respond func(w http.ResponseWriter, r *http.Request, n int)
}

func newServer(t testing.TB, respond func(w http.ResponseWriter, r *http.Request, n int)) *server {
	t.Helper()
	s := &server{respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, _ := event.Decode(body)
		s.mu.Lock()
		s.reqs = append(s.reqs, request{Header: r.Header.Clone(), Body: body, Event: ev})
		n := len(s.reqs)
		s.mu.Unlock()
		if s.respond != nil {
			s.respond(w, r, n)
			return
		}
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
		Secrets:    []store.SigningKey{{Key: sec.String()}},
	}
	if edit != nil {
		edit(ep)
	}
	require.NoError(t, st.CreateEndpoint(context.Background(), ep))
	return ep, sec
}

// newSender builds a sender allowed to reach loopback (httptest), with the
// clock, closed at the end of the test.
func newSender(t testing.TB, st store.SenderStore, clk *clock, edit func(*sender.Config)) *sender.Sender {
	t.Helper()
	cfg := &sender.Config{AllowPrivateNetworks: true, Logger: discardLogger()}
	if clk != nil {
		cfg.Now = clk.Now
	}
	if edit != nil {
		edit(cfg)
	}
	s, err := sender.New(st, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newEvent returns a valid event dated by the clock.
func newEvent(t testing.TB, clk *clock, typ string, data string) event.Event {
	t.Helper()
	ev, err := event.New(event.ModeTest, typ, json.RawMessage(data))
	require.NoError(t, err)
	if clk != nil {
		ev.Date = clk.Now()
	}
	return ev
}

// verify checks the request's signature with the given secrets at time now.
func verify(t testing.TB, r request, now time.Time, secrets ...signature.Secret) error {
	t.Helper()
	v, err := signature.NewVerifier(secrets, nil, &signature.VerifyOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)
	return v.Verify(r.Header, r.Body)
}

func delivery(t testing.TB, st store.SenderStore, eventID string) *store.Delivery {
	t.Helper()
	ds, _, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: eventID, AllTenants: true})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	return ds[0]
}

func attemptsOf(t testing.TB, st store.SenderStore, eventID string) []*store.Attempt {
	t.Helper()
	as, _, err := st.ListAttempts(context.Background(), store.AttemptFilter{EventID: eventID, AllTenants: true})
	require.NoError(t, err)
	return as
}

func processDue(t testing.TB, s *sender.Sender) int {
	t.Helper()
	n, err := s.ProcessDue(context.Background())
	require.NoError(t, err)
	return n
}
