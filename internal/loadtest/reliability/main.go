// Command reliability runs webhookkit's bounded reliability checks over
// loopback HTTP and prints, for each, what it proved (PASS) or what broke
// (FAIL). The exit code is 1 if any check failed.
//
// Usage:
//
//	reliability [-run overload,chaos,soak] [-soak 30s] [-stores memory,sqlite,postgres] [-seed 1]
//	            [-overload 3s] [-capacity 500] [-events 500] [-rate 300]
//
// overload: a receiver whose callback is deliberately slow (Workers 2,
// QueueSize 16, each callback taking 2/capacity s, so it handles -capacity
// events/s) is offered fresh signed events at twice that rate for -overload.
// The load generator retries every 503 after its Retry-After (the receiver
// announces 1 s) until it gets a 200. Proved: every 200 is answered with the
// event held in the inbox (claimed or handled, checked at once); every 503
// carries a valid Retry-After and leaves no claim behind; after the drain,
// every event answered 200 was handed to the callback exactly once, and every
// offered event was answered 200 in the end (nothing lost).
//
// chaos: for each store, a sender delivers -events events through a faulty
// endpoint in front of a de-duplicating receiver. The faults are seeded and
// deterministic per event id and attempt, at most 4 per id: 500, 503,
// hanging past the sender's 200 ms request timeout, a connection reset before
// the receiver sees the request, and a reset after the receiver accepted it
// (the 200 is lost, so the sender retries an event the receiver holds).
// Proved: every event delivered (no delivery given up; with a durable store,
// every delivery succeeded in the store); the receiver's callback ran exactly
// once per event; the receiver answered "duplicate" exactly once for each
// request that reached it beyond the first per event.
//
// soak: the same pipeline with the memory store (caps sized so they fill in
// the first sixth of the run) and light faults, publishing -rate events/s for
// -soak. The live heap (after a GC), the heap in use and the goroutines are
// sampled ten times and printed as a table. Proved: everything published was
// delivered and handled exactly once; the live heap of the last third of the
// run is within 10% (or 1 MiB) of the middle third's, and goroutines within
// 20.
//
// WEBHOOKKIT_FULL=1 raises the defaults to the documented sizes: -overload
// 10s, -events 5000, -soak 5m. PostgreSQL runs only when
// WEBHOOKKIT_TEST_POSTGRES_DSN is set (and must be a loopback address).
// Crash-restart runs are tests: see internal/crashtest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// config holds the command line.
type config struct {
	runs      []string
	stores    []string
	seed      uint64
	overload  time.Duration
	capacity  int
	events    int
	soak      time.Duration
	rate      int
	samples   int
	requirePG bool
}

// errFailed is returned when a check failed (its report says why).
var errFailed = errors.New("a check failed")

// cli runs the program and returns the exit code: 0 all passed, 1 a check
// failed or could not run, 2 usage error.
func cli(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	full := os.Getenv("WEBHOOKKIT_FULL") == "1"
	def := config{overload: 3 * time.Second, events: 500, soak: 30 * time.Second}
	if full {
		def = config{overload: 10 * time.Second, events: 5000, soak: 5 * time.Minute}
	}
	fs := flag.NewFlagSet("reliability", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.String("run", "overload,chaos,soak", "checks to run, comma-separated")
	stores := fs.String("stores", "memory,sqlite,postgres", "stores for the chaos run (postgres only when "+loadtest.EnvDSN+" is set)")
	seed := fs.Uint64("seed", 1, "fault and id seed")
	overload := fs.Duration("overload", def.overload, "overload: how long load is offered")
	capacity := fs.Int("capacity", 500, "overload: events/s the slow receiver handles (the offered rate is twice this)")
	events := fs.Int("events", def.events, "chaos: events per store")
	soak := fs.Duration("soak", def.soak, "soak: duration")
	rate := fs.Int("rate", 300, "soak: events published per second")
	samples := fs.Int("samples", 10, "soak: heap samples")
	requirePG := fs.Bool("require-postgres", false, "fail instead of skipping postgres when "+loadtest.EnvDSN+" is unset")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := config{runs: strings.Split(*runs, ","), stores: strings.Split(*stores, ","), seed: *seed, overload: *overload,
		capacity: *capacity, events: *events, soak: *soak, rate: *rate, samples: *samples, requirePG: *requirePG}
	if *overload <= 0 || *capacity < 2 || *events < 1 || *soak <= 0 || *rate < 1 || *samples < 3 {
		fmt.Fprintln(stderr, "reliability: -overload, -soak must be positive; -capacity >= 2, -events >= 1, -rate >= 1, -samples >= 3")
		return 2
	}
	for _, r := range cfg.runs {
		if r != "overload" && r != "chaos" && r != "soak" {
			fmt.Fprintf(stderr, "reliability: unknown run %q (overload, chaos, soak)\n", r)
			return 2
		}
	}
	for _, s := range cfg.stores {
		if s != loadtest.Memory && s != loadtest.SQLite && s != loadtest.Postgres {
			fmt.Fprintf(stderr, "reliability: unknown store %q\n", s)
			return 2
		}
	}

	fmt.Fprintf(stdout, "machine: %s\n", loadtest.ThisMachine())
	failed := false
	for _, r := range cfg.runs {
		var err error
		start := time.Now()
		fmt.Fprintf(stdout, "\n== %s\n", r)
		switch r {
		case "overload":
			err = runOverload(ctx, cfg, stdout)
		case "chaos":
			err = runChaos(ctx, cfg, stdout)
		case "soak":
			err = runSoak(ctx, cfg, stdout)
		}
		if err != nil {
			failed = true
			if !errors.Is(err, errFailed) {
				fmt.Fprintf(stdout, "FAIL %s: %v\n", r, err)
			}
		}
		fmt.Fprintf(stdout, "(%s took %v)\n", r, time.Since(start).Round(100*time.Millisecond))
	}
	if failed {
		fmt.Fprintln(stderr, "reliability: FAILED")
		return 1
	}
	return 0
}

// check collects the properties a run verifies and prints them.
type check struct {
	name   string
	w      io.Writer
	failed []string
	passed []string
}

// that records a property: ok or the reason it does not hold.
func (c *check) that(ok bool, property string, a ...any) {
	s := fmt.Sprintf(property, a...)
	if ok {
		c.passed = append(c.passed, s)
	} else {
		c.failed = append(c.failed, s)
	}
}

// done prints the verdict and returns errFailed if anything failed.
func (c *check) done() error {
	if len(c.failed) == 0 {
		fmt.Fprintf(c.w, "PASS %s: proved\n", c.name)
		for _, p := range c.passed {
			fmt.Fprintf(c.w, "  - %s\n", p)
		}
		return nil
	}
	fmt.Fprintf(c.w, "FAIL %s:\n", c.name)
	for _, p := range c.failed {
		fmt.Fprintf(c.w, "  - NOT: %s\n", p)
	}
	for _, p := range c.passed {
		fmt.Fprintf(c.w, "  - ok: %s\n", p)
	}
	return errFailed
}
