package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// goalRatio is issue 10's goal for the memory store: the sender at least
// 0.9x the plain loop's deliveries/s.
const goalRatio = 0.9

// measureFlags are the flags of "run", which the orchestrator passes on.
type measureFlags struct {
	stores        *string
	n, rounds, c  *int
	requirePGFlag *bool
	cpuprofile    *string
}

func addMeasureFlags(fs *flag.FlagSet) measureFlags {
	return measureFlags{
		stores:        fs.String("stores", "memory,sqlite,postgres", "stores to measure, comma-separated (postgres only when "+loadtest.EnvDSN+" is set)"),
		n:             fs.Int("n", 5000, "deliveries per batch"),
		rounds:        fs.Int("rounds", 4, "A/B rounds per store"),
		c:             fs.Int("c", 32, "concurrency: sender workers and plain-loop goroutines"),
		requirePGFlag: fs.Bool("require-postgres", false, "fail instead of skipping postgres when "+loadtest.EnvDSN+" is unset"),
		cpuprofile:    fs.String("cpuprofile", "", "after the rounds, profile one more plain batch and one sender batch per store into PREFIX-plain.pprof and PREFIX-STORE.pprof"),
	}
}

func (f measureFlags) validate() error {
	if *f.n < 1 || *f.rounds < 1 || *f.c < 1 {
		return usageError{Err: errors.New("-n, -rounds and -c must be positive")}
	}
	for _, s := range f.list() {
		if s != loadtest.Memory && s != loadtest.SQLite && s != loadtest.Postgres {
			return usageError{Err: fmt.Errorf("unknown store %q in -stores", s)}
		}
	}
	return nil
}

func (f measureFlags) list() []string { return strings.Split(*f.stores, ",") }

func (f measureFlags) args() []string {
	return []string{"-stores", *f.stores, "-n", strconv.Itoa(*f.n), "-rounds", strconv.Itoa(*f.rounds),
		"-c", strconv.Itoa(*f.c), "-require-postgres=" + strconv.FormatBool(*f.requirePGFlag), "-cpuprofile", *f.cpuprofile}
}

// batch is one timed batch.
type batch struct {
	rate   float64 // deliveries/s
	allocs float64 // mallocs per delivery
	bytes  float64 // bytes allocated per delivery
}

