// Command recvload drives a webhook receiver over loopback HTTP with fresh
// signed events and compares webhookkit's receiver, on each inbox, with a
// bare net/http handler that reads the body and answers 200; and, in its
// latency mode, measures publish -> callback latency through a sender and a
// receiver on one durable store.
//
// Usage:
//
//	recvload [-ab | -target bare|receiver] [-inbox memory,sqlite,postgres] [-rounds 4] [-c 32] [-d 10s] [-warmup 1s]
//	         [-batch N] [-linger D] [-flushes N] [-pin=true] [-cpuprofile-dir DIR]
//	recvload serve -target bare|receiver [-inbox memory|sqlite|postgres] -secret whsec_... [-addr 127.0.0.1:0] [-cpuprofile FILE]
//	recvload load -url http://127.0.0.1:PORT/ -secret whsec_... [-c 32] [-d 10s] [-warmup 1s] [-json]
//	recvload latency [-store postgres|sqlite|memory] [-rates 300,1000] [-d 10s] [-warmup 2s] [-publishers 16] [-max-in-flight 32] [-max-conns 40]
//	         [-disable-notify] [-split-pools] [-cpuprofile PREFIX] [-json]
//
// Without a subcommand it runs rounds of A/B: in each round, for each target
// (bare, then the receiver with each inbox of -inbox), it starts a server
// process pinned to CPU 0 and a load process pinned to CPU 1 (taskset -c,
// when available and the machine has two CPUs), so the two never share a
// core, and prints a table of requests answered 200 per second, 503s,
// latency, claims per ClaimBatch and records per MarkHandledBatch (durable
// inboxes), and CPU use, then the median of each target and the ratio of
// each receiver's median to the bare handler's, against issue 15's goals
// (memory 0.8, SQLite 0.3, PostgreSQL 0.2). -batch, -linger and -flushes
// set the receiver's InboxBatchSize, ClaimLinger and ClaimFlushes.
//
// The load process holds -c keep-alive connections, each with one request in
// flight at a time (closed loop), every request a new event (a fresh UUIDv4)
// with a 1 KiB envelope, signed when it is sent. It speaks HTTP/1.1 on raw
// connections, which costs it far less CPU than net/http's client, so the
// server, not the load, is what saturates. Requests started during the first
// -warmup are not counted. It only ever connects to loopback addresses.
//
// "serve" runs the receiver with an inbox (memory: its default in-memory
// one; sqlite: a new file; postgres: a new schema of the database
// WEBHOOKKIT_TEST_POSTGRES_DSN names, on a loopback address) and a callback
// that counts events, or the bare handler; it prints "addr HOST:PORT" when
// listening, and on exit (stdin closed, SIGINT or SIGTERM) shuts down,
// draining the receiver, and prints "stats {json}".
//
// "latency" runs a sender (its outbox) and a receiver (its inbox) in one
// process on one fresh store, the receiver serving HTTP on loopback, and for
// each rate of -rates publishes 1 KiB events at that offered rate (open
// loop: event i is due at i/rate, published by the first free one of
// -publishers goroutines) for -warmup then -d. It reports, for the events
// due in the measured window, the publish -> callback latency (from the
// start of Publish to the start of the callback) at p50, p95, p99 and max,
// the receiver's part of it (from the first request for the event reaching
// the receiver to the callback) at p50 and p95,
// the rates published and delivered, how late publishing fell behind, and
// whether the offered rate was sustained (every event published within
// 100 ms of its due time and delivered, deliveries keeping pace); it fails
// if an event never reached the callback or reached it twice.
//
// For finding what bounds a run, "latency" also reports where the measured
// window's time went, per event delivered in it: this process's CPU, the PostgreSQL
// server's (its backends for the run, and all its processes), the cores the
// machine kept busy, the database's commits (of every client), the pool's
// waits for a connection, the sender's Lease
// and Settle calls (how many, how full), and a profile of the backends'
// wait events sampled every 20 ms. -cpuprofile writes each run's CPU
// profile, its publishers', sender's and receiver's goroutines labelled
// part=publish|sender|receiver (go tool pprof -tags). -split-pools gives
// each of those parts a pool of its own (the publishers publishing through
// a second, unstarted sender, so the started one is woken by the store's
// notifications), to report the server's CPU per part. -disable-notify sets
// the PostgreSQL store's DisableNotify.
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
		map[string]loadtest.Command{"serve": serve, "load": load, "latency": latencyCmd}, orchestrate)
}

// usageError marks an error in the command line (exit code 2).
type usageError = loadtest.UsageError
