package oauth2_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	xoauth2 "golang.org/x/oauth2"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/oauth2"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// tokenServer is an httptest OAuth2 token endpoint that issues "tok-N"
// tokens living expiresIn seconds to client "c1" with secret "s1", and
// records each request's form.
type tokenServer struct {
	*httptest.Server
	mu        sync.Mutex
	forms     []map[string]string
	expiresIn int
	fail      bool
}

func newTokenServer(t *testing.T, expiresIn int) *tokenServer {
	t.Helper()
	ts := &tokenServer{expiresIn: expiresIn}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		ts.mu.Lock()
		ts.forms = append(ts.forms, map[string]string{"grant_type": r.PostForm.Get("grant_type"),
			"scope": r.PostForm.Get("scope"), "audience": r.PostForm.Get("audience"), "client": id + ":" + secret})
		n, fail := len(ts.forms), ts.fail
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if fail || id != "c1" || secret != "s1" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("tok-%d", n), "token_type": "bearer", "expires_in": ts.expiresIn})
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) requests() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.forms)
}

func (ts *tokenServer) setFail(fail bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.fail = fail
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func endpointFor(ts *tokenServer) *store.Endpoint {
	return &store.Endpoint{ID: "ep1", OAuth2: &store.OAuth2{TokenURL: ts.URL + "/token", ClientID: "c1", ClientSecret: "s1",
		Scopes: []string{"hooks:write", "hooks:read"}, Audience: "https://hooks.example.com"}}
}

// TestCacheAndRefresh checks that a token is fetched once, reused until
// shortly before it expires, then replaced; that changed settings fetch a
// new one; and that the request carries the grant, scopes and audience.
func TestCacheAndRefresh(t *testing.T) {
	ctx := context.Background()
	ts := newTokenServer(t, 3600)
	clk := &clock{t: time.Now()}
	src := oauth2.New(&oauth2.Config{Now: clk.Now, RefreshBefore: time.Minute})
	ep := endpointFor(ts)

	h, err := src.Authorization(ctx, ts.Client(), ep)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok-1", h)
	require.Equal(t, map[string]string{"grant_type": "client_credentials", "scope": "hooks:write hooks:read",
		"audience": "https://hooks.example.com", "client": "c1:s1"}, ts.forms[0])

	clk.Add(58 * time.Minute)
	h, err = src.Authorization(ctx, ts.Client(), ep)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok-1", h, "cached while more than a minute is left")
	require.Equal(t, 1, ts.requests())

	clk.Add(time.Minute + time.Second)
	h, err = src.Authorization(ctx, ts.Client(), ep)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok-2", h, "refreshed shortly before expiry")

	changed := endpointFor(ts)
	changed.OAuth2.Scopes = []string{"hooks:write"}
	h, err = src.Authorization(ctx, ts.Client(), changed)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok-3", h, "new settings, new token")

	other := endpointFor(ts)
	other.ID = "ep2"
	h, err = src.Authorization(ctx, ts.Client(), other)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok-4", h, "tokens are per endpoint")
}

// TestConcurrentShareOneRequest checks that concurrent attempts to one
// endpoint wait for one token request.
func TestConcurrentShareOneRequest(t *testing.T) {
	ts := newTokenServer(t, 3600)
	src := oauth2.New(nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := src.Authorization(context.Background(), ts.Client(), endpointFor(ts))
			require.NoError(t, err)
			require.Equal(t, "Bearer tok-1", h)
		}()
	}
	wg.Wait()
	require.Equal(t, 1, ts.requests())
}

// TestFailure checks that a refused token request is an error naming the
// OAuth2 error and not the secret, and that the next call tries again.
func TestFailure(t *testing.T) {
	ctx := context.Background()
	ts := newTokenServer(t, 3600)
	src := oauth2.New(nil)
	ts.setFail(true)
	_, err := src.Authorization(ctx, ts.Client(), endpointFor(ts))
	require.Error(t, err)
	require.Contains(t, err.Error(), "invalid_client")
	require.NotContains(t, err.Error(), "s1:")
	ts.setFail(false)
	h, err := src.Authorization(ctx, ts.Client(), endpointFor(ts))
	require.NoError(t, err)
	require.NotEmpty(t, h)
}

// deliver sets up a memory store, a receiver recording Authorization
// headers, and a sender with a Source, and pings the endpoint.
func deliver(t *testing.T, cfg sender.Config, ep *store.Endpoint) (*store.Attempt, error, []string) {
	t.Helper()
	var mu sync.Mutex
	var auth []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	st := memory.New(nil)
	ep.ID, ep.Mode, ep.URL, ep.EventTypes = "", event.ModeTest, rcv.URL, []string{"*"}
	ep.Secrets = []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
	require.NoError(t, st.CreateEndpoint(context.Background(), ep)) // the store does not apply the URL policy
	cfg.OAuth2 = oauth2.New(nil)
	snd, err := sender.New(st, &cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = snd.Close() })
	a, err := snd.Ping(context.Background(), ep.ID)
	mu.Lock()
	defer mu.Unlock()
	return a, err, auth
}

