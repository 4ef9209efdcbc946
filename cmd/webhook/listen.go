package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// Listen's server and shutdown bounds. The http.Server sets
// ReadHeaderTimeout and ReadTimeout, so a client that sends its request
// slowly cannot hold a connection open forever.
const (
	listenReadTimeout  = 10 * time.Second
	listenDrainTimeout = 30 * time.Second
	defaultListenAddr  = "127.0.0.1:4242"
)

func runListen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "listen", "--secret S [--provider NAME] [--addr HOST:PORT] [--path P] [--store DSN] [--forward-to URL]", `
Receive webhooks locally with the library's receiver: each request is
verified, de-duplicated by its key and answered as the receiver answers
(401 for a bad signature, 400 for bad headers or a bad body, 200 for a
duplicate, which is not printed again). Each accepted event is printed on
stdout as one compact JSON line: with the default provider, webhookkit, its
envelope as received; with another, {"provider", "key", "type", "date",
"api_mode" (when the provider has modes), "data"}. Requests and everything
else are logged on stderr; a refused request with its status, its reason
and, when the answer explains what to fix, its hint.

--provider says whose webhooks these are: webhookkit (the default: the
library's own envelope), standard (any Standard Webhooks sender, such as the
Svix-based ones, with any JSON body), event-payload (Standard Webhooks
signatures over {"id", "event", "payload"}), github, stripe, shopify or
slack (whose url_verification challenge is answered). --secret may repeat
(during a rotation any one matching is enough); it is the secret in the
provider's form: whsec_ secrets and whpk_ Ed25519 public keys for
webhookkit, standard and event-payload, the webhook's signing secret as the
provider shows it otherwise. Without it, $WEBHOOK_SECRET is used.
--forward-to re-posts each accepted event, with its original body and
headers (so its signatures still verify), to a URL such as your
application's local webhook route, like "stripe listen --forward-to"; a
failed forward is retried a few times. --store keeps the de-duplication
inbox in a SQLite or PostgreSQL store instead of memory.

Once ready it prints "listening on http://HOST:PORT/PATH" on stderr (with
--addr 127.0.0.1:0 the port is chosen by the system; listening on all
interfaces, it prints 127.0.0.1) and the store it uses, with the PostgreSQL
schema. SIGINT or SIGTERM stops
accepting, drains the events accepted so far and exits 0; a second signal
exits at once.`, `
	$ webhook listen --secret "$S" --path /webhooks --forward-to http://localhost:3000/webhooks > events.jsonl
	webhook listen: listening on http://127.0.0.1:4242/webhooks

	$ webhook listen --provider github --secret "$GITHUB_WEBHOOK_SECRET" --path /github`)
	var secrets listFlag
	fs.Var(&secrets, "secret", "verifying `key`: whsec_... or whpk_..., or the provider's secret (repeatable; default $WEBHOOK_SECRET)")
	providerName := fs.String("provider", receiver.NameWebhookkit, providerHelp)
	addr := fs.String("addr", defaultListenAddr, "`HOST:PORT` to listen on (port 0: any free port)")
	path := fs.String("path", "/", "URL `path` webhooks are POSTed to")
	dsn := fs.String("store", "memory", dsnHelp)
	forwardTo := fs.String("forward-to", "", "re-post each accepted event to `URL`")
	mode := fs.String("mode", "", "accept only events of this api_mode, `test` or live (default: both; webhookkit and stripe only)")
	tolerance := fs.Duration("tolerance", receiver.DefaultTolerance, "accepted distance between webhook-timestamp and now")
	verbose := fs.Bool("v", false, "log debug details on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
		return err
	}
	texts, err := secretsOrEnv(e, secrets)
	if err != nil {
		return err
	}
	prov, err := providerNamed(*providerName)
	if err != nil {
		return err
	}
	if standardKeys(prov) {
		if _, _, err := parseVerifyingKeys(texts); err != nil {
			return err
		}
	}
	if *mode != "" && prov.Name() != receiver.NameWebhookkit && prov.Name() != receiver.NameStripe {
		return usagef("--mode applies to the webhookkit and stripe providers only")
	}
	if !strings.HasPrefix(*path, "/") {
		return usagef("--path must start with /")
	}
	if *mode != "" && !event.Mode(*mode).Valid() {
		return usagef("--mode must be test or live")
	}
	if *tolerance <= 0 {
		return usagef("--tolerance must be positive")
	}
	if *forwardTo != "" {
		u, err := url.Parse(*forwardTo)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--forward-to must be an absolute http or https URL")
		}
	}
	log := newLogger(e, *verbose)

	st, err := openStore(ctx, *dsn, migrate)
	if err != nil {
		return err
	}
	defer st.close()

	keys := make([]receiver.Key, len(texts))
	for i, t := range texts {
		keys[i] = receiver.Key{Text: t, Mode: event.Mode(*mode)}
	}
	l := &listener{out: &jsonLines{w: e.stdout}, log: log, provider: prov.Name()}
	cfg := &receiver.Config{
		Provider:  prov,
		Keys:      keys,
		Tolerance: *tolerance,
		Inbox:     inboxOf(st),
		Logger:    log,
		Hooks:     receiver.Hooks{OnResponse: l.logResponse},
	}
	if *forwardTo != "" {
		l.fwd = newForwarder(*forwardTo, log)
		cfg.Hooks.OnAccepted = l.fwd.accepted
		cfg.Hooks.OnDead = func(_ context.Context, ev event.Event, err error) {
			l.done(ev.ID)
			log.Error("webhook listen: gave up forwarding", "event_id", ev.ID, "error", err)
		}
	}
	rcv, err := receiver.New(l, cfg)
	if err != nil {
		return usagef("%v", err)
	}

	mux := http.NewServeMux()
	pattern := *path
	if pattern == "/" {
		pattern = "/{$}"
	}
	mux.Handle(pattern, rcv)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		log.Warn("webhook listen: no webhook route here", "method", r.Method, "path", r.URL.Path, "route", *path)
		http.NotFound(w, r)
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: listenReadTimeout,
		ReadTimeout:       listenReadTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if err := rcv.Start(context.WithoutCancel(ctx)); err != nil {
		_ = ln.Close()
		return err
	}
	where, note := browseAddr(ln.Addr())
	fmt.Fprintf(e.stderr, "webhook listen: listening on http://%s%s (store: %s%s)\n", where, *path, st.where, note)
	if l.fwd != nil {
		fmt.Fprintf(e.stderr, "webhook listen: forwarding accepted events to %s\n", sender.RedactURL(*forwardTo))
	}
	return serve(ctx, log, "webhook listen", "; draining accepted events", srv, ln, rcv.Shutdown)
}