// measure is the "run" subcommand: it prints its report as "out ..." lines.
func measure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sendload run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "endpoint URL (loopback only)")
	f := addMeasureFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	if err := f.validate(); err != nil {
		return err
	}
	if err := loadtest.CheckURL(*url); err != nil {
		return err
	}
	ctx, cancel := loadtest.StopOnStdinEOF(ctx)
	defer cancel()
	out := func(format string, a ...any) { fmt.Fprintf(stdout, "out "+format+"\n", a...) }
	n, c := *f.n, *f.c

	sec, err := signature.NewSecret()
	if err != nil {
		return err
	}
	src, err := loadtest.NewEventSource(sec, loadtest.BodySize, 1)
	if err != nil {
		return err
	}
	if !loadtest.IsChild() {
		out("machine: %s", loadtest.ThisMachine())
	}
	out("sendload: %d deliveries per batch, concurrency %d, %d-byte envelopes, %d round(s) per store; sender process GOMAXPROCS %d",
		n, c, loadtest.BodySize, *f.rounds, runtime.GOMAXPROCS(0))
	out("")
	out("| store | round | plain deliveries/s | sender deliveries/s | ratio | plain allocs/delivery | sender allocs/delivery | plain B/delivery | sender B/delivery |")
	out("|---|---|---:|---:|---:|---:|---:|---:|---:|")

	plain := newPlainLoop(*url, sec, c)
	defer plain.client.CloseIdleConnections()
	// Warm up, untimed: the plain loop's connections, the endpoint, the heap.
	if _, err := plain.run(ctx, src, max(n/4, c)); err != nil {
		return fmt.Errorf("plain loop: %w", err)
	}
	type summary struct {
		store         string
		plain, sender []batch
	}
	var sums []summary
	for _, kind := range f.list() {
		if kind == loadtest.Postgres && !*f.requirePGFlag {
			if _, err := loadtest.OpenStore(ctx, kind, loadtest.StoreOptions{}); errors.Is(err, loadtest.ErrNoDSN) {
				out("| postgres | skipped: %s is not set | | | | | | | |", loadtest.EnvDSN)
				continue
			} else if err != nil {
				return err
			}
		}
		sum := summary{store: kind}
		for r := 1; r <= *f.rounds; r++ {
			p, err := plain.run(ctx, src, n)
			if err != nil {
				return fmt.Errorf("plain loop: %w", err)
			}
			s, err := runSender(ctx, kind, *url, sec, src, n, c)
			if err != nil {
				return fmt.Errorf("sender with %s: %w", kind, err)
			}
			sum.plain, sum.sender = append(sum.plain, p), append(sum.sender, s)
			out("| %s | %d | %.0f | %.0f | %.2f | %.1f | %.1f | %.0f | %.0f |", kind, r, p.rate, s.rate, loadtest.Ratio(s.rate, p.rate),
				p.allocs, s.allocs, p.bytes, s.bytes)
		}
		sums = append(sums, sum)
	}
	out("")
	out("Medians:")
	out("")
	out("| store | plain deliveries/s | sender deliveries/s | sender/plain | sender allocs/delivery | plain allocs/delivery |")
	out("|---|---:|---:|---:|---:|---:|")
	get := func(bs []batch, f func(batch) float64) float64 {
		xs := make([]float64, len(bs))
		for i, b := range bs {
			xs[i] = f(b)
		}
		return loadtest.Median(xs)
	}
	rate := func(b batch) float64 { return b.rate }
	allocs := func(b batch) float64 { return b.allocs }
	for _, s := range sums {
		ratio := loadtest.Ratio(get(s.sender, rate), get(s.plain, rate))
		out("| %s | %.0f | %.0f | %.2f | %.1f | %.1f |", s.store, get(s.plain, rate), get(s.sender, rate), ratio,
			get(s.sender, allocs), get(s.plain, allocs))
	}
	if *f.cpuprofile != "" {
		if _, err := plain.runProfiled(ctx, src, n, *f.cpuprofile+"-plain.pprof"); err != nil {
			return err
		}
		for _, s := range sums {
			if _, err := runSenderProfiled(ctx, s.store, *url, sec, src, n, c, *f.cpuprofile+"-"+s.store+".pprof"); err != nil {
				return err
			}
		}
		out("")
		out("CPU profiles: %s-plain.pprof and %s-STORE.pprof (one batch each)", *f.cpuprofile, *f.cpuprofile)
	}
	for _, s := range sums {
		if s.store == loadtest.Memory {
			ratio := loadtest.Ratio(get(s.sender, rate), get(s.plain, rate))
			verdict := "met"
			if ratio < goalRatio {
				verdict = "MISSED"
			}
			out("")
			out("goal: sender with the memory store >= %.2fx the plain loop: %.2f, %s", goalRatio, ratio, verdict)
		}
	}
	return nil
}

// plainLoop signs and POSTs envelopes from c goroutines: the baseline.
type plainLoop struct {
	url    string
	signer *signature.Signer
	client *http.Client
	c      int
}

func newPlainLoop(url string, sec signature.Secret, c int) *plainLoop {
	signer, _ := signature.NewSigner([]signature.Secret{sec})
	tr := &http.Transport{
		DialContext:         loadtest.Dialer().DialContext,
		MaxIdleConns:        2 * c,
		MaxIdleConnsPerHost: c,
		IdleConnTimeout:     90 * time.Second,
	}
	return &plainLoop{url: url, signer: signer, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, c: c}
}

// newEvents makes n fresh events with the source's 1 KiB data, untimed.
func newEvents(src *loadtest.EventSource, n int) ([]event.Event, error) {
	evs := make([]event.Event, n)
	for i := range evs {
		ev, err := event.New(event.ModeTest, loadtest.EventType, src.Data())
		if err != nil {
			return nil, err
		}
		evs[i] = ev
	}
	return evs, nil
}

func (p *plainLoop) run(ctx context.Context, src *loadtest.EventSource, n int) (batch, error) {
	return p.runProfiled(ctx, src, n, "")
}

