package sender_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

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
				_, err := s.Publish(ctx, ev, store.ToTenant(""))
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

// TestURLCredentialsRedacted checks that credentials in an endpoint's URL
// are sent as basic authentication, as http.Client does, and appear neither
// in the attempt's URL nor in its headers.
func TestURLCredentialsRedacted(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, nil)
	st := newStore()
	ep, _ := addEndpoint(t, st, strings.Replace(srv.URL, "http://", "http://user:pa55w0rd@", 1), nil)
	s := newSender(t, st, nil, nil)

	a, err := s.Ping(ctx, ep.ID)
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	user, pass, ok := (&http.Request{Header: reqs[0].Header}).BasicAuth()
	require.True(t, ok)
	require.Equal(t, "user", user)
	require.Equal(t, "pa55w0rd", pass)

	logged, err := st.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	for _, a := range []*store.Attempt{a, logged} {
		require.NotContains(t, a.URL, "pa55w0rd")
		require.Contains(t, a.URL, "user:")
		require.Equal(t, []string{sender.RedactedValue}, a.RequestHeaders["Authorization"])
	}
}
