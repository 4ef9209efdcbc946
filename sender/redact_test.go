package sender_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestExtraHeadersRedacted checks that the values of an endpoint's extra
// headers reach the receiver but never the attempt log, OnAttempt, Ping's
// result or the logs (at debug level), while the sender's own headers are
// logged as sent.
func TestExtraHeadersRedacted(t *testing.T) {
	const (
		bearer = "Bearer s3cret"
		apiKey = "k3y-s3cret"
	)
	tests := []struct {
		name   string
		status int
		ping   bool
	}{
		{"delivered", http.StatusOK, false},
		{"failed attempt", http.StatusInternalServerError, false},
		{"ping", http.StatusOK, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			st := newStore()
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.WriteHeader(tt.status)
			})
			ep, _ := addEndpoint(t, st, srv.URL, func(ep *store.Endpoint) {
				ep.Headers = map[string]string{
					"Authorization": bearer,
					"x-api-key":     apiKey,
					"Content-Type":  "text/plain; " + apiKey, // reserved: not sent, not logged
				}
			})
			var (
				mu     sync.Mutex
				hooked []*store.Attempt
			)
			var logs syncBuffer
			s := newSender(t, st, clk, func(c *sender.Config) {
				c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c.Hooks.OnAttempt = func(_ context.Context, a *store.Attempt) {
					mu.Lock()
					hooked = append(hooked, a)
					mu.Unlock()
				}
			})

			var got *store.Attempt
			if tt.ping {
				a, err := s.Ping(ctx, ep.ID)
				require.NoError(t, err)
				got = a
			} else {
				ev := newEvent(t, clk, "a.b", `{}`)
				_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
				require.NoError(t, err)
				require.Equal(t, 1, processDue(t, s))
			}

			// The receiver got the real values.
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			require.Equal(t, bearer, reqs[0].Header.Get("Authorization"))
			require.Equal(t, apiKey, reqs[0].Header.Get("X-Api-Key"))
			require.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))

			as, _, err := st.ListAttempts(ctx, store.AttemptFilter{EndpointID: ep.ID})
			require.NoError(t, err)
			require.Len(t, as, 1)
			mu.Lock()
			require.Len(t, hooked, 1)
			attempts := []*store.Attempt{as[0], hooked[0]}
			mu.Unlock()
			if got != nil {
				attempts = append(attempts, got)
			}
			for _, a := range attempts {
				require.Equal(t, []string{sender.RedactedValue}, a.RequestHeaders["Authorization"])
				require.Equal(t, []string{sender.RedactedValue}, a.RequestHeaders["X-Api-Key"])
				require.Equal(t, "application/json", a.RequestHeaders.Get("Content-Type"))
				require.Equal(t, reqs[0].Header.Get(signature.HeaderSignature), a.RequestHeaders.Get(signature.HeaderSignature))
				require.Equal(t, reqs[0].Header.Get(signature.HeaderID), a.RequestHeaders.Get(signature.HeaderID))
				require.Equal(t, reqs[0].Header.Get(signature.HeaderTimestamp), a.RequestHeaders.Get(signature.HeaderTimestamp))
				require.NotEmpty(t, a.RequestHeaders.Get("User-Agent"))
				for k, vs := range a.RequestHeaders {
					for _, v := range vs {
						require.NotContains(t, v, "s3cret", k)
					}
				}
			}

			out := logs.String()
			require.Contains(t, out, `"msg":"sender: attempt"`, "the attempt was logged at debug or info level")
			require.NotContains(t, out, "s3cret")
		})
	}
}

