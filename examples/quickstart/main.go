// Quickstart: webhookkit's sender and receiver in one process, with no setup.
//
//	go run ./examples/quickstart
//
// A sender on the in-memory store, given the provider's event catalog,
// registers two endpoints on a loopback port through its endpoint owner,
// which generates each one's secret: "healthy", and "flaky", which answers
// its first two requests with 503. Each secret configures the receiver of
// one consumer. The sender publishes three provider events, retries the
// flaky endpoint until it succeeds, then re-delivers an event the healthy
// endpoint already has, which the receiver recognises by its id and answers
// 200 without running the callback again. Finally it prints the attempt log
// and exits 0, in about a second.
//
// Production code differs in three places, each marked PRODUCTION below: the
// retry schedule (the default spans about three days), the private-network
// guard (on by default), and the store (SQLite or PostgreSQL, so that queued
// deliveries survive a restart).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// The quickstart gives up if it has not finished by then.
const deadline = 8 * time.Second

func main() {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := run(ctx, start); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart: FAILED:", err)
		os.Exit(1)
	}
}

// consumer is one receiving application: a receiver with its own secret and
// a record of what its callback handled.
type consumer struct {
	name   string
	secret signature.Secret
	rcv    *receiver.Receiver

	mu      sync.Mutex
	handled []event.Event
	changed chan struct{} // closed and replaced on every handled event
	dups    []string      // ids answered "duplicate"
	links   []fasten.DownloadLink
}

// newConsumer builds the receiving application of an endpoint whose secret
// the producer generated and showed once.
func newConsumer(name string, secret signature.Secret, logger *slog.Logger) (*consumer, error) {
	c := &consumer{name: name, secret: secret, changed: make(chan struct{})}

	// Route by event type, as an application would. The export handler
	// reads the typed data; everything else under patient.* is acknowledged.
	mux := receiver.NewMux()
	err := mux.Handle(fasten.TypeEHIExportSuccess, receiver.Typed(
		func(ctx context.Context, ev event.Event, d fasten.EHIExportSuccess) error {
			links := d.Links()
			if len(links) == 0 {
				return retry.Permanent(errors.New("export without download links"))
			}
			c.mu.Lock()
			c.links = links
			c.mu.Unlock()
			c.record(ev)
			return nil
		}))
	if err != nil {
		return nil, err
	}
	if err := mux.HandleFunc("patient.*", func(ctx context.Context, ev event.Event) error {
		c.record(ev)
		return nil
	}); err != nil {
		return nil, err
	}

	c.rcv, err = receiver.New(mux, &receiver.Config{
		Keys:   []receiver.Key{{Text: secret.String()}},
		Logger: logger,
		Hooks: receiver.Hooks{
			OnResponse: func(_ context.Context, info receiver.ResponseInfo) {
				if info.Reason == receiver.ReasonDuplicate {
					c.mu.Lock()
					c.dups = append(c.dups, info.EventID)
					c.mu.Unlock()
				}
			},
		},
	})
	return c, err
}

func (c *consumer) record(ev event.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handled = append(c.handled, ev)
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitHandled waits until the callback has handled n events.
func (c *consumer) waitHandled(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		got, changed := len(c.handled), c.changed
		c.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%s endpoint handled %d of %d events: %w", c.name, got, n, ctx.Err())
		}
	}
}

func (c *consumer) counts() (handled, dups int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.handled), len(c.dups)
}

// failFirst answers the first n requests with 503, then passes them on.
func failFirst(n int, next http.Handler) http.Handler {
	var mu sync.Mutex
	seen := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen++
		fail := seen <= n
		mu.Unlock()
		if fail {
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// attempts collects the sender's attempts as they are logged.
type attempts struct {
	mu      sync.Mutex
	n       int
	changed chan struct{}
}

func (a *attempts) add() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *attempts) wait(ctx context.Context, n int) error {
	for {
		a.mu.Lock()
		got, changed := a.n, a.changed
		a.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d attempts made: %w", got, n, ctx.Err())
		}
	}
}

