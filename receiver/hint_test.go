package receiver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// TestBodyFormatHint: a verified body of the other body format is refused
// 400 (ReasonInvalidEvent, as before) with a second line naming the fix: an
// {id, event, payload} body sent to a Webhookkit source names EventPayload,
// an envelope sent to an EventPayload source names Webhookkit. Other
// invalid bodies, and unverified requests, get no hint.
func TestBodyFormatHint(t *testing.T) {
	k, other := newKeyPair(t), newKeyPair(t)
	var reasons []receiver.Reason
	r := newReceiver(t, newRecorder(), receiver.Config{
		Keys: []receiver.Key{{Text: k.Text}}, // the default provider, Webhookkit, served as ever
		Sources: []receiver.Source{
			{Name: "kit", Provider: receiver.Webhookkit{}, Keys: []receiver.Key{{Text: k.Text}}},
			{Provider: receiver.EventPayload{}, Keys: []receiver.Key{{Text: k.Text}}},
		},
		Hooks: receiver.Hooks{OnResponse: func(_ context.Context, info receiver.ResponseInfo) {
			reasons = append(reasons, info.Reason) // ServeHTTP is called on this goroutine
		}},
	})
	envelope := eventBody(t, newEvent(t, event.ModeTest, "patient.created"))
	const (
		toEventPayload = `receive it with the provider receiver.EventPayload`
		toWebhookkit   = `receive it with the provider receiver.Webhookkit`
	)
	epReq := func(secret string) *http.Request {
		return webhooktest.EventPayloadRequest(t, secret, "whe_secret_id", "medical-encounters.create", testNow, map[string]string{"id": "enc_1"})
	}
	for _, tc := range []struct {
		name     string
		h        http.Handler
		req      *http.Request
		status   int
		reason   receiver.Reason
		wantHint string // "": the body is the reason alone
	}{
		{"event-payload to the default source", r, epReq(k.Text), 400, receiver.ReasonInvalidEvent, toEventPayload},
		{"event-payload to a Webhookkit source", r.Source("kit"), epReq(k.Text), 400, receiver.ReasonInvalidEvent, toEventPayload},
		{"event-payload without payload", r, webhooktest.EventPayloadRequest(t, k.Text, "whe_2", "ping", testNow, nil), 400, receiver.ReasonInvalidEvent, toEventPayload},
		{"envelope to an EventPayload source", r.Source(receiver.NameEventPayload), webhooktest.StandardRequest(t, k.Text, "msg_1", testNow, envelope), 400, receiver.ReasonInvalidEvent, toWebhookkit},
		{"unsigned event-payload", r, epReq(other.Text), 401, receiver.ReasonSignature, ""},
		{"unsigned envelope to an EventPayload source", r.Source(receiver.NameEventPayload), webhooktest.StandardRequest(t, other.Text, "msg_1", testNow, envelope), 401, receiver.ReasonSignature, ""},
		{"other invalid envelope", r, webhooktest.StandardRequest(t, k.Text, "msg_1", testNow, []byte(`{"id":"x"}`)), 400, receiver.ReasonInvalidEvent, ""},
		{"event and type", r, webhooktest.StandardRequest(t, k.Text, "msg_1", testNow, []byte(`{"id":"x","event":"a.b","type":"a.b"}`)), 400, receiver.ReasonInvalidEvent, ""},
		{"event not a string", r, webhooktest.StandardRequest(t, k.Text, "msg_1", testNow, []byte(`{"id":"x","event":1}`)), 400, receiver.ReasonInvalidEvent, ""},
		{"not an object", r, webhooktest.StandardRequest(t, k.Text, "msg_1", testNow, []byte(`["event"]`)), 400, receiver.ReasonInvalidEvent, ""},
		{"event-payload missing id", r.Source(receiver.NameEventPayload), webhooktest.StandardRequest(t, k.Text, "msg_1", testNow, []byte(`{"event":"a.b"}`)), 400, receiver.ReasonInvalidEvent, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reasons = nil
			w := serve(tc.h, tc.req)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			require.Equal(t, []receiver.Reason{tc.reason}, reasons, "the reason (a metrics label) is unchanged")
			first, rest, _ := strings.Cut(w.Body.String(), "\n")
			require.Equal(t, string(tc.reason), first, "the first line is the reason")
			if tc.wantHint == "" {
				require.Empty(t, rest, "no hint")
				return
			}
			require.Contains(t, rest, tc.wantHint)
			require.True(t, strings.HasSuffix(rest, "\n") && strings.Count(rest, "\n") == 1, "one more line: %q", rest)
			require.NotContains(t, rest, "whe_", "nothing from the request")
			require.NotContains(t, rest, "enc_1", "nothing from the request")
		})
	}
	require.Zero(t, r.Stats().Accepted)
}

