package webhooktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/signature"
)

// The functions below build server-side requests (by httptest.NewRequest,
// POST "/", Content-Type application/json) signed as the senders of the
// receiver's providers sign theirs, for calling the ServeHTTP of a
// receiver or of one of its sources (receiver.Receiver.Source) directly.
// Their arguments come in one order: the test, the secret, the ids and
// names the provider puts in headers or the body, the time (for providers
// that sign one), and the body (or payload) last.
// A zero time means the current real time; a receiver with a fake clock
// needs the clock's time. Each request's URL and Host are those of
// httptest.NewRequest; to send one over the network, copy its Header and
// body into a client request.

// StandardRequest returns body signed as a Standard Webhooks sender (such
// as a Svix-based one) signs it, for receiver.StandardWebhooks: webhook-id
// id, webhook-timestamp t, webhook-signature with secret ("whsec_..."). A
// malformed secret or id fails the test.
func StandardRequest(tb testing.TB, secret, id string, t time.Time, body []byte) *http.Request {
	tb.Helper()
	sec, err := signature.ParseSecret(secret)
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	if err := signature.ValidateID(id); err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	signer, err := signature.NewSigner([]signature.Secret{sec})
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	req := jsonRequest(body)
	signer.SignHeader(req.Header, id, orNow(t), body)
	return req
}

// EventPayloadRequest returns the body {"id": id, "event": typ, "payload":
// payload} (without "payload" when payload is nil) signed with Standard
// Webhooks under webhook-id id at t, for receiver.EventPayload: the body a
// webhookkit sender POSTs to an endpoint of the event-payload format.
// payload is encoded with encoding/json; a value that does not encode, or a
// malformed secret or id, fails the test.
func EventPayloadRequest(tb testing.TB, secret, id, typ string, t time.Time, payload any) *http.Request {
	tb.Helper()
	m := map[string]any{"id": id, "event": typ}
	if payload != nil {
		m["payload"] = payload
	}
	body, err := json.Marshal(m)
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	return StandardRequest(tb, secret, id, t, body)
}

// GitHubRequest returns body signed as GitHub signs a webhook, for
// receiver.GitHub: X-Hub-Signature-256 "sha256=" and the hex HMAC-SHA256
// of the body under secret, X-GitHub-Event event (such as "pull_request"
// or "ping") and X-GitHub-Delivery delivery.
func GitHubRequest(tb testing.TB, secret, event, delivery string, body []byte) *http.Request {
	tb.Helper()
	req := jsonRequest(body)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac(secret, body)))
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("User-Agent", "GitHub-Hookshot/webhooktest")
	return req
}

// StripeRequest returns body (a Stripe event) signed at t as Stripe signs
// it, for receiver.Stripe: Stripe-Signature "t=<t>,v1=<hex HMAC-SHA256 of
// t.body>" under secret, the text of a "whsec_..." signing secret being the
// HMAC key, and one more v1 signature under each of moreSecrets, as Stripe
// signs during a secret roll.
func StripeRequest(tb testing.TB, secret string, t time.Time, body []byte, moreSecrets ...string) *http.Request {
	tb.Helper()
	ts := strconv.FormatInt(orNow(t).Unix(), 10)
	h := "t=" + ts
	for _, s := range append([]string{secret}, moreSecrets...) {
		h += ",v1=" + hex.EncodeToString(mac(s, []byte(ts+"."), body))
	}
	req := jsonRequest(body)
	req.Header.Set("Stripe-Signature", h)
	return req
}

// ShopifyRequest returns body signed as Shopify signs a webhook, for
// receiver.Shopify: X-Shopify-Hmac-Sha256 the base64 HMAC-SHA256 of the
// body under secret, X-Shopify-Topic topic (such as "orders/create") and
// X-Shopify-Webhook-Id id.
func ShopifyRequest(tb testing.TB, secret, topic, id string, body []byte) *http.Request {
	tb.Helper()
	req := jsonRequest(body)
	req.Header.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac(secret, body)))
	req.Header.Set("X-Shopify-Topic", topic)
	req.Header.Set("X-Shopify-Webhook-Id", id)
	return req
}

// SlackRequest returns body signed as Slack signs an Events API request,
// for receiver.Slack: X-Slack-Request-Timestamp t and X-Slack-Signature
// "v0=" and the hex HMAC-SHA256 of "v0:<t>:<body>" under secret.
func SlackRequest(tb testing.TB, secret string, t time.Time, body []byte) *http.Request {
	tb.Helper()
	ts := strconv.FormatInt(orNow(t).Unix(), 10)
	req := jsonRequest(body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac(secret, []byte("v0:"+ts+":"), body)))
	return req
}

func jsonRequest(body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func mac(secret string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
