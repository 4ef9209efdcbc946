package webhooktest_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
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
