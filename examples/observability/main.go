// Observability: webhookkit's sender and receiver hooks wired to Prometheus
// metrics and OpenTelemetry traces.
//
//	cd examples/observability && go run .            # demo, prints spans and metrics, exits
//	cd examples/observability && go run . -serve     # keeps serving /metrics until Ctrl-C
//
// The library imports neither Prometheus nor OpenTelemetry: it offers hooks
// (sender.Hooks, receiver.Hooks, receiver.Receiver.Stats) and a transport
// wrapper (sender.Config.WrapTransport). This example, in its own Go module
// so that the library does not depend on them, shows the wiring:
//
//   - metrics.go: sender attempts, durations, give-ups, endpoint health and
//     circuit breakers (transitions, and a gauge of those open);
//     receiver requests by status and reason, callback attempts by result,
//     queue sizes (webhookkit_* metrics, served at /metrics);
//   - tracing.go: a client span per delivery attempt that propagates W3C
//     traceparent, a server span per received request that continues it, and
//     a span per callback attempt.
//
// The demo runs both sides in one process on loopback: the endpoint fails
// its first request with 503, so the metrics show a retry. Spans are printed
// by OpenTelemetry's stdout exporter, one JSON object per span; in production
// use an OTLP exporter instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "`host:port` for the webhook receiver and /metrics")
	serve := flag.Bool("serve", false, "keep serving /metrics after the demo, until SIGINT or SIGTERM")
	flag.Parse()
	if err := run(*addr, *serve); err != nil {
		fmt.Fprintln(os.Stderr, "observability:", err)
		os.Exit(1)
	}
}

func run(addr string, serve bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// --- OpenTelemetry: a tracer provider exporting to stdout. ---
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter)) // production: WithBatcher and OTLP
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tracer := tp.Tracer("github.com/webhookkit/webhookkit/examples/observability")
	prop := propagation.TraceContext{}

	// --- Prometheus: a registry with Go runtime metrics and ours. ---
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sm := newSenderMetrics(reg)
	rm := newReceiverMetrics(reg)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()

	// --- The sender (the producer side). ---
	st := memory.New(nil)
	s, err := sender.New(st, &sender.Config{
		Catalog:       fasten.Catalog(),
		Hooks:         sm.hooks(),
		WrapTransport: tracingTransport(tracer, prop),
		// Demo settings: quick retries, and the receiver is on loopback.
		// Production leaves both at their defaults.
		Retry:                retry.Schedule{Delays: []time.Duration{100 * time.Millisecond}},
		AllowPrivateNetworks: true,
		Logger:               logger,
	})
	if err != nil {
		return err
	}
	// The sender's endpoint owner registers the endpoint and generates its
	// secret, which the receiver below verifies with.
	secret, err := s.Endpoints().Create(ctx, &store.Endpoint{
		URL:        base + "/webhooks",
		EventTypes: []string{"patient.*"},
	})
	if err != nil {
		return err
	}

	// --- The receiver (the consumer side). ---
	var handled atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	const events = 3
	rcv, err := receiver.New(receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		if handled.Add(1) == events {
			once.Do(func() { close(done) })
		}
		return nil
	}), &receiver.Config{
		Keys:   []receiver.Key{{Text: secret.String()}},
		Logger: logger,
		Hooks:  rm.hooks(receiver.Hooks{OnCallback: callbackSpans(tracer)}),
	})
	if err != nil {
		return err
	}
	rm.registerStats(reg, rcv)
	if err := rcv.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}

	var requests atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/webhooks", tracingMiddleware(tracer, prop, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 { // the demo endpoint fails its first request
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		rcv.ServeHTTP(w, r)
	})))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	if err := s.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	for _, typ := range []string{fasten.TypeEHIExportSuccess, fasten.TypeEHIExportFailed, fasten.TypeConnectionSuccess} {
		sample, _ := fasten.Catalog().Lookup(typ)
		ev, err := event.New(event.ModeTest, typ, sample.Sample)
		if err != nil {
			return err
		}
		if _, err := s.Publish(ctx, ev, sender.ToTenant(""), nil); err != nil {
			return err
		}
	}

	fmt.Println("# spans (stdout exporter):")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return errors.New("events not handled within 10 s")
	case <-ctx.Done():
		return ctx.Err()
	}

	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		return err
	}
	if err := rcv.Shutdown(sctx); err != nil {
		return err
	}

	// --- Scrape our own /metrics, as Prometheus would. ---
	fmt.Println("\n# webhookkit metrics from", base+"/metrics:")
	if err := printMetrics(sctx, base+"/metrics"); err != nil {
		return err
	}
	if serve {
		fmt.Println("\nserving", base+"/metrics until SIGINT or SIGTERM")
		<-ctx.Done()
	}
	return srv.Close()
}

// printMetrics prints the webhookkit_* samples of a scrape.
func printMetrics(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "webhookkit_") && !strings.Contains(line, "_bucket{") {
			fmt.Print(line)
		}
	}
	return nil
}