// runProfiled is run with the timed part under the CPU profiler when prof
// names a file.
func (p *plainLoop) runProfiled(ctx context.Context, src *loadtest.EventSource, n int, prof string) (batch, error) {
	evs, err := newEvents(src, n)
	if err != nil {
		return batch{}, err
	}
	var next atomic.Int64
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	var wg sync.WaitGroup
	stopProf, err := loadtest.StartCPUProfile(prof)
	if err != nil {
		return batch{}, err
	}
	before := memStats()
	start := time.Now()
	for range p.c {
		wg.Go(func() {
			buf := make([]byte, 0, 2*loadtest.BodySize)
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				ev := evs[i]
				now := time.Now()
				buf = ev.AppendJSON(buf[:0], now)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(buf))
				if err != nil {
					fail(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				p.signer.SignHeader(req.Header, ev.ID, now, buf)
				resp, err := p.client.Do(req)
				if err != nil {
					fail(err)
					return
				}
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("endpoint answered %d", resp.StatusCode))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProf()
	after := memStats()
	if firstErr != nil {
		return batch{}, firstErr
	}
	return perDelivery(before, after, elapsed, n), ctx.Err()
}

// runSender publishes n events to one endpoint in a fresh store (untimed),
// then times a started sender delivering them all.
func runSender(ctx context.Context, kind, url string, sec signature.Secret, src *loadtest.EventSource, n, c int) (batch, error) {
	return runSenderProfiled(ctx, kind, url, sec, src, n, c, "")
}

// runSenderProfiled is runSender with the timed part under the CPU
// profiler when prof names a file.
func runSenderProfiled(ctx context.Context, kind, url string, sec signature.Secret, src *loadtest.EventSource, n, c int, prof string) (batch, error) {
	st, err := loadtest.OpenStore(ctx, kind, loadtest.StoreOptions{MaxConns: int32(c)})
	if err != nil {
		return batch{}, err
	}
	defer st.Close() //nolint:errcheck // a temporary store
	ep := &store.Endpoint{Mode: event.ModeTest, URL: url, EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: sec.String()}}, MaxInFlight: c}
	if err := st.Sender.CreateEndpoint(ctx, ep); err != nil {
		return batch{}, err
	}
	var ok, failed atomic.Int64
	done := make(chan struct{})
	s, err := sender.New(st.Sender, &sender.Config{
		Workers:              c,
		AllowPrivateNetworks: true, // the endpoint is on loopback
		Logger:               loadtest.Discard(),
		Hooks: sender.Hooks{OnAttempt: func(_ context.Context, a *store.Attempt) {
			if !a.Success {
				failed.Add(1)
				return
			}
			if ok.Add(1) == int64(n) {
				close(done)
			}
		}},
	})
	if err != nil {
		return batch{}, err
	}
	defer s.Close() //nolint:errcheck // after Shutdown it returns nil
	evs, err := newEvents(src, n)
	if err != nil {
		return batch{}, err
	}
	for _, ev := range evs {
		if _, err := s.Publish(ctx, ev, sender.ToTenant(""), nil); err != nil {
			return batch{}, err
		}
	}
	stopProf, err := loadtest.StartCPUProfile(prof)
	if err != nil {
		return batch{}, err
	}
	defer stopProf()
	before := memStats()
	start := time.Now()
	if err := s.Start(ctx); err != nil {
		return batch{}, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return batch{}, ctx.Err()
	case <-time.After(10 * time.Minute):
		return batch{}, fmt.Errorf("%d of %d delivered after 10 minutes", ok.Load(), n)
	}
	if err := s.Shutdown(ctx); err != nil {
		return batch{}, err
	}
	elapsed := time.Since(start)
	stopProf()
	after := memStats()
	if f := failed.Load(); f > 0 {
		return batch{}, fmt.Errorf("%d failed attempts against a bare endpoint", f)
	}
	return perDelivery(before, after, elapsed, n), nil
}

func memStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

func perDelivery(before, after runtime.MemStats, elapsed time.Duration, n int) batch {
	return batch{
		rate:   float64(n) / elapsed.Seconds(),
		allocs: float64(after.Mallocs-before.Mallocs) / float64(n),
		bytes:  float64(after.TotalAlloc-before.TotalAlloc) / float64(n),
	}
}
