// Package crashtest holds no code of its own: its tests prove webhookkit's
// durability claims end to end, against the real sender, receiver and durable
// stores, with real processes killed by SIGKILL.
//
// # What the tests prove
//
//   - TestMultiInstancePostgres: three sender instances (three Stores on three
//     pgx pools, one schema) deliver every published event to one endpoint;
//     the endpoint never sees two requests for one event at the same time;
//     each delivery succeeds exactly once across the instances; every instance
//     does a real share of the work.
//   - TestSenderCrash (SQLite and PostgreSQL): a sender running in a child
//     process is SIGKILLed mid-run three times, at moments when the endpoint
//     has accepted events whose 200 the sender has not seen yet, and
//     restarted each time. Every event reaches the endpoint at least once,
//     some more than once (the retries of the unacknowledged ones), and the
//     de-duplicating receiver hands each to its callback exactly once. At the
//     end the store holds every delivery succeeded.
//   - TestReceiverCrash (SQLite and PostgreSQL): a receiver with a durable
//     inbox runs in a child process whose callback appends "run id" to a file
//     (with fsync) and then returns, after which the receiver marks the event
//     handled. The parent posts every event, gets 200 for each, and SIGKILLs
//     the child three times: while accepted events wait for their callback,
//     and while callbacks that already wrote their line have not returned.
//     After each restart the child re-drives what it had accepted. The test
//     asserts, per event id: the callback completed at least once; never twice
//     in one process; and a second completed run happened only when the crash
//     fell after the first run's side effect and before MarkHandled (which the
//     test observes in the inbox right after the kill, once the killed child's
//     PostgreSQL sessions have ended: a statement sent before the kill can
//     still commit). Every inbox entry ends handled, and posting every event
//     again after the crashes hands none of them to the callback again.
//   - TestReceiverCrashMidBatch (SQLite and PostgreSQL): the same receiver
//     child, its inbox writing claims and mark-handled records in batches
//     (group commit), SIGKILLed twice with 32 requests in flight, so while
//     claim batches are being written and handled events wait for their
//     record. Each life gets the events not yet answered 200, as their
//     senders would retry them; the last gets every event again. Right after
//     each kill, every event answered 200 is in the inbox (never 200 before
//     its claim is durable). At the end every event is handled, its callback
//     completed at least once, never twice in one process, and a second time
//     only when a crash fell between its side effect and its mark-handled
//     record (the documented window, wider by the wait for the next batch).
//
// # Running
//
// The PostgreSQL tests read the DSN from WEBHOOKKIT_TEST_POSTGRES_DSN and skip
// without it (they fail instead when CI=true); each test works in a fresh
// schema it drops afterwards. The tests use 1,000 events each;
// WEBHOOKKIT_FULL=1 raises that to 10,000.
//
//	WEBHOOKKIT_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//		go test -race ./internal/crashtest/
//
// The child processes are the test binary itself, re-executed with
// -test.run=^TestHelperProcess$ and an environment variable naming their role;
// they inherit -race. A child exits when its standard input closes, so it
// never outlives the test process.
package crashtest
