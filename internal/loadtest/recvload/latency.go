package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// Issue 15's latency goals at 1,000 events/s offered.
const (
	goalRate = 1000
	goalP95  = 50 * time.Millisecond
	goalP99  = 200 * time.Millisecond
)

// Publishing counts as keeping up when every event in the window was
// published within maxLag of its due time.
const maxLag = 100 * time.Millisecond

// latencyResult is what one latency run measured: the events due in the
// measured window, published at the offered rate, and their callbacks.
type latencyResult struct {
	Store     string  `json:"store"`
	Rate      int     `json:"rate"` // offered, events/s
	Window    float64 `json:"window_s"`
	Published int     `json:"published"` // due in the window and published
	Failed    int     `json:"publish_errors"`
	Delivered int     `json:"delivered"` // of those, handed to the callback
	// PublishedRate and DeliveredRate are per second of the window: events
	// published in it, and callbacks that ran in it (of any event).
	PublishedRate float64 `json:"published_per_s"`
	DeliveredRate float64 `json:"delivered_per_s"`
	MaxLagMs      float64 `json:"max_publish_lag_ms"` // latest start of a Publish after its due time
	P50ms         float64 `json:"p50_ms"`             // publish -> callback
	P95ms         float64 `json:"p95_ms"`
	P99ms         float64 `json:"p99_ms"`
	// RecvP50ms and RecvP95ms are the receiver's part: from the first
	// request for the event reaching the receiver's handler to the
	// callback; the rest is the sender's (publish, wake-up, lease, POST).
	RecvP50ms float64 `json:"receiver_p50_ms"`
	RecvP95ms float64 `json:"receiver_p95_ms"`
	MaxMs     float64 `json:"max_ms"`
	Twice     int     `json:"callbacks_twice"` // events whose callback ran more than once
	Sustained bool    `json:"sustained"`
	Receiver  receiver.Stats
}

// latencyConfig is one latency run's setting.
type latencyConfig struct {
	kind           string
	rate           int
	warmup, window time.Duration
	drain          time.Duration
	publishers     int
	senderWorkers  int
	maxInFlight    int
	maxConns       int
}

// latencyCmd is the "latency" subcommand.
func latencyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("recvload latency", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("store", loadtest.Postgres, "the store of both the sender's outbox and the receiver's inbox: postgres (DSN from "+loadtest.EnvDSN+"), sqlite or memory")
	rates := fs.String("rates", "300,1000", "offered rates, events/s, comma-separated; one run each")
	d := fs.Duration("d", 10*time.Second, "measured duration of each run")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured publishing before -d")
	drain := fs.Duration("drain", time.Minute, "how long to wait for the last callbacks after publishing")
	publishers := fs.Int("publishers", 16, "goroutines calling Publish")
	workers := fs.Int("sender-workers", 0, "the sender's Workers (0: its default)")
	inFlight := fs.Int("max-in-flight", 32, "the endpoint's MaxInFlight (0: the sender's default)")
	maxConns := fs.Int("max-conns", 40, "PostgreSQL: the pool's MaxConns, shared by the sender, its publishers and the receiver")
	asJSON := fs.Bool("json", false, "print each result as one line: latency {json}")
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	var rs []int
	for f := range strings.SplitSeq(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return usageError{Err: fmt.Errorf("-rates: %q is not a positive rate", f)}
		}
		rs = append(rs, n)
	}
	if *d <= 0 || *warmup < 0 || *drain <= 0 || *publishers < 1 || *workers < 0 || *inFlight < 0 || *maxConns < 1 {
		return usageError{Err: errors.New("-d, -drain and -publishers must be positive, -warmup, -sender-workers and -max-in-flight not negative")}
	}
	switch *kind {
	case loadtest.Memory, loadtest.SQLite, loadtest.Postgres:
	default:
		return usageError{Err: fmt.Errorf("unknown -store %q", *kind)}
	}
	fmt.Fprintf(stdout, "machine: %s\n", loadtest.ThisMachine())
	fmt.Fprintf(stdout, "recvload latency: sender and receiver in one process, both on %s; %v measured after %v, %d-byte events, %d publishers, endpoint MaxInFlight %d\n\n",
		*kind, *d, *warmup, loadtest.BodySize, *publishers, *inFlight)
	var res []latencyResult
	for _, rate := range rs {
		r, err := runLatency(ctx, latencyConfig{kind: *kind, rate: rate, warmup: *warmup, window: *d, drain: *drain,
			publishers: *publishers, senderWorkers: *workers, maxInFlight: *inFlight, maxConns: *maxConns})
		if err != nil {
			return fmt.Errorf("rate %d: %w", rate, err)
		}
		if *asJSON {
			b, _ := json.Marshal(r)
			fmt.Fprintf(stdout, "latency %s\n", b)
		}
		res = append(res, r)
	}
	return latencyReport(stdout, res)
}

