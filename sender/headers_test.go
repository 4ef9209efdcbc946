package sender_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// wireSize is the size of h as sent: name, ": ", value and CRLF per value.
func wireSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// hugeHeaders answers 200 with at least n bytes of response headers: a
// small A-Small header and as many 1000-byte X-Junk headers as it takes.
func hugeHeaders(n int) func(w http.ResponseWriter, r *http.Request, _ int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		h := w.Header()
		h.Set("A-Small", "kept")
		junk := strings.Repeat("j", 1000)
		for size := wireSize(h); size < n; {
			k := fmt.Sprintf("X-Junk-%05d", len(h))
			h[k] = []string{junk}
			size += len(k) + len(junk) + 4
		}
		w.WriteHeader(http.StatusOK)
	}
}

// TestResponseHeadersBounded checks, against an endpoint that answers with
// huge headers, that the transport refuses header sections over
// DefaultMaxResponseHeaderBytes (net/http's own limit is 10 MB), on the
// sender's transport and on a user's that leaves the limit zero, and that
// the attempt log keeps at most MaxResponseHeaders bytes of the headers it
// accepts, marking the cut, so the memory store holds kilobytes, not
// megabytes, per attempt.
func TestResponseHeadersBounded(t *testing.T) {
	const (
		logCap  = 64 << 10
		hostile = 9_600_000 // what one endpoint stored in a single attempt
	)
	require.Equal(t, logCap, sender.DefaultMaxResponseHeaders)
	tests := []struct {
		name      string
		headers   int
		transport *http.Transport
		delivered bool
	}{
		{"over the log cap", 200 << 10, nil, true},
		{"hostile, sender's transport", hostile, nil, false},
		{"hostile, user transport without a limit", hostile, &http.Transport{}, false},
		{"hostile, user transport with its own limit", hostile, &http.Transport{MaxResponseHeaderBytes: 16 << 20}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			st := memory.New(nil)
			srv := newServer(t, hugeHeaders(tt.headers))
			addEndpoint(t, st, srv.URL, nil)
			s := newSender(t, st, clk, func(c *sender.Config) {
				if tt.transport != nil {
					c.Transport = tt.transport
				}
			})
			ev := newEvent(t, clk, "a.b", `{}`)
			_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
			require.NoError(t, err)
			require.Equal(t, 1, processDue(t, s))

			as := attemptsOf(t, st, ev.ID)
			require.Len(t, as, 1)
			a := as[0]
			require.Equal(t, tt.delivered, a.Success, a.Error)
			if !tt.delivered {
				require.Zero(t, a.StatusCode)
				require.Contains(t, a.Error, "exceeded")
				require.Nil(t, a.ResponseHeaders)
				require.Equal(t, store.StatePending, delivery(t, st, ev.ID).State, "retried like any transport error")
				return
			}
			require.Equal(t, http.StatusOK, a.StatusCode)
			require.LessOrEqual(t, wireSize(a.ResponseHeaders), logCap)
			require.Greater(t, wireSize(a.ResponseHeaders), logCap-2000, "the log keeps what fits")
			require.True(t, a.ResponseHeadersTruncated())
			mark := a.ResponseHeaders[store.TruncatedHeaderKey]
			require.Len(t, mark, 1)
			require.Regexp(t, `^\d+ of \d+ bytes kept$`, mark[0])
			require.Equal(t, "kept", a.ResponseHeaders.Get("A-Small"), "headers are kept in name order")
			require.Equal(t, store.StateSucceeded, delivery(t, st, ev.ID).State)
			require.Less(t, st.Stats().AttemptBytes, 2*logCap, "the store holds the cut headers only")
		})
	}
}

// TestResponseHeadersUnderTheCapKeptWhole checks that ordinary headers are
// logged as received, without the truncation mark.
func TestResponseHeadersUnderTheCapKeptWhole(t *testing.T) {
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("X-Request-Id", "abc")
		w.WriteHeader(http.StatusAccepted)
	})
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) { c.MaxResponseHeaders = 1000 })
	a, err := s.Ping(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Equal(t, "abc", a.ResponseHeaders.Get("X-Request-Id"))
	require.False(t, a.ResponseHeadersTruncated())
	require.Nil(t, a.ResponseHeaders[store.TruncatedHeaderKey])
}
