package main

import (
	"context"
	"time"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// defaultLogsLimit is how many attempts logs prints without --limit.
const defaultLogsLimit = 100

// logLine is one attempt as logs prints it.
type logLine struct {
	ID           string `json:"id"`
	At           string `json:"at"`
	EndpointID   string `json:"endpoint_id"`
	Tenant       string `json:"tenant"`
	DeliveryID   string `json:"delivery_id"`
	EventID      string `json:"event_id"`
	EventType    string `json:"event_type"`
	Mode         string `json:"mode"`
	Attempt      int    `json:"attempt"`
	URL          string `json:"url"`
	Status       int    `json:"status"`
	Error        string `json:"error"`
	Success      bool   `json:"success"`
	DurationMS   int64  `json:"duration_ms"`
	Format       string `json:"format"` // the request body's format: envelope or event-payload
	RequestBody  string `json:"request_body,omitempty"`
	ResponseBody string `json:"response_body,omitempty"`
}

func runLogs(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "logs", "--store DSN [--endpoint ID] [--event ID] [--limit N] [--bodies]", `
Print the delivery attempts recorded in a SQLite or PostgreSQL store (the one
your application's sender writes to), newest first, one JSON object per line:

	{"id":"...","at":"2025-01-02T15:04:05.123Z","endpoint_id":"...","tenant":"",
	 "delivery_id":"...","event_id":"...","event_type":"ping","mode":"test",
	 "attempt":1,"url":"https://...","status":503,"error":"503 Service Unavailable",
	 "success":false,"duration_ms":12,"format":"envelope"}

(one line each). "format" is the body's shape: "envelope", the standard
envelope, or "event-payload", {"id","event","payload"}. --bodies adds the request and response bodies as kept by
the store. logs only reads: the SQLite file or PostgreSQL schema must hold a
store already; when it does not (a mistyped path or schema name), logs says
so and exits 1, creating nothing.`, `
	$ webhook logs --store sqlite:webhooks.db --endpoint 3f0c... --limit 20
	$ webhook logs --store postgres://localhost/app --event 9f1c2a3b-4d5e-4f60-8a7b-8c9d0e1f2a3b`)
	dsn := fs.String("store", "", dsnHelp)
	endpoint := fs.String("endpoint", "", "only attempts to endpoint `ID`")
	eventID := fs.String("event", "", "only attempts of event `ID`")
	limit := fs.Int("limit", defaultLogsLimit, "print at most `N` attempts (0: all)")
	bodies := fs.Bool("bodies", false, "include request and response bodies")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
		return err
	}
	switch {
	case *dsn == "":
		return usagef("--store is required")
	case *limit < 0:
		return usagef("--limit must not be negative")
	}
	st, err := openStore(ctx, *dsn, existing)
	if err != nil {
		return err
	}
	defer st.close()

	out := &jsonLines{w: e.stdout}
	f := store.AttemptFilter{AllTenants: true, EndpointID: *endpoint, EventID: *eventID}
	left := *limit
	for {
		f.Page.Limit = store.MaxPageSize
		if *limit > 0 {
			f.Page.Limit = min(left, store.MaxPageSize)
		}
		as, next, err := st.st.ListAttempts(ctx, f)
		if err != nil {
			return err
		}
		for _, a := range as {
			l := logLine{
				ID: a.ID, At: a.At.UTC().Format(time.RFC3339Nano), EndpointID: a.EndpointID, Tenant: a.Tenant,
				DeliveryID: a.DeliveryID, EventID: a.EventID, EventType: a.EventType, Mode: string(a.Mode),
				Attempt: a.Number, URL: sender.RedactURL(a.URL), Status: a.StatusCode, Error: a.Error, Success: a.Success,
				DurationMS: a.Duration.Milliseconds(), Format: a.Format.Name(),
			}
			if *bodies {
				l.RequestBody, l.ResponseBody = string(a.RequestBody), string(a.ResponseBody)
			}
			if err := out.write(l); err != nil {
				return err
			}
		}
		left -= len(as)
		if next == "" || (*limit > 0 && left <= 0) {
			return nil
		}
		f.Page.Cursor = next
	}
}