// TestURLCredentialsRedacted checks that the userinfo of an endpoint's URL
// (user name and password, or a bare token as user name) is sent as basic
// authentication, as http.Client does, and appears nowhere else: not in the
// attempt's URL, headers or error (net/http's *url.Error names the URL with
// its user name), the delivery's LastError, the hooks, Ping's error or the
// logs. Both ways the sender sends a request are covered: straight to the
// transport, and through http.Client when the client has a Timeout.
func TestURLCredentialsRedacted(t *testing.T) {
	users := []struct {
		name     string
		userinfo string
		user     string
		pass     string
	}{
		{"user and password", "user:pa55w0rd", "user", "pa55w0rd"},
		{"token as user name", "t0k3n-s3cret", "t0k3n-s3cret", ""},
	}
	clients := []struct {
		name   string
		client *http.Client
	}{
		{"transport", nil},
		{"http.Client", &http.Client{Timeout: time.Minute}},
	}
	for _, u := range users {
		for _, cl := range clients {
			t.Run(u.name+", "+cl.name, func(t *testing.T) {
				ctx := context.Background()
				clk := newClock()
				srv := newServer(t, nil)
				st := newStore()
				withCreds := func(raw string) string { return strings.Replace(raw, "http://", "http://"+u.userinfo+"@", 1) }
				ep, _ := addEndpoint(t, st, withCreds(srv.URL)+"/hook", nil)
				l, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				closedURL := withCreds("http://"+l.Addr().String()) + "/hook"
				require.NoError(t, l.Close())
				down, _ := addEndpoint(t, st, closedURL, nil)

				var (
					mu        sync.Mutex
					hooked    []*store.Attempt
					exhausted []string
					logs      syncBuffer
				)
				s := newSender(t, st, clk, func(c *sender.Config) {
					c.HTTPClient = cl.client
					c.Retry = retry.Never{}
					c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
					c.Hooks.OnAttempt = func(_ context.Context, a *store.Attempt) {
						mu.Lock()
						hooked = append(hooked, a)
						mu.Unlock()
					}
					c.Hooks.OnDeliveryExhausted = func(_ context.Context, _ *store.Delivery, reason string) {
						mu.Lock()
						exhausted = append(exhausted, reason)
						mu.Unlock()
					}
				})

				// Delivered: the receiver gets the credentials.
				a, err := s.Ping(ctx, ep.ID)
				require.NoError(t, err)
				reqs := srv.requests()
				require.Len(t, reqs, 1)
				user, pass, ok := (&http.Request{Header: reqs[0].Header}).BasicAuth()
				require.True(t, ok)
				require.Equal(t, u.user, user)
				require.Equal(t, u.pass, pass)
				require.Equal(t, strings.Replace(srv.URL, "http://", "http://(redacted)@", 1)+"/hook", a.URL)
				require.Equal(t, []string{sender.RedactedValue}, a.RequestHeaders["Authorization"])

				// Failed: a transport error that names the URL.
				_, perr := s.Ping(ctx, down.ID)
				require.Error(t, perr)
				ev := newEvent(t, clk, "a.b", `{}`)
				_, err = s.Publish(ctx, ev, sender.ToTenant(""), nil)
				require.NoError(t, err)
				require.Equal(t, 2, processDue(t, s))
				ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: down.ID})
				require.NoError(t, err)
				require.Len(t, ds, 1)
				require.Equal(t, store.StateFailed, ds[0].State)
				require.Contains(t, ds[0].LastError, "(redacted)@127.0.0.1", "the error still says where")

				as, _, err := st.ListAttempts(ctx, store.AttemptFilter{})
				require.NoError(t, err)
				require.Len(t, as, 4) // two pings, two deliveries
				texts := []string{perr.Error(), ds[0].LastError, logs.String()}
				mu.Lock()
				texts = append(texts, exhausted...)
				for _, a := range append(as, hooked...) {
					texts = append(texts, a.URL, a.Error)
				}
				mu.Unlock()
				for _, text := range texts {
					require.NotContains(t, text, u.userinfo)
					require.NotContains(t, text, u.user+"@")
					require.NotContains(t, text, u.user+":")
					if u.pass != "" {
						require.NotContains(t, text, u.pass)
					}
				}
				require.Contains(t, logs.String(), `"msg":"sender: attempt"`, "the failed attempts were logged")
			})
		}
	}
}

// TestRedactURL checks the one form every redaction uses, on URLs and on
// strings that do not parse.
func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/hook", "https://example.com/hook"},
		{"https://TOKEN@example.com/hook", "https://(redacted)@example.com/hook"},
		{"https://user:pass@example.com:8443/a/b?q=1#f", "https://(redacted)@example.com:8443/a/b?q=1#f"},
		{"https://us%40er:p@ss@example.com/", "https://(redacted)@example.com/"},
		{"https://example.com/path@with-at?x=a@b", "https://example.com/path@with-at?x=a@b"},
		{"https://example.com?x=a@b", "https://example.com?x=a@b"},
		{"http://TOKEN@host:badport/x", "http://(redacted)@host:badport/x"},
		{"http://TO KEN@exa mple.com/%zz", "http://(redacted)@exa mple.com/%zz"},
		{"mailto:someone@example.com", "mailto:someone@example.com"},
		{"", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, sender.RedactURL(tt.in), tt.in)
	}
}
