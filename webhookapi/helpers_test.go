package webhookapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/webhookkit/webhookkit/internal/dashboardtest"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/webhookapi"
	"github.com/webhookkit/webhookkit/webhooktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// authorize is the dashboard tests' AuthorizeFunc, used as is: the same
// function guards both handlers. "Authorization: Bearer <org>" scopes to the
// organization, "operator" sees every one, "banned" is forbidden, no token
// is 401.
var authorize = dashboardtest.Authorize

// received is one request a webhook receiver got.
type received struct {
	Path   string
	Header http.Header
	Body   []byte
}

// hookServer is an httptest server standing in for every webhook URL: the
// sender's transport sends each request, whatever its host, to it. It
// answers 200 unless the path is in fail.
type hookServer struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	fail map[string]int
}

func newReceiver(t testing.TB) *hookServer {
	t.Helper()
	rc := &hookServer{fail: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
		status := rc.fail[r.URL.Path]
		rc.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(rc.Close)
	return rc
}

// requests returns what reached path, in order.
func (rc *hookServer) requests(path string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []received
	for _, g := range rc.got {
		if g.Path == path {
			out = append(out, g)
		}
	}
	return out
}

// redirect is a transport sending every request to the receiver over plain
// http, keeping path and body: webhook URLs such as
// https://example.com/webhook reach the test's server.
type redirect struct{ to *url.URL }

func (rt redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.to.Scheme, rt.to.Host, rt.to.Host
	return http.DefaultTransport.RoundTrip(r)
}

// env is the API over a sender on a memory store, whose deliveries reach a
// receiver.
type env struct {
	t   testing.TB
	snd *sender.Sender
	rc  *hookServer
	srv *httptest.Server
	now time.Time
	// storeClock is the store's clock, which stamps created_at and
	// updated_at; it starts at now.
	storeClock *webhooktest.Clock
}

func newEnv(t testing.TB, cfg *webhookapi.Config) *env {
	t.Helper()
	rc := newReceiver(t)
	to, err := url.Parse(rc.URL)
	require.NoError(t, err)
	now := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	storeClock := webhooktest.NewClock(now) // the store stamps created_at and updated_at
	snd, err := sender.New(memory.New(&memory.Config{Now: storeClock.Now}), &sender.Config{
		AllowPrivateNetworks: true, // the receiver is on loopback
		Transport:            redirect{to},
		Now:                  func() time.Time { return now },
		Logger:               slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = snd.Close() })
	if cfg == nil {
		cfg = &webhookapi.Config{}
	}
	if cfg.Authorize == nil {
		cfg.Authorize = authorize
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	h, err := webhookapi.New(snd, cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, snd: snd, rc: rc, srv: srv, now: now, storeClock: storeClock}
}

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   string
}

// json decodes the body into a map.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &m), r.body)
	return m
}

// errorOf returns the error code and field of an error answer.
func (r response) errorOf(t testing.TB) (code, field string) {
	t.Helper()
	require.Equal(t, "application/json", r.header.Get("Content-Type"), r.body)
	e, ok := r.json(t)["error"].(map[string]any)
	require.True(t, ok, r.body)
	require.NotEmpty(t, e["message"])
	field, _ = e["field"].(string)
	return e["code"].(string), field
}

// do sends a request with the token (none when empty) and a raw body
// (none when empty) of Content-Type application/json.
func (e *env) do(method, path, token, body string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// create creates a webhook with the body and returns its id and secret.
func (e *env) create(token, body string) (string, signature.Secret) {
	e.t.Helper()
	r := e.do(http.MethodPost, "/webhooks", token, body)
	require.Equal(e.t, http.StatusCreated, r.status, r.body)
	m := r.json(e.t)
	sec, err := signature.ParseSecret(m["secret"].(string))
	require.NoError(e.t, err)
	return m["id"].(string), sec
}

// verify checks a received request's signature with the secret.
func (e *env) verify(g received, sec signature.Secret) error {
	e.t.Helper()
	v, err := signature.NewVerifier([]signature.Secret{sec}, nil, &signature.VerifyOptions{Now: func() time.Time { return e.now }})
	require.NoError(e.t, err)
	return v.Verify(g.Header, g.Body)
}

// delivery returns the delivery of the event to the webhook.
func (e *env) delivery(eventID, webhookID string) *store.Delivery {
	e.t.Helper()
	ds, _, err := e.snd.Store().ListDeliveries(context.Background(),
		store.DeliveryFilter{AllTenants: true, EventID: eventID, EndpointID: webhookID})
	require.NoError(e.t, err)
	require.Len(e.t, ds, 1)
	return ds[0]
}
