// Producer: a small service that publishes webhooks from its own HTTP API,
// with the transactional outbox.
//
//	go run ./examples/producer                               # SQLite file producer.db
//	go run ./examples/producer -store postgres://user@localhost:5432/app
//
// The service keeps "exports" (a patient's health-record export) in its own
// table. Completing or failing an export is one database transaction that
// updates the exports row AND enqueues the webhook deliveries (PublishTx), so
// a webhook goes out if and only if the change commits: no webhook for a
// rolled-back change, no lost webhook after a crash between the two. The
// sender, started in the same process, delivers what was committed, with
// retries; several instances may share one PostgreSQL database.
//
// Try it with examples/consumer (run it first; it prints its secret and URL):
//
//	go run ./examples/producer -allow-private-networks   # the consumer is on localhost
//	curl -s localhost:8080/endpoints -d '{"tenant":"acme","url":"http://127.0.0.1:8081/webhooks","event_types":["patient.*"]}'
//	# prints {"id":"...","secret":"whsec_..."}: start the consumer with that secret
//	curl -s localhost:8080/exports -d '{"tenant":"acme","org_connection_id":"conn-1"}'
//	curl -s -X POST localhost:8080/exports/EXPORT_ID/complete
//	curl -s 'localhost:8080/deliveries?tenant=acme'
//
// API (JSON):
//
//	POST /endpoints               {tenant, url, event_types, description} -> {id, secret}
//	                              (422 {error, field} when the sender refuses a field)
//	GET  /endpoints?tenant=T      the tenant's endpoints (secrets are never listed)
//	POST /exports                 {tenant, org_connection_id} -> {id}
//	POST /exports/{id}/complete   publishes patient.ehi_export_success
//	POST /exports/{id}/fail       {failure_reason} publishes patient.ehi_export_failed
//	GET  /deliveries?tenant=T     the tenant's latest deliveries and their state
//	/api/webhooks, /api/webhook-events   the customers' webhook management API
//	                              (package webhookapi; "Authorization: Bearer ORG")
//
// An export's events are published for its organization (tenant) and its
// org connection as the account: they reach the organization-wide webhooks
// and those installed on that connection. For example:
//
//	curl -s localhost:8080/api/webhooks -H 'Authorization: Bearer acme' -H 'Content-Type: application/json' \
//	  -d '{"organization":"acme","account":"conn-1","active":true,"url":"http://127.0.0.1:8081/webhooks","events":"patient","format":"envelope"}'
//	curl -s localhost:8080/api/webhook-events -H 'Authorization: Bearer acme' -H 'Content-Type: application/json' \
//	  -d '{"webhook":"WEBHOOK_ID","event":"ping"}'
//
// Webhooks created there without "format" get {"id", "event", "payload"}
// bodies, signed like the envelope; "format":"envelope" above gives the
// standard envelope that examples/consumer reads.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/sender"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`host:port` to serve the API on")
	dsn := flag.String("store", "sqlite:producer.db", "`store`: sqlite:PATH or a postgres:// connection string")
	allowPrivate := flag.Bool("allow-private-networks", false,
		"let webhooks go to loopback and private addresses (local development only)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *dsn, *allowPrivate, logger); err != nil {
		logger.Error("producer: " + err.Error())
		os.Exit(1)
	}
}

func run(addr, dsn string, allowPrivate bool, logger *slog.Logger) error {
	// SIGINT or SIGTERM cancels ctx and starts the graceful shutdown.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db, err := openDB(ctx, dsn, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	s, err := sender.New(db.Store(), &sender.Config{
		// The event types this service publishes. The sender refuses to
		// publish any other, and refuses endpoints whose patterns select
		// none of them (a customer's typo is a 422, not silence).
		Catalog: fasten.Catalog(),
		// Leave it false in production: it stops customers from pointing
		// webhooks at your internal network (SSRF).
		AllowPrivateNetworks: allowPrivate,
		Logger:               logger,
		// Deliveries enqueued by PublishTx go out as soon as their
		// transaction commits: the store notifies the started sender.
	})
	if err != nil {
		return err
	}
	// Start's context only carries values: the sender stops on Shutdown.
	if err := s.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}

	a, err := newAPI(db, s, logger)
	if err != nil {
		_ = s.Close()
		return err
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	logger.Info("producer: serving", "addr", addr, "store", db.Kind())

	select {
	case err := <-serveErr:
		_ = s.Close()
		return err
	case <-ctx.Done():
	}
	logger.Info("producer: shutting down")
	stop() // a second signal kills the process

	// Stop taking API requests, then let the deliveries in flight finish.
	// Deliveries still queued stay in the database for the next start.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := s.Shutdown(sctx); serr != nil && !errors.Is(serr, sender.ErrClosed) {
		err = errors.Join(err, fmt.Errorf("sender shutdown: %w", serr))
	}
	return err
}
