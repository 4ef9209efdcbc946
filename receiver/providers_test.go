package receiver_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// Secrets of the test sources (any text for the HMAC providers).
const (
	ghSecret      = "It's a Secret to Everybody"
	stripeSecret  = "whsec_test_secret"
	shopifySecret = "shpss_0123456789abcdef"
	slackSecret   = "8f742231b10e8888abcd99yyyzzz85a5"
	acmeSecret    = "acme-shared-secret"
)

// handled is one call of the handler with its delivery.
type handled struct {
	ev  event.Event
	dlv *receiver.Delivery
}

// sink is a Handler that records events with their deliveries.
type sink struct {
	mu  sync.Mutex
	got chan handled
}

func newSink() *sink { return &sink{got: make(chan handled, 64)} }

func (s *sink) HandleEvent(ctx context.Context, ev event.Event) error {
	d, ok := receiver.DeliveryFrom(ctx)
	if !ok {
		return errors.New("no delivery in the context")
	}
	s.got <- handled{ev, d}
	return nil
}

func (s *sink) next(tb testing.TB) handled {
	tb.Helper()
	select {
	case h := <-s.got:
		return h
	case <-time.After(waitTimeout):
		tb.Fatal("timed out waiting for the handler")
		return handled{}
	}
}

// acme is a generic HMAC provider: hex HMAC of "timestamp.body" in
// X-Acme-Signature, key and type in the body.
var acme = receiver.HMAC{
	ProviderName: "acme", Header: "X-Acme-Signature", Prefix: "sha256=",
	TimestampHeader: "X-Acme-Timestamp",
	Content: func(h http.Header, body []byte) []byte {
		return append([]byte(h.Get("X-Acme-Timestamp")+"."), body...)
	},
	KeyField: "uid", TypeField: "kind",
}

// allSources is every provider as a source, the standard ones with k.
func allSources(k keyPair, k2 keyPair) []receiver.Source {
	return []receiver.Source{
		{Provider: receiver.StandardWebhooks{}, Keys: []receiver.Key{{Text: k.Text}, {Text: k2.Text}}},
		{Provider: receiver.EventPayload{}, Keys: []receiver.Key{{Text: k.Text}}},
		{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "old secret"}, {Text: ghSecret}}},
		{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: stripeSecret}}},
		{Provider: receiver.Shopify{}, Keys: []receiver.Key{{Text: shopifySecret}}},
		{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: slackSecret}}},
		{Provider: acme, Keys: []receiver.Key{{Text: acmeSecret}}},
	}
}

func acmeRequest(secret, ts string, body []byte) *http.Request {
	req := plainRequest(body)
	req.Header.Set("X-Acme-Timestamp", ts)
	req.Header.Set("X-Acme-Signature", "sha256="+hexHMAC(secret, ts+"."+string(body)))
	return req
}

