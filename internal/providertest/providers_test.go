package providertest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v74/github"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/stretchr/testify/require"
	stripe "github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// got is one event handled, with its delivery.
type got struct {
	ev  event.Event
	dlv *receiver.Delivery
}

// start runs a receiver of the sources with clock now and returns it with
// the channel of the events it handles.
func start(t *testing.T, now func() time.Time, sources ...receiver.Source) (*receiver.Receiver, chan got) {
	t.Helper()
	ch := make(chan got, 16)
	r, err := receiver.New(receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		d, _ := receiver.DeliveryFrom(ctx)
		ch <- got{ev, d}
		return nil
	}), &receiver.Config{Sources: sources, Now: now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() { _ = r.Close() })
	return r, ch
}

func next(t *testing.T, ch chan got) got {
	t.Helper()
	select {
	case g := <-ch:
		return g
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the handler")
		return got{}
	}
}

func post(h http.Handler, header http.Header, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header = header.Clone()
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestStripeSDK: requests signed by stripe-go's GenerateTestSignedPayload
// are accepted by the Stripe provider, during a secret roll too, and the
// event decodes into stripe-go's Event; webhooktest's Stripe requests pass
// stripe-go's own verification.
func TestStripeSDK(t *testing.T) {
	const secret, rolled = "whsec_test_123", "whsec_test_456"
	body := []byte(`{"id":"evt_3Ql1","object":"event","api_version":"` + stripe.APIVersion + `","created":1750000000,"livemode":false,"pending_webhooks":1,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent","amount":4200,"currency":"eur"}}}`)
	r, ch := start(t, time.Now, receiver.Source{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: rolled}, {Text: secret}}})

	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret})
	w := post(r.Source("stripe"), http.Header{"Stripe-Signature": {signed.Header}}, body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	g := next(t, ch)
	require.Equal(t, "evt_3Ql1", g.ev.ID)
	require.Equal(t, "payment_intent.succeeded", g.ev.Type)
	require.Equal(t, event.ModeTest, g.ev.APIMode)
	require.Equal(t, signed.Timestamp.Unix(), g.ev.Date.Unix())
	se, err := event.DataAs[stripe.Event](g.ev)
	require.NoError(t, err)
	require.Equal(t, stripe.EventType("payment_intent.succeeded"), se.Type)
	require.Equal(t, "pi_1", se.Data.Object["id"])

	// A secret not configured, and a signature too old for the SDK's
	// default tolerance (5 minutes), are refused as Stripe refuses them.
	other := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_other"})
	require.Equal(t, http.StatusUnauthorized, post(r.Source("stripe"), http.Header{"Stripe-Signature": {other.Header}}, body).Code)
	stale := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: time.Now().Add(-6 * time.Minute)})
	require.Error(t, webhook.ValidatePayload(body, stale.Header, secret))
	require.Equal(t, http.StatusUnauthorized, post(r.Source("stripe"), http.Header{"Stripe-Signature": {stale.Header}}, body).Code)

	// The other way round: webhooktest signs as Stripe does, with both
	// secrets of a roll.
	req := webhooktest.StripeRequest(t, rolled, time.Time{}, body, secret)
	require.NoError(t, webhook.ValidatePayload(body, req.Header.Get("Stripe-Signature"), secret))
	require.NoError(t, webhook.ValidatePayload(body, req.Header.Get("Stripe-Signature"), rolled))
}

