// Consumer: an existing HTTP service that receives webhooks at /webhooks.
//
//	WEBHOOK_SECRET=whsec_... go run ./examples/consumer
//	go run ./examples/consumer -secret whsec_... -addr 127.0.0.1:8081
//
// The service already has an http.ServeMux with its own routes; the receiver
// is one more handler on it. The receiver verifies each request's signature
// with the endpoint's secret, de-duplicates by event id, answers at once, and
// hands events to the routes below on a pool of workers: the export handler
// reads the download links of patient.ehi_export_success (typed data from
// event/fasten), and every other type is acknowledged and logged.
//
// The secret is the one the producer showed when the endpoint was registered
// (see examples/producer, whose -store flag also describes the stores).
// With -inbox sqlite:PATH the receiver keeps accepted events in SQLite until
// they are handled, so a crash between the 200 and the handler loses nothing;
// by default the de-duplication inbox is in memory.
//
// SIGINT or SIGTERM stops taking requests, lets the accepted events finish,
// and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "`host:port` to listen on")
	secret := flag.String("secret", os.Getenv("WEBHOOK_SECRET"), "the endpoint's signing `secret` (whsec_...); default $WEBHOOK_SECRET")
	inbox := flag.String("inbox", "", "keep the inbox durably in `sqlite:PATH` (default: in memory)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *secret == "" {
		fmt.Fprintln(os.Stderr, "consumer: set -secret or WEBHOOK_SECRET to the endpoint's secret")
		os.Exit(2)
	}
	if err := run(*addr, *secret, *inbox, logger); err != nil {
		logger.Error("consumer: " + err.Error())
		os.Exit(1)
	}
}

func run(addr, secret, inboxDSN string, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// --- Route events by type. ---
	events := receiver.NewMux()
	if err := events.Handle(fasten.TypeEHIExportSuccess, receiver.Typed(onExportReady(logger))); err != nil {
		return err
	}
	// Other types are acknowledged (answered 200 and marked handled).
	// Without a default handler the receiver would acknowledge them too,
	// counting them as dropped.
	events.Default(receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		logger.Info("consumer: acknowledged", "event_id", ev.ID, "event_type", ev.Type)
		return nil
	}))

	cfg := &receiver.Config{
		// Several keys may be listed during a secret rotation.
		Keys:   []receiver.Key{{Text: secret}},
		Logger: logger,
		Hooks: receiver.Hooks{
			OnDead: func(ctx context.Context, ev event.Event, err error) {
				// The callback failed for good (after retries): alert, or keep
				// the event for a manual replay.
				logger.Error("consumer: event dead-lettered", "event_id", ev.ID, "event_type", ev.Type, "err", err)
			},
		},
	}
	if inboxDSN != "" {
		path, ok := strings.CutPrefix(inboxDSN, "sqlite:")
		if !ok || path == "" {
			return fmt.Errorf("-inbox %q: want sqlite:PATH", inboxDSN)
		}
		st, err := sqlite.Open(path, nil)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Migrate(ctx); err != nil {
			return err
		}
		cfg.Inbox = st // durable: accepted events survive a crash and are re-driven
	}
	rcv, err := receiver.New(events, cfg)
	if err != nil {
		return err // a malformed secret is refused here, never ignored
	}
	// The receiver answers 503 (Retry-After) until Start, so senders retry.
	if err := rcv.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}

	// --- The application's existing mux, with the receiver mounted. ---
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/webhooks", rcv) // the receiver answers non-POST methods with 405 itself

	srv := &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	logger.Info("consumer: receiving webhooks", "url", "http://"+addr+"/webhooks")

	select {
	case err := <-serveErr:
		_ = rcv.Close()
		return err
	case <-ctx.Done():
	}
	logger.Info("consumer: shutting down")
	stop() // a second signal kills the process

	// First stop taking requests, then drain the events already accepted
	// (answered 200): with the memory inbox, an event left unhandled here
	// would be lost.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if rerr := rcv.Shutdown(sctx); rerr != nil {
		err = errors.Join(err, fmt.Errorf("receiver shutdown: %w", rerr))
	}
	st := rcv.Stats()
	logger.Info("consumer: stopped", "accepted", st.Accepted, "duplicates", st.Duplicates, "handled", st.Handled, "dead", st.Dead)
	return err
}

// onExportReady handles patient.ehi_export_success: it reads the download
// links the provider sends (one JSONL file by default, more when extra formats
// are enabled). A real application would enqueue a job to fetch the files;
// the signed URLs are credentials, so only their host is logged.
func onExportReady(logger *slog.Logger) func(context.Context, event.Event, fasten.EHIExportSuccess) error {
	return func(ctx context.Context, ev event.Event, d fasten.EHIExportSuccess) error {
		if err := d.Validate(); err != nil {
			// Retrying cannot fix a payload: dead-letter it at once.
			return retry.Permanent(fmt.Errorf("export %s: %w", d.TaskID, err))
		}
		for _, link := range d.Links() { // Links also reads the older single download_link
			host := ""
			if u, err := url.Parse(link.URL); err == nil {
				host = u.Host
			}
			logger.Info("consumer: export ready",
				"event_id", ev.ID, "org_connection_id", d.OrgConnectionID,
				"export_type", link.ExportType, "content_type", link.ContentType,
				"host", host, "total_resources", d.Stats.TotalResources)
		}
		return nil
	}
}
