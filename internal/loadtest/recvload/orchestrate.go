package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/signature"
)

// goalRatio is issue 10's goal: the receiver at least 0.9x the bare
// handler's requests/s.
const goalRatio = 0.9

// run is one server+load pairing.
type run struct {
	round  int
	target string
	load   loadResult
	server serverStats
	// serverCPU is the server's CPU share over the whole run, warm-up
	// included (the server does nothing else).
	serverCPU float64
	problems  []string
}

func orchestrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("recvload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ab := fs.Bool("ab", false, "alternate bare and receiver (the default when -target is empty)")
	target := fs.String("target", "", "run only this target: bare or receiver")
	rounds := fs.Int("rounds", 4, "rounds (each runs every target once)")
	c := fs.Int("c", 32, "connections")
	d := fs.Duration("d", 10*time.Second, "measured duration of each run")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up of each run")
	pin := fs.Bool("pin", true, "pin the server to CPU 0 and the load to CPU 1 with taskset")
	profDir := fs.String("cpuprofile-dir", "", "write each server's CPU profile to DIR/TARGET-ROUND.pprof")
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	targets := []string{targetBare, targetReceiver}
	switch {
	case *ab && *target != "":
		return usageError{Err: errors.New("-ab and -target exclude each other")}
	case *target == targetBare || *target == targetReceiver:
		targets = []string{*target}
	case *target != "":
		return usageError{Err: fmt.Errorf("unknown -target %q", *target)}
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
	fmt.Fprintf(stdout, "machine: %s\n", loadtest.ThisMachine())
	fmt.Fprintf(stdout, "recvload: %d round(s) of %s; %d connections, %v measured after %v warm-up, %d-byte events; pinned: %v\n\n",
		*rounds, strings.Join(targets, "/"), *c, *d, *warmup, loadtest.BodySize, pinned)

	var runs []run
	for r := 1; r <= *rounds; r++ {
		for _, t := range targets {
			prof := ""
			if *profDir != "" {
				prof = filepath.Join(*profDir, fmt.Sprintf("%s-%d.pprof", t, r))
			}
			res, err := pair(ctx, r, t, sec, *c, *d, *warmup, serverCPU, loadCPU, prof, stderr)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r, t, err)
			}
			runs = append(runs, res)
		}
	}
	return report(stdout, runs, targets)
}

// pair runs one server process and one load process against it.
func pair(ctx context.Context, round int, target string, sec signature.Secret, conns int, d, warmup time.Duration, serverCPU, loadCPU int, prof string, stderr io.Writer) (run, error) {
	res := run{round: round, target: target}
	srv, err := loadtest.StartChild("server", serverCPU, stderr, "serve", "-target", target, "-secret", sec.String(), "-cpuprofile", prof)
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

	// Sanity: every request was a new event, and the receiver holds and
	// handles exactly the ones it answered 200.
	if n := res.load.Requests - res.load.Status["200"]; n > 0 {
		res.problems = append(res.problems, fmt.Sprintf("%d of %d requests not answered 200 (%v, %d I/O errors)",
			n, res.load.Requests, res.load.Status, res.load.IOErrors))
	}
	if target == targetReceiver {
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

// report prints the runs, the medians and the ratio, and fails if a sanity
// check failed.
func report(w io.Writer, runs []run, targets []string) error {
	fmt.Fprintln(w, "| round | target | requests/s | p50 | p99 | non-200 | server CPU | load CPU |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	rps := map[string][]float64{}
	var problems []string
	for _, r := range runs {
		non200 := r.load.Requests - r.load.Status["200"]
		fmt.Fprintf(w, "| %d | %s | %.0f | %.0f µs | %.0f µs | %d | %.0f%% | %.0f%% |\n",
			r.round, r.target, r.load.RPS, r.load.P50us, r.load.P99us, non200,
			100*r.serverCPU, 100*r.load.CPU/r.load.Window)
		rps[r.target] = append(rps[r.target], r.load.RPS)
		for _, p := range r.problems {
			problems = append(problems, fmt.Sprintf("round %d %s: %s", r.round, r.target, p))
		}
	}
	fmt.Fprintln(w)
	for _, t := range targets {
		fmt.Fprintf(w, "median %s: %.0f requests/s\n", t, loadtest.Median(rps[t]))
	}
	if len(targets) == 2 {
		ratio := loadtest.Ratio(loadtest.Median(rps[targetReceiver]), loadtest.Median(rps[targetBare]))
		verdict := "met"
		if ratio < goalRatio {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "ratio receiver/bare (medians): %.2f (goal >= %.2f: %s)\n", ratio, goalRatio, verdict)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(w, "PROBLEM:", p)
		}
		return fmt.Errorf("%d sanity check(s) failed", len(problems))
	}
	return nil
}
