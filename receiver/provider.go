package receiver

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// Provider reads the webhooks of one kind of sender: how their signatures
// are checked, and where the idempotency key, the event type, time, mode
// and data are found in a verified request. The receiver does everything
// else the same way for every provider: the answers, de-duplication, the
// inbox, the queue, the retries (see "Providers" in the package
// documentation).
//
// This package provides [Webhookkit] (the default), [StandardWebhooks],
// [EventPayload], [GitHub], [Stripe], [Shopify], [Slack] and the generic
// [HMAC]. A Provider must be safe for concurrent use; those of this package
// are plain values.
type Provider interface {
	// Name names the provider: a short lower-case word of letters,
	// digits, '-' and '_' ("github"). It is the default name of a
	// [Source], and so the namespace of its keys in the inbox.
	Name() string

	// NewVerifier returns a [Verifier] of requests signed with any of
	// keys, the texts of a source's [Key]s (secrets in the provider's own
	// form), with the tolerance and clock of opts for providers that sign
	// a timestamp. It returns an error for an empty or malformed key,
	// without echoing it.
	NewVerifier(keys []string, opts *signature.VerifyOptions) (Verifier, error)

	// Parse reads the event from a request whose signature was verified
	// (or, when the receiver re-drives an event from a durable inbox, from
	// the request as stored). The body is well-formed, strict JSON (see
	// "Providers" in the package documentation), and a copy of the
	// receiver's own: the Message's Data may refer to it. Parse must not
	// modify h or body, and must return the same Message for the same
	// request. An error is answered 400 (with [ReasonHeaders] when it
	// wraps [signature.ErrMissingHeader] or [signature.ErrMalformedHeader],
	// [ReasonInvalidEvent] otherwise).
	Parse(h http.Header, body []byte) (Message, error)
}

// Verifier checks the signature of a request. Verify reads nothing but h
// and body and must be safe for concurrent use. Its errors decide the
// answer: one wrapping [signature.ErrMissingHeader] or
// [signature.ErrMalformedHeader] is answered 400 ([ReasonHeaders]), one
// wrapping [signature.ErrTimestampTooOld] or [signature.ErrTimestampTooNew]
// 401 ([ReasonTimestamp]), any other 401 ([ReasonSignature]).
type Verifier interface {
	Verify(h http.Header, body []byte) error
}

// Message is what a [Provider] reads from a verified request.
type Message struct {
	// Key is the idempotency key: the same on every retry of the event and
	// different for every other event of the provider. It must be 1 to
	// [MaxKeyLength] bytes of visible ASCII (a request whose key is not is
	// answered 400). The receiver claims it in the inbox under the source's
	// namespace (see "Providers" in the package documentation); it is the
	// ID of the [event.Event] handed to the handler.
	Key string
	// Type is the event type, for routing with a [Mux]. A type that is not
	// a valid event type ([event.ValidType]) is handed on empty: such
	// events route to the Mux's default handler.
	Type string
	// Time is when the sender signed the delivery, or when the event
	// happened. Zero: the time the receiver accepted the request. The
	// event's Date is Time in UTC, to the second, as an envelope's.
	Time time.Time
	// Mode is the event's API mode, when the provider has one (Stripe's
	// livemode, webhookkit's api_mode); empty otherwise. A [Key] restricted
	// to a mode verifies only events of that mode.
	Mode event.Mode
	// Data is the event's payload, handed to the handler as the event's
	// Data (and so to [Typed]): valid JSON, usually the whole body or a
	// part of it.
	Data json.RawMessage
	// Challenge, when not empty, makes the request a handshake rather than
	// an event: the receiver answers 200 with Challenge as a text/plain
	// body ([ReasonChallenge]) and neither claims nor queues anything.
	// Slack's url_verification is answered this way.
	Challenge string
}

// Names of the providers of this package, as their Name methods return
// them. A provider's name is
//
//   - the default [Source].Name of a source of that provider, and so the
//     name [Receiver.Source] finds its handler by: r.Source(NameGitHub);
//   - the namespace of the source's keys in the inbox: a GitHub delivery
//     "7c9f..." is claimed as "github.7c9f..." (the receiver's own source
//     with the default [Webhookkit] provider claims bare keys);
//   - the value of the --provider flag of the webhook command (cmd/webhook:
//     webhook listen --provider github), and [Delivery].Provider.
//
// An [HMAC] provider is named by its ProviderName.
const (
	NameWebhookkit       = "webhookkit"    // [Webhookkit], the default
	NameStandardWebhooks = "standard"      // [StandardWebhooks]
	NameEventPayload     = "event-payload" // [EventPayload]
	NameGitHub           = "github"        // [GitHub]
	NameStripe           = "stripe"        // [Stripe]
	NameShopify          = "shopify"       // [Shopify]
	NameSlack            = "slack"         // [Slack]
)

// MaxKeyLength is the longest idempotency key ([Message].Key) accepted, in
// bytes.
const MaxKeyLength = 255

// Delivery is the request an event came in, as a handler sees it through
// [DeliveryFrom]: the source and provider, the key, and (except for the
// receiver's own webhookkit source, see below) the request's headers and
// body. Its Header and Body are shared and must not be modified.
type Delivery struct {
	// Source is the name of the [Source] the request came to.
	Source string
	// Provider is the name of its [Provider].
	Provider string
	// Key is the provider's idempotency key ([Message].Key, the event's
	// ID), without the source's namespace.
	Key string
	// Header is the request's header, without Authorization, Cookie and
	// Proxy-Authorization. Nil for the receiver's own source with the
	// [Webhookkit] provider (the default), whose inbox entries keep only
	// the body, so that its events, re-driven or not, look the same: the
	// envelope is the event. ([Hooks].OnAccepted sees every request's
	// headers.)
	Header http.Header
	// Body is the request's body as received and verified. Nil for the
	// receiver's own source with the [Webhookkit] provider, as Header.
	Body []byte
	// Received is when the receiver accepted the request.
	Received time.Time
}

type deliveryKey struct{}

// DeliveryFrom returns the [Delivery] of the event being handled, from the
// context a [Receiver] gives its [Handler]; nil and false for any other
// context.
func DeliveryFrom(ctx context.Context) (*Delivery, bool) {
	d, ok := ctx.Value(deliveryKey{}).(*Delivery)
	return d, ok && d != nil
}

// WithDelivery returns a copy of ctx that carries d, for [DeliveryFrom]: for
// tests that call a handler directly.
func WithDelivery(ctx context.Context, d *Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}