// TestSourceNames: Source finds each configured source by name (the
// provider's name by default, the constants) and panics for a name no
// source has, naming it and the configured ones; Sources lists them.
func TestSourceNames(t *testing.T) {
	k := newKeyPair(t)
	r := newReceiver(t, newRecorder(), receiver.Config{
		Keys:    []receiver.Key{{Text: k.Text}},
		Sources: allSources(k, k),
	})
	want := []string{"acme", receiver.NameEventPayload, receiver.NameGitHub, receiver.NameShopify,
		receiver.NameSlack, receiver.NameStandardWebhooks, receiver.NameStripe, receiver.NameWebhookkit}
	require.Equal(t, want, r.Sources())
	for _, name := range want {
		require.NotNil(t, r.Source(name), name)
	}
	require.Same(t, r, r.Source(receiver.NameWebhookkit), "the receiver's own source is the Receiver")

	for p, name := range map[receiver.Provider]string{
		receiver.Webhookkit{}: "webhookkit", receiver.StandardWebhooks{}: "standard",
		receiver.EventPayload{}: "event-payload", receiver.GitHub{}: "github", receiver.Stripe{}: "stripe",
		receiver.Shopify{}: "shopify", receiver.Slack{}: "slack",
	} {
		require.Equal(t, name, p.Name(), "the names are API")
	}

	require.PanicsWithValue(t,
		`receiver: Source("githb"): no such source; configured: acme, event-payload, github, shopify, slack, standard, stripe, webhookkit`,
		func() { r.Source("githb") })
	mux := http.NewServeMux()
	require.PanicsWithValue(t,
		`receiver: Source("stripe"): no such source; configured: github`,
		func() {
			only := newReceiver(t, newRecorder(), receiver.Config{Sources: []receiver.Source{{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: ghSecret}}}}})
			mux.Handle("/stripe", only.Source("stripe"))
		}, "without Config.Keys, the default source is not there either")
}

// TestSenderHint: a request refused for missing headers while it carries
// another provider's signature header is answered with a second line that
// names the provider to serve it with; the reason stays ReasonHeaders.
func TestSenderHint(t *testing.T) {
	k := newKeyPair(t)
	r := newReceiver(t, newRecorder(), receiver.Config{
		Keys:    []receiver.Key{{Text: k.Text}},
		Sources: []receiver.Source{{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "gh-secret"}}}},
	})
	body := []byte(`{"action":"opened","number":7}`)
	envelope := eventBody(t, newEvent(t, event.ModeTest, "patient.created"))
	for _, tc := range []struct {
		name     string
		h        http.Handler
		req      *http.Request
		wantHint string
	}{
		{"GitHub to the default source", r, webhooktest.GitHubRequest(t, "gh-secret", "pull_request", "d-1", body), "receiver.GitHub"},
		{"Stripe to the default source", r, webhooktest.StripeRequest(t, "whsec_stripe", testNow, []byte(`{"id":"evt_1","type":"invoice.paid"}`)), "receiver.Stripe"},
		{"Shopify to the default source", r, webhooktest.ShopifyRequest(t, "shp", "orders/create", "w-1", body), "receiver.Shopify"},
		{"Slack to the default source", r, webhooktest.SlackRequest(t, "slk", testNow, []byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}`)), "receiver.Slack"},
		{"Standard Webhooks to a GitHub source", r.Source(receiver.NameGitHub), webhooktest.StandardRequest(t, k.Text, "msg_1", testNow, envelope), "Standard Webhooks headers"},
		{"no signature header at all", r, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Header.Set("Content-Type", "application/json")
			w := serve(tc.h, tc.req)
			require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
			first, rest, _ := strings.Cut(w.Body.String(), "\n")
			require.Equal(t, string(receiver.ReasonHeaders), first)
			if tc.wantHint == "" {
				require.Empty(t, rest)
				return
			}
			require.Contains(t, rest, tc.wantHint)
			require.NotContains(t, rest, "d-1", "nothing from the request")
		})
	}
}

// TestFormEncodedHint: a form-encoded request to a GitHub source (GitHub
// sends one when a webhook's Content type is set so) or a Slack source
// (Slack's interactive payloads) is refused 415 with a second line naming
// the fix; other sources, and other media types, get the reason alone.
func TestFormEncodedHint(t *testing.T) {
	k := newKeyPair(t)
	var hint string // ResponseInfo.Hint of the last answer
	r := newReceiver(t, newRecorder(), receiver.Config{
		Keys:  []receiver.Key{{Text: k.Text}},
		Hooks: receiver.Hooks{OnResponse: func(_ context.Context, info receiver.ResponseInfo) { hint = info.Hint }},
		Sources: []receiver.Source{
			{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "gh-secret"}}},
			{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: "slack-secret"}}},
		},
	})
	form := func(ct string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("payload=%7B%22action%22%3A%22opened%22%7D"))
		req.Header.Set("Content-Type", ct)
		return req
	}
	for _, tc := range []struct {
		name string
		h    http.Handler
		req  *http.Request
		hint string // "": the reason alone
	}{
		{"GitHub, form", r.Source(receiver.NameGitHub), form("application/x-www-form-urlencoded"), `set the webhook's "Content type" to application/json`},
		{"GitHub, form with charset", r.Source(receiver.NameGitHub), form("Application/X-WWW-Form-Urlencoded; charset=utf-8"), `set the webhook's "Content type" to application/json`},
		{"Slack, form", r.Source(receiver.NameSlack), form("application/x-www-form-urlencoded"), "receives the Events API"},
		{"default source, form", r, form("application/x-www-form-urlencoded"), ""},
		{"GitHub, text", r.Source(receiver.NameGitHub), form("text/plain"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, tc.req)
			require.Equal(t, http.StatusUnsupportedMediaType, w.Code)
			first, second, _ := strings.Cut(w.Body.String(), "\n")
			require.Equal(t, string(receiver.ReasonMediaType), first)
			require.Equal(t, strings.TrimSuffix(second, "\n"), hint, "the hook sees the hint the body has")
			if tc.hint == "" {
				require.Empty(t, second)
				return
			}
			require.Contains(t, second, tc.hint)
		})
	}
}