// TestProviders: each provider's signed request is accepted on its source,
// handed to the one handler with its key, type, time, mode, data and
// delivery, and a second copy is a duplicate; a wrong signature is 401.
func TestProviders(t *testing.T) {
	k, k2 := newKeyPair(t), newKeyPair(t)
	ts := testNow.Unix()
	tss := strings.TrimSpace(jsonNum(ts))
	stripeBody := []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","livemode":true,"created":1,"data":{"object":{"id":"pi_1","amount":4200}}}`)
	slackBody := []byte(`{"token":"x","team_id":"T1","type":"event_callback","event_id":"Ev1","event_time":` + tss + `,"event":{"type":"app_mention","text":"hi"}}`)
	cases := []struct {
		source   string
		req      *http.Request
		forged   *http.Request
		key      string // the event's ID
		typ      string
		mode     event.Mode
		data     string
		inboxKey string
	}{
		{
			source: "standard",
			req:    webhooktest.StandardRequest(t, k2.Text, "msg_2Lx", testNow, []byte(`{"type":"user.created","data":{"id":"u1"}}`)),
			forged: webhooktest.StandardRequest(t, newKeyPair(t).Text, "msg_2Lx", testNow, []byte(`{"type":"user.created","data":{"id":"u1"}}`)),
			key:    "msg_2Lx", typ: "user.created", data: `{"type":"user.created","data":{"id":"u1"}}`, inboxKey: "standard.msg_2Lx",
		},
		{
			source: "event-payload",
			req:    webhooktest.EventPayloadRequest(t, k.Text, "whe_1", "medical-encounters.create", testNow, map[string]any{"encounter": "e1"}),
			forged: webhooktest.EventPayloadRequest(t, k2.Text, "whe_1", "medical-encounters.create", testNow, map[string]any{"encounter": "e1"}),
			key:    "whe_1", typ: "medical-encounters.create", data: `{"encounter":"e1"}`, inboxKey: "event-payload.whe_1",
		},
		{
			source: "github",
			req:    webhooktest.GitHubRequest(t, ghSecret, "pull_request", "d-1", []byte(`{"action":"opened","number":7}`)),
			forged: webhooktest.GitHubRequest(t, "guess", "pull_request", "d-1", []byte(`{"action":"opened","number":7}`)),
			key:    "d-1", typ: "pull_request.opened", data: `{"action":"opened","number":7}`, inboxKey: "github.d-1",
		},
		{
			source: "stripe",
			req:    webhooktest.StripeRequest(t, "whsec_other", testNow, stripeBody, stripeSecret),
			forged: webhooktest.StripeRequest(t, "whsec_other", testNow, stripeBody),
			key:    "evt_1", typ: "payment_intent.succeeded", mode: event.ModeLive, data: string(stripeBody), inboxKey: "stripe.evt_1",
		},
		{
			source: "shopify",
			req:    webhooktest.ShopifyRequest(t, shopifySecret, "orders/create", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", []byte(`{"id":820982911946154508}`)),
			forged: webhooktest.ShopifyRequest(t, "nope", "orders/create", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", []byte(`{"id":820982911946154508}`)),
			key:    "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", typ: "orders.create", data: `{"id":820982911946154508}`, inboxKey: "shopify.b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		},
		{
			source: "slack",
			req:    webhooktest.SlackRequest(t, slackSecret, testNow, slackBody),
			forged: webhooktest.SlackRequest(t, "nope", testNow, slackBody),
			key:    "Ev1", typ: "app_mention", data: string(slackBody), inboxKey: "slack.Ev1",
		},
		{
			source: "acme",
			req:    acmeRequest(acmeSecret, tss, []byte(`{"uid":"a-1","kind":"thing.done"}`)),
			forged: acmeRequest("nope", tss, []byte(`{"uid":"a-1","kind":"thing.done"}`)),
			key:    "a-1", typ: "thing.done", data: `{"uid":"a-1","kind":"thing.done"}`, inboxKey: "acme.a-1",
		},
	}
	ib := newTestInbox()
	s := newSink()
	r := newReceiver(t, s, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Sources: allSources(k, k2), Inbox: ib})
	for _, tc := range cases {
		t.Run(tc.source, func(t *testing.T) {
			h := r.Source(tc.source)
			require.NotNil(t, h)
			body := readBody(t, tc.req)
			header := tc.req.Header.Clone()

			forged := serve(h, tc.forged)
			require.Equal(t, http.StatusUnauthorized, forged.Code, forged.Body.String())
			require.Equal(t, string(receiver.ReasonSignature)+"\n", forged.Body.String())

			w := serve(h, tc.req)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Empty(t, w.Body.String())
			got := s.next(t)
			require.Equal(t, tc.key, got.ev.ID)
			require.Equal(t, tc.typ, got.ev.Type)
			require.Equal(t, tc.mode, got.ev.APIMode)
			require.JSONEq(t, tc.data, string(got.ev.Data))
			require.False(t, got.ev.Date.IsZero())
			require.Equal(t, tc.source, got.dlv.Source)
			require.Equal(t, tc.source, got.dlv.Provider)
			require.Equal(t, tc.key, got.dlv.Key)
			require.Equal(t, body, got.dlv.Body)
			require.Equal(t, header, got.dlv.Header)
			require.NotNil(t, ib.entry(tc.inboxKey), "claimed under the source's namespace")

			dup := serve(h, resend(tc.req.Header, body))
			require.Equal(t, http.StatusOK, dup.Code)
			require.Equal(t, "true", dup.Header().Get(receiver.HeaderDuplicate))
		})
	}
	drain(t, r)
	require.Equal(t, uint64(len(cases)), r.Stats().Handled)
}

// TestTimes: each provider's event time: the signed timestamp where there
// is one (Slack's event_time), the time of acceptance otherwise.
func TestProviderTimes(t *testing.T) {
	k := newKeyPair(t)
	s := newSink()
	r := newReceiver(t, s, receiver.Config{Sources: allSources(k, k)})
	signed := testNow.Add(-time.Minute)
	require.Equal(t, 200, serve(r.Source("stripe"), webhooktest.StripeRequest(t, stripeSecret, signed, []byte(`{"id":"evt_t","type":"a.b","livemode":false}`))).Code)
	got := s.next(t)
	require.Equal(t, signed.Unix(), got.ev.Date.Unix())
	require.Equal(t, event.ModeTest, got.ev.APIMode)
	require.Equal(t, 200, serve(r.Source("github"), webhooktest.GitHubRequest(t, ghSecret, "push", "d-t", []byte(`{}`))).Code)
	got = s.next(t)
	require.Equal(t, testNow, got.ev.Date)
	require.Equal(t, testNow, got.dlv.Received)
	require.Equal(t, "push", got.ev.Type)
}

func TestSourcesNamespaceKeys(t *testing.T) {
	k := newKeyPair(t)
	ib := newTestInbox()
	s := newSink()
	r := newReceiver(t, s, receiver.Config{Sources: allSources(k, k), Inbox: ib})
	// One id, four providers: four events.
	const id = "7c9f0a1e-0b8f-4f0e-9d3f-0a1b2c3d4e5f"
	require.Equal(t, 200, serve(r.Source("github"), webhooktest.GitHubRequest(t, ghSecret, "ping", id, []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`))).Code)
	require.Equal(t, 200, serve(r.Source("shopify"), webhooktest.ShopifyRequest(t, shopifySecret, "app/uninstalled", id, []byte(`{}`))).Code)
	require.Equal(t, 200, serve(r.Source("standard"), webhooktest.StandardRequest(t, k.Text, id, testNow, []byte(`{}`))).Code)
	require.Equal(t, 200, serve(r.Source("event-payload"), webhooktest.EventPayloadRequest(t, k.Text, id, "ping", testNow, nil)).Code)
	types := map[string]string{}
	for range 4 {
		h := s.next(t)
		require.Equal(t, id, h.ev.ID)
		types[h.dlv.Source] = h.ev.Type
		if h.dlv.Source == "event-payload" {
			require.JSONEq(t, `{}`, string(h.ev.Data), "no payload: {}")
		}
	}
	require.Equal(t, map[string]string{"github": "ping", "shopify": "app.uninstalled", "standard": "", "event-payload": "ping"}, types)
	for _, src := range []string{"github", "shopify", "standard", "event-payload"} {
		require.NotEmpty(t, ib.state(src+"."+id), src)
	}
	// The receiver itself has no source without Config.Keys.
	w := serve(r, webhooktest.GitHubRequest(t, ghSecret, "ping", "x", []byte(`{}`)))
	require.Equal(t, http.StatusNotFound, w.Code)
	require.Equal(t, string(receiver.ReasonNoSource)+"\n", w.Body.String())
	require.Panics(t, func() { r.Source("gitlab") }, "an unknown source (see TestSourceNames)")
}

// TestSlackChallenge: url_verification is answered with its challenge, as
// Slack requires, and is no event; a forged one is 401.
func TestSlackChallenge(t *testing.T) {
	rc := newRecorder()
	var infos []receiver.ResponseInfo
	var mu sync.Mutex
	r := newReceiver(t, rc, receiver.Config{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: slackSecret}},
		Hooks: receiver.Hooks{OnResponse: func(_ context.Context, ri receiver.ResponseInfo) {
			mu.Lock()
			infos = append(infos, ri)
			mu.Unlock()
		}}})
	body := []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	w := serve(r, webhooktest.SlackRequest(t, slackSecret, testNow, body))
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", w.Body.String())
	require.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
	require.Equal(t, http.StatusUnauthorized, serve(r, webhooktest.SlackRequest(t, "wrong", testNow, body)).Code)
	drain(t, r)
	require.Zero(t, rc.Calls.Load())
	require.Equal(t, uint64(0), r.Stats().Accepted)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, receiver.ReasonChallenge, infos[0].Reason)
	require.Equal(t, "slack", infos[0].Source)
}

// TestProviderAnswers: the answer table per provider: stale or future
// timestamps 401, missing or malformed headers 400, ambiguous or
// unreadable bodies 400.
func TestProviderAnswers(t *testing.T) {
	k := newKeyPair(t)
	r := newReceiver(t, newRecorder(), receiver.Config{Sources: allSources(k, k)})
	old, future := testNow.Add(-6*time.Minute), testNow.Add(6*time.Minute)
	ok := []byte(`{"id":"evt_1","type":"a.b"}`)
	noSig := webhooktest.GitHubRequest(t, ghSecret, "push", "d", ok)
	noSig.Header.Del("X-Hub-Signature-256")
	badHex := webhooktest.GitHubRequest(t, ghSecret, "push", "d", ok)
	badHex.Header.Set("X-Hub-Signature-256", "sha256=zz")
	sha1 := webhooktest.GitHubRequest(t, ghSecret, "push", "d", ok)
	sha1.Header.Set("X-Hub-Signature-256", "sha1=0123")
	noDelivery := webhooktest.GitHubRequest(t, ghSecret, "push", "", ok)
	twice := webhooktest.ShopifyRequest(t, shopifySecret, "orders/create", "w", ok)
	twice.Header.Add("X-Shopify-Hmac-Sha256", "AAAA")
	stripeNoT := webhooktest.StripeRequest(t, stripeSecret, testNow, ok)
	stripeNoT.Header.Set("Stripe-Signature", strings.Split(stripeNoT.Header.Get("Stripe-Signature"), ",")[1])
	for _, tc := range []struct {
		name, source string
		req          *http.Request
		status       int
		reason       receiver.Reason
	}{
		{"stripe old", "stripe", webhooktest.StripeRequest(t, stripeSecret, old, ok), 401, receiver.ReasonTimestamp},
		{"stripe future", "stripe", webhooktest.StripeRequest(t, stripeSecret, future, ok), 401, receiver.ReasonTimestamp},
		{"stripe no t", "stripe", stripeNoT, 400, receiver.ReasonHeaders},
		{"stripe no id", "stripe", webhooktest.StripeRequest(t, stripeSecret, testNow, []byte(`{"type":"a.b"}`)), 400, receiver.ReasonInvalidEvent},
		{"stripe duplicate key", "stripe", webhooktest.StripeRequest(t, stripeSecret, testNow, []byte(`{"id":"evt_1","id":"evt_2"}`)), 400, receiver.ReasonInvalidEvent},
		{"stripe case-variant key", "stripe", webhooktest.StripeRequest(t, stripeSecret, testNow, []byte(`{"id":"evt_1","ID":"evt_2"}`)), 400, receiver.ReasonInvalidEvent},
		{"slack old", "slack", webhooktest.SlackRequest(t, slackSecret, old, ok), 401, receiver.ReasonTimestamp},
		{"slack not an event", "slack", webhooktest.SlackRequest(t, slackSecret, testNow, ok), 400, receiver.ReasonInvalidEvent},
		{"github no signature", "github", noSig, 400, receiver.ReasonHeaders},
		{"github bad hex", "github", badHex, 400, receiver.ReasonHeaders},
		{"github sha1", "github", sha1, 400, receiver.ReasonHeaders},
		{"github no delivery", "github", noDelivery, 400, receiver.ReasonHeaders},
		{"github invalid UTF-8", "github", webhooktest.GitHubRequest(t, ghSecret, "push", "d", []byte("{\"a\":\"\xff\"}")), 400, receiver.ReasonInvalidEvent},
		{"github lone surrogate", "github", webhooktest.GitHubRequest(t, ghSecret, "push", "d", []byte(`{"a":"\ud800"}`)), 400, receiver.ReasonInvalidEvent},
		{"github trailing data", "github", webhooktest.GitHubRequest(t, ghSecret, "push", "d", []byte(`{} {}`)), 400, receiver.ReasonInvalidEvent},
		{"github key with a space", "github", webhooktest.GitHubRequest(t, ghSecret, "push", "a b", ok), 400, receiver.ReasonInvalidEvent},
		{"shopify repeated signature", "shopify", twice, 400, receiver.ReasonHeaders},
		{"standard old", "standard", webhooktest.StandardRequest(t, k.Text, "m", old, ok), 401, receiver.ReasonTimestamp},
		{"event-payload no event", "event-payload", webhooktest.StandardRequest(t, k.Text, "m", testNow, []byte(`{"id":"x"}`)), 400, receiver.ReasonInvalidEvent},
		{"acme old", "acme", acmeRequest(acmeSecret, jsonNum(old.Unix()), []byte(`{"uid":"a"}`)), 401, receiver.ReasonTimestamp},
		{"acme no key", "acme", acmeRequest(acmeSecret, jsonNum(testNow.Unix()), []byte(`{"kind":"a"}`)), 400, receiver.ReasonInvalidEvent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(r.Source(tc.source), tc.req)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			require.Equal(t, string(tc.reason)+"\n", w.Body.String())
		})
	}
	require.Zero(t, r.Stats().Accepted)
}

// TestStandardBodies: a Standard Webhooks source takes any JSON body, and
// Svix's header names.
func TestStandardBodies(t *testing.T) {
	k := newKeyPair(t)
	s := newSink()
	r := newReceiver(t, s, receiver.Config{Provider: receiver.StandardWebhooks{}, Keys: []receiver.Key{{Text: k.Text}}})
	require.Equal(t, 200, serve(r, webhooktest.StandardRequest(t, k.Text, "msg_a", testNow, []byte(`[1,2]`))).Code)
	got := s.next(t)
	require.Equal(t, "", got.ev.Type)
	require.Equal(t, `[1,2]`, string(got.ev.Data))
	svix := webhooktest.StandardRequest(t, k.Text, "msg_b", testNow, []byte(`{"event":"invoice.paid"}`))
	for _, n := range []string{"id", "timestamp", "signature"} {
		svix.Header.Set("svix-"+n, svix.Header.Get("webhook-"+n))
		svix.Header.Del("webhook-" + n)
	}
	require.Equal(t, 200, serve(r, svix).Code)
	got = s.next(t)
	require.Equal(t, "invoice.paid", got.ev.Type)
	require.Equal(t, "msg_b", got.ev.ID)
	require.Equal(t, "standard", got.dlv.Source)
}

// TestProviderTyped: Typed works for every provider's data.
func TestProviderTyped(t *testing.T) {
	type stripeEvent struct {
		ID   string `json:"id"`
		Data struct {
			Object struct {
				Amount int `json:"amount"`
			} `json:"object"`
		} `json:"data"`
	}
	got := make(chan int, 1)
	mux := receiver.NewMux()
	require.NoError(t, mux.Handle("payment_intent.*", receiver.Typed(func(_ context.Context, _ event.Event, e stripeEvent) error {
		got <- e.Data.Object.Amount
		return nil
	})))
	r := newReceiver(t, mux, receiver.Config{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: stripeSecret}}})
	body := []byte(`{"id":"evt_2","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"amount":4200}}}`)
	require.Equal(t, 200, serve(r, webhooktest.StripeRequest(t, stripeSecret, testNow, body)).Code)
	select {
	case n := <-got:
		require.Equal(t, 4200, n)
	case <-time.After(waitTimeout):
		t.Fatal("timed out")
	}
}

// TestProviderModes: a key restricted to live verifies only live Stripe
// events; a restricted key of a provider without modes verifies nothing.
func TestProviderModes(t *testing.T) {
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{
		Provider: receiver.Stripe{},
		Keys:     []receiver.Key{{Text: "whsec_live", Mode: event.ModeLive}, {Text: "whsec_test", Mode: event.ModeTest}},
		Sources:  []receiver.Source{{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: ghSecret, Mode: event.ModeLive}}}},
	})
	live := []byte(`{"id":"evt_l","type":"a.b","livemode":true}`)
	test := []byte(`{"id":"evt_t","type":"a.b","livemode":false}`)
	require.Equal(t, 200, serve(r, webhooktest.StripeRequest(t, "whsec_live", testNow, live)).Code)
	require.Equal(t, 200, serve(r, webhooktest.StripeRequest(t, "whsec_test", testNow, test)).Code)
	w := serve(r, webhooktest.StripeRequest(t, "whsec_test", testNow, []byte(`{"id":"evt_x","type":"a.b","livemode":true}`)))
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Equal(t, string(receiver.ReasonMode)+"\n", w.Body.String())
	require.Equal(t, http.StatusBadRequest, serve(r.Source("github"), webhooktest.GitHubRequest(t, ghSecret, "push", "d", []byte(`{}`))).Code)
	require.Equal(t, uint64(2), r.Stats().Rejected)
}

// TestSourceConfig: New names the field at fault.
func TestSourceConfig(t *testing.T) {
	k := newKeyPair(t)
	h := newRecorder()
	for _, tc := range []struct {
		name string
		cfg  receiver.Config
		want string
	}{
		{"no keys", receiver.Config{Sources: []receiver.Source{{Provider: receiver.GitHub{}}}}, "Config.Sources[0].Keys"},
		{"no provider", receiver.Config{Sources: []receiver.Source{{Keys: []receiver.Key{{Text: "x"}}}}}, "Config.Sources[0].Provider"},
		{"empty secret", receiver.Config{Sources: []receiver.Source{{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "a"}, {Text: ""}}}}}, "Config.Sources[0].Keys[1].Text"},
		{"bad whsec", receiver.Config{Sources: []receiver.Source{{Provider: receiver.StandardWebhooks{}, Keys: []receiver.Key{{Text: "whsec_!!"}}}}}, "Config.Sources[0].Keys[0].Text"},
		{"private key", receiver.Config{Provider: receiver.EventPayload{}, Keys: []receiver.Key{{Text: "whsk_x"}}}, "Config.Keys[0].Text"},
		{"bad name", receiver.Config{Sources: []receiver.Source{{Name: "Git.Hub", Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "a"}}}}}, "source name"},
		{"taken name", receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Sources: []receiver.Source{{Name: "webhookkit", Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "a"}}}}}, "is taken"},
		{"hmac without header", receiver.Config{Sources: []receiver.Source{{Provider: receiver.HMAC{ProviderName: "x", KeyHeader: "X-Id"}, Keys: []receiver.Key{{Text: "a"}}}}}, "HMAC.Header"},
		// The body alone is signed: a request captured once could be sent
		// again forever with a fresh timestamp, which the tolerance would
		// accept.
		{"hmac timestamp not signed", receiver.Config{Sources: []receiver.Source{{Provider: receiver.HMAC{ProviderName: "x", Header: "X-Sig", KeyHeader: "X-Id", TimestampHeader: "X-Ts"}, Keys: []receiver.Key{{Text: "a"}}}}}, "HMAC.TimestampHeader"},
		{"provider without keys", receiver.Config{Provider: receiver.GitHub{}, Sources: []receiver.Source{{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: "a"}}}}}, "Config.Provider"},
		{"negative tolerance", receiver.Config{Sources: []receiver.Source{{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: "a"}}, Tolerance: -1}}}, "Tolerance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := receiver.New(h, &tc.cfg)
			require.ErrorIs(t, err, receiver.ErrInvalidConfig)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "whsec_!!", "the key is not echoed")
		})
	}
	_, err := receiver.New(h, &receiver.Config{})
	require.ErrorIs(t, err, receiver.ErrNoKeys)
}