func run(ctx context.Context, start time.Time) error {
	// Keep the demo's output readable: library logs at warning level and
	// above only, on stderr.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Println("webhookkit quickstart")
	fmt.Println("receiver listening on", base)

	// --- The producer: a sender on the in-memory store. ---
	// PRODUCTION: use store/sqlite or store/postgres; memory loses queued
	// deliveries when the process exits.
	st := memory.New(nil)
	var log attempts
	log.changed = make(chan struct{})
	s, err := sender.New(st, &sender.Config{
		// The event types this producer publishes: the provider's catalog.
		// The sender refuses to publish another type, and endpoints that
		// subscribe to none of them (a typo such as "patient.ehi_export_sucess").
		Catalog: fasten.Catalog(),
		// PRODUCTION: leave Retry nil for the default schedule (immediately,
		// 5 s, 5 min, 30 min, 2 h, ... about 3 days, with jitter). Short
		// delays make the demo finish in a second.
		Retry: retry.Schedule{Delays: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}},
		// PRODUCTION: leave this false. The sender refuses loopback and
		// private addresses by default, so a customer cannot point a webhook
		// at your internal services (SSRF); the demo's receiver is on
		// 127.0.0.1, so it has to be allowed here.
		AllowPrivateNetworks: true,
		Logger:               logger,
		Hooks: sender.Hooks{
			OnAttempt: func(context.Context, *store.Attempt) { log.add() },
		},
	})
	if err != nil {
		return err
	}

	// --- Register the endpoints, as customers would. ---
	// Endpoints belong to a tenant (the customer who registered them) and
	// subscribe to event-type patterns. The sender's endpoint owner checks
	// each one and generates its secret, shown once: the customer
	// configures their receiver with it.
	const tenant = "acme-health"
	eps := []struct {
		name, path string
		types      []string
	}{
		{"healthy", "/webhooks/healthy", []string{"patient.*"}},
		{"flaky", "/webhooks/flaky", []string{fasten.TypeEHIExportSuccess}},
	}
	ids := map[string]string{} // endpoint id -> name
	consumers := map[string]*consumer{}
	var healthyID string
	for _, e := range eps {
		ep := &store.Endpoint{Tenant: tenant, URL: base + e.path, EventTypes: e.types}
		secret, err := s.Endpoints().Create(ctx, ep)
		if err != nil {
			return err
		}
		ids[ep.ID] = e.name
		if e.name == "healthy" {
			healthyID = ep.ID
		}
		// --- The consumer of this endpoint: a receiver with its secret. ---
		if consumers[e.name], err = newConsumer(e.name, secret, logger); err != nil {
			return err
		}
		note := ""
		if e.name == "flaky" {
			note = ", answers 503 to its first 2 requests"
		}
		fmt.Printf("endpoint %-7s -> %s (%s%s)\n", e.name, ep.URL, strings.Join(e.types, ", "), note)
	}
	healthy, flaky := consumers["healthy"], consumers["flaky"]

	// The consumers' receivers behind one HTTP server.
	mux := http.NewServeMux()
	mux.Handle("/webhooks/healthy", healthy.rcv)
	mux.Handle("/webhooks/flaky", failFirst(2, flaky.rcv))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	for _, c := range []*consumer{healthy, flaky} {
		// WithoutCancel: the end of ctx would stop the receiver at once;
		// Shutdown drains it below instead.
		if err := c.rcv.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
	}
	if err := s.Start(ctx); err != nil {
		return err
	}

	// --- Publish three events with realistic payloads. ---
	fmt.Println()
	var published []event.Event
	for _, typ := range []string{fasten.TypeEHIExportSuccess, fasten.TypeEHIExportFailed, fasten.TypeConnectionSuccess} {
		sample, _ := fasten.Catalog().Lookup(typ)
		ev, err := event.New(event.ModeTest, typ, sample.Sample)
		if err != nil {
			return err
		}
		n, err := s.Publish(ctx, ev, sender.ToTenant(tenant), nil)
		if err != nil {
			return err
		}
		published = append(published, ev)
		fmt.Printf("published %-28s id %s... to %d endpoint(s)\n", typ, ev.ID[:8], n)
	}

	// --- Wait for the callbacks: 3 events on healthy, 1 on flaky. ---
	if err := healthy.waitHandled(ctx, 3); err != nil {
		return err
	}
	if err := flaky.waitHandled(ctx, 1); err != nil {
		return err
	}
	if err := log.wait(ctx, 3+3); err != nil { // healthy 3, flaky 503, 503, 200
		return err
	}
	all, err := listAttempts(ctx, st)
	if err != nil {
		return err
	}
	fmt.Println()
	h, _ := healthy.counts()
	fmt.Printf("delivered %d/%d events to healthy endpoint\n", h, len(published))
	var flakyStatuses []string
	for _, a := range all {
		if ids[a.EndpointID] == "flaky" {
			flakyStatuses = append(flakyStatuses, fmt.Sprint(a.StatusCode))
		}
	}
	healthy.mu.Lock()
	for _, l := range healthy.links {
		fmt.Printf("healthy endpoint read download_links: %s file (%s)\n", l.ExportType, l.ContentType)
	}
	healthy.mu.Unlock()
	f, _ := flaky.counts()
	fmt.Printf("delivered %d/1 events to flaky endpoint after %d attempts\n", f, len(flakyStatuses))
	if len(flakyStatuses) != 3 {
		return fmt.Errorf("flaky endpoint: %d attempts, want 3", len(flakyStatuses))
	}
	fmt.Printf("retried: flaky endpoint answered %s, then %s (retry delays 100ms, 200ms)\n",
		strings.Join(flakyStatuses[:2], ", "), flakyStatuses[2])

	// --- A duplicate: deliver the first event to healthy once more. ---
	// This is what happens when a sender never saw the 200 (a timeout, a
	// crash) and tries again, or an operator replays a delivery: the same
	// event id arrives again, freshly signed. The receiver remembers the id,
	// answers 200 so the sender stops, and does not run the callback again.
	ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: tenant, EndpointID: healthyID, EventID: published[0].ID})
	if err != nil {
		return err
	}
	if len(ds) != 1 {
		return fmt.Errorf("found %d deliveries of the first event to healthy, want 1", len(ds))
	}
	if err := s.Retry(ctx, ds[0].ID); err != nil {
		return err
	}
	// WaitIdle returns once everything due has been delivered (or given
	// up) and no attempt is in flight: the re-delivery is in the log.
	if err := s.WaitIdle(ctx); err != nil {
		return err
	}
	all, err = listAttempts(ctx, st)
	if err != nil {
		return err
	}
	last := all[len(all)-1]
	handled, dups := healthy.counts()
	stats := healthy.rcv.Stats()
	if dups != 1 || handled != 3 || stats.Handled != 3 || last.StatusCode != http.StatusOK {
		return fmt.Errorf("duplicate not ignored: status %d, %d duplicates, callback ran %d times", last.StatusCode, dups, handled)
	}
	fmt.Printf("duplicate ignored: event %s... delivered again, answered %d, callback ran %d times for %d events\n",
		published[0].ID[:8], last.StatusCode, handled, len(published))

	// --- The attempt log, oldest first. ---
	fmt.Println()
	fmt.Println("attempt log (oldest first):")
	fmt.Printf("  %-8s %-28s %-9s %-7s %s\n", "ENDPOINT", "EVENT TYPE", "EVENT", "ATTEMPT", "STATUS")
	for _, a := range all {
		status := fmt.Sprint(a.StatusCode)
		switch {
		case !a.Success:
			status += " (will retry)"
		case a == last:
			status += " (duplicate: acknowledged, not handled again)"
		}
		fmt.Printf("  %-8s %-28s %-9s %-7d %s\n", ids[a.EndpointID], a.EventType, a.EventID[:8], a.Number, status)
	}

	// --- Stop everything gracefully. ---
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := s.Shutdown(sctx); err != nil {
		return fmt.Errorf("sender shutdown: %w", err)
	}
	// The sender has stopped, so no request is in flight: close the HTTP
	// server at once. (Its Shutdown would wait up to 5 s for connections
	// the sender's pool dialed but never used: net/http counts a new
	// connection as idle only after 5 s.) A consumer in its own process
	// calls srv.Shutdown first, then the receiver's Shutdown, as
	// examples/consumer does.
	if err := srv.Close(); err != nil {
		return fmt.Errorf("server close: %w", err)
	}
	// Receiver.Shutdown drains what was accepted: every event answered 200
	// is handled before it returns.
	for _, c := range []*consumer{healthy, flaky} {
		if err := c.rcv.Shutdown(sctx); err != nil {
			return fmt.Errorf("receiver shutdown: %w", err)
		}
	}
	fmt.Println()
	fmt.Printf("quickstart: ok (%d attempts, %d events handled, 1 duplicate ignored, %.1fs)\n",
		len(all), handled+f, time.Since(start).Seconds())
	return nil
}

// listAttempts returns the whole attempt log, oldest first.
func listAttempts(ctx context.Context, st store.Attempts) ([]*store.Attempt, error) {
	var all []*store.Attempt
	f := store.AttemptFilter{AllTenants: true, Page: store.Page{Limit: store.MaxPageSize}}
	for {
		page, cursor, err := st.ListAttempts(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if cursor == "" {
			break
		}
		f.Page.Cursor = cursor
	}
	slices.Reverse(all) // ListAttempts is newest first
	return all, nil
}
