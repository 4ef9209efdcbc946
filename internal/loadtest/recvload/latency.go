package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
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
	Costs     latencyCosts `json:"costs"`
}

// latencyCosts is where a run's time went in the measured window, for
// finding what bounds it: CPU per event delivered in the window (a callback
// that ran in it: the work done, whether or not the run kept up), of this
// process and of the PostgreSQL server; the pool's waits for a free
// connection; the sender's leases; and the server's backends' wait events.
type latencyCosts struct {
	ProcessUS   float64 `json:"process_us"`   // this process's CPU (sender, receiver, publishers, HTTP), µs per event
	PGOursUS    float64 `json:"pg_ours_us"`   // the backends of this run's pool, µs per event
	PGAllUS     float64 `json:"pg_all_us"`    // every process of the server, µs per event
	PGOK        bool    `json:"pg_ok"`        // whether the server's CPU could be read
	BusyCores   float64 `json:"busy_cores"`   // CPU cores the whole machine kept busy
	PoolWaits   int64   `json:"pool_waits"`   // acquires that waited for a free connection
	PoolWaitMs  float64 `json:"pool_wait_ms"` // their total wait
	Leases      int64   `json:"leases"`       // the sender's Lease calls
	LeasedPer   float64 `json:"leased_per_lease"`
	EmptyLeases int64   `json:"empty_leases"` // Lease calls that found nothing due
	Settles     int64   `json:"settles"`      // the sender's Settle calls
	SettledPer  float64 `json:"settled_per_settle"`
	Commits     float64 `json:"commits_per_event"` // transactions the database committed (of every client), per event
	Waits       string  `json:"waits"`             // the backends' wait-event profile
	// PGPartsUS, with splitPools, splits PGOursUS by part: publish,
	// sender, receiver.
	PGPartsUS map[string]float64 `json:"pg_parts_us,omitempty"`
}

// appName is the application_name of the latency run's PostgreSQL
// connections, which picks its backends out of pg_stat_activity.
const appName = "recvload-latency"

// countingStore is a PostgreSQL store that counts the sender's leases and
// settles.
type countingStore struct {
	*postgres.Store
	leases, leased, empty atomic.Int64
	settles, settled      atomic.Int64
}

func (c *countingStore) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	ds, err := c.Store.Lease(ctx, req)
	c.leases.Add(1)
	c.leased.Add(int64(len(ds)))
	if len(ds) == 0 {
		c.empty.Add(1)
	}
	return ds, err
}

func (c *countingStore) Settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	c.settles.Add(1)
	c.settled.Add(int64(len(b.Settlements)))
	return c.Store.Settle(ctx, b)
}

// window measures a run's costs from its window's start to its end: call
// begin at the start, then end.
type window struct {
	st                 *loadtest.Store
	cs                 *countingStore
	pg                 *loadtest.PGCPU
	pg0                loadtest.PGSnapshot
	cpu0, busy0        time.Duration
	at0                time.Time
	waits0, commits0   int64
	waitDur0           time.Duration
	leases0, leased0   int64
	empty0             int64
	settles0, settled0 int64
	stopSampling       context.CancelFunc
	sampled            chan struct{}
	waits              map[string]int
	samples            int
	parts              []pgPart
}

// pgPart is one part's pool, with splitPools, for its backends' CPU.
type pgPart struct {
	name string
	pool *pgxpool.Pool
	pg   *loadtest.PGCPU
	pg0  loadtest.PGSnapshot
}

func (w *window) begin(ctx context.Context) {
	w.at0, w.cpu0 = time.Now(), loadtest.CPUTime()
	w.busy0, _ = loadtest.MachineBusy()
	if w.cs != nil {
		w.leases0, w.leased0, w.empty0 = w.cs.leases.Load(), w.cs.leased.Load(), w.cs.empty.Load()
		w.settles0, w.settled0 = w.cs.settles.Load(), w.cs.settled.Load()
	}
	if w.st.Pool == nil {
		return
	}
	ps := w.st.Pool.Stat()
	w.waits0, w.waitDur0 = ps.EmptyAcquireCount(), ps.EmptyAcquireWaitTime()
	w.commits0 = commits(ctx, w.st.Pool)
	w.pg = loadtest.NewPGCPU(ctx, w.st.Pool, appName)
	w.pg0 = w.pg.Snapshot(ctx)
	for i := range w.parts {
		p := &w.parts[i]
		p.pg = loadtest.NewPGCPU(ctx, p.pool, appName+"/"+p.name)
		p.pg0 = p.pg.Snapshot(ctx)
	}
	sctx, cancel := context.WithCancel(ctx)
	w.stopSampling, w.sampled = cancel, make(chan struct{})
	go func() { defer close(w.sampled); w.waits, w.samples = loadtest.SampleWaits(sctx, w.st.Pool, appName) }()
}

// commits returns how many transactions the database has committed, as
// its statistics say, or -1.
func commits(ctx context.Context, pool *pgxpool.Pool) int64 {
	var n int64
	if err := pool.QueryRow(ctx, "SELECT pg_stat_force_next_flush(), xact_commit FROM pg_stat_database WHERE datname = current_database()").Scan(nil, &n); err != nil {
		return -1
	}
	return n
}

