// Command benchtable runs webhookkit's Go benchmarks in alternating rounds
// and prints every figure as a ratio of medians against a baseline measured
// in the same run, as BENCHMARKS.md publishes them.
//
// Usage:
//
//	benchtable [-suites signature,event,lease] [-rounds 5] [-benchtime 1s] [-pin=true] [-raw]
//
// Each suite's test binary is built once (go test -c), then run -rounds
// times; every run executes all of the suite's benchmarks once, so the
// subject and its baseline alternate (A/B/A/B) and drift on a shared machine
// hits both alike. The binary is pinned to CPU 1 with taskset when possible.
// The medians over the rounds are compared:
//
//   - signature: Sign and Verify at 1, 16 and 256 KiB against raw HMAC (one
//     keyed hash.Hash reused with Reset over id.timestamp.body) and against
//     the reference Standard Webhooks Go library (./signature benchmarks);
//   - event: event.Decode (strict, single pass) against encoding/json
//     unmarshalling the same 1 KiB envelope into a plain struct;
//   - lease: the cost per leased delivery beside not-yet-due backlogs of
//     1,000, 100,000 and 1,000,000 against the 1,000 backlog, for the memory,
//     SQLite and PostgreSQL stores (each driver's BenchmarkLease and, for
//     PostgreSQL, storetest's BenchmarkConformanceLease too). SQLite and
//     PostgreSQL run 1,000,000 only with WEBHOOKKIT_FULL=1; PostgreSQL only
//     with WEBHOOKKIT_TEST_POSTGRES_DSN set.
//
// Run it from anywhere inside the module; it needs the go command.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// bench is one benchmark package of a suite.
type bench struct {
	pkg     string // relative to the module root
	pattern string // -test.bench
	needsPG bool
}

// suites maps each suite to its benchmarks.
var suites = map[string][]bench{
	"signature": {{pkg: "./internal/integration/signature", pattern: "^Benchmark(Sign|Verify)$"}},
	"event":     {{pkg: "./event", pattern: "^BenchmarkDecode(Stdlib)?$"}},
	"lease": {
		{pkg: "./store/memory", pattern: "^BenchmarkLease$"},
		{pkg: "./store/sqlite", pattern: "^BenchmarkLease$"},
		{pkg: "./store/postgres", pattern: "^Benchmark(Conformance)?Lease$", needsPG: true},
	},
}

var suiteOrder = []string{"signature", "event", "lease"}

// result holds every measurement of one benchmark name, one per round.
type result struct {
	ns, allocs, bytes []float64
}

// results maps "pkg BenchmarkName/sub" to its measurements.
type results map[string]*result