// TestSvixSDK: requests signed by the svix library, under its svix-*
// headers and under the webhook-* ones, are accepted by the
// StandardWebhooks and EventPayload providers; webhooktest's requests pass
// svix's verification.
func TestSvixSDK(t *testing.T) {
	sec, err := signature.NewSecret()
	require.NoError(t, err)
	wh, err := svix.NewWebhook(sec.String())
	require.NoError(t, err)
	r, ch := start(t, time.Now,
		receiver.Source{Provider: receiver.StandardWebhooks{}, Keys: []receiver.Key{{Text: sec.String()}}},
		receiver.Source{Provider: receiver.EventPayload{}, Keys: []receiver.Key{{Text: sec.String()}}})

	now := time.Now()
	body := []byte(`{"type":"user.created","data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC"},"object":"event"}`)
	sig, err := wh.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", now, body)
	require.NoError(t, err)
	ts := jsonInt(now.Unix())
	w := post(r.Source("standard"), http.Header{"Svix-Id": {"msg_p5jXN8AQM9LWM0D4loKWxJek"}, "Svix-Timestamp": {ts}, "Svix-Signature": {sig}}, body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	g := next(t, ch)
	require.Equal(t, "msg_p5jXN8AQM9LWM0D4loKWxJek", g.ev.ID)
	require.Equal(t, "user.created", g.ev.Type)
	require.JSONEq(t, string(body), string(g.ev.Data))

	payload := []byte(`{"id":"whe_1","event":"medical-encounters.create","payload":{"encounter":"enc_1"}}`)
	sig, err = wh.Sign("msg_2", now, payload)
	require.NoError(t, err)
	w = post(r.Source("event-payload"), http.Header{"Webhook-Id": {"msg_2"}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}, payload)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	g = next(t, ch)
	require.Equal(t, "whe_1", g.ev.ID)
	require.Equal(t, "medical-encounters.create", g.ev.Type)
	require.JSONEq(t, `{"encounter":"enc_1"}`, string(g.ev.Data))

	bad, err := wh.Sign("msg_3", now, []byte(`{"other":"body"}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, post(r.Source("standard"), http.Header{"Webhook-Id": {"msg_3"}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {bad}}, body).Code)

	req := webhooktest.EventPayloadRequest(t, sec.String(), "whe_2", "ping", time.Time{}, nil)
	b, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(b, req.Header))
}

// TestGitHub: GitHub's documented example (secret "It's a Secret to
// Everybody", body "Hello, World!") verifies; webhooktest's GitHub
// requests pass go-github's ValidatePayload, and go-github parses what the
// handler receives.
func TestGitHub(t *testing.T) {
	v, err := receiver.GitHub{}.NewVerifier([]string{"It's a Secret to Everybody"}, nil)
	require.NoError(t, err)
	doc := http.Header{"X-Hub-Signature-256": {"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}}
	require.NoError(t, v.Verify(doc, []byte("Hello, World!")))
	require.ErrorIs(t, v.Verify(doc, []byte("Hello, World?")), signature.ErrNoMatch)
	require.NoError(t, github.ValidateSignature(doc.Get("X-Hub-Signature-256"), []byte("Hello, World!"), []byte("It's a Secret to Everybody")))

	const secret = "gh-webhook-secret"
	r, ch := start(t, time.Now, receiver.Source{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: secret}}})
	body := []byte(`{"action":"opened","number":1347,"pull_request":{"id":1,"title":"Amazing new feature"},"repository":{"full_name":"octocat/Hello-World"}}`)
	req := webhooktest.GitHubRequest(t, secret, "pull_request", "72d3162e-cc78-11e3-81ab-4c9367dc0958", body)
	payload, err := github.ValidatePayload(req, []byte(secret))
	require.NoError(t, err)
	require.Equal(t, body, payload)

	w := post(r.Source("github"), req.Header, body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	g := next(t, ch)
	require.Equal(t, "pull_request.opened", g.ev.Type)
	require.Equal(t, "72d3162e-cc78-11e3-81ab-4c9367dc0958", g.ev.ID)
	parsed, err := github.ParseWebHook(github.WebHookType(&http.Request{Header: g.dlv.Header}), g.dlv.Body)
	require.NoError(t, err)
	pr, ok := parsed.(*github.PullRequestEvent)
	require.True(t, ok)
	require.Equal(t, 1347, pr.GetNumber())

	ping := []byte(`{"zen":"Design for failure.","hook_id":12345678,"hook":{"type":"Repository","id":12345678,"events":["*"]}}`)
	w = post(r.Source("github"), webhooktest.GitHubRequest(t, secret, "ping", "d-ping", ping).Header, ping)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "ping", next(t, ch).ev.Type)
}

// TestSlackSDK: slack-go's own test request (an app_mention event signed at
// 1531431954) is accepted by the Slack provider at that time; webhooktest's
// Slack requests pass slack-go's SecretsVerifier, and the handler's data
// parses with slackevents.
func TestSlackSDK(t *testing.T) {
	const secret = "e6b19c573432dcc6b075501d51b51bb8"
	body := []byte(`{"token":"aF5ynEYQH0dFN9imlgcADxDB","team_id":"XXXXXXXXX","api_app_id":"YYYYYYYYY","event":{"type":"app_mention","user":"AAAAAAAAA","text":"<@EEEEEEEEE> hello world","client_msg_id":"477cc591-ch73-a14z-4db8-g0cd76321bec","ts":"1531431954.000073","channel":"TTTTTTTTT","event_ts":"1531431954.000073"},"type":"event_callback","event_id":"TvBP7LRED7","event_time":1531431954,"authed_users":["EEEEEEEEE"]}`)
	header := http.Header{
		"X-Slack-Signature":         {"v0=adada4ed31709aef585c2580ca3267678c6a8eaeb7e0c1aca3ee57b656886b2c"},
		"X-Slack-Request-Timestamp": {"1531431954"},
	}
	then := func() time.Time { return time.Unix(1531431954, 0).Add(time.Minute) }
	r, ch := start(t, then, receiver.Source{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: secret}}})
	w := post(r.Source("slack"), header, body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	g := next(t, ch)
	require.Equal(t, "TvBP7LRED7", g.ev.ID)
	require.Equal(t, "app_mention", g.ev.Type)
	outer, err := slackevents.ParseEvent(g.ev.Data, slackevents.OptionNoVerifyToken())
	require.NoError(t, err)
	mention, ok := outer.InnerEvent.Data.(*slackevents.AppMentionEvent)
	require.True(t, ok)
	require.Equal(t, "<@EEEEEEEEE> hello world", mention.Text)

	// A signing secret of slack-go's invalid case is refused.
	r2, _ := start(t, then, receiver.Source{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: "e6b19c573432dcc6b075501d51b51boo"}}})
	require.Equal(t, http.StatusUnauthorized, post(r2.Source("slack"), header, body).Code)

	req := webhooktest.SlackRequest(t, secret, time.Time{}, body)
	sv, err := slack.NewSecretsVerifier(req.Header, secret)
	require.NoError(t, err)
	_, err = sv.Write(body)
	require.NoError(t, err)
	require.NoError(t, sv.Ensure())
}

// TestShopify: Shopify publishes no test vector; its documentation's
// check (Ruby: Base64.strict_encode64(OpenSSL::HMAC.digest('sha256',
// CLIENT_SECRET, data)), compared with X-Shopify-Hmac-Sha256) is written
// out here independently and agrees with webhooktest and the provider.
func TestShopify(t *testing.T) {
	const secret = "shpss_0123456789abcdef0123456789abcdef"
	body := []byte(`{"id":820982911946154508,"email":"jon@example.com","closed_at":null,"created_at":"2021-12-31T19:00:00-05:00"}`)
	documented := func(h http.Header, body []byte) bool {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		return hmac.Equal([]byte(base64.StdEncoding.EncodeToString(m.Sum(nil))), []byte(h.Get("X-Shopify-Hmac-Sha256")))
	}
	req := webhooktest.ShopifyRequest(t, secret, "orders/create", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", body)
	require.True(t, documented(req.Header, body))
	r, ch := start(t, time.Now, receiver.Source{Provider: receiver.Shopify{}, Keys: []receiver.Key{{Text: secret}}})
	w := post(r.Source("shopify"), req.Header, body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	g := next(t, ch)
	require.Equal(t, "orders.create", g.ev.Type)
	require.Equal(t, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", g.ev.ID)
	tampered := req.Header.Clone()
	tampered.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(make([]byte, 32)))
	require.False(t, documented(tampered, body))
	require.Equal(t, http.StatusUnauthorized, post(r.Source("shopify"), tampered, body).Code)
}

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }
