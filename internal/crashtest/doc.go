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
//   - TestReceiverCrashProviders (SQLite and PostgreSQL): a receiver child
//     with a GitHub and a Stripe source (no source of its own) answers 200
//     to requests of both, signed as those providers sign them
//     (webhooktest.GitHubRequest, StripeRequest), completes a quarter of
//     the callbacks and is SIGKILLed once those are recorded handled, the
//     others accepted and waiting. The restarted child re-drives them from
//     the inbox's request records. Every request is handled exactly once,
//     and the handler sees the same event (id, type, mode, time, data) and
//     the same receiver.Delivery (source, provider, key, body, the
//     provider's and the sender's headers, Authorization dropped) in the
//     life that re-drove it as in the one that accepted it; sending every
//     request again hands none to the callback.
//   - TestSenderCrashMidSettle (SQLite and PostgreSQL): the sender child is
//     SIGKILLed twice inside the Settle of a batch whose requests the
//     endpoint answered 200 (its store blocks there and tells the parent),
//     before the batch's outcomes are written. Right after each kill those
//     deliveries are still leased; after the restart they are delivered
//     again, as the same event ids, which the receiver answers as
//     duplicates. Every event is delivered, none the test did not publish,
//     each callback runs once, and every delivery ends succeeded.
//   - TestPostgresTerminate: a sender and a receiver with a durable
//     PostgreSQL inbox run in the test process, their pools' sessions named
//     by one application_name, while those sessions are ended with
//     pg_terminate_backend every 150 ms, a dozen times: claim and
//     mark-handled batches and Settle transactions fail midway. With no
//     restart, every event is delivered and handled, its callback run
//     exactly once; the test logs the sessions ended and the retries.
//   - TestPostgresTerminateBeforeMark: callbacks have run, and the inbox's
//     role is cut off (its sessions ended, new ones refused) before their
//     mark-handled records are written. When the database comes back while
//     the receiver tries again, the records land and the events run once.
//     When it does not before Close, the records are given up (logged with
//     their keys), the events stay claimed, and the next receiver re-drives
//     exactly those, once: at-least-once, a second run only for an event
//     whose record never landed.
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
