package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// instancesGoal is the throughput issue's goal: total deliveries/s must not
// fall as sender instances are added to one PostgreSQL store.
const instancesGoal = 1.0

// instancesConfig is the parsed command line of "instances".
type instancesConfig struct {
	instances   []int // instance counts to compare, in the given order
	n           int   // deliveries per run
	rounds      int
	c           int // workers: in total, or per instance with perInstance
	endpoints   int
	perInstance bool
	cpuprofile  string
}

// parseInstances parses the flags of "instances" (the -dsn flag, when set,
// is exported to this process's environment, which the instances inherit).
func parseInstances(args []string, stderr io.Writer) (instancesConfig, error) {
	fs := flag.NewFlagSet("sendload instances", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.String("instances", "1,3", "sender instance counts to compare, comma-separated; the first is the baseline")
	var cfg instancesConfig
	fs.IntVar(&cfg.n, "n", 20000, "deliveries per run")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds; each runs every instance count once, in alternating order")
	fs.IntVar(&cfg.c, "c", 32, "sender workers in total, split across the instances (see -per-instance)")
	fs.IntVar(&cfg.endpoints, "endpoints", 1, "endpoints the deliveries are spread over, round robin")
	fs.BoolVar(&cfg.perInstance, "per-instance", false, "give every instance -c workers instead of splitting -c across them")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "after the rounds, one more run per instance count with every instance profiling its timed part into PREFIX-K<count>-<i>.pprof")
	dsn := fs.String("dsn", "", "PostgreSQL DSN (loopback only); empty: "+loadtest.EnvDSN)
	if err := fs.Parse(args); err != nil {
		return cfg, usageError{Err: err}
	}
	if fs.NArg() > 0 {
		return cfg, usageError{Err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	var err error
	if cfg.instances, err = parseCounts(*list); err != nil {
		return cfg, usageError{Err: fmt.Errorf("-instances: %w", err)}
	}
	if cfg.n < 1 || cfg.rounds < 1 || cfg.c < 1 || cfg.endpoints < 1 {
		return cfg, usageError{Err: errors.New("-n, -rounds, -c and -endpoints must be positive")}
	}
	if k := slices.Max(cfg.instances); !cfg.perInstance && cfg.c < k {
		return cfg, usageError{Err: fmt.Errorf("-c %d cannot be split across %d instances", cfg.c, k)}
	}
	if *dsn != "" {
		if err := os.Setenv(loadtest.EnvDSN, *dsn); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// parseCounts parses "1,3": distinct positive instance counts.
func parseCounts(s string) ([]int, error) {
	var ks []int
	for f := range strings.SplitSeq(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		if slices.Contains(ks, k) {
			return nil, fmt.Errorf("%d is listed twice", k)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// workers returns each of k instances' workers: c each, or c split as
// evenly as it goes (the first ones get the remainder).
func (cfg instancesConfig) workers(k int) []int {
	w := make([]int, k)
	for i := range w {
		w[i] = cfg.c
		if !cfg.perInstance {
			w[i] = cfg.c / k
			if i < cfg.c%k {
				w[i]++
			}
		}
	}
	return w
}

// order returns the instance counts in round r's order: as given in odd
// rounds, reversed in even ones (1,3 then 3,1), so a drift of the machine
// over time weighs on every count alike.
func (cfg instancesConfig) order(r int) []int {
	ks := slices.Clone(cfg.instances)
	if r%2 == 0 {
		slices.Reverse(ks)
	}
	return ks
}

// instRun is one timed run of k instances.
type instRun struct {
	round    int
	k        int
	elapsed  time.Duration
	posts    int64 // POSTs the endpoint answered
	dups     int64 // POSTs beyond the first for an event
	recorded int64 // successful attempts the instances recorded
	poolWait time.Duration
	// CPU used over the timed part, see the report's legend; pgOK is
	// false when the PostgreSQL server's processes could not be read.
	senders, pgOurs, pgAll, endpoint, busy time.Duration
	pgOK                                   bool
	waits                                  map[string]int // non-idle samples of the instances' backends
	samples                                int
}

func (r instRun) rate(n int) float64 { return float64(n) / r.elapsed.Seconds() }

// instances is the "instances" command.
func instances(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseInstances(args, stderr)
	if err != nil {
		return err
	}
	if os.Getenv(loadtest.EnvDSN) == "" {
		return fmt.Errorf("%w (or pass -dsn): the instances share a PostgreSQL store", loadtest.ErrNoDSN)
	}
	stderr = loadtest.SyncWriter(stderr)
	sec, err := signature.NewSecret()
	if err != nil {
		return err
	}
	src, err := loadtest.NewEventSource(sec, loadtest.BodySize, 1)
	if err != nil {
		return err
	}
	ep := &countingEndpoint{}
	ln, err := loadtest.Listen(ctx, "")
	if err != nil {
		return err
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- loadtest.Serve(srvCtx, ln, ep) }()
	defer func() { stopSrv(); <-served }()
	url := "http://" + ln.Addr().String() + "/"

	out := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	for _, l := range instancesHeader(cfg) {
		out("%s", l)
	}
	var runs []instRun
	for r := 1; r <= cfg.rounds; r++ {
		for _, k := range cfg.order(r) {
			run, err := runInstances(ctx, cfg, k, url, sec, src, ep, stderr, "")
			if err != nil {
				return fmt.Errorf("%d instance(s), round %d: %w", k, r, err)
			}
			run.round = r
			runs = append(runs, run)
			out("%s", runRow(run, cfg.n))
		}
	}
	for _, l := range instancesSummary(cfg, runs) {
		out("%s", l)
	}
	if cfg.cpuprofile != "" {
		for _, k := range cfg.instances {
			if _, err := runInstances(ctx, cfg, k, url, sec, src, ep, stderr, cfg.cpuprofile); err != nil {
				return fmt.Errorf("%d instance(s), profiled: %w", k, err)
			}
		}
		out("")
		out("CPU profiles (one more run per instance count, timed part only): %s-K<count>-<i>.pprof", cfg.cpuprofile)
	}
	return nil
}

// instancesHeader is the report's head, down to the runs' table header.
func instancesHeader(cfg instancesConfig) []string {
	split := "in total, split across the instances"
	if cfg.perInstance {
		split = "per instance"
	}
	var each []string
	for _, k := range cfg.instances {
		ws := make([]string, 0, k)
		for _, w := range cfg.workers(k) {
			ws = append(ws, strconv.Itoa(w))
		}
		each = append(each, fmt.Sprintf("%d: %s", k, strings.Join(ws, "+")))
	}
	return []string{
		"machine: " + loadtest.ThisMachine().String(),
		fmt.Sprintf("sendload instances: %d deliveries per run to %d endpoint(s), %d workers %s (%s), %d round(s), %d-byte envelopes;",
			cfg.n, cfg.endpoints, cfg.c, split, strings.Join(each, "; "), cfg.rounds, loadtest.BodySize),
		"every instance is a process of its own on one PostgreSQL schema; nothing is pinned.",
		"CPU, in µs per delivery over the timed part: senders = the instances together; PG ours = the PostgreSQL",
		"backends serving them; PG all = every PostgreSQL server process (background writers and other clients too);",
		"endpoint = the endpoint's process. busy = CPU cores the whole machine kept busy. pool wait = time the",
		"instances' goroutines waited for a free connection (summed).",
		"",
		"| round | instances | deliveries/s | duplicates | senders µs | PG ours µs | PG all µs | endpoint µs | busy cores | pool wait ms |",
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
	}
}

// runRow is one run's row of the table instancesHeader begins.
func runRow(r instRun, n int) string {
	return fmt.Sprintf("| %d | %d | %.0f | %d | %s | %s | %s | %s | %.2f | %.0f |", r.round, r.k, r.rate(n), r.dups,
		perDeliveryUS(r.senders, n, true), perDeliveryUS(r.pgOurs, n, r.pgOK), perDeliveryUS(r.pgAll, n, r.pgOK),
		perDeliveryUS(r.endpoint, n, true), r.busy.Seconds()/r.elapsed.Seconds(), float64(r.poolWait)/float64(time.Millisecond))
}

func perDeliveryUS(d time.Duration, n int, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)/float64(n))
}

// instancesSummary is the report's end: medians per instance count, the
// PostgreSQL wait profile and the goal's verdict.
func instancesSummary(cfg instancesConfig, runs []instRun) []string {
	n := cfg.n
	byK := map[int][]instRun{}
	for _, r := range runs {
		byK[r.k] = append(byK[r.k], r)
	}
	med := func(rs []instRun, f func(instRun) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		return loadtest.Median(xs)
	}
	rate := func(r instRun) float64 { return r.rate(n) }
	us := func(get func(instRun) time.Duration) func(instRun) float64 {
		return func(r instRun) float64 { return float64(get(r)) / float64(time.Microsecond) / float64(n) }
	}
	base := cfg.instances[0]
	baseRate := med(byK[base], rate)
	lines := []string{
		"",
		"Medians:",
		"",
		fmt.Sprintf("| instances | workers each | deliveries/s | vs %d | duplicates (all rounds) | senders µs | PG ours µs | PG all µs | endpoint µs | busy cores |", base),
		"|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
	}
	for _, k := range cfg.instances {
		rs := byK[k]
		var dups int64
		pgOK := len(rs) > 0
		for _, r := range rs {
			dups += r.dups
			pgOK = pgOK && r.pgOK
		}
		pg := func(get func(instRun) time.Duration) string {
			if !pgOK {
				return "n/a"
			}
			return fmt.Sprintf("%.0f", med(rs, us(get)))
		}
		ws := cfg.workers(k)
		each := strconv.Itoa(ws[0])
		if ws[len(ws)-1] != ws[0] {
			each = fmt.Sprintf("%d-%d", ws[len(ws)-1], ws[0])
		}
		lines = append(lines, fmt.Sprintf("| %d | %s | %.0f | %.2f | %d | %.0f | %s | %s | %.0f | %.2f |", k, each,
			med(rs, rate), loadtest.Ratio(med(rs, rate), baseRate), dups,
			med(rs, us(func(r instRun) time.Duration { return r.senders })),
			pg(func(r instRun) time.Duration { return r.pgOurs }), pg(func(r instRun) time.Duration { return r.pgAll }),
			med(rs, us(func(r instRun) time.Duration { return r.endpoint })),
			med(rs, func(r instRun) float64 { return r.busy.Seconds() / r.elapsed.Seconds() })))
	}
	lines = append(lines, "",
		"PostgreSQL time of the instances' backends, all rounds: backends in each state per sample, on average",
		"(\"running\": active, on a CPU or waiting for one; TYPE:EVENT: active and waiting for that; idle ones left out):",
		"")
	for _, k := range cfg.instances {
		waits, samples := map[string]int{}, 0
		for _, r := range byK[k] {
			samples += r.samples
			for w, c := range r.waits {
				waits[w] += c
			}
		}
		lines = append(lines, fmt.Sprintf("- %d instance(s): %s (%d samples)", k, loadtest.WaitProfile(waits, samples), samples))
	}
	lines = append(lines, "")
	for _, k := range cfg.instances[1:] {
		ratio := loadtest.Ratio(med(byK[k], rate), baseRate)
		verdict := "met"
		if ratio < instancesGoal {
			verdict = "MISSED"
		}
		lines = append(lines, fmt.Sprintf("goal: total deliveries/s with %d instances >= with %d: %.2f, %s", k, base, ratio, verdict))
	}
	return lines
}

// runInstances runs k instances once on a fresh schema holding cfg.n
// published deliveries. With prof set, each instance profiles its timed
// part into prof-K<k>-<i>.pprof.
func runInstances(ctx context.Context, cfg instancesConfig, k int, url string, sec signature.Secret,
	src *loadtest.EventSource, ep *countingEndpoint, stderr io.Writer, prof string) (instRun, error) {
	run := instRun{k: k}
	st, err := loadtest.OpenStore(ctx, loadtest.Postgres, loadtest.StoreOptions{MaxConns: int32(cfg.c), AppName: "sendload-publish"})
	if err != nil {
		return run, err
	}
	defer st.Close() //nolint:errcheck // a temporary schema
	ids, err := publishAll(ctx, st, cfg, url, sec, src)
	if err != nil {
		return run, fmt.Errorf("publishing: %w", err)
	}
	if err := settleDatabase(ctx, st.Pool, st.Schema); err != nil {
		return run, err
	}
	t := ep.reset(ids)

	app := st.Schema // unique per run, so it names this run's connections
	var children []*loadtest.Child
	defer func() {
		for _, c := range children {
			c.Kill()
		}
	}()
	for i, w := range cfg.workers(k) {
		args := []string{"instance-child", "-schema", st.Schema, "-app", app, "-workers", strconv.Itoa(w),
			"-name", fmt.Sprintf("instance-%d-of-%d", i+1, k)}
		if prof != "" {
			args = append(args, "-cpuprofile", fmt.Sprintf("%s-K%d-%d.pprof", prof, k, i+1))
		}
		c, err := loadtest.StartChild(fmt.Sprintf("instance %d of %d", i+1, k), -1, stderr, args...)
		if err != nil {
			return run, err
		}
		children = append(children, c)
	}
	exited := make(chan string, k)
	for _, c := range children {
		if _, err := c.Line("ready", time.Minute); err != nil {
			return run, err
		}
		go func() { <-c.Exited(); exited <- c.Name }()
	}

	pg := loadtest.NewPGCPU(ctx, st.Pool, app)
	pg0 := pg.Snapshot(ctx)
	self0 := loadtest.CPUTime()
	busy0, busyErr := loadtest.MachineBusy()
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	var waits map[string]int
	var samples int
	go func() { defer close(sampled); waits, samples = loadtest.SampleWaits(sampleCtx, st.Pool, app) }()
	defer func() { stopSampling(); <-sampled }()

	start := time.Now()
	for _, c := range children {
		if err := c.Send("go"); err != nil {
			return run, err
		}
	}
	select {
	case <-t.done:
	case name := <-exited:
		return run, fmt.Errorf("%s exited with %d of %d delivered", name, t.distinct.Load(), cfg.n)
	case <-ctx.Done():
		return run, ctx.Err()
	case <-time.After(10 * time.Minute):
		return run, fmt.Errorf("%d of %d delivered after 10 minutes", t.distinct.Load(), cfg.n)
	}
	doneAt := time.Now()
	pg1 := pg.Snapshot(ctx)
	run.endpoint = loadtest.CPUTime() - self0
	if busy1, err := loadtest.MachineBusy(); err == nil && busyErr == nil {
		run.busy = busy1 - busy0
	}
	stopSampling()
	<-sampled
	run.waits, run.samples = waits, samples
	run.pgOurs, run.pgAll, run.pgOK = pg1.Since(pg0)

	var last int64
	var failed int64
	for _, c := range children {
		c.CloseStdin()
		line, err := c.Line("result", time.Minute)
		if err != nil {
			return run, err
		}
		var res childResult
		if res, err = parseResult(line); err != nil {
			return run, fmt.Errorf("%s: %w", c.Name, err)
		}
		if _, err := c.Wait(time.Minute); err != nil {
			return run, err
		}
		run.recorded += res.ok
		failed += res.failed
		last = max(last, res.last)
		run.senders += res.cpu
		run.poolWait += res.poolWait
	}
	run.elapsed = doneAt.Sub(start)
	if last > 0 {
		run.elapsed = max(run.elapsed, time.Unix(0, last).Sub(start))
	}
	run.posts = t.posts.Load()
	run.dups = run.posts - t.unknown.Load() - t.distinct.Load()
	switch {
	case failed > 0:
		return run, fmt.Errorf("%d failed attempts against a bare endpoint", failed)
	case t.unknown.Load() > 0:
		return run, fmt.Errorf("the endpoint got %d POSTs of events this run did not publish", t.unknown.Load())
	case run.recorded < int64(cfg.n):
		return run, fmt.Errorf("the instances recorded %d successful attempts of %d deliveries", run.recorded, cfg.n)
	}
	return run, nil
}

// publishAll creates cfg.endpoints endpoints at url and publishes cfg.n
// events spread over them round robin, from cfg.c goroutines; it returns
// the events' ids.
func publishAll(ctx context.Context, st *loadtest.Store, cfg instancesConfig, url string, sec signature.Secret,
	src *loadtest.EventSource) ([]string, error) {
	eps := make([]string, cfg.endpoints)
	for i := range eps {
		ep := &store.Endpoint{Mode: event.ModeTest, URL: url + "e" + strconv.Itoa(i), EventTypes: []string{"*"},
			Secrets: []store.SigningKey{{Key: sec.String()}}, MaxInFlight: cfg.c}
		if err := st.Sender.CreateEndpoint(ctx, ep); err != nil {
			return nil, err
		}
		eps[i] = ep.ID
	}
	pub, err := sender.New(st.Sender, &sender.Config{AllowPrivateNetworks: true, Logger: loadtest.Discard()})
	if err != nil {
		return nil, err
	}
	defer pub.Close() //nolint:errcheck // never started
	evs, err := newEvents(src, cfg.n)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(evs))
	var next atomic.Int64
	errs := make([]error, cfg.c)
	var wg sync.WaitGroup
	for g := range cfg.c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(evs) {
					return
				}
				ids[i] = evs[i].ID
				created, err := pub.Publish(ctx, evs[i], sender.ToEndpoint(eps[i%len(eps)]), nil)
				if err == nil && created != 1 {
					err = fmt.Errorf("publish created %d deliveries, want 1", created)
				}
				if err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}

// settleDatabase makes every run start alike, untimed: it vacuums and
// analyzes the schema's tables after the publishing, and asks for a
// checkpoint (which needs privileges: refused, it is skipped).
func settleDatabase(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	rows, err := pool.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := pool.Exec(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{schema, t}.Sanitize()); err != nil {
			return err
		}
	}
	_, _ = pool.Exec(ctx, "CHECKPOINT")
	return nil
}

// countingEndpoint is the bare endpoint (read the body, answer 200) that
// also counts POSTs per event id, for one run at a time.
type countingEndpoint struct{ cur atomic.Pointer[tally] }

// tally is one run's counts.
type tally struct {
	counts                   map[string]*atomic.Int32 // read-only after reset
	want                     int64
	distinct, posts, unknown atomic.Int64
	done                     chan struct{} // closed when every id has been POSTed
}

// reset starts counting POSTs of ids and returns the run's tally.
func (e *countingEndpoint) reset(ids []string) *tally {
	t := &tally{counts: make(map[string]*atomic.Int32, len(ids)), want: int64(len(ids)), done: make(chan struct{})}
	for _, id := range ids {
		t.counts[id] = new(atomic.Int32)
	}
	e.cur.Store(t)
	return t
}

func (e *countingEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if t := e.cur.Load(); t != nil {
		t.posts.Add(1)
		if c, ok := t.counts[r.Header.Get(signature.HeaderID)]; !ok {
			t.unknown.Add(1)
		} else if c.Add(1) == 1 && t.distinct.Add(1) == t.want {
			close(t.done)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// childResult is what an instance reports when it has stopped.
type childResult struct {
	ok, failed int64         // successful and failed attempts it recorded
	last       int64         // Unix nanoseconds of its last recorded success; 0: none
	cpu        time.Duration // CPU used from "go" to the stop request
	poolWait   time.Duration // time its goroutines waited for a free connection
}

func (r childResult) String() string {
	return fmt.Sprintf("ok=%d failed=%d last=%d cpu=%d poolwait=%d", r.ok, r.failed, r.last, int64(r.cpu), int64(r.poolWait))
}

func parseResult(s string) (childResult, error) {
	var r childResult
	var cpu, wait int64
	if _, err := fmt.Sscanf(s, "ok=%d failed=%d last=%d cpu=%d poolwait=%d", &r.ok, &r.failed, &r.last, &cpu, &wait); err != nil {
		return r, fmt.Errorf("result %q: %w", s, err)
	}
	r.cpu, r.poolWait = time.Duration(cpu), time.Duration(wait)
	return r, nil
}

// instanceChild is the hidden "instance-child" command: one sender instance
// on an existing schema. It prints "ready NAME" once connected, starts at
// the line "go" on stdin, stops gracefully when stdin ends, and prints
// "result ..." (see childResult).
func instanceChild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sendload instance-child", flag.ContinueOnError)
	fs.SetOutput(stderr)
	schema := fs.String("schema", "", "the PostgreSQL schema holding the store")
	app := fs.String("app", "", "application_name of the instance's connections")
	workers := fs.Int("workers", 32, "sender workers")
	name := fs.String("name", "", "the instance's worker id")
	cpuprofile := fs.String("cpuprofile", "", "profile the timed part into this file")
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	if *schema == "" || *workers < 1 {
		return usageError{Err: errors.New("-schema and a positive -workers are required")}
	}
	ctx, cancel, lines := loadtest.StdinLines(ctx)
	defer cancel()
	st, err := loadtest.OpenStore(ctx, loadtest.Postgres, loadtest.StoreOptions{
		MaxConns: int32(max(*workers, 4)), Schema: *schema, AppName: *app})
	if err != nil {
		return err
	}
	defer st.Close() //nolint:errcheck // leaves the schema in place
	if err := st.Pool.Ping(ctx); err != nil {
		return err
	}
	var res childResult
	var ok, failed, last atomic.Int64
	s, err := sender.New(st.Sender, &sender.Config{
		Workers:              *workers,
		AllowPrivateNetworks: true, // the endpoint is on loopback
		Logger:               loadtest.Discard(),
		WorkerID:             *name,
		Hooks: sender.Hooks{OnAttempt: func(_ context.Context, a *store.Attempt) {
			if !a.Success {
				failed.Add(1)
				return
			}
			ok.Add(1)
			now := time.Now().UnixNano()
			for old := last.Load(); now > old && !last.CompareAndSwap(old, now); old = last.Load() {
			}
		}},
	})
	if err != nil {
		return err
	}
	defer s.Close() //nolint:errcheck // after Shutdown it returns nil
	fmt.Fprintln(stdout, "ready", *name)
	select {
	case l := <-lines:
		if l != "go" {
			return fmt.Errorf("want the line \"go\" on stdin, got %q", l)
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	cpu0 := loadtest.CPUTime()
	stopProf, err := loadtest.StartCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProf()
	// The sender runs until stdin ends, and is then shut down gracefully.
	if err := s.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	<-ctx.Done()
	res.cpu = loadtest.CPUTime() - cpu0
	stopProf()
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer scancel()
	err = s.Shutdown(sctx)
	res.ok, res.failed, res.last = ok.Load(), failed.Load(), last.Load()
	res.poolWait = st.Pool.Stat().EmptyAcquireWaitTime()
	fmt.Fprintln(stdout, "result", res)
	return err
}