// listener is listen's receiver callback.
type listener struct {
	out      *jsonLines
	log      *slog.Logger
	fwd      *forwarder // nil without --forward-to
	provider string     // the --provider name

	mu      sync.Mutex
	printed map[string]bool // events printed but not yet forwarded
}

// HandleEvent prints ev once and, with --forward-to, forwards it; a failed
// forward is returned so the receiver retries it (without printing again).
func (l *listener) HandleEvent(ctx context.Context, ev event.Event) error {
	if l.fwd == nil {
		return l.print(ev)
	}
	// Events are known by their id: the provider's key, unique within the
	// one provider listen serves.
	l.mu.Lock()
	if l.printed == nil {
		l.printed = make(map[string]bool)
	}
	first := !l.printed[ev.ID]
	l.printed[ev.ID] = true
	l.mu.Unlock()
	if first {
		if err := l.print(ev); err != nil {
			return err
		}
	}
	err := l.fwd.forward(ctx, ev, original(ctx))
	if err == nil {
		l.done(ev.ID)
	}
	return err
}

// done forgets an event that was forwarded or given up.
func (l *listener) done(id string) {
	l.fwd.forget(id)
	l.mu.Lock()
	delete(l.printed, id)
	l.mu.Unlock()
}

// printed is the line printed for an event of a provider other than
// webhookkit.
type printed struct {
	Provider string          `json:"provider"`
	Key      string          `json:"key"`
	Type     string          `json:"type"`
	Date     time.Time       `json:"date"`
	APIMode  event.Mode      `json:"api_mode,omitempty"`
	Data     json.RawMessage `json:"data"`
}

// print writes ev as one compact JSON line: its envelope for webhookkit's
// provider, a printed line for the others.
func (l *listener) print(ev event.Event) error {
	var b []byte
	var err error
	if l.provider == receiver.NameWebhookkit {
		b, err = ev.MarshalJSON()
	} else {
		b, err = json.Marshal(printed{Provider: l.provider, Key: ev.ID, Type: ev.Type, Date: ev.Date, APIMode: ev.APIMode, Data: ev.Data})
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	return l.out.writeRaw(buf.Bytes())
}

// logResponse logs every answered request on stderr.
func (l *listener) logResponse(ctx context.Context, ri receiver.ResponseInfo) {
	lvl := slog.LevelInfo
	if ri.Status >= 400 {
		lvl = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.Int("status", ri.Status), slog.String("reason", string(ri.Reason))}
	if ri.EventID != "" {
		attrs = append(attrs, slog.String("event_id", ri.EventID), slog.String("event_type", ri.EventType))
	}
	if ri.Hint != "" {
		attrs = append(attrs, slog.String("hint", ri.Hint))
	}
	l.log.LogAttrs(ctx, lvl, "webhook listen: request", attrs...)
}

// inboxOf returns the receiver's inbox for st: nil for memory (the
// receiver's own default, not durable), else the store.
func inboxOf(st *openedStore) store.Inbox {
	if !st.durable() {
		return nil
	}
	return st.st
}

// newLogger returns a text logger on stderr.
func newLogger(e *env, verbose bool) *slog.Logger {
	lvl := slog.LevelInfo
	if verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
}

// original returns the request of the event being handled as the receiver
// kept it (providers other than webhookkit; also after a re-drive from a
// durable store), or nil.
func original(ctx context.Context) *originalRequest {
	d, ok := receiver.DeliveryFrom(ctx)
	if !ok || d.Body == nil {
		return nil
	}
	return &originalRequest{body: d.Body, header: d.Header}
}
