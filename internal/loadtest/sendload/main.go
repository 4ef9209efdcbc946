// Command sendload measures webhookkit's sender: deliveries per second and
// allocations per delivery with each store, beside a plain loop that only
// signs and POSTs the same events at the same concurrency, in the same run.
//
// Usage:
//
//	sendload [-stores memory,sqlite,postgres] [-n 5000] [-rounds 4] [-c 32] [-pin=true] [-cpuprofile PREFIX]
//	sendload serve [-addr 127.0.0.1:0]
//	sendload run -url http://127.0.0.1:PORT/ [-stores ...] [-n ...] [-rounds ...] [-c ...]
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
		map[string]loadtest.Command{"serve": serve, "run": measure}, orchestrate)
}

// usageError marks an error in the command line (exit code 2).
type usageError = loadtest.UsageError
