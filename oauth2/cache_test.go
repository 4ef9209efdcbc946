package oauth2_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/oauth2"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// authorize calls src for ep through ts's client and requires a token.
func authorize(tb testing.TB, src *oauth2.Source, ts *tokenServer, ep *store.Endpoint) string {
	tb.Helper()
	h, err := src.Authorization(context.Background(), ts.Client(), ep)
	require.NoError(tb, err)
	require.NotEmpty(tb, h)
	return h
}

// TestSettingsChange: a change of an endpoint's token URL, client or
// scopes fetches a new token with the new settings; the token of the old
// settings is replaced, not kept beside it, so changing back fetches again.
func TestSettingsChange(t *testing.T) {
	a, b := newTokenServer(t, 3600), newTokenServer(t, 3600)
	src := oauth2.New(nil)
	ep := endpointFor(a)

	authorize(t, src, a, ep)
	authorize(t, src, a, ep)
	require.Equal(t, 1, a.requests(), "same settings: cached")

	moved := endpointFor(b)
	authorize(t, src, b, moved)
	require.Equal(t, 1, b.requests(), "new token URL: a token from it")
	require.Equal(t, 1, a.requests())
	require.Equal(t, 1, src.Len(), "one token per endpoint, whatever its settings were")

	scoped := endpointFor(b)
	scoped.OAuth2.Scopes = []string{"hooks:write"}
	authorize(t, src, b, scoped)
	require.Equal(t, 2, b.requests(), "new scopes: a new token")
	b.mu.Lock()
	require.Equal(t, "hooks:write", b.forms[1]["scope"])
	b.mu.Unlock()

	authorize(t, src, a, ep)
	require.Equal(t, 2, a.requests(), "back to the first settings: their token was not kept")
	require.Equal(t, 1, src.Len())
}

// TestIdleDropped: tokens of endpoints no attempt asked for during
// IdleTTL are dropped by a later call, for any endpoint; the next attempt
// to a dropped endpoint fetches a new token although the old one was still
// valid. Tokens in use stay; Forget drops one at once; a negative IdleTTL
// keeps them all.
func TestIdleDropped(t *testing.T) {
	ts := newTokenServer(t, 24*3600)
	clk := &clock{t: time.Now()}
	src := oauth2.New(&oauth2.Config{Now: clk.Now, IdleTTL: 10 * time.Minute})
	eps := make([]*store.Endpoint, 3)
	for i := range eps {
		eps[i] = endpointFor(ts)
		eps[i].ID = fmt.Sprintf("ep%d", i)
		authorize(t, src, ts, eps[i])
	}
	require.Equal(t, 3, src.Len())
	require.Equal(t, 3, ts.requests())

	clk.Add(6 * time.Minute)
	authorize(t, src, ts, eps[0]) // ep0 is in use
	require.Equal(t, 3, src.Len(), "nothing idle for 10 minutes yet")
	clk.Add(6 * time.Minute)
	authorize(t, src, ts, eps[0])
	require.Equal(t, 1, src.Len(), "ep1 and ep2, unused for 12 minutes, are dropped; ep0 stays")
	require.Equal(t, 3, ts.requests(), "ep0's token is still cached")

	authorize(t, src, ts, eps[1])
	require.Equal(t, 4, ts.requests(), "a dropped endpoint fetches a new token")
	require.Equal(t, 2, src.Len())

	src.Forget(eps[0].ID)
	require.Equal(t, 1, src.Len())
	authorize(t, src, ts, eps[0])
	require.Equal(t, 5, ts.requests(), "a forgotten endpoint fetches a new token")

	keep := oauth2.New(&oauth2.Config{Now: clk.Now, IdleTTL: -1})
	authorize(t, keep, ts, eps[0])
	authorize(t, keep, ts, eps[1])
	clk.Add(24 * time.Hour)
	authorize(t, keep, ts, eps[1])
	require.Equal(t, 2, keep.Len(), "negative IdleTTL: never dropped")
}

// TestDeletedEndpointDropped: a sender delivers to two endpoints with
// tokens from a Source; one is deleted through the sender; once it has
// been unused for IdleTTL, the next delivery to the other drops its token,
// while the other's, in use, stays cached.
func TestDeletedEndpointDropped(t *testing.T) {
	ctx := context.Background()
	ts := newTokenServer(t, 24*3600)
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(rcv.Close)
	clk := &clock{t: time.Now()}
	src := oauth2.New(&oauth2.Config{Now: clk.Now, IdleTTL: 10 * time.Minute})
	snd, err := sender.New(memory.New(nil), &sender.Config{AllowPrivateNetworks: true, OAuth2: src})
	require.NoError(t, err)
	t.Cleanup(func() { _ = snd.Close() })

	var ids []string
	for range 2 {
		ep := endpointFor(ts)
		ep.ID, ep.Mode, ep.URL, ep.EventTypes = "", event.ModeTest, rcv.URL, []string{"*"}
		_, err := snd.Endpoints().Create(ctx, ep)
		require.NoError(t, err)
		ids = append(ids, ep.ID)
		a, err := snd.Ping(ctx, ep.ID)
		require.NoError(t, err)
		require.True(t, a.Success)
	}
	require.Equal(t, 2, src.Len())
	require.NoError(t, snd.Endpoints().Delete(ctx, ids[0]))

	for range 2 {
		clk.Add(6 * time.Minute)
		a, err := snd.Ping(ctx, ids[1])
		require.NoError(t, err)
		require.True(t, a.Success)
	}
	require.Equal(t, 1, src.Len(), "the deleted endpoint's token is dropped")
	require.Equal(t, 2, ts.requests(), "the live endpoint's token stayed cached")
}

// TestConcurrentSweep: many goroutines ask for the tokens of a few
// endpoints while the clock runs past IdleTTL again and again and
// endpoints are forgotten; every call gets a token, and afterwards the
// cache holds only what was used within the last IdleTTLs. Run with -race.
func TestConcurrentSweep(t *testing.T) {
	ts := newTokenServer(t, 24*3600)
	clk := &clock{t: time.Now()}
	src := oauth2.New(&oauth2.Config{Now: clk.Now, IdleTTL: time.Minute})
	const workers, calls, endpoints = 8, 50, 5
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				ep := endpointFor(ts)
				ep.ID = fmt.Sprintf("ep%d", (w+i)%endpoints)
				h, err := src.Authorization(context.Background(), ts.Client(), ep)
				if !(err == nil && h != "") {
					t.Errorf("worker %d call %d: %q, %v", w, i, h, err)
					return
				}
				switch i % 10 {
				case 0:
					clk.Add(40 * time.Second)
				case 5:
					src.Forget(ep.ID)
				}
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, src.Len(), endpoints)
	clk.Add(3 * time.Minute)
	authorize(t, src, ts, endpointFor(ts))
	require.Equal(t, 1, src.Len(), "everything but ep1 unused for three minutes")
}

// TestSettingsFingerprintUnambiguous: settings that differ only in how
// their texts are split (a scope holding a NUL byte, the old separator)
// are different settings, with a token each.
func TestSettingsFingerprintUnambiguous(t *testing.T) {
	ts := newTokenServer(t, 3600)
	src := oauth2.New(nil)
	one := endpointFor(ts)
	one.OAuth2.Scopes = []string{"hooks:write\x00hooks:read"}
	two := endpointFor(ts)
	two.OAuth2.Scopes = []string{"hooks:write", "hooks:read"}
	require.Equal(t, "Bearer tok-1", authorize(t, src, ts, one))
	require.Equal(t, "Bearer tok-2", authorize(t, src, ts, two), "other scopes, another token")
}
