package main

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
)

func runSend(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "send", "--url URL --secret S --type T [--data JSON | --data @FILE] [--id ID] [--mode test|live] [--max-attempts N] [--min-backoff D] [--timeout D]", `
Build an event envelope of type T with the given data (a JSON object; @FILE
reads it from a file, @- from stdin; default {}) and deliver it to URL with
the library's sender, signed with --secret (repeatable; whsec_ secrets and
whsk_ Ed25519 private keys; default $WEBHOOK_SECRET).

Failed attempts are retried with exponential backoff and full jitter: no
retry starts sooner than --min-backoff after the previous attempt ended, and
a 429 or 503 Retry-After can only lengthen the wait. Each attempt prints one
JSON line on stdout:

	{"attempt":1,"status":503,"error":"503 Service Unavailable","duration_ms":4}

(status 0 when no response arrived). Exit 0 once delivered (any 2xx), 1 when
it gives up: after --max-attempts attempts, or at once on 410 Gone.
--id reuses an event id (a UUIDv4), so a receiver can be seen de-duplicating.`, `
	$ webhook send --url http://127.0.0.1:4242/ --secret "$S" --type patient.ehi_export_success \
		--data '{"org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a"}' --min-backoff 200ms`)
	d := addDeliveryFlags(fs)
	typ := fs.String("type", "", "event `type`, such as patient.ehi_export_success")
	data := fs.String("data", "{}", "event data: a JSON object, or @FILE (@- for stdin)")
	id := fs.String("id", "", "event `ID`, a UUIDv4 (default: a fresh one)")
	mode := fs.String("mode", string(event.ModeTest), "api_mode of the event: `test` or live")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
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