// TestProviderRedrive: an event of a provider accepted into a durable
// inbox by a receiver that died is re-driven by the next with the same
// key, type, data and delivery; one of a source no longer configured is
// marked dead.
func TestProviderRedrive(t *testing.T) {
	k := newKeyPair(t)
	ib := newTestInbox()
	clk := newClock(testNow)
	started := make(chan struct{}, 4)
	first := dyingRecorder(started) // the process "dies" mid-callback
	cfg := receiver.Config{Sources: allSources(k, k), Inbox: ib, Now: clk.Now, Lease: time.Minute, RecoveryInterval: time.Hour}
	a := newReceiver(t, first, cfg)
	ghBody := []byte(`{"action":"closed","number":9}`)
	ghReq := webhooktest.GitHubRequest(t, ghSecret, "issues", "d-9", ghBody)
	ghHeader := ghReq.Header.Clone()
	ghReq.Header.Set("Authorization", "Bearer not-kept")
	require.Equal(t, 200, serve(a.Source("github"), ghReq).Code)
	require.Equal(t, 200, serve(a.Source("slack"), webhooktest.SlackRequest(t, slackSecret, testNow,
		[]byte(`{"type":"event_callback","event_id":"Ev9","event":{"type":"reaction_added"}}`))).Code)
	<-started
	<-started
	require.NoError(t, a.Close())
	require.Equal(t, store.InboxClaimed, ib.state("github.d-9"))
	require.Equal(t, store.InboxClaimed, ib.state("slack.Ev9"))
	require.NotContains(t, string(ib.entry("github.d-9").Body), "not-kept", "credentials are not stored")

	clk.Add(2 * time.Minute) // the leases end
	second := newSink()
	cfg.Sources = cfg.Sources[:5]    // slack is no longer configured
	b := newReceiver(t, second, cfg) // Start re-drives
	got := second.next(t)
	require.Equal(t, "d-9", got.ev.ID)
	require.Equal(t, "issues.closed", got.ev.Type)
	require.Equal(t, string(ghBody), string(got.ev.Data))
	require.Equal(t, ghBody, got.dlv.Body)
	require.Equal(t, ghHeader, got.dlv.Header)
	require.Equal(t, testNow, got.dlv.Received)
	require.Equal(t, "github", got.dlv.Source)
	drain(t, b)
	require.Equal(t, store.InboxHandled, ib.state("github.d-9"))
	require.Equal(t, store.InboxDead, ib.state("slack.Ev9"))
	require.Contains(t, ib.entry("slack.Ev9").LastError, "not configured")
}

