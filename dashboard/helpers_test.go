package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/dashboardtest"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

// authorize reads the scope from "Authorization: Bearer <tenant>"; the
// token "operator" sees every tenant, "banned" is forbidden, none is 401.
// It is shared with the integration tests, as are env's parts.
var authorize = dashboardtest.Authorize

// env is a dashboard over a memory store and a real sender delivering to a
// local receiver: a dashboardtest.Env and its test, for the helpers below.
type env struct {
	t    testing.TB
	st   *memory.Store
	snd  *sender.Sender
	rc   *dashboardtest.Receiver
	srv  *httptest.Server
	base string // e.g. "/webhooks/"
}

// envOptions configure newEnv; the zero value is a test-mode sender that
// is not started and a writable dashboard.
type envOptions = dashboardtest.Options

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	e := dashboardtest.NewEnv(t, o)
	return &env{t: t, st: e.Store, snd: e.Sender, rc: e.Receiver, srv: e.Server, base: e.Base}
}

// addEndpoint creates an endpoint of the tenant for the local receiver
// through the sender's endpoint owner, which generates its secret.
func (e *env) addEndpoint(tenant, desc string, types ...string) *store.Endpoint {
	e.t.Helper()
	if len(types) == 0 {
		types = []string{"*"}
	}
	ep := &store.Endpoint{Tenant: tenant, URL: e.rc.Server.URL + "/hook", Description: desc, EventTypes: types}
	_, err := e.snd.Endpoints().Create(context.Background(), ep)
	require.NoError(e.t, err)
	return ep
}

// deliver sends one event to the endpoint and runs the sender once; it
// returns the delivery.
func (e *env) deliver(ep *store.Endpoint, typ string) *store.Delivery {
	e.t.Helper()
	ctx := context.Background()
	ev, err := e.snd.Simulate(ctx, ep.ID, typ, json.RawMessage(`{"n":1}`))
	require.NoError(e.t, err)
	_, err = e.snd.ProcessDue(ctx)
	require.NoError(e.t, err)
	ds, _, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: ep.ID, EventID: ev.ID, Tenant: ep.Tenant})
	require.NoError(e.t, err)
	require.Len(e.t, ds, 1)
	return ds[0]
}

// client is a browser-like client of the dashboard for one bearer token:
// it keeps cookies, does not follow redirects, and fills in the CSRF token.
type client struct {
	e     *env
	token string
	hc    *http.Client
	csrf  string
}

func (e *env) client(token string) *client {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &client{e: e, token: token, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) response {
	c.e.t.Helper()
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.e.t, err)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// get fetches a path relative to the base path.
func (c *client) get(path string) response {
	c.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.e.srv.URL+c.e.base+path, nil)
	require.NoError(c.e.t, err)
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfToken loads the endpoints page once and keeps its CSRF token.
func (c *client) csrfToken() string {
	c.e.t.Helper()
	if c.csrf == "" {
		r := c.get("")
		require.Equal(c.e.t, http.StatusOK, r.status, r.body)
		m := csrfRE.FindStringSubmatch(r.body)
		require.NotNil(c.e.t, m, "no CSRF token on the page")
		c.csrf = m[1]
	}
	return c.csrf
}

// post submits a form with a valid CSRF token.
func (c *client) post(path string, form url.Values) response {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf_token") {
		form.Set("csrf_token", c.csrfToken())
	}
	return c.postRaw(path, form, nil)
}

// postRaw submits a form as is, with extra headers.
func (c *client) postRaw(path string, form url.Values, hdr http.Header) response {
	c.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+c.e.base+path, strings.NewReader(form.Encode()))
	require.NoError(c.e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return c.do(req)
}

// api calls the JSON API; body nil sends no body (but the JSON content
// type for state-changing methods).
func (c *client) api(method, path string, body any) (response, map[string]any) {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.e.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.e.srv.URL+c.e.base+"api/"+path, rd)
	require.NoError(c.e.t, err)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	r := c.do(req)
	var m map[string]any
	if strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		require.NoError(c.e.t, json.Unmarshal([]byte(r.body), &m), r.body)
	}
	return r, m
}
