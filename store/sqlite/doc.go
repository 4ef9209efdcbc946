// Package sqlite is a durable webhookkit store in a single SQLite file, for
// one machine: the sender's endpoints, outbox, delivery log and attempt log,
// and the receiver's inbox, which keeps each accepted event until its
// callback has handled it. It uses modernc.org/sqlite (pure Go, no cgo).
//
// # When to use it
//
// Use it when webhooks must survive a restart or a crash and the sender and
// receiver run on one machine, in one process or a few. Use store/memory
// for tests and for events you can afford to lose, and store/postgres when
// several machines work the same outbox or inbox.
//
// # Setup
//
//	keys, err := seal.ParseKeyring(os.Getenv("WEBHOOK_STORE_KEYS"))
//	...
//	s, err := sqlite.Open("webhooks.db", &sqlite.Config{Keys: keys})
//	...
//	defer s.Close()
//	if err := s.Migrate(ctx); err != nil { ... }
//
// Endpoint credentials (signing keys, OAuth2 client secrets, TLS private
// keys) are sealed at rest under Config.Keys (see package seal and
// [Store.Reencrypt]); PlaintextSecrets keeps them in plaintext instead. With
// neither, the store reads but refuses to write endpoints
// ([seal.ErrNoPolicy]): plaintext only by explicit choice.
// [Store.CheckKeys], which a sender's Start calls, fails with a
// [*seal.KeysError] when Config.Keys cannot open the credentials the file
// holds (a key id missing, or given another key), instead of the sender
// starting and every delivery failing.
//
// [Open] never changes the schema; [Store.Migrate] does, explicitly and
// idempotently, in one transaction (the SQL is [Schema], from the embedded
// schema.sql; every table is named webhookkit_*, so the schema can live in
// the application's own database file). A table with one of those names
// that lacks the store's columns is refused with [store.ErrSchemaMismatch],
// not adopted.
//
// # Durability
//
// The database runs in WAL mode. With the default synchronous=NORMAL
// ([DefaultSynchronous]) a committed transaction survives a crash of the
// process, but a power loss or operating-system crash may lose the last
// transactions committed before it; the database is never corrupted. With
// [Config].Synchronous "FULL" every commit is on disk when it returns, at the
// cost of an fsync per commit. What a lost transaction means here: an
// enqueue or a claim that was acknowledged may be missing (a sender then
// never delivers that event; a receiver may accept the redelivered event
// again), or a completed delivery may be delivered once more. Choose FULL
// when that matters more than write throughput.
//
// # Concurrency
//
// A Store is safe for concurrent use by any number of goroutines, and
// several processes may share the file. SQLite allows one writer at a time,
// so [Open] gives writes a pool of a single connection: writers queue in
// database/sql and take the connection as soon as it is free instead of
// polling SQLite's lock under the busy timeout. Every write transaction
// begins IMMEDIATE (it takes the write lock first, so it never fails half
// way when it turns from reading to writing). Reads use a separate pool of
// read-only connections and, in WAL mode, are not blocked by the writer.
// Across processes the busy timeout ([DefaultBusyTimeout]) is what waits.
//
// Leasing is one short write transaction: the due deliveries are read from a
// partial index on the due time, oldest first, and updated with fresh random
// tokens, so no delivery is handed to two workers while its lease holds and
// the cost grows with the number leased, not with the backlog due later.
// Inbox claims are a single upsert that only overwrites an entry whose window
// ended, so exactly one of any number of concurrent claims of a key wins.
//
// With one writer, what costs is the commit, so the store batches: one
// [Store.Settle] writes many settlements, their attempts and the
// endpoints' health in one transaction, and one [Store.ClaimBatch] (the
// [store.InboxBatcher] capability) claims many keys in one statement, so a
// receiver can group the claims of concurrent requests into one commit.
//
// # Transactional outbox
//
// [Store.Tx] binds the store to the caller's *sql.Tx, and a sender's
// PublishTx publishes through it: the subscribed endpoints are read and the
// deliveries written in that transaction, so the event is enqueued if and
// only if the caller's own writes commit. Begin the transaction on
// [Store.DB]: its commit then wakes the started senders of the process at
// once (see below). A transaction on another *sql.DB on the same file
// works too, but its commit wakes no one: senders find its deliveries at
// their next poll.
//
// While such a transaction is open it holds the store's one write
// connection (SQLite has one writer per file). Everything written meanwhile
// must go through it: a sender's Publish (instead of PublishTx), or any
// write method called on the Store itself, waits for the transaction to
// end, which in the same goroutine is never, and fails when its context
// ends with an error that wraps the context's error and names PublishTx:
//
//	tx, err := st.DB().BeginTx(ctx, nil)
//	...
//	// Not snd.Publish(ctx, ev, aud, nil): it would wait for tx.
//	_, err = snd.PublishTx(ctx, st.Tx(tx), ev, aud, nil)
//	...
//	err = tx.Commit()
//
// # Notifications
//
// A Store from [Open] is a [store.Notifier] within its process: a started
// sender subscribes ([Store.Subscribe]) and is woken when a transaction on
// the write connection commits after creating deliveries, requeueing some
// or enabling an endpoint, whether the Store ran it or the caller did
// (PublishTx in a transaction begun on [Store.DB]). A transaction that
// rolls back wakes no one. The Store learns of commits from SQLite's commit
// and rollback hooks, installed on every connection of its write pool when
// the pool opens it (no global registration). Other processes sharing the
// file are not notified: their senders poll. A Store from [New] does not
// notify at all, since it cannot hook the caller's pool.
//
// # Times and data
//
// Times are stored as integer Unix nanoseconds, so they order exactly and
// round-trip exactly; they come back in UTC. Times before 1678 or after 2262
// are clamped to that range. An event's data and request and response bodies
// are stored byte for byte. Endpoint secrets are stored as given: protect the
// file as you would any credential store.
//
// # Retention
//
// Finished deliveries, their events, attempts and handled inbox entries stay
// in the file until pruned: call [Store.PruneDeliveries],
// [Store.PruneAttempts] and [Store.PruneInbox] periodically (the sender and
// receiver do). PruneDeliveries deletes in batches of a thousand rows, one
// short write transaction each, so writers are never held up for long.
//
// # Module
//
// The package is a module of its own, github.com/webhookkit/webhookkit/store/sqlite,
// so that modernc.org/sqlite reaches only the programs that use this store:
//
//	go get github.com/webhookkit/webhookkit/store/sqlite
//
// It requires the core module at the version it was released with; its
// tags are prefixed store/sqlite/ (for example store/sqlite/v0.1.0).
package sqlite
