package webhooktest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/internal/provsign"
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
// httptest.NewRequest; to route one through an http.ServeMux that mounts
// each source on a path of its own, set its URL.Path (say, to "/github")
// first; to send one over the network, copy its Header and
// body into a client request, or sign a client request's header with the
// Sign functions further below, which need no test.

// StandardRequest returns body signed as a Standard Webhooks sender (such
// as a Svix-based one) signs it, for receiver.StandardWebhooks: webhook-id
// id, webhook-timestamp t, webhook-signature with secret ("whsec_..."),
// as [SignStandard] sets them. A malformed secret or id fails the test.
func StandardRequest(tb testing.TB, secret, id string, t time.Time, body []byte) *http.Request {
	tb.Helper()
	req := jsonRequest(body)
	if err := SignStandard(req.Header, secret, id, t, body); err != nil {
		tb.Fatalf("%v", err)
	}
	return req
}

// EventPayloadRequest returns the body {"id": id, "event": typ, "payload":
// payload} (without "payload" when payload is nil, see [EventPayloadBody])
// signed with Standard Webhooks under webhook-id id at t, for
// receiver.EventPayload: the body a webhookkit sender POSTs to an endpoint
// of the event-payload format. A payload that does not encode, or a
// malformed secret or id, fails the test.
func EventPayloadRequest(tb testing.TB, secret, id, typ string, t time.Time, payload any) *http.Request {
	tb.Helper()
	body, err := EventPayloadBody(id, typ, payload)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	return StandardRequest(tb, secret, id, t, body)
}

// GitHubRequest returns body signed as GitHub signs a webhook, for
// receiver.GitHub: the headers of [SignGitHub] (X-Hub-Signature-256,
// X-GitHub-Event event, such as "pull_request" or "ping", and
// X-GitHub-Delivery delivery) and a GitHub User-Agent.
func GitHubRequest(tb testing.TB, secret, event, delivery string, body []byte) *http.Request {
	tb.Helper()
	req := jsonRequest(body)
	SignGitHub(req.Header, secret, event, delivery, body)
	req.Header.Set("User-Agent", "GitHub-Hookshot/webhooktest")
	return req
}

// StripeRequest returns body (a Stripe event) signed at t as Stripe signs
// it, for receiver.Stripe: the Stripe-Signature header of [SignStripe],
// with one v1 signature under secret and one more under each of
// moreSecrets, as Stripe signs during a secret roll.
func StripeRequest(tb testing.TB, secret string, t time.Time, body []byte, moreSecrets ...string) *http.Request {
	tb.Helper()
	req := jsonRequest(body)
	SignStripe(req.Header, secret, t, body, moreSecrets...)
	return req
}

// ShopifyRequest returns body signed as Shopify signs a webhook, for
// receiver.Shopify: the headers of [SignShopify] (X-Shopify-Hmac-Sha256,
// X-Shopify-Topic topic, such as "orders/create", and X-Shopify-Webhook-Id
// id).
func ShopifyRequest(tb testing.TB, secret, topic, id string, body []byte) *http.Request {
	tb.Helper()
	req := jsonRequest(body)
	SignShopify(req.Header, secret, topic, id, body)
	return req
}

// SlackRequest returns body signed as Slack signs an Events API request,
// for receiver.Slack: the headers of [SignSlack].
func SlackRequest(tb testing.TB, secret string, t time.Time, body []byte) *http.Request {
	tb.Helper()
	req := jsonRequest(body)
	SignSlack(req.Header, secret, t, body)
	return req
}

// The Sign functions below set on h the headers with which the senders of
// the receiver's providers sign body, replacing any of the same names, so
// that a request built by other means (an http.Client's, a proxy's) carries
// them; the request builders above use them. They need no test: the
// webhook command (cmd/webhook: webhook sign --provider, webhook send
// --provider) signs with them. Their arguments come in the builders'
// order, h first. A zero time means the current real time. They only
// compute and set headers: h must not be used concurrently, and the body
// must be sent exactly as given.

// SignStandard sets the webhook-id (id), webhook-timestamp (t) and
// webhook-signature headers of Standard Webhooks on h, as a Standard
// Webhooks sender (a Svix-based one, a webhookkit sender) signs body: one
// signature under secret and one more under each of moreSecrets, each a
// "whsec_..." secret (v1) or a "whsk_..." Ed25519 private key (v1a). It
// returns an error, and sets nothing, when a key or id is malformed
// (signature.ParseSigningKey, signature.ValidateID).
func SignStandard(h http.Header, secret, id string, t time.Time, body []byte, moreSecrets ...string) error {
	if err := provsign.Standard(h, secret, id, t, body, moreSecrets...); err != nil {
		return fmt.Errorf("webhooktest: %w", errors.Unwrap(err))
	}
	return nil
}

// EventPayloadBody returns the body {"id": id, "event": typ, "payload":
// payload} (without "payload" when payload is nil) that a webhookkit
// sender POSTs to an endpoint of the event-payload format, for
// receiver.EventPayload: sign it with [SignStandard] under webhook-id id.
// payload is encoded with encoding/json, and a json.RawMessage is kept as
// it is; a value that does not encode is an error.
func EventPayloadBody(id, typ string, payload any) ([]byte, error) {
	body, err := provsign.EventPayloadBody(id, typ, payload)
	if err != nil {
		return nil, fmt.Errorf("webhooktest: %w", errors.Unwrap(err))
	}
	return body, nil
}

// SignGitHub sets the headers with which GitHub signs a webhook on h, for
// receiver.GitHub: X-Hub-Signature-256 "sha256=" and the hex HMAC-SHA256
// of body under secret, X-GitHub-Event event (such as "pull_request" or
// "ping") and X-GitHub-Delivery delivery.
func SignGitHub(h http.Header, secret, event, delivery string, body []byte) {
	provsign.GitHub(h, secret, event, delivery, body)
}

// SignStripe sets the header with which Stripe signs an event at t on h,
// for receiver.Stripe: Stripe-Signature "t=<t>,v1=<hex HMAC-SHA256 of
// t.body>" under secret, the text of a "whsec_..." signing secret being the
// HMAC key, and one more v1 signature under each of moreSecrets, as Stripe
// signs during a secret roll.
func SignStripe(h http.Header, secret string, t time.Time, body []byte, moreSecrets ...string) {
	provsign.Stripe(h, secret, t, body, moreSecrets...)
}

// SignShopify sets the headers with which Shopify signs a webhook on h,
// for receiver.Shopify: X-Shopify-Hmac-Sha256 the base64 HMAC-SHA256 of
// body under secret, X-Shopify-Topic topic (such as "orders/create") and
// X-Shopify-Webhook-Id id.
func SignShopify(h http.Header, secret, topic, id string, body []byte) {
	provsign.Shopify(h, secret, topic, id, body)
}

// SignSlack sets the headers with which Slack signs an Events API request
// at t on h, for receiver.Slack: X-Slack-Request-Timestamp t and
// X-Slack-Signature "v0=" and the hex HMAC-SHA256 of "v0:<t>:<body>"
// under secret.
func SignSlack(h http.Header, secret string, t time.Time, body []byte) {
	provsign.Slack(h, secret, t, body)
}

func jsonRequest(body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}
