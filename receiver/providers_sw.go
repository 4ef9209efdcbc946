package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// Webhookkit is the [Provider] of webhookkit's own senders, and the
// receiver's default: Standard Webhooks signatures (webhook-id,
// webhook-timestamp, webhook-signature; keys "whsec_..." or "whpk_...") over
// webhookkit's envelope (api_mode, date, a UUIDv4 id, type, data), decoded
// strictly by [event.Decode]. The key is the envelope's id, the type, time
// (date) and mode (api_mode) are the envelope's, and the data its data.
//
// As the receiver's own provider ([Config].Provider nil) it is served as it
// always was: its keys are claimed bare (no namespace), its inbox entries
// hold the raw body, and [Config].DedupByHeader applies.
//
// Its name is "webhookkit" ([NameWebhookkit]): the name of the receiver's
// own source with this provider (r.Source(NameWebhookkit) is the Receiver
// itself), the default name of a [Source] of it (whose keys are claimed as
// "webhookkit.<id>"), and the default of "webhook listen --provider".
//
// It reads the envelope only, the body of webhookkit's senders by default.
// An endpoint created with the event-payload format (the default of the
// webhookapi package) is sent {"id", "event", "payload"} instead: receive
// it with [EventPayload]. A verified body of that shape refused by this
// provider is answered 400 ([ReasonInvalidEvent]) with a second line
// saying so (see "Answers" in the package documentation).
type Webhookkit struct{}

// Name returns "webhookkit", [NameWebhookkit].
func (Webhookkit) Name() string { return NameWebhookkit }

// NewVerifier returns a Standard Webhooks verifier of the keys: "whsec_"
// secrets and "whpk_" public keys. A private key ("whsk_") is refused.
func (Webhookkit) NewVerifier(keys []string, opts *signature.VerifyOptions) (Verifier, error) {
	return newSWVerifier(keys, opts, false)
}

// Parse decodes the envelope with [event.Decode].
func (Webhookkit) Parse(_ http.Header, body []byte) (Message, error) {
	ev, err := event.Decode(body)
	if err != nil {
		return Message{}, err
	}
	return Message{Key: ev.ID, Type: ev.Type, Time: ev.Date, Mode: ev.APIMode, Data: ev.Data}, nil
}

// StandardWebhooks is the [Provider] of any Standard Webhooks sender, such
// as the Svix-based ones, whatever their JSON body: the signature is
// verified as by [Webhookkit] (keys "whsec_..." or "whpk_..."; the svix-id,
// svix-timestamp and svix-signature headers of Svix are read when the
// webhook-* ones are absent). The key is the webhook-id header, the time
// its webhook-timestamp, the type the body's top-level "type" string or,
// without one, its "event" string (empty when neither is present), and the
// data the whole body, which may be any JSON value. There is no mode.
//
// Its name is "standard" ([NameStandardWebhooks]): a [Source] of it is
// named so unless its Name says otherwise (r.Source(NameStandardWebhooks)
// then returns its handler), its keys are claimed in the inbox as
// "standard.<webhook-id>", and "webhook listen --provider standard"
// receives its webhooks.
type StandardWebhooks struct{}

// Name returns "standard", [NameStandardWebhooks].
func (StandardWebhooks) Name() string { return NameStandardWebhooks }

// NewVerifier returns a Standard Webhooks verifier of the keys, as
// [Webhookkit.NewVerifier] does, that also reads Svix's headers.
func (StandardWebhooks) NewVerifier(keys []string, opts *signature.VerifyOptions) (Verifier, error) {
	return newSWVerifier(keys, opts, true)
}

// Parse reads the key and time from the headers and the type from the body.
func (p StandardWebhooks) Parse(h http.Header, body []byte) (Message, error) {
	var f [2][]byte
	object, err := parseBody(body, standardFields, f[:])
	if err != nil {
		return Message{}, err
	}
	return p.parseFields(h, body, object, f[:])
}

// parseFields is Parse of a body checked as strict JSON: object says
// whether it is an object, f holds the members named by standardFields (nil
// when absent). See source.checkParse.
func (StandardWebhooks) parseFields(h http.Header, body []byte, object bool, f [][]byte) (Message, error) {
	id, ts, err := swHeaders(h)
	if err != nil {
		return Message{}, err
	}
	m := Message{Key: id, Time: ts, Data: body}
	if object {
		if t, ok := stringValue(f[0]); ok {
			m.Type = t
		} else if t, ok := stringValue(f[1]); ok {
			m.Type = t
		}
	}
	return m, nil
}

