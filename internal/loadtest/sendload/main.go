// Command sendload measures webhookkit's sender: deliveries per second and
// allocations per delivery with each store, beside a plain loop that only
// signs and POSTs the same events at the same concurrency, in the same run.
//
// Usage:
//
//	sendload [-stores memory,sqlite,postgres] [-n 5000] [-rounds 4] [-c 32] [-pin=true] [-cpuprofile PREFIX]
//	sendload serve [-addr 127.0.0.1:0]
//	sendload run -url http://127.0.0.1:PORT/ [-stores ...] [-n ...] [-rounds ...] [-c ...]
//	sendload instances [-instances 1,3] [-n 20000] [-rounds 3] [-c 32] [-per-instance] [-endpoints 1] [-dsn DSN] [-cpuprofile PREFIX]
//
// Without a subcommand it starts the endpoint ("serve": a bare net/http
// handler that reads the body and answers 200) pinned to CPU 0 and the
// measuring process ("run") pinned to CPU 1 (taskset -c, when available),
// and prints run's report.
//
// For each store, each round runs the plain loop, then the sender, on -n
// events of 1 KiB (envelope) to one endpoint. The events are created
// untimed; for the sender they are published untimed too (Publish into the
// store), then the timer covers Start until every delivery succeeded and
// Shutdown returned: leasing, signing, the POST, the attempt log and
// settling. The plain loop's timer covers encoding each envelope with its
// attempt date, signing and POSTing it with net/http, -c goroutines at once.
// Allocations are runtime.MemStats deltas over the timed part, divided by
// -n. The report gives each round and, per store, the medians and the ratio
// of the medians (goal with the memory store: at least 0.9).
//
// The SQLite store lives in a temporary file; PostgreSQL (only when
// WEBHOOKKIT_TEST_POSTGRES_DSN is set, and only on a loopback address) in a
// throwaway schema. Both are removed afterwards. The PostgreSQL server itself
// is not pinned: it shares the machine with both processes.
//
// # Several instances on one PostgreSQL store
//
// "instances" asks whether total throughput holds as sender instances are
// added to one PostgreSQL store, where they compete for leases. For each
// instance count K of -instances and each of -rounds rounds (the counts in
// the given order in odd rounds, reversed in even ones, to cancel drift),
// it publishes -n events into a fresh schema, spread round robin over
// -endpoints endpoints, untimed (then VACUUM ANALYZE and, when permitted,
// CHECKPOINT). It then starts K sender instances, each a process of its
// own (this binary's hidden "instance-child" command) on that schema, and
// times from the moment they are told to start until every delivery
// succeeded: the endpoint has answered a POST of every event and the last
// success is written to the store. Nothing is pinned: the instances, the
// endpoint and the PostgreSQL server share the machine's CPUs.
//
// -c is the total of workers, split as evenly as it goes across the
// instances (32 = 11+11+10 for 3), so every K has the same requests in
// flight and the same endpoint load, and what changes with K is only the
// coordination: more processes leasing and settling in smaller batches on
// the same rows. A fall is then the cost of that coordination, not of a
// different load. -per-instance gives every instance -c workers instead,
// as adding identical processes in production would; then K instances
// also put K times the requests in flight. Each instance's pool holds up
// to max(workers, 4) connections.
//
// The endpoint, in the orchestrating process, is the bare handler that
// also counts POSTs per event id; delivery is at least once, so an event
// POSTed twice (possible only after a lease was lost) is reported as a
// duplicate. Failed attempts, or POSTs of events not published in the run,
// fail it.
//
// For each run the report gives deliveries/s, duplicates, and CPU time per
// delivery over the timed part: the instances' own (user plus system,
// summed), the PostgreSQL backends serving them and every PostgreSQL server
// process (read from /proc when the server runs on this machine), and the
// endpoint's; also the CPU cores the whole machine kept busy, and how long
// the instances waited for pool connections. It samples pg_stat_activity
// every 20 ms for the instances' backends' states and wait events (a
// profile of the database's side), then prints medians per K, the ratio
// of each K's median deliveries/s to the first count's, and the goal: the
// ratio at least 1 (total deliveries/s must not fall as instances are
// added). -cpuprofile adds one more run per K in which each instance
// writes a CPU profile of its timed part. PostgreSQL is required
// (WEBHOOKKIT_TEST_POSTGRES_DSN, or -dsn, which is exported to the
// instances' environment).
package main

import (
	"io"
	"os"

	"github.com/webhookkit/webhookkit/internal/loadtest"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the program with args and returns the exit code (see
// [loadtest.Main]).
func cli(args []string, stdout, stderr io.Writer) int {
	return loadtest.Main("sendload", args, stdout, stderr,
		map[string]loadtest.Command{"serve": serve, "run": measure, "instances": instances, "instance-child": instanceChild}, orchestrate)
}

// usageError marks an error in the command line (exit code 2).
type usageError = loadtest.UsageError