// latencyReport prints the runs and the verdict on issue 15's goals; it
// fails if an event was lost or handed to the callback twice.
func latencyReport(w io.Writer, res []latencyResult) error {
	fmt.Fprintln(w, "| offered/s | published/s | delivered/s | max publish lag | p50 | p95 | p99 | max | receiver p50 | receiver p95 | 503 | sustained |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	var problems []string
	for _, r := range res {
		fmt.Fprintf(w, "| %d | %.0f | %.0f | %.0f ms | %.1f ms | %.1f ms | %.1f ms | %.0f ms | %.1f ms | %.1f ms | %d | %v |\n",
			r.Rate, r.PublishedRate, r.DeliveredRate, r.MaxLagMs, r.P50ms, r.P95ms, r.P99ms, r.MaxMs,
			r.RecvP50ms, r.RecvP95ms, r.Receiver.Unavailable, r.Sustained)
		if r.Delivered != r.Published {
			problems = append(problems, fmt.Sprintf("rate %d: %d of %d published events reached the callback", r.Rate, r.Delivered, r.Published))
		}
		if r.Twice > 0 {
			problems = append(problems, fmt.Sprintf("rate %d: %d events handed to the callback twice", r.Rate, r.Twice))
		}
		if r.Failed > 0 {
			problems = append(problems, fmt.Sprintf("rate %d: %d Publish calls failed", r.Rate, r.Failed))
		}
		if r.Rate == goalRate {
			verdict := "met"
			if !r.Sustained || r.P95ms > ms(goalP95) || r.P99ms > ms(goalP99) {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "\ngoal at %d/s: sustained, p95 <= %v, p99 <= %v: %s\n", goalRate, goalP95, goalP99, verdict)
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(w, "PROBLEM:", p)
		}
		return fmt.Errorf("%d sanity check(s) failed", len(problems))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// tracker remembers when each event was published and when its callback
// ran.
type tracker struct {
	mu       sync.Mutex
	pub      map[string]time.Time // publish start, by event id
	lat      map[string]time.Duration
	arrived  map[string]time.Time // first request reaching the receiver
	recv     map[string]time.Duration
	twice    int
	handled  atomic.Int64
	from, to time.Time // the window, for counting callbacks in it
	inWindow atomic.Int64
}

func (t *tracker) published(id string, at time.Time) {
	t.mu.Lock()
	t.pub[id] = at
	t.mu.Unlock()
}

// arrival notes when a request for the event id first reached the
// receiver.
func (t *tracker) arrival(id string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.arrived[id]; !ok {
		t.arrived[id] = at
	}
}

func (t *tracker) callback(id string) {
	now := time.Now()
	if !now.Before(t.from) && now.Before(t.to) {
		t.inWindow.Add(1)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.lat[id]; ok {
		t.twice++
		return
	}
	if at, ok := t.pub[id]; ok {
		t.lat[id] = now.Sub(at)
	}
	if at, ok := t.arrived[id]; ok {
		t.recv[id] = now.Sub(at)
	}
	t.handled.Add(1)
}

// runLatency publishes at cfg.rate for warmup+window through a sender to a
// receiver in this process, both on a fresh store of cfg.kind, and measures
// publish -> callback latency for the events due in the window.
func runLatency(ctx context.Context, cfg latencyConfig) (res latencyResult, err error) {
	res = latencyResult{Store: cfg.kind, Rate: cfg.rate, Window: cfg.window.Seconds()}
	st, err := loadtest.OpenStore(ctx, cfg.kind, loadtest.StoreOptions{MaxConns: int32(cfg.maxConns)})
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	sec, err := signature.NewSecret()
	if err != nil {
		return res, err
	}
	src, err := loadtest.NewEventSource(sec, loadtest.BodySize, 1)
	if err != nil {
		return res, err
	}
	data := src.Data()
	tr := &tracker{pub: map[string]time.Time{}, lat: map[string]time.Duration{},
		arrived: map[string]time.Time{}, recv: map[string]time.Duration{}}

	rcv, err := receiver.New(receiver.HandlerFunc(func(_ context.Context, ev event.Event) error {
		tr.callback(ev.ID)
		return nil
	}), &receiver.Config{Keys: []receiver.Key{{Text: sec.String()}}, Inbox: st.Inbox, Logger: loadtest.Discard()})
	if err != nil {
		return res, err
	}
	if err := rcv.Start(context.WithoutCancel(ctx)); err != nil { // drained at the end
		return res, err
	}
	defer rcv.Close() //nolint:errcheck // returns nil; a no-op after Shutdown
	ln, err := loadtest.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	srvDone := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tr.arrival(req.Header.Get("Webhook-Id"), time.Now()) // the sender sets it to the event id
		rcv.ServeHTTP(w, req)
	})
	go func() { srvDone <- loadtest.Serve(srvCtx, ln, h) }()
	defer func() {
		stopSrv()
		err = errors.Join(err, <-srvDone)
	}()

	ep := &store.Endpoint{Mode: event.ModeTest, URL: "http://" + ln.Addr().String() + "/", EventTypes: []string{"*"},
		Secrets: []store.Secret{{Key: sec.String()}}, MaxInFlight: cfg.maxInFlight}
	if err := st.Sender.CreateEndpoint(ctx, ep); err != nil {
		return res, err
	}
	snd, err := sender.New(st.Sender, &sender.Config{Workers: cfg.senderWorkers, AllowPrivateNetworks: true, Logger: loadtest.Discard()})
	if err != nil {
		return res, err
	}
	if err := snd.Start(ctx); err != nil {
		return res, err
	}
	defer snd.Close() //nolint:errcheck // returns nil; a no-op after Shutdown

	// Event i is due at start + i/rate; the publishers take the next one,
	// wait until it is due and publish it (open loop: a slow Publish makes
	// the others start late, which the lag shows, not fewer events).
	interval := time.Second / time.Duration(cfg.rate)
	start := time.Now().Add(10 * time.Millisecond)
	tr.from, tr.to = start.Add(cfg.warmup), start.Add(cfg.warmup+cfg.window)
	total := int64((cfg.warmup + cfg.window) / interval)
	first := int64(cfg.warmup / interval) // the first event due in the window
	var (
		next           atomic.Int64
		failed, inWin  atomic.Int64
		lagMu          sync.Mutex
		maxLagInWindow time.Duration
		windowIDs      = make([]string, total-first)
		wg             sync.WaitGroup
	)
	for range cfg.publishers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				due := start.Add(time.Duration(i) * interval)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				id := uuid.NewString()
				now := time.Now()
				tr.published(id, now)
				ev := event.Event{APIMode: event.ModeTest, ID: id, Type: loadtest.EventType, Date: now, Data: data}
				if _, err := snd.Publish(ctx, ev, sender.ToTenant(""), nil); err != nil {
					failed.Add(1)
					continue
				}
				if i >= first {
					windowIDs[i-first] = id
					inWin.Add(1)
					lagMu.Lock()
					maxLagInWindow = max(maxLagInWindow, now.Sub(due))
					lagMu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("recvload: interrupted: %w", err)
	}
	// Wait for the last callbacks.
	want := total - failed.Load()
	end := time.Now().Add(cfg.drain)
	for tr.handled.Load() < want && time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := snd.Shutdown(sctx); err != nil {
		return res, fmt.Errorf("sender shutdown: %w", err)
	}
	if err := rcv.Shutdown(sctx); err != nil {
		return res, fmt.Errorf("receiver shutdown: %w", err)
	}

	tr.mu.Lock()
	defer tr.mu.Unlock()
	var lat, recv []time.Duration
	for _, id := range windowIDs {
		if id == "" {
			continue
		}
		res.Published++
		if l, ok := tr.lat[id]; ok {
			lat = append(lat, l)
		}
		if l, ok := tr.recv[id]; ok {
			recv = append(recv, l)
		}
	}
	slices.Sort(recv)
	res.RecvP50ms = ms(loadtest.Percentile(recv, 0.50))
	res.RecvP95ms = ms(loadtest.Percentile(recv, 0.95))
	res.Delivered = len(lat)
	res.Failed = int(failed.Load())
	res.Twice = tr.twice
	slices.Sort(lat)
	res.P50ms = ms(loadtest.Percentile(lat, 0.50))
	res.P95ms = ms(loadtest.Percentile(lat, 0.95))
	res.P99ms = ms(loadtest.Percentile(lat, 0.99))
	if len(lat) > 0 {
		res.MaxMs = ms(lat[len(lat)-1])
	}
	res.PublishedRate = float64(inWin.Load()) / cfg.window.Seconds()
	res.DeliveredRate = float64(tr.inWindow.Load()) / cfg.window.Seconds()
	res.MaxLagMs = ms(maxLagInWindow)
	res.Receiver = rcv.Stats()
	res.Sustained = maxLagInWindow <= maxLag && res.Delivered == res.Published &&
		res.DeliveredRate >= 0.95*float64(cfg.rate) && res.PublishedRate >= 0.98*float64(cfg.rate)
	return res, nil
}
