package main

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

func runSend(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "send", "--url URL --secret S --type T [--provider NAME] [--data JSON | --data @FILE] [--id ID] [--mode test|live] [--max-attempts N] [--min-backoff D] [--timeout D]", `
Build an event envelope of type T with the given data (a JSON object; @FILE
reads it from a file, @- from stdin; default {}) and deliver it to URL with
the library's sender, signed with --secret (repeatable; whsec_ secrets and
whsk_ Ed25519 private keys; default $WEBHOOK_SECRET).

Failed attempts are retried with exponential backoff and full jitter: no
retry starts sooner than --min-backoff after the previous attempt ended, and
a 429 or 503 Retry-After can only lengthen the wait. Each attempt prints one
JSON line on stdout:

	{"attempt":1,"status":503,"error":"503 Service Unavailable","duration_ms":4}
	{"attempt":1,"status":400,"error":"400 Bad Request","duration_ms":2,"body":"invalid event | the body has ..."}

(status 0 when no response arrived). "body", present when an answer other
than 2xx had one, is where a receiver explains itself: its first two
non-empty lines, joined by " | ", control characters removed, at most 200
bytes. Exit 0 once delivered (any 2xx), 1 when
it gives up: after --max-attempts attempts, or at once on 410 Gone, and on
401 Unauthorized or 403 Forbidden, which say the receiver refused the
signature (check --secret) and would refuse every retry alike.
--id reuses an event id (a UUIDv4), so a receiver can be seen de-duplicating.

--provider NAME sends as another sender does, to test your own receiver of
its webhooks (what 'stripe trigger' does, for every provider 'webhook
listen' receives); --secret is then the provider's signing secret
(repeatable for stripe only), and each attempt is signed afresh:

	webhookkit     the envelope above (the default)
	event-payload  {"id": ID, "event": T, "payload": DATA}, Standard Webhooks
	               (--id a UUIDv4), as sent to an event-payload endpoint
	standard       {"type": T, "timestamp": ..., "data": DATA}, Standard
	               Webhooks, webhook-id --id (default a fresh UUIDv4)
	github         DATA, X-GitHub-Event T (such as push; the body's "action"
	               completes the type), X-GitHub-Delivery --id (default a
	               fresh UUIDv4)
	stripe         an event {"id": --id (default evt_ and random), "object":
	               "event", "type": T, "livemode": --mode live, "created",
	               "data": {"object": DATA}}
	shopify        DATA, X-Shopify-Topic T (such as orders/create),
	               X-Shopify-Webhook-Id --id (default a fresh UUIDv4)
	slack          an event_callback {"event_id": --id (default Ev and
	               random), "event_time", "event": DATA with "type": T}`, `
	$ webhook send --url http://127.0.0.1:4242/ --secret "$S" --type patient.ehi_export_success \
		--data '{"org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a"}' --min-backoff 200ms
	$ webhook send --provider github --url http://127.0.0.1:4242/github --secret "$GH_SECRET" \
		--type pull_request --data '{"action":"opened","number":1}'`)
	d := addDeliveryFlags(fs)
	providerName := fs.String("provider", receiver.NameWebhookkit, providerHelp)
	typ := fs.String("type", "", "event `type`, such as patient.ehi_export_success (the GitHub event, the Shopify topic)")
	data := fs.String("data", "{}", "event data: a JSON object, or @FILE (@- for stdin)")
	id := fs.String("id", "", "event `ID`, a UUIDv4, or the provider's id (default: a fresh one)")
	mode := fs.String("mode", string(event.ModeTest), "api_mode of the event (livemode for stripe): `test` or live")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
		return err
	}
	prov, err := providerNamed(*providerName)
	if err != nil {
		return err
	}
	if *typ == "" {
		return usagef("--type is required")
	}
	if !event.Mode(*mode).Valid() {
		return usagef("--mode must be test or live")
	}
	raw, err := readData(e, *data)
	if err != nil {
		return err
	}
	switch prov.(type) {
	case receiver.Webhookkit:
	case receiver.EventPayload:
		d.format = store.BodyEventPayload // the sender's own event-payload body
	default:
		return sendAs(ctx, e, d, prov, *typ, *id, event.Mode(*mode), raw)
	}
	ev, err := event.New(event.Mode(*mode), *typ, raw)
	if err != nil {
		return usagef("%v", err)
	}
	if *id != "" {
		ev.ID = *id
		if err := ev.Validate(); err != nil {
			return usagef("--id: %v", err)
		}
	}
	ep, err := d.endpoint(e, ev.APIMode)
	if err != nil {
		return err
	}
	return deliver(ctx, e, "send", d, ep, func(ctx context.Context, s *sender.Sender, epID string) (event.Event, error) {
		_, err := s.Publish(ctx, ev, sender.ToEndpoint(epID), nil)
		return ev, err
	})
}

// sendAs delivers an event as prov's sender does (see send's usage): the
// library's sender delivers an event with the data, and its transport
// replaces each request's body and signature with prov's.
func sendAs(ctx context.Context, e *env, d *deliveryFlags, prov receiver.Provider, typ, id string, mode event.Mode, raw json.RawMessage) error {
	texts, err := secretsOrEnv(e, d.secrets)
	if err != nil {
		return err
	}
	if err := checkProviderSecrets(prov, texts); err != nil {
		return err
	}
	if err := checkHeaderValue("--type", typ); err != nil {
		return err
	}
	switch {
	case id == "":
		id = defaultSendID(prov)
	case standardKeys(prov):
		if err := signature.ValidateID(id); err != nil {
			return usagef("--id: %v", err)
		}
	default:
		if err := checkHeaderValue("--id", id); err != nil {
			return err
		}
	}
	// The event the sender delivers (its envelope is never sent): it
	// checks the data and carries the mode.
	ev, err := event.New(mode, prov.Name(), raw)
	if err != nil {
		return usagef("%v", err)
	}
	if d.as, err = newProviderSend(prov, texts, id, typ, mode, ev.Data, time.Now()); err != nil {
		return err
	}
	ep, err := d.endpoint(e, mode)
	if err != nil {
		return err
	}
	return deliver(ctx, e, "send", d, ep, func(ctx context.Context, s *sender.Sender, epID string) (event.Event, error) {
		_, err := s.Publish(ctx, ev, sender.ToEndpoint(epID), nil)
		return ev, err
	})
}

// readData returns the value of a --data flag: the JSON text itself, or
// the contents of FILE for "@FILE" (stdin for "@-").
func readData(e *env, flagValue string) (json.RawMessage, error) {
	path, ok := strings.CutPrefix(flagValue, "@")
	if !ok {
		return json.RawMessage(flagValue), nil
	}
	b, err := readInput(e, path)
	if err != nil {
		return nil, usagef("--data: %v", err)
	}
	return b, nil
}
