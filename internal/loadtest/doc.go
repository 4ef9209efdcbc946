// Package loadtest holds what webhookkit's benchmark and reliability programs
// share: fresh signed events, child processes pinned to a CPU, loopback-only
// networking, and small statistics. The programs themselves are the
// sub-directories (package main):
//
//   - recvload: drives a receiver, with each inbox, over loopback HTTP and
//     compares it with a bare net/http handler (A/B/A/B, medians), server
//     and load in separate processes pinned to separate cores; its latency
//     mode measures publish -> callback through a sender and a receiver on
//     one store;
//   - sendload: the sender's deliveries/s and allocations per delivery with
//     each store, beside a plain sign-and-POST loop; its instances mode
//     compares several sender processes sharing one PostgreSQL store with
//     one, with the CPU each side spends per delivery;
//   - reliability: bounded overload, chaos-delivery and soak runs, each
//     printing what it proved;
//   - benchtable: runs the packages' go benchmarks A/B/A/B and prints
//     every figure as a ratio of medians against its in-run baseline.
//
// BENCHMARKS.md at the root of the module documents the commands and the
// figures. Nothing here is public API; every program talks to loopback
// addresses only.
package loadtest