// TestLegacyDelivery: the receiver's own webhookkit source gives its
// handler a Delivery without headers or body; WithDelivery serves tests.
func TestLegacyDelivery(t *testing.T) {
	k := newKeyPair(t)
	s := newSink()
	r := newReceiver(t, s, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	got := s.next(t)
	require.Equal(t, receiver.Delivery{Source: "webhookkit", Provider: "webhookkit", Key: ev.ID, Received: testNow}, *got.dlv)
	require.Same(t, http.Handler(r), r.Source("webhookkit"))

	d := &receiver.Delivery{Source: "x"}
	got2, ok := receiver.DeliveryFrom(receiver.WithDelivery(context.Background(), d))
	require.True(t, ok)
	require.Same(t, d, got2)
	_, ok = receiver.DeliveryFrom(context.Background())
	require.False(t, ok)
}

func readBody(tb testing.TB, req *http.Request) []byte {
	tb.Helper()
	var buf bytes.Buffer
	_, err := buf.ReadFrom(req.Body)
	require.NoError(tb, err)
	req.Body = readCloser{bytes.NewReader(buf.Bytes())}
	return buf.Bytes()
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// resend is a new request with header and body.
func resend(h http.Header, body []byte) *http.Request {
	req := plainRequest(body)
	req.Header = h.Clone()
	return req
}

func jsonNum(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func hexHMAC(secret, content string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(content))
	return hex.EncodeToString(m.Sum(nil))
}

// plainRequest is an unsigned JSON POST of body.
func plainRequest(body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// TestProviderDataOutlivesRequest: the event's data and the delivery's
// body are the event's own, not the receiver's buffer, which the next
// request reuses.
func TestProviderDataOutlivesRequest(t *testing.T) {
	release := make(chan struct{})
	got := make(chan string, 2)
	r := newReceiver(t, receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		<-release
		d, _ := receiver.DeliveryFrom(ctx)
		got <- string(ev.Data) + " " + string(d.Body)
		return nil
	}), receiver.Config{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: ghSecret}}, Workers: 1})
	first := `{"action":"opened","n":"aaaaaaaaaaaaaaaa"}`
	require.Equal(t, 200, serve(r, webhooktest.GitHubRequest(t, ghSecret, "issues", "d-1", []byte(first))).Code)
	require.Equal(t, 200, serve(r, webhooktest.GitHubRequest(t, ghSecret, "issues", "d-2", []byte(`{"action":"closed","n":"bbbbbbbbbbbbbbbb"}`))).Code)
	close(release)
	require.Equal(t, first+" "+first, <-got)
}

// TestProviderDeadDelivery: OnDead sees the dead event's delivery, with
// the original request, for filing it.
func TestProviderDeadDelivery(t *testing.T) {
	dead := make(chan *receiver.Delivery, 1)
	rc := newRecorder()
	rc.Fn = func(context.Context, event.Event, int64) error { return errors.New("down") }
	r := newReceiver(t, rc, receiver.Config{Provider: receiver.Shopify{}, Keys: []receiver.Key{{Text: shopifySecret}}, Retry: retryFast(1),
		Hooks: receiver.Hooks{OnDead: func(ctx context.Context, _ event.Event, _ error) {
			d, _ := receiver.DeliveryFrom(ctx)
			dead <- d
		}}})
	require.Equal(t, 200, serve(r, webhooktest.ShopifyRequest(t, shopifySecret, "orders/create", "w-dead", []byte(`{"id":5}`))).Code)
	select {
	case d := <-dead:
		require.Equal(t, "w-dead", d.Key)
		require.Equal(t, `{"id":5}`, string(d.Body))
		require.Equal(t, "orders/create", d.Header.Get("X-Shopify-Topic"))
	case <-time.After(waitTimeout):
		t.Fatal("not dead")
	}
}
