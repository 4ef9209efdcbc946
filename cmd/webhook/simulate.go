package main

import (
	"context"
	"encoding/json"
	"flag"
	"strings"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/sender"
)

// typeInfo is one line of 'webhook simulate --list'.
type typeInfo struct {
	Type        string `json:"type"`
	Description string `json:"description"`
}

func listTypes(e *env, cat *event.Catalog) error {
	out := &jsonLines{w: e.stdout}
	for _, t := range cat.Types() {
		if err := out.write(typeInfo{Type: t.Type, Description: t.Description}); err != nil {
			return err
		}
	}
	return nil
}

// loadCatalog returns the catalog of --catalog FILE ("-" for stdin), or
// the provider's catalog (event/fasten) when path is "".
func loadCatalog(e *env, path string) (*event.Catalog, error) {
	if path == "" {
		return fasten.Catalog(), nil
	}
	b, err := readInput(e, path)
	if err != nil {
		return nil, usagef("--catalog: %v", err)
	}
	cat, err := event.ParseCatalog(b)
	if err != nil {
		return nil, usagef("--catalog %s: %v", path, err)
	}
	return cat, nil
}

func runSimulate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "simulate", "[--catalog FILE] --url URL --secret S --type T [--data JSON | --data @FILE] [delivery flags] | [--catalog FILE] --list", `
Deliver a sample event of type T in test mode, as a provider's webhook
simulator does: the data is the sample the event catalog declares for T
({} when it declares none), the envelope gets a fresh id, and it is
delivered like 'webhook send' does, printing one JSON line per attempt on
stdout (with "body", the start of a refusal's answer; see 'webhook send -h').

The catalog is read from --catalog FILE, a JSON file declaring your event
types:

	{"types": [{"type": "order.paid", "description": "An order was paid",
	            "sample": {"order_id": "ord_1042", "amount": 4200}}]}

Without --catalog, the provider's catalog is used: the events of Fasten
Connect (package event/fasten). "ping" is in every catalog. --data replaces
the sample; with it, T may also be a type the catalog does not list.

--list prints the catalog's types instead, one JSON object per line:
{"type":"...","description":"..."}.`, `
	$ webhook simulate --list
	$ webhook simulate --url http://127.0.0.1:8000/webhooks --secret "$S" --type patient.ehi_export_success
	$ webhook simulate --catalog events.json --url http://127.0.0.1:8000/webhooks --secret "$S" --type order.paid`)
	catalogPath := fs.String("catalog", "", "event catalog `FILE` (JSON; - for stdin; default: the provider's catalog, event/fasten)")
	list := fs.Bool("list", false, "list the catalog's event types and exit")
	d := addDeliveryFlags(fs)
	typ := fs.String("type", "", "event `type` from --list")
	dataFlag := fs.String("data", "", "event data instead of the sample: a JSON object, or @FILE (@- for stdin)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
		return err
	}
	cat, err := loadCatalog(e, *catalogPath)
	if err != nil {
		return err
	}
	if *list {
		return listTypes(e, cat)
	}
	if *typ == "" {
		return usagef("--type is required (see --list)")
	}
	data, err := simulatedData(e, fs, cat, *typ, *dataFlag)
	if err != nil {
		return err
	}
	if _, err := event.New(event.ModeTest, *typ, data); err != nil {
		return usagef("%v", err)
	}
	ep, err := d.endpoint(e, event.ModeTest)
	if err != nil {
		return err
	}
	return deliver(ctx, e, "simulate", d, ep, func(ctx context.Context, s *sender.Sender, epID string) (event.Event, error) {
		return s.Simulate(ctx, epID, *typ, data)
	})
}

// simulatedData returns the data to send for typ: --data when given,
// otherwise the catalog's sample, or a usage error naming the catalog's
// types when typ is not among them.
func simulatedData(e *env, fs *flag.FlagSet, cat *event.Catalog, typ, dataFlag string) (json.RawMessage, error) {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "data" })
	if given {
		return readData(e, dataFlag)
	}
	info, ok := cat.Lookup(typ)
	if !ok {
		var known []string
		for _, t := range cat.Types() {
			known = append(known, t.Type)
		}
		return nil, usagef("unknown event type %q: the catalog lists %s (give --data to send another type)", typ, strings.Join(known, ", "))
	}
	if len(info.Sample) == 0 {
		return json.RawMessage(`{}`), nil
	}
	return info.Sample, nil
}
