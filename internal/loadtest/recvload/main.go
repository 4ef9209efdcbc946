// Command recvload drives a webhook receiver over loopback HTTP with fresh
// signed events and compares webhookkit's receiver with a bare net/http
// handler that reads the body and answers 200.
//
// Usage:
//
//	recvload [-ab | -target bare|receiver] [-rounds 4] [-c 32] [-d 10s] [-warmup 1s] [-pin=true] [-cpuprofile-dir DIR]
//	recvload serve -target bare|receiver -secret whsec_... [-addr 127.0.0.1:0] [-cpuprofile FILE]
//	recvload load -url http://127.0.0.1:PORT/ -secret whsec_... [-c 32] [-d 10s] [-warmup 1s] [-json]
//
// Without a subcommand it runs rounds of A/B: in each round, for each target
// (bare, then receiver), it starts a server process pinned to CPU 0 and a load
// process pinned to CPU 1 (taskset -c, when available and the machine has two
// CPUs), so the two never share a core, and prints a table of requests/s,
// latency, errors and CPU use, then the median of each target and the ratio
// of the medians.
//
// The load process holds -c keep-alive connections, each with one request in
// flight at a time (closed loop), every request a new event (a fresh UUIDv4)
// with a 1 KiB envelope, signed when it is sent. It speaks HTTP/1.1 on raw
// connections, which costs it far less CPU than net/http's client, so the
// server, not the load, is what saturates. Requests started during the first
// -warmup are not counted. It only ever connects to loopback addresses.
//
// "serve" runs the receiver with its default in-memory inbox and a callback
// that counts events, or the bare handler; it prints "addr HOST:PORT" when
// listening, and on exit (stdin closed, SIGINT or SIGTERM) shuts down, draining
// the receiver, and prints "stats {json}".
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
	return loadtest.Main("recvload", args, stdout, stderr,
		map[string]loadtest.Command{"serve": serve, "load": load}, orchestrate)
}

// usageError marks an error in the command line (exit code 2).
type usageError = loadtest.UsageError