func cli(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	names := fs.String("suites", strings.Join(suiteOrder, ","), "suites to run, comma-separated: "+strings.Join(suiteOrder, ", "))
	rounds := fs.Int("rounds", 5, "rounds (each runs every benchmark of a suite once)")
	benchtime := fs.String("benchtime", "1s", "-test.benchtime of each benchmark")
	pin := fs.Bool("pin", true, "pin the benchmark process to CPU 1 with taskset")
	raw := fs.Bool("raw", false, "also print every round's ns/op")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var chosen []string
	for _, s := range strings.Split(*names, ",") {
		if _, ok := suites[s]; !ok {
			fmt.Fprintf(stderr, "benchtable: unknown suite %q\n", s)
			return 2
		}
		chosen = append(chosen, s)
	}
	if *rounds < 1 {
		fmt.Fprintln(stderr, "benchtable: -rounds must be positive")
		return 2
	}
	if err := run(ctx, chosen, *rounds, *benchtime, *pin, *raw, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "benchtable:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, chosen []string, rounds int, benchtime string, pin, raw bool, stdout, stderr io.Writer) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "benchtable-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pinned := pin && loadtest.CanPin(1)
	fmt.Fprintf(stdout, "machine: %s\n", loadtest.ThisMachine())
	fmt.Fprintf(stdout, "benchtable: %d rounds, -benchtime %s, pinned to CPU 1: %v, WEBHOOKKIT_FULL=%q\n",
		rounds, benchtime, pinned, os.Getenv("WEBHOOKKIT_FULL"))
	var failed []string
	for _, s := range chosen {
		res := results{}
		var skipped []string
		for _, b := range suites[s] {
			if b.needsPG && os.Getenv(loadtest.EnvDSN) == "" {
				skipped = append(skipped, b.pkg+" ("+loadtest.EnvDSN+" is not set)")
				continue
			}
			bin := filepath.Join(tmp, strings.ReplaceAll(strings.Trim(b.pkg, "./"), "/", "_")+".test")
			build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, b.pkg)
			build.Dir, build.Stderr = root, stderr
			if err := build.Run(); err != nil {
				return fmt.Errorf("building %s: %w", b.pkg, err)
			}
			for r := 1; r <= rounds; r++ {
				fmt.Fprintf(stderr, "benchtable: %s round %d/%d\n", b.pkg, r, rounds)
				if err := runBinary(ctx, bin, filepath.Join(root, b.pkg), b, benchtime, pinned, res, stderr); err != nil {
					// Report what the other packages measured; say what failed.
					fmt.Fprintln(stderr, "benchtable:", err)
					failed = append(failed, b.pkg)
					break
				}
			}
		}
		fmt.Fprintln(stdout)
		switch s {
		case "signature":
			reportSignature(stdout, res)
		case "event":
			reportEvent(stdout, res)
		case "lease":
			reportLease(stdout, res)
		}
		if raw {
			keys := make([]string, 0, len(res))
			for k := range res {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			fmt.Fprintln(stdout, "every round, ns/op:")
			for _, k := range keys {
				fmt.Fprintf(stdout, "  %s: %.0f\n", k, res[k].ns)
			}
		}
		for _, sk := range skipped {
			fmt.Fprintf(stdout, "\nskipped: %s\n", sk)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(stdout, "\nFAILED (see stderr): %s\n", strings.Join(failed, ", "))
		return fmt.Errorf("benchmarks failed in %s", strings.Join(failed, ", "))
	}
	return nil
}

// moduleRoot returns the repository root: the folder of go.work, which ties
// the modules whose packages the suites name, or of go.mod without one.
func moduleRoot(ctx context.Context) (string, error) {
	for _, v := range []string{"GOWORK", "GOMOD"} {
		out, err := exec.CommandContext(ctx, "go", "env", v).Output()
		if err != nil {
			return "", fmt.Errorf("go env %s: %w", v, err)
		}
		if f := strings.TrimSpace(string(out)); f != "" && f != "off" && f != os.DevNull {
			return filepath.Dir(f), nil
		}
	}
	return "", errors.New("run benchtable inside the webhookkit repository")
}

// parse adds the benchmark result lines of out, from package pkg, to res
// and returns how many it found.
func (res results) parse(pkg string, out io.Reader) int {
	n := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n++
		key := pkg + " " + m[1]
		r := res[key]
		if r == nil {
			r = &result{}
			res[key] = r
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		r.ns = append(r.ns, ns)
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, _ := strconv.ParseFloat(f[i], 64)
			switch f[i+1] {
			case "allocs/op":
				r.allocs = append(r.allocs, v)
			case "B/op":
				r.bytes = append(r.bytes, v)
			}
		}
	}
	return n
}

// benchLine matches a benchmark result line; the -N suffix is GOMAXPROCS.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)

// runBinary runs one round of a test binary and adds its results to res.
func runBinary(ctx context.Context, bin, dir string, b bench, benchtime string, pinned bool, res results, stderr io.Writer) error {
	argv := []string{bin, "-test.run", "^$", "-test.bench", b.pattern, "-test.benchtime", benchtime, "-test.benchmem", "-test.count", "1"}
	if pinned {
		argv = append([]string{"taskset", "-c", "1"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", b.pkg, err, out.String())
	}
	n := res.parse(b.pkg, &out)
	if n == 0 {
		return fmt.Errorf("%s: no benchmark results in:\n%s", b.pkg, out.String())
	}
	fmt.Fprintf(stderr, "benchtable: %s: %d results in %v\n", b.pkg, n, time.Since(start).Round(time.Second))
	return nil
}

// ns returns the median ns/op of key, or 0 when it did not run.
func (res results) ns(key string) float64 {
	if r := res[key]; r != nil {
		return loadtest.Median(r.ns)
	}
	return 0
}

func (res results) allocs(key string) float64 {
	if r := res[key]; r != nil {
		return loadtest.Median(r.allocs)
	}
	return 0
}

// spread returns the (max-min)/median of key's ns/op in percent: how much
// the rounds disagreed.
func (res results) spread(key string) float64 {
	r := res[key]
	if r == nil || len(r.ns) == 0 {
		return 0
	}
	return 100 * (slices.Max(r.ns) - slices.Min(r.ns)) / loadtest.Median(r.ns)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

var sizes = []string{"1KiB", "16KiB", "256KiB"}

func reportSignature(w io.Writer, res results) {
	for _, op := range []string{"Verify", "Sign"} {
		key := func(size, sub string) string {
			return "./internal/integration/signature Benchmark" + op + "/" + size + "/" + sub
		}
		fmt.Fprintf(w, "signature %s: medians (ns/op) and ratios; lower is faster\n\n", strings.ToLower(op))
		fmt.Fprintln(w, "| body | raw HMAC | webhookkit | reference | webhookkit / raw HMAC | reference / raw HMAC | webhookkit / reference | webhookkit allocs | reference allocs | spread |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, size := range sizes {
			raw, ours, ref := res.ns(key(size, "rawhmac")), res.ns(key(size, "signature")), res.ns(key(size, "reference"))
			fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %s | %s | %s | %.0f | %.0f | %.0f%% |\n", size, raw, ours, ref,
				ratio(ours, raw), ratio(ref, raw), ratio(ours, ref), res.allocs(key(size, "signature")), res.allocs(key(size, "reference")),
				max(res.spread(key(size, "rawhmac")), res.spread(key(size, "signature")), res.spread(key(size, "reference"))))
		}
		if op == "Sign" {
			fmt.Fprintln(w, "\nwebhookkit is Signer.AppendSign into a reused buffer; Signer.Sign, which returns a new string, against raw HMAC:")
			for _, size := range sizes {
				fmt.Fprintf(w, "%s %.0f ns/op, %s; ", size, res.ns(key(size, "signature-string")), ratio(res.ns(key(size, "signature-string")), res.ns(key(size, "rawhmac"))))
			}
			fmt.Fprintln(w)
		}
		if op == "Verify" {
			v, raw := res.ns(key("16KiB", "signature")), res.ns(key("16KiB", "rawhmac"))
			verdict := "met"
			if v == 0 || v/raw > 1.1 {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "\ngoal: verify within 1.10x of raw HMAC at 16 KiB: %s, %s\n", ratio(v, raw), verdict)
		}
		fmt.Fprintln(w)
	}
}

func reportEvent(w io.Writer, res results) {
	d, s := "./event BenchmarkDecode", "./event BenchmarkDecodeStdlib"
	fmt.Fprintln(w, "event decoding of a 1 KiB envelope: medians and ratio")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| | ns/op | allocs/op | B/op | vs encoding/json | spread |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, row := range []struct{ name, key string }{{"encoding/json into a struct", s}, {"event.Decode (strict)", d}} {
		var b float64
		if r := res[row.key]; r != nil {
			b = loadtest.Median(r.bytes)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %s | %.0f%% |\n", row.name, res.ns(row.key), res.allocs(row.key), b, ratio(res.ns(row.key), res.ns(s)), res.spread(row.key))
	}
	fmt.Fprintln(w)
}

func reportLease(w io.Writer, res results) {
	fmt.Fprintln(w, "lease cost beside a backlog of not-yet-due deliveries: median ns/op, and ratio to the 1,000 backlog (flat is 1.00)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| store | benchmark (one op) | backlog 1,000 | 100,000 | 1,000,000 | 100,000 / 1,000 | 1,000,000 / 1,000 | spread |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	rows := []struct{ store, bench, desc string }{
		{"memory", "./store/memory BenchmarkLease", "storetest: lease (batches of 10) + one Settle per batch, per delivery"},
		{"sqlite", "./store/sqlite BenchmarkLease", "storetest: lease (batches of 10) + one Settle per batch, per delivery"},
		{"postgres", "./store/postgres BenchmarkConformanceLease", "storetest: lease (batches of 10) + one Settle per batch, per delivery"},
		{"postgres", "./store/postgres BenchmarkLease", "one Lease of 10 deliveries"},
	}
	for _, r := range rows {
		k := func(n int) string { return fmt.Sprintf("%s/backlog=%d", r.bench, n) }
		base, mid, big := res.ns(k(1_000)), res.ns(k(100_000)), res.ns(k(1_000_000))
		if base == 0 {
			continue
		}
		cell := func(v float64) string {
			if v == 0 {
				return "not run"
			}
			return fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %.0f%% |\n", r.store, r.desc, cell(base), cell(mid), cell(big),
			ratio(mid, base), ratio(big, base), max(res.spread(k(1_000)), res.spread(k(100_000)), res.spread(k(1_000_000))))
	}
	fmt.Fprintln(w)
}
