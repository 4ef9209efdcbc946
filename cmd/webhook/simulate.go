package main

import (
	"context"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/sender"
)

// typeInfo is one line of 'webhook simulate --list'.
type typeInfo struct {
	Type        string `json:"type"`
	Description string `json:"description"`
}

func listTypes(e *env) error {
	out := &jsonLines{w: e.stdout}
	for _, t := range fasten.Catalog().Types() {
		if err := out.write(typeInfo{Type: t.Type, Description: t.Description}); err != nil {
			return err
		}
	}
	return nil
}

func runSimulate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "simulate", "--url URL --secret S --type T [delivery flags] | --list", `
Deliver a realistic sample event of a known type in test mode, as the
provider's webhook simulator does: the data comes from the provider's
catalog (event/fasten), the envelope gets a fresh id, and it is delivered like
'webhook send' does, printing one JSON line per attempt on stdout.

--list prints the known types instead, one JSON object per line:
{"type":"...","description":"..."}.`, `
	$ webhook simulate --list
	$ webhook simulate --url http://127.0.0.1:8000/webhooks --secret "$S" --type patient.ehi_export_success`)
	list := fs.Bool("list", false, "list the known event types and exit")
	d := addDeliveryFlags(fs)
	typ := fs.String("type", "", "event `type` from --list")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
		return err
	}
	if *list {
		return listTypes(e)
	}
	if *typ == "" {
		return usagef("--type is required (see --list)")
	}
	info, ok := fasten.Catalog().Lookup(*typ)
	if !ok {
		return usagef("unknown event type %q (see --list)", *typ)
	}
	data := info.Sample
	ep, err := d.endpoint(e, event.ModeTest)
	if err != nil {
		return err
	}
	return deliver(ctx, e, "simulate", d, ep, func(ctx context.Context, s *sender.Sender, epID string) (event.Event, error) {
		return s.Simulate(ctx, epID, *typ, data)
	})
}