// EventPayload is the [Provider] of senders that sign with Standard
// Webhooks (as [StandardWebhooks], keys "whsec_..." or "whpk_...") a body
// shaped {"id": "<webhook event id>", "event": "<type>", "payload": {...}}:
// the key is the body's id, the type its event (such as
// "medical-encounters.create", or "ping"), the data its payload ({} when
// the body has none), and the time the webhook-timestamp. There is no mode.
// A body without a string id or event is answered 400.
//
// It is the provider of endpoints created with the event-payload body
// format (store.BodyEventPayload, the default of the webhookapi package).
// A verified webhookkit envelope refused by this provider is answered 400
// ([ReasonInvalidEvent]) with a second line naming [Webhookkit].
//
// Its name is "event-payload" ([NameEventPayload]): a [Source] of it is
// named so unless its Name says otherwise (r.Source(NameEventPayload) then
// returns its handler), its keys are claimed in the inbox as
// "event-payload.<id>", and "webhook listen --provider event-payload"
// receives its webhooks.
type EventPayload struct{}

// Name returns "event-payload", [NameEventPayload].
func (EventPayload) Name() string { return NameEventPayload }

// NewVerifier returns a Standard Webhooks verifier of the keys, as
// [StandardWebhooks.NewVerifier] does.
func (EventPayload) NewVerifier(keys []string, opts *signature.VerifyOptions) (Verifier, error) {
	return newSWVerifier(keys, opts, true)
}

// Parse reads id, event and payload from the body.
func (p EventPayload) Parse(h http.Header, body []byte) (Message, error) {
	var f [3][]byte
	object, err := parseBody(body, eventPayloadFields, f[:])
	if err != nil {
		return Message{}, err
	}
	return p.parseFields(h, body, object, f[:])
}

// parseFields is Parse of a body checked as strict JSON: object says
// whether it is an object, f holds the members named by eventPayloadFields (nil
// when absent). See source.checkParse.
func (EventPayload) parseFields(h http.Header, _ []byte, object bool, f [][]byte) (Message, error) {
	_, ts, err := swHeaders(h)
	if err != nil {
		return Message{}, err
	}
	if !object {
		return Message{}, errNotObject
	}
	id, ok := stringValue(f[0])
	if !ok {
		return Message{}, errors.New(`receiver: body has no string "id"`)
	}
	typ, ok := stringValue(f[1])
	if !ok {
		return Message{}, errors.New(`receiver: body has no string "event"`)
	}
	// The payload is a member of a body checked as strict JSON, so strict
	// JSON itself: the receiver does not check it again.
	data := json.RawMessage(f[2])
	if len(data) == 0 {
		data = json.RawMessage(`{}`)
	}
	return Message{Key: id, Type: typ, Time: ts, Data: data}, nil
}

// swVerifier verifies Standard Webhooks signatures, reading Svix's headers
// when the webhook-* ones are absent (svix).
type swVerifier struct {
	v    *signature.Verifier
	svix bool
}

// newSWVerifier parses the keys of a Standard Webhooks provider.
func newSWVerifier(keys []string, opts *signature.VerifyOptions, svix bool) (Verifier, error) {
	var secrets []signature.Secret
	var publics []signature.PublicKey
	for _, k := range keys {
		p, err := parseKeyText(k)
		switch {
		case err != nil:
			return nil, err
		case p.isPublic:
			publics = append(publics, p.public)
		default:
			secrets = append(secrets, p.secret)
		}
	}
	v, err := signature.NewVerifier(secrets, publics, opts)
	if err != nil {
		return nil, err
	}
	return &swVerifier{v: v, svix: svix}, nil
}

// Svix's names of the Standard Webhooks headers.
const (
	hdrSvixID        = "Svix-Id"
	hdrSvixTimestamp = "Svix-Timestamp"
	hdrSvixSignature = "Svix-Signature"
)

// svixVerifyNames are the headers of a Svix signature, in the order of
// signature.Verifier.VerifyValues' arguments.
var svixVerifyNames = [3]string{hdrSvixID, hdrSvixTimestamp, hdrSvixSignature}

func (s *swVerifier) Verify(h http.Header, body []byte) error {
	if !s.svix || hasHeader(h, hdrID) || !hasHeader(h, hdrSvixID) {
		return s.v.Verify(h, body)
	}
	var vals [3]string
	if err := oneHeaders(h, svixVerifyNames[:], vals[:]); err != nil {
		return err
	}
	return s.v.VerifyValues(vals[0], vals[1], vals[2], body)
}

// swHeaders returns the webhook-id and webhook-timestamp (or Svix's) of a
// verified request.
func swHeaders(h http.Header) (string, time.Time, error) {
	names := &swNames
	if !hasHeader(h, hdrID) && hasHeader(h, hdrSvixID) {
		names = &svixNames
	}
	var vals [2]string
	if err := oneHeaders(h, names[:], vals[:]); err != nil {
		return "", time.Time{}, err
	}
	sec, ok := parseUnix(vals[1])
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: %s is not a decimal Unix time", signature.ErrMalformedHeader, names[1])
	}
	return vals[0], time.Unix(sec, 0).UTC(), nil
}

// The id and timestamp headers of Standard Webhooks, and Svix's.
var (
	swNames   = [2]string{signature.HeaderID, signature.HeaderTimestamp}
	svixNames = [2]string{hdrSvixID, hdrSvixTimestamp}
)
