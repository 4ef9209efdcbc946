package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/signature"
)

// goals are issue 15's goals: the receiver's requests/s at least this
// share of the bare handler's, by inbox.
var goals = map[string]float64{loadtest.Memory: 0.8, loadtest.SQLite: 0.3, loadtest.Postgres: 0.2}

// run is one server+load pairing.
type run struct {
	round  int
	target string // bare, or receiver
	inbox  string // the receiver's
	knobs  []string
	load   loadResult
	server serverStats
	// serverCPU is the server's CPU share over the whole run, warm-up
	// included (the server does nothing else).
	serverCPU float64
	problems  []string
}

// name is the run's target with the receiver's inbox.
func (r run) name() string {
	if r.target == targetBare {
		return targetBare
	}
	return r.target + "/" + r.inbox
}

func orchestrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("recvload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ab := fs.Bool("ab", false, "alternate bare and receiver (the default when -target is empty)")
	target := fs.String("target", "", "run only this target: bare or receiver")
	inboxes := fs.String("inbox", loadtest.Memory, "the receiver's inboxes, comma-separated: memory, sqlite, postgres (DSN from "+loadtest.EnvDSN+"); each round runs the receiver with each")
	rounds := fs.Int("rounds", 4, "rounds (each runs every target once)")
	c := fs.Int("c", 32, "connections")
	d := fs.Duration("d", 10*time.Second, "measured duration of each run")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up of each run")
	pin := fs.Bool("pin", true, "pin the server to CPU 0 and the load to CPU 1 with taskset")
	var knobs []string // passed on to serve
	fs.Func("batch", "the receiver's InboxBatchSize (default: its default)", func(v string) error { knobs = append(knobs, "-batch", v); return nil })
	fs.Func("linger", "the receiver's ClaimLinger, e.g. 1ms (default: its default)", func(v string) error { knobs = append(knobs, "-linger", v); return nil })
	fs.Func("flushes", "the receiver's ClaimFlushes (default: its default)", func(v string) error { knobs = append(knobs, "-flushes", v); return nil })
	profDir := fs.String("cpuprofile-dir", "", "write each server's CPU profile to DIR/TARGET[-INBOX]-ROUND.pprof")
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	var plan []run // one round's runs
	switch {
	case *ab && *target != "":
		return usageError{Err: errors.New("-ab and -target exclude each other")}
	case *target != "" && *target != targetBare && *target != targetReceiver:
		return usageError{Err: fmt.Errorf("unknown -target %q", *target)}
	}
	if *target != targetReceiver {
		plan = append(plan, run{target: targetBare})
	}
	if *target != targetBare {
		for _, ib := range strings.Split(*inboxes, ",") {
			if _, ok := goals[ib]; !ok {
				return usageError{Err: fmt.Errorf("unknown inbox %q in -inbox", ib)}
			}
			if ib == loadtest.Postgres && os.Getenv(loadtest.EnvDSN) == "" {
				return usageError{Err: fmt.Errorf("-inbox postgres: %w", loadtest.ErrNoDSN)}
			}
			plan = append(plan, run{target: targetReceiver, inbox: ib, knobs: knobs})
		}
	}
	if *rounds < 1 || *c < 1 || *d <= 0 {
		return usageError{Err: errors.New("-rounds, -c and -d must be positive")}
	}
	sec, err := signature.NewSecret()
	if err != nil {
		return err
	}
	stderr = loadtest.SyncWriter(stderr)
	serverCPU, loadCPU := -1, -1
	if *pin {
		serverCPU, loadCPU = 0, 1
	}
	pinned := loadtest.CanPin(0) && loadtest.CanPin(1) && *pin
	names := make([]string, len(plan))
	for i, p := range plan {
		names[i] = p.name()
	}
	fmt.Fprintf(stdout, "machine: %s\n", loadtest.ThisMachine())
	fmt.Fprintf(stdout, "recvload: %d round(s) of %s; %d connections, %v measured after %v warm-up, %d-byte events; pinned: %v\n\n",
		*rounds, strings.Join(names, ", "), *c, *d, *warmup, loadtest.BodySize, pinned)

	var runs []run
	for r := 1; r <= *rounds; r++ {
		for _, p := range plan {
			prof := ""
			if *profDir != "" {
				prof = filepath.Join(*profDir, fmt.Sprintf("%s-%d.pprof", strings.ReplaceAll(p.name(), "/", "-"), r))
			}
			p.round = r
			res, err := pair(ctx, p, sec, *c, *d, *warmup, serverCPU, loadCPU, prof, stderr)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r, p.name(), err)
			}
			runs = append(runs, res)
		}
	}
	return report(stdout, runs, plan)
}

