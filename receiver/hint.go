package receiver

import (
	"errors"
	"net/http"
	"strings"

	"github.com/webhookkit/webhookkit/signature"
)

// The two body formats of webhookkit's senders (store.BodyEnvelope and
// store.BodyEventPayload) are easily crossed: an endpoint created with one
// while its receiver expects the other. A verified request whose body is
// refused 400 ([ReasonInvalidEvent]) and has the shape of the other format
// is answered with one of these hints as a second line of the body. They
// are fixed text, part of the API like the reasons: never anything from
// the request, and only ever sent for a request whose signature was
// verified.
const (
	// hintEventPayload answers a body {"id", "event", "payload"} sent to a
	// source with the Webhookkit provider.
	hintEventPayload = `the body has the event-payload format {"id", "event", "payload"}, ` +
		`not webhookkit's envelope: receive it with the provider receiver.EventPayload ` +
		`(named "event-payload"; webhook listen --provider event-payload), ` +
		`or create the endpoint with "format": "envelope"`

	// hintEnvelope answers a webhookkit envelope sent to a source with the
	// EventPayload provider.
	hintEnvelope = `the body has webhookkit's envelope format {"api_mode", "date", "id", "type", "data"}, ` +
		`not {"id", "event", "payload"}: receive it with the provider receiver.Webhookkit ` +
		`(named "webhookkit", the default; webhook listen --provider webhookkit), ` +
		`or create the endpoint with "format": "event-payload"`
)

// formatHint returns the hint for a body that p refused as an invalid
// event, or "" when there is none.
func formatHint(p Provider, body []byte) string {
	switch p.(type) {
	case Webhookkit:
		return envelopeHint(body)
	case EventPayload:
		return eventPayloadHint(body)
	}
	return ""
}

// envelopeHint returns hintEventPayload when body, refused as an envelope,
// has the shape of the event-payload format: a JSON object with a string
// "event" and neither "type" nor "api_mode"; "" otherwise.
func envelopeHint(body []byte) string {
	if firstNonSpace(body) != '{' {
		return ""
	}
	f, err := lenientFields(body)
	if err != nil {
		return ""
	}
	_, hasType := f["type"]
	_, hasMode := f["api_mode"]
	if _, ok := stringField(f, "event"); ok && !hasType && !hasMode {
		return hintEventPayload
	}
	return ""
}

// eventPayloadHint returns hintEnvelope when body, refused by the
// EventPayload provider, has the shape of webhookkit's envelope: a JSON
// object with a string "type" and no "event"; "" otherwise.
func eventPayloadHint(body []byte) string {
	if firstNonSpace(body) != '{' {
		return ""
	}
	f, err := lenientFields(body)
	if err != nil {
		return ""
	}
	_, hasEvent := f["event"]
	if _, ok := stringField(f, "type"); ok && !hasEvent {
		return hintEnvelope
	}
	return ""
}

// senderHints name the provider whose signature header a request carries,
// for a request refused for its headers by a source of another provider.
// Unlike the format hints they answer unverified requests (there is no
// signature this source could check), so they are fixed text that says
// only which header the request itself carries.
var senderHints = []struct {
	header, provider, hint string
}{
	{"X-Hub-Signature-256", NameGitHub, "the request carries GitHub's signature header: serve it with a source of the provider receiver.GitHub (r.Source(\"github\"); webhook listen --provider github)"},
	{"Stripe-Signature", NameStripe, "the request carries Stripe's signature header: serve it with a source of the provider receiver.Stripe (r.Source(\"stripe\"); webhook listen --provider stripe)"},
	{"X-Shopify-Hmac-Sha256", NameShopify, "the request carries Shopify's signature header: serve it with a source of the provider receiver.Shopify (r.Source(\"shopify\"); webhook listen --provider shopify)"},
	{"X-Slack-Signature", NameSlack, "the request carries Slack's signature header: serve it with a source of the provider receiver.Slack (r.Source(\"slack\"); webhook listen --provider slack)"},
	{"Webhook-Signature", NameWebhookkit, "the request carries Standard Webhooks headers: serve it with a source of the provider receiver.Webhookkit, receiver.StandardWebhooks or receiver.EventPayload, by its body"},
}

// senderHint returns the hint for a request that a source of provider
// name refused for missing headers while it carries another provider's
// signature header, or "".
func senderHint(name string, h http.Header) string {
	for _, s := range senderHints {
		if s.provider == name || s.provider == NameWebhookkit && (name == NameStandardWebhooks || name == NameEventPayload) {
			continue
		}
		if hasHeader(h, s.header) {
			return s.hint
		}
	}
	return ""
}

// headerHint returns senderHint's hint when err says a header is missing.
func headerHint(err error, name string, h http.Header) string {
	if !errors.Is(err, signature.ErrMissingHeader) {
		return ""
	}
	return senderHint(name, h)
}

// Form-encoded bodies from providers that can send them: GitHub does when
// a webhook's "Content type" is set to application/x-www-form-urlencoded
// (its settings page offers both), and Slack sends its interactive
// components and slash commands so, which are not Events API requests.
// They are answered 415 ([ReasonMediaType]) with one of these hints as a
// second line: fixed text, like the others.
const (
	hintGitHubForm = `GitHub sent the payload form-encoded: set the webhook's "Content type" ` +
		`to application/json in its settings`
	hintSlackForm = `Slack sends interactive components and slash commands form-encoded; ` +
		`a receiver.Slack source receives the Events API, whose requests are JSON`
)

// mediaHint returns the hint for a request that a source of provider name
// refused for its media type, or "".
func mediaHint(name string, h http.Header) string {
	v := h[hdrContentType]
	if len(v) != 1 {
		return ""
	}
	mt, _, _ := strings.Cut(v[0], ";")
	if !strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
		return ""
	}
	switch name {
	case NameGitHub:
		return hintGitHubForm
	case NameSlack:
		return hintSlackForm
	}
	return ""
}