// TestSender delivers with a token from the token server; the attempt log
// redacts it.
func TestSender(t *testing.T) {
	ts := newTokenServer(t, 3600)
	a, err, auth := deliver(t, sender.Config{AllowPrivateNetworks: true}, endpointFor(ts))
	require.NoError(t, err)
	require.Equal(t, []string{"Bearer tok-1"}, auth)
	require.Equal(t, sender.RedactedValue, a.RequestHeaders.Get("Authorization"))
}

// TestSenderTokenFailure: a refused token request is a failed attempt with
// a clear error, and no request reaches the endpoint.
func TestSenderTokenFailure(t *testing.T) {
	ts := newTokenServer(t, 3600)
	ts.setFail(true)
	a, err, auth := deliver(t, sender.Config{AllowPrivateNetworks: true}, endpointFor(ts))
	require.ErrorIs(t, err, sender.ErrOAuth2Token)
	require.False(t, a.Success)
	require.Contains(t, a.Error, "OAuth2 access token")
	require.Contains(t, a.Error, "invalid_client")
	require.Empty(t, auth)
}

// TestSenderGuardsTokenEndpoint: with the private-address guard on, the
// token endpoint on loopback is refused before it hears anything.
func TestSenderGuardsTokenEndpoint(t *testing.T) {
	ts := newTokenServer(t, 3600)
	a, err, auth := deliver(t, sender.Config{}, endpointFor(ts))
	require.ErrorIs(t, err, sender.ErrOAuth2Token)
	require.True(t, errors.Is(err, sender.ErrOAuth2Token))
	require.Contains(t, a.Error, sender.ErrPrivateAddress.Error())
	require.Zero(t, ts.requests())
	require.Empty(t, auth)
}

// TestWaitHonoursContext: an attempt waiting for another attempt's token
// request to the same endpoint gives up when its own context ends, instead
// of waiting as long as the other request takes; the request itself goes
// on and its token is cached.
func TestWaitHonoursContext(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":3600}`))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	src := oauth2.New(nil)
	ep := &store.Endpoint{ID: "ep1", OAuth2: &store.OAuth2{TokenURL: srv.URL + "/token", ClientID: "c1", ClientSecret: "s1"}}

	first := make(chan error, 1)
	go func() {
		_, err := src.Authorization(context.Background(), srv.Client(), ep)
		first <- err
	}()
	<-arrived

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	waited := make(chan error, 1)
	go func() {
		_, err := src.Authorization(ctx, srv.Client(), ep)
		waited <- err
	}()
	select {
	case err := <-waited:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(5 * time.Second):
		t.Fatal("Authorization waited for another attempt's token request past its own context")
	}

	close(release)
	require.NoError(t, <-first)
	h, err := src.Authorization(context.Background(), srv.Client(), ep)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok", h)
}

// TestRefreshFailureKeepsValidToken: a token request made to replace a
// token shortly before it expires that fails leaves the attempt with the
// cached token, which is still valid; once the token has expired the
// failure is the attempt's, and changed settings never get the old token.
func TestRefreshFailureKeepsValidToken(t *testing.T) {
	ctx := context.Background()
	ts := newTokenServer(t, 3600)
	clk := &clock{t: time.Now()}
	src := oauth2.New(&oauth2.Config{Now: clk.Now, RefreshBefore: time.Minute})
	ep := endpointFor(ts)
	require.Equal(t, "Bearer tok-1", authorize(t, src, ts, ep))

	ts.setFail(true)
	clk.Add(59*time.Minute + 30*time.Second) // due for refresh, not expired
	h, err := src.Authorization(ctx, ts.Client(), ep)
	require.NoError(t, err, "the cached token is valid for another 30 s")
	require.Equal(t, "Bearer tok-1", h)
	require.Greater(t, ts.requests(), 1, "a new token was asked for")

	changed := endpointFor(ts)
	changed.OAuth2.Scopes = []string{"hooks:write"}
	_, err = src.Authorization(ctx, ts.Client(), changed)
	require.Error(t, err, "a token of other settings is not used")

	clk.Add(time.Minute) // expired
	_, err = src.Authorization(ctx, ts.Client(), ep)
	require.Error(t, err)

	ts.setFail(false)
	h, err = src.Authorization(ctx, ts.Client(), ep)
	require.NoError(t, err)
	require.NotEqual(t, "Bearer tok-1", h)
}

// TestErrorRedactsSecret: a token endpoint whose error answer repeats the
// request (as some do) does not put the client secret, as sent or
// form-encoded, in the error's text; the error still unwraps to x/oauth2's.
func TestErrorRedactsSecret(t *testing.T) {
	const secret = "s3cr3t/+&=value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		id, sec, _ := r.BasicAuth()
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "bad request %s:%s %s", id, sec, r.PostForm.Encode())
	}))
	t.Cleanup(srv.Close)
	ep := &store.Endpoint{ID: "ep1", OAuth2: &store.OAuth2{TokenURL: srv.URL + "/token", ClientID: "c1", ClientSecret: secret}}
	_, err := oauth2.New(nil).Authorization(context.Background(), srv.Client(), ep)
	require.Error(t, err)
	require.NotContains(t, err.Error(), secret)
	require.NotContains(t, err.Error(), url.QueryEscape(secret))
	require.Contains(t, err.Error(), "c1", "the rest of the answer is kept")
	var re *xoauth2.RetrieveError
	require.ErrorAs(t, err, &re)
}
