// Package provsign signs webhooks as the senders of the receiver's
// providers do (Standard Webhooks, GitHub, Stripe, Shopify, Slack), for
// package webhooktest's request builders and Sign functions and for the
// webhook command, which must not link package testing. Each function
// sets on h the headers of its provider, replacing any of the same names;
// a zero time means the current real time.
package provsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/signature"
)

// Standard sets the webhook-id (id), webhook-timestamp (t) and
// webhook-signature headers of Standard Webhooks on h, as a Standard
// Webhooks sender (a Svix-based one, a webhookkit sender) signs body: one
// signature under secret and one more under each of moreSecrets, each a
// "whsec_..." secret (v1) or a "whsk_..." Ed25519 private key (v1a). It
// returns an error, and sets nothing, when a key or id is malformed
// (signature.ParseSigningKey, signature.ValidateID).
func Standard(h http.Header, secret, id string, t time.Time, body []byte, moreSecrets ...string) error {
	var secrets []signature.Secret
	var keys []signature.PrivateKey
	for _, text := range append([]string{secret}, moreSecrets...) {
		sec, key, err := signature.ParseSigningKey(text)
		if err != nil {
			return fmt.Errorf("provsign: %w", err)
		}
		if strings.HasPrefix(text, signature.PrivateKeyPrefix) {
			keys = append(keys, key)
		} else {
			secrets = append(secrets, sec)
		}
	}
	if err := signature.ValidateID(id); err != nil {
		return fmt.Errorf("provsign: %w", err)
	}
	signer, err := signature.NewSigner(secrets, keys...)
	if err != nil {
		return fmt.Errorf("provsign: %w", err)
	}
	signer.SignHeader(h, id, orNow(t), body)
	return nil
}

// EventPayloadBody returns the body {"id": id, "event": typ, "payload":
// payload} (without "payload" when payload is nil) that a webhookkit
// sender POSTs to an endpoint of the event-payload format, for
// receiver.EventPayload: sign it with [Standard] under webhook-id id.
// payload is encoded with encoding/json, and a json.RawMessage is kept as
// it is; a value that does not encode is an error.
func EventPayloadBody(id, typ string, payload any) ([]byte, error) {
	m := map[string]any{"id": id, "event": typ}
	if payload != nil {
		m["payload"] = payload
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("provsign: %w", err)
	}
	return body, nil
}

// GitHub sets the headers with which GitHub signs a webhook on h, for
// receiver.GitHub: X-Hub-Signature-256 "sha256=" and the hex HMAC-SHA256
// of body under secret, X-GitHub-Event event (such as "pull_request" or
// "ping") and X-GitHub-Delivery delivery.
func GitHub(h http.Header, secret, event, delivery string, body []byte) {
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac(secret, body)))
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", delivery)
}

// Stripe sets the header with which Stripe signs an event at t on h,
// for receiver.Stripe: Stripe-Signature "t=<t>,v1=<hex HMAC-SHA256 of
// t.body>" under secret, the text of a "whsec_..." signing secret being the
// HMAC key, and one more v1 signature under each of moreSecrets, as Stripe
// signs during a secret roll.
func Stripe(h http.Header, secret string, t time.Time, body []byte, moreSecrets ...string) {
	ts := strconv.FormatInt(orNow(t).Unix(), 10)
	v := "t=" + ts
	for _, s := range append([]string{secret}, moreSecrets...) {
		v += ",v1=" + hex.EncodeToString(mac(s, []byte(ts+"."), body))
	}
	h.Set("Stripe-Signature", v)
}

// Shopify sets the headers with which Shopify signs a webhook on h,
// for receiver.Shopify: X-Shopify-Hmac-Sha256 the base64 HMAC-SHA256 of
// body under secret, X-Shopify-Topic topic (such as "orders/create") and
// X-Shopify-Webhook-Id id.
func Shopify(h http.Header, secret, topic, id string, body []byte) {
	h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac(secret, body)))
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Webhook-Id", id)
}

// Slack sets the headers with which Slack signs an Events API request
// at t on h, for receiver.Slack: X-Slack-Request-Timestamp t and
// X-Slack-Signature "v0=" and the hex HMAC-SHA256 of "v0:<t>:<body>"
// under secret.
func Slack(h http.Header, secret string, t time.Time, body []byte) {
	ts := strconv.FormatInt(orNow(t).Unix(), 10)
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac(secret, []byte("v0:"+ts+":"), body)))
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