// end returns the costs since begin, per event of n.
func (w *window) end(ctx context.Context, n int64) latencyCosts {
	var c latencyCosts
	elapsed := time.Since(w.at0)
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(max(n, 1)) }
	c.ProcessUS = per(loadtest.CPUTime() - w.cpu0)
	if busy, err := loadtest.MachineBusy(); err == nil {
		c.BusyCores = (busy - w.busy0).Seconds() / elapsed.Seconds()
	}
	if w.cs != nil {
		c.Leases = w.cs.leases.Load() - w.leases0
		c.EmptyLeases = w.cs.empty.Load() - w.empty0
		c.LeasedPer = float64(w.cs.leased.Load()-w.leased0) / float64(max(c.Leases, 1))
		c.Settles = w.cs.settles.Load() - w.settles0
		c.SettledPer = float64(w.cs.settled.Load()-w.settled0) / float64(max(c.Settles, 1))
	}
	if w.st.Pool == nil {
		return c
	}
	ps := w.st.Pool.Stat()
	c.PoolWaits, c.PoolWaitMs = ps.EmptyAcquireCount()-w.waits0, ms(ps.EmptyAcquireWaitTime()-w.waitDur0)
	if w.commits0 >= 0 {
		if n1 := commits(ctx, w.st.Pool); n1 >= 0 {
			c.Commits = float64(n1-w.commits0) / float64(max(n, 1))
		}
	}
	ours, all, ok := w.pg.Snapshot(ctx).Since(w.pg0)
	c.PGOursUS, c.PGAllUS, c.PGOK = per(ours), per(all), ok
	for _, p := range w.parts {
		if ours, _, ok := p.pg.Snapshot(ctx).Since(p.pg0); ok {
			if c.PGPartsUS == nil {
				c.PGPartsUS = map[string]float64{}
			}
			c.PGPartsUS[p.name] = per(ours)
			c.PGOursUS += per(ours)
		}
	}
	w.stopSampling()
	<-w.sampled
	c.Waits = loadtest.WaitProfile(w.waits, w.samples)
	return c
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
	noNotify       bool
	splitPools     bool   // PostgreSQL: a pool each for the publishers, the sender and the receiver
	cpuprofile     string // profile the run's publishing into this file; empty: none
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
	noNotify := fs.Bool("disable-notify", false, "PostgreSQL: set the store's DisableNotify (no NOTIFY per publish; the sender is woken in-process)")
	split := fs.Bool("split-pools", false, "PostgreSQL: give the publishers (through a sender of their own, not started), the sender and the receiver a pool of -max-conns each, "+
		"named apart in pg_stat_activity, to report the server's CPU per part; the started sender is then woken by the store's notifications only")
	cpuprofile := fs.String("cpuprofile", "", "profile each run's publishing (warm-up and window) into PREFIX-RATE.pprof")
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
	if *split && (*kind != loadtest.Postgres || *noNotify) {
		return usageError{Err: errors.New("-split-pools needs -store postgres and the store's notifications (not -disable-notify)")}
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
		lc := latencyConfig{kind: *kind, rate: rate, warmup: *warmup, window: *d, drain: *drain,
			publishers: *publishers, senderWorkers: *workers, maxInFlight: *inFlight, maxConns: *maxConns, noNotify: *noNotify, splitPools: *split}
		if *cpuprofile != "" {
			lc.cpuprofile = fmt.Sprintf("%s-%d.pprof", *cpuprofile, rate)
		}
		r, err := runLatency(ctx, lc)
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
	fmt.Fprintln(w, "\nwhere the window's time went, per event delivered in it: CPU of this process (publishers, sender, receiver, HTTP) and of the")
	fmt.Fprintln(w, "PostgreSQL server (its backends for this run, and all its processes), cores the machine kept busy, the database's commits")
	fmt.Fprintln(w, "(of every client), the pool's waits for a free connection, the sender's Lease calls (per second, deliveries per call, share finding none) and Settle calls:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| offered/s | process µs | PG ours µs | PG all µs | busy cores | commits | pool waits/s | pool wait ms/s | leases/s | per lease | empty | settles/s | per settle |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range res {
		c := r.Costs
		pg := func(v float64) string {
			if !c.PGOK {
				return "-"
			}
			return fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(w, "| %d | %.0f | %s | %s | %.2f | %.2f | %.0f | %.1f | %.0f | %.1f | %.0f%% | %.0f | %.1f |\n",
			r.Rate, c.ProcessUS, pg(c.PGOursUS), pg(c.PGAllUS), c.BusyCores, c.Commits, float64(c.PoolWaits)/r.Window, c.PoolWaitMs/r.Window,
			float64(c.Leases)/r.Window, c.LeasedPer, 100*float64(c.EmptyLeases)/float64(max(c.Leases, 1)), float64(c.Settles)/r.Window, c.SettledPer)
	}
	for _, r := range res {
		if p := r.Costs.PGPartsUS; p != nil {
			fmt.Fprintf(w, "\nPostgreSQL backends' CPU at %d/s by part, µs per event: publish %.0f, sender %.0f, receiver %.0f (the rest of PG ours: the main pool's, sampling)\n",
				r.Rate, p["publish"], p["sender"], p["receiver"])
		}
		if r.Costs.Waits != "" {
			fmt.Fprintf(w, "\nPostgreSQL backends at %d/s, per 20 ms sample (running: on a CPU or waiting for one; TYPE:EVENT: waiting): %s\n", r.Rate, r.Costs.Waits)
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

// sleepUntil sleeps until t and reports whether ctx was still live then.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
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
	st, err := loadtest.OpenStore(ctx, cfg.kind, loadtest.StoreOptions{MaxConns: int32(cfg.maxConns), AppName: appName, DisableNotify: cfg.noNotify})
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	// The publishers, the sender and the receiver share st, or with
	// splitPools each has a store on st's schema with a pool of its own.
	pubSt, sndSt, rcvSt := st, st, st
	win := &window{st: st}
	if cfg.splitPools {
		open := func(part string) (*loadtest.Store, error) {
			o, err := loadtest.OpenStore(ctx, cfg.kind, loadtest.StoreOptions{MaxConns: int32(cfg.maxConns), Schema: st.Schema, AppName: appName + "/" + part})
			if err != nil {
				return nil, err
			}
			win.parts = append(win.parts, pgPart{name: part, pool: o.Pool})
			return o, nil
		}
		if pubSt, err = open("publish"); err != nil {
			return res, err
		}
		defer func() { err = errors.Join(err, pubSt.Close()) }()
		if sndSt, err = open("sender"); err != nil {
			return res, err
		}
		defer func() { err = errors.Join(err, sndSt.Close()) }()
		if rcvSt, err = open("receiver"); err != nil {
			return res, err
		}
		defer func() { err = errors.Join(err, rcvSt.Close()) }()
	}
	outbox := sndSt.Sender
	if pg, ok := outbox.(*postgres.Store); ok {
		win.cs = &countingStore{Store: pg}
		outbox = win.cs
	}
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
	}), &receiver.Config{Keys: []receiver.Key{{Text: sec.String()}}, Inbox: rcvSt.Inbox, Logger: loadtest.Discard()})
	if err != nil {
		return res, err
	}
	// Labels name each part's goroutines (and those they start) in the
	// CPU profile: go tool pprof -tags.
	pprof.Do(ctx, pprof.Labels("part", "receiver"), func(ctx context.Context) {
		err = rcv.Start(context.WithoutCancel(ctx)) // drained at the end
	})
	if err != nil {
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
	pprof.Do(srvCtx, pprof.Labels("part", "receiver"), func(srvCtx context.Context) {
		go func() { srvDone <- loadtest.Serve(srvCtx, ln, h) }()
	})
	defer func() {
		stopSrv()
		err = errors.Join(err, <-srvDone)
	}()

	ep := &store.Endpoint{Mode: event.ModeTest, URL: "http://" + ln.Addr().String() + "/", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: sec.String()}}, MaxInFlight: cfg.maxInFlight}
	if err := st.Sender.CreateEndpoint(ctx, ep); err != nil {
		return res, err
	}
	snd, err := sender.New(outbox, &sender.Config{Workers: cfg.senderWorkers, AllowPrivateNetworks: true, Logger: loadtest.Discard()})
	if err != nil {
		return res, err
	}
	pprof.Do(ctx, pprof.Labels("part", "sender"), func(ctx context.Context) { err = snd.Start(ctx) })
	if err != nil {
		return res, err
	}
	defer snd.Close() //nolint:errcheck // returns nil; a no-op after Shutdown
	pub := snd
	if pubSt != sndSt {
		if pub, err = sender.New(pubSt.Sender, &sender.Config{AllowPrivateNetworks: true, Logger: loadtest.Discard()}); err != nil {
			return res, err
		}
		defer pub.Close() //nolint:errcheck // never started
	}

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
		costs          = make(chan latencyCosts, 1)
	)
	stopProf, err := loadtest.StartCPUProfile(cfg.cpuprofile)
	if err != nil {
		return res, err
	}
	defer stopProf()
	measured, stopMeasuring := context.WithCancel(ctx)
	defer stopMeasuring()
	go func() {
		defer close(costs)
		if !sleepUntil(measured, tr.from) {
			return
		}
		win.begin(measured)
		if sleepUntil(measured, tr.to) {
			costs <- win.end(measured, tr.inWindow.Load())
		}
	}()
	pubCtx := pprof.WithLabels(ctx, pprof.Labels("part", "publish"))
	for range cfg.publishers {
		wg.Go(func() {
			pprof.SetGoroutineLabels(pubCtx)
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
				if _, err := pub.Publish(ctx, ev, sender.ToTenant(""), nil); err != nil {
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
	stopProf()
	res.Costs = <-costs
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