// pair runs one server process and one load process against it.
func pair(ctx context.Context, res run, sec signature.Secret, conns int, d, warmup time.Duration, serverCPU, loadCPU int, prof string, stderr io.Writer) (run, error) {
	args := []string{"serve", "-target", res.target, "-secret", sec.String(), "-cpuprofile", prof}
	if res.inbox != "" {
		args = append(append(args, "-inbox", res.inbox), res.knobs...)
	}
	srv, err := loadtest.StartChild("server", serverCPU, stderr, args...)
	if err != nil {
		return res, err
	}
	defer srv.Kill()
	addr, err := srv.Line("addr", 30*time.Second)
	if err != nil {
		return res, err
	}
	ld, err := loadtest.StartChild("load", loadCPU, stderr, "load", "-json", "-url", "http://"+addr+"/",
		"-secret", sec.String(), "-c", strconv.Itoa(conns), "-d", d.String(), "-warmup", warmup.String())
	if err != nil {
		return res, err
	}
	defer ld.Kill()
	line, err := ld.Line("result", warmup+d+time.Minute)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal([]byte(line), &res.load); err != nil {
		return res, fmt.Errorf("load result %q: %w", line, err)
	}
	if _, err := ld.Wait(30 * time.Second); err != nil {
		return res, err
	}
	srv.CloseStdin()
	line, err = srv.Line("stats", time.Minute)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal([]byte(line), &res.server); err != nil {
		return res, fmt.Errorf("server stats %q: %w", line, err)
	}
	if _, err := srv.Wait(30 * time.Second); err != nil {
		return res, err
	}
	res.serverCPU = res.server.CPU / (warmup + d).Seconds()

	// Sanity: every request was a new event, answered 200 or, by a
	// receiver whose inbox or queue could not keep up, 503; and the
	// receiver holds and handles exactly the ones it answered 200.
	if n := res.load.Requests - res.load.Status["200"] - res.load.Status["503"]; n > 0 {
		res.problems = append(res.problems, fmt.Sprintf("%d of %d requests answered neither 200 nor 503 (%v, %d I/O errors)",
			n, res.load.Requests, res.load.Status, res.load.IOErrors))
	}
	if res.target == targetBare && res.load.Status["503"] > 0 {
		res.problems = append(res.problems, fmt.Sprintf("the bare handler answered %d requests 503", res.load.Status["503"]))
	}
	if res.target == targetReceiver {
		st := res.server.Stats
		if st.Accepted != uint64(res.load.TotalOK) || st.Duplicates != 0 {
			res.problems = append(res.problems, fmt.Sprintf("receiver accepted %d (duplicates %d), load saw %d 200s",
				st.Accepted, st.Duplicates, res.load.TotalOK))
		}
		if res.server.Handled != int64(st.Accepted) {
			res.problems = append(res.problems, fmt.Sprintf("receiver handled %d of %d accepted", res.server.Handled, st.Accepted))
		}
	}
	return res, nil
}

// report prints the runs, the medians and the ratios, and fails if a
// sanity check failed.
func report(w io.Writer, runs []run, plan []run) error {
	fmt.Fprintln(w, "| round | target | requests/s (200) | 503 | p50 | p99 | 200s/claim batch | marks/batch | server CPU | server CPU/request | load CPU |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	rps, cpu := map[string][]float64{}, map[string][]float64{}
	var problems []string
	for _, r := range runs {
		perBatch, perMark := "-", "-"
		if st := r.server.Stats; st.ClaimBatches > 0 {
			perBatch = fmt.Sprintf("%.1f", float64(st.Accepted+st.Duplicates)/float64(st.ClaimBatches))
			perMark = fmt.Sprintf("%.1f", float64(st.Handled+st.Dropped)/float64(max(st.MarkBatches, 1)))
		}
		fmt.Fprintf(w, "| %d | %s | %.0f | %d | %.0f µs | %.0f µs | %s | %s | %.0f%% | %.1f µs | %.0f%% |\n",
			r.round, r.name(), r.load.RPS, r.load.Status["503"], r.load.P50us, r.load.P99us, perBatch, perMark,
			100*r.serverCPU, 1e6*r.server.CPU/float64(max(r.load.TotalSent, 1)), 100*r.load.CPU/r.load.Window)
		cpu[r.name()] = append(cpu[r.name()], 1e6*r.server.CPU/float64(max(r.load.TotalSent, 1)))
		rps[r.name()] = append(rps[r.name()], r.load.RPS)
		for _, p := range r.problems {
			problems = append(problems, fmt.Sprintf("round %d %s: %s", r.round, r.name(), p))
		}
	}
	fmt.Fprintln(w)
	for _, p := range plan {
		fmt.Fprintf(w, "median %s: %.0f requests/s, %.1f µs of server CPU per request\n", p.name(), loadtest.Median(rps[p.name()]), loadtest.Median(cpu[p.name()]))
	}
	if bare := loadtest.Median(rps[targetBare]); bare > 0 {
		for _, p := range plan {
			if p.target != targetReceiver {
				continue
			}
			ratio := loadtest.Ratio(loadtest.Median(rps[p.name()]), bare)
			verdict := "met"
			if ratio < goals[p.inbox] {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "ratio %s/bare (medians): %.2f (goal >= %.2f: %s); CPU per request: %.2fx the bare handler's\n",
				p.name(), ratio, goals[p.inbox], verdict, loadtest.Ratio(loadtest.Median(cpu[p.name()]), loadtest.Median(cpu[targetBare])))
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
