package webhooktest_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// TestProviderRequests: each provider's request is accepted by a receiver
// source of that provider with the same secret, and refused with another.
func TestProviderRequests(t *testing.T) {
	const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const other = "whsec_QHBZ0MZ1iJeXw7VdsM5TGWyPuYVrjd6K"
	got := make(chan event.Event, 8)
	r, err := receiver.New(receiver.HandlerFunc(func(_ context.Context, ev event.Event) error {
		got <- ev
		return nil
	}), &receiver.Config{Logger: slog.New(slog.DiscardHandler), Sources: []receiver.Source{
		{Provider: receiver.StandardWebhooks{}, Keys: []receiver.Key{{Text: whsec}}},
		{Provider: receiver.EventPayload{}, Keys: []receiver.Key{{Text: whsec}}},
		{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "gh"}}},
		{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: "whsec_stripe"}}},
		{Provider: receiver.Shopify{}, Keys: []receiver.Key{{Text: "shop"}}},
		{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: "slack"}}},
	}})
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() { _ = r.Close() })

	for _, tc := range []struct {
		source    string
		good, bad *http.Request
		typ       string
	}{
		{"standard", webhooktest.StandardRequest(t, whsec, "msg_1", time.Time{}, []byte(`{"type":"a.b"}`)),
			webhooktest.StandardRequest(t, other, "msg_1", time.Time{}, []byte(`{"type":"a.b"}`)), "a.b"},
		{"event-payload", webhooktest.EventPayloadRequest(t, whsec, "e1", "medical-encounters.create", time.Time{}, map[string]int{"n": 1}),
			webhooktest.EventPayloadRequest(t, other, "e1", "medical-encounters.create", time.Time{}, nil), "medical-encounters.create"},
		{"github", webhooktest.GitHubRequest(t, "gh", "push", "d1", []byte(`{"ref":"main"}`)),
			webhooktest.GitHubRequest(t, "hg", "push", "d1", []byte(`{"ref":"main"}`)), "push"},
		{"stripe", webhooktest.StripeRequest(t, "whsec_x", time.Time{}, []byte(`{"id":"evt_1","type":"c.d"}`), "whsec_stripe"),
			webhooktest.StripeRequest(t, "whsec_x", time.Time{}, []byte(`{"id":"evt_1","type":"c.d"}`)), "c.d"},
		{"shopify", webhooktest.ShopifyRequest(t, "shop", "orders/create", "w1", []byte(`{}`)),
			webhooktest.ShopifyRequest(t, "pohs", "orders/create", "w1", []byte(`{}`)), "orders.create"},
		{"slack", webhooktest.SlackRequest(t, "slack", time.Time{}, []byte(`{"type":"event_callback","event_id":"E1","event":{"type":"message"}}`)),
			webhooktest.SlackRequest(t, "kcals", time.Time{}, []byte(`{"type":"event_callback","event_id":"E1","event":{"type":"message"}}`)), "message"},
	} {
		t.Run(tc.source, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.Source(tc.source).ServeHTTP(w, tc.bad)
			require.Equal(t, http.StatusUnauthorized, w.Code)
			w = httptest.NewRecorder()
			r.Source(tc.source).ServeHTTP(w, tc.good)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			select {
			case ev := <-got:
				require.Equal(t, tc.typ, ev.Type)
			case <-time.After(10 * time.Second):
				t.Fatal("timed out")
			}
		})
	}
}

// TestSignFunctions: the headers each Sign function sets on a plain header
// map, with no test at hand, verify with the provider's own verifier under
// the same secret and fail under another; SignStandard signs with every key
// given, whsk_ keys too, and refuses a malformed key or id.
func TestSignFunctions(t *testing.T) {
	const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const other = "whsec_QHBZ0MZ1iJeXw7VdsM5TGWyPuYVrjd6K"
	body := []byte(`{"id":"evt_1","type":"c.d"}`)
	for _, tc := range []struct {
		provider receiver.Provider
		secret   string
		sign     func(h http.Header, secret string)
	}{
		{receiver.StandardWebhooks{}, whsec, func(h http.Header, s string) {
			require.NoError(t, webhooktest.SignStandard(h, s, "msg_1", time.Time{}, body))
		}},
		{receiver.GitHub{}, "gh", func(h http.Header, s string) { webhooktest.SignGitHub(h, s, "push", "d1", body) }},
		{receiver.Stripe{}, whsec, func(h http.Header, s string) { webhooktest.SignStripe(h, s, time.Time{}, body) }},
		{receiver.Shopify{}, "shop", func(h http.Header, s string) { webhooktest.SignShopify(h, s, "orders/create", "w1", body) }},
		{receiver.Slack{}, "slack", func(h http.Header, s string) { webhooktest.SignSlack(h, s, time.Time{}, body) }},
	} {
		t.Run(tc.provider.Name(), func(t *testing.T) {
			v, err := tc.provider.NewVerifier([]string{tc.secret}, nil)
			require.NoError(t, err)
			good := make(http.Header)
			tc.sign(good, tc.secret)
			require.NoError(t, v.Verify(good, body))
			bad := make(http.Header)
			tc.sign(bad, other)
			require.Error(t, v.Verify(bad, body))
		})
	}

	t.Run("standard keys", func(t *testing.T) {
		priv, err := signature.GenerateKey()
		require.NoError(t, err)
		h := make(http.Header)
		require.NoError(t, webhooktest.SignStandard(h, whsec, "msg_1", time.Time{}, body, priv.String()))
		for _, key := range []string{whsec, priv.Public().String()} {
			v, err := receiver.StandardWebhooks{}.NewVerifier([]string{key}, nil)
			require.NoError(t, err)
			require.NoError(t, v.Verify(h, body), "signed under each key")
		}
		require.Error(t, webhooktest.SignStandard(make(http.Header), "not-a-secret", "msg_1", time.Time{}, body))
		require.Error(t, webhooktest.SignStandard(make(http.Header), whsec, "", time.Time{}, body))
	})

	t.Run("event-payload body", func(t *testing.T) {
		b, err := webhooktest.EventPayloadBody("e1", "a.b", json.RawMessage(`{"n":1}`))
		require.NoError(t, err)
		require.JSONEq(t, `{"id":"e1","event":"a.b","payload":{"n":1}}`, string(b))
		_, err = webhooktest.EventPayloadBody("e1", "a.b", func() {})
		require.Error(t, err)
	})
}
