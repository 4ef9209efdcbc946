// Package postgres is webhookkit's PostgreSQL store: durable and shared, for
// many sender and receiver instances working one outbox and one inbox. A
// [Store] implements [store.SenderStore] (endpoints, outbox, deliveries,
// attempt log), [store.Inbox], [store.InboxRecovery],
// [store.DeliveryPruner], [store.RetryAdvancer], [store.Notifier] and
// [store.InboxBatcher]. It uses
// github.com/jackc/pgx/v5 through a *pgxpool.Pool that the caller owns.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	keys, err := seal.ParseKeyring(os.Getenv("WEBHOOK_STORE_KEYS"))
//	...
//	// Tables in the schema "webhookkit"; endpoint credentials sealed at
//	// rest under keys (Config.PlaintextSecrets keeps them in plaintext;
//	// with neither, writing an endpoint fails with seal.ErrNoPolicy).
//	s, err := postgres.New(pool, &postgres.Config{Keys: keys})
//	...
//	if err := s.Migrate(ctx); err != nil { ... }
//
// [Store.CheckKeys], which a sender's Start calls, fails with a
// [*seal.KeysError] when Config.Keys cannot open the credentials the
// schema holds (a key id missing, or given another key), instead of the
// sender starting and every delivery failing.
//
// # Schema
//
// [Store.Migrate] creates, in one schema ([Config.Schema]), the tables
// endpoints, events, deliveries, attempts, inbox and schema_version, and
// their indexes. The SQL is schema.sql in this package's source, with a
// comment on every table and index saying why it is there. Migrate is
// explicit (New never touches the database), idempotent, and safe to run
// from every instance at start-up: it holds a transaction-scoped advisory
// lock while it works. A relation of the schema with one of those names that
// lacks the store's columns (another application's endpoints table in a
// shared schema such as "public") is refused with [store.ErrSchemaMismatch],
// not adopted.
//
// An event is stored once, in events, however many endpoints it is fanned
// out to; each delivery references it. Event data is bytea, never jsonb, so
// the bytes signed and sent are exactly the bytes published. Times are
// timestamptz, which keeps microseconds: nanoseconds are dropped.
//
// # Leasing and scaling to many instances
//
// Lease is a single statement: a SELECT of the oldest due deliveries with
// FOR UPDATE SKIP LOCKED feeding an UPDATE that marks them leased with a
// fresh random token. Concurrent leases, in any number of processes, skip
// each other's rows instead of waiting, and never hand out one delivery
// twice while its lease holds. A leased delivery's due time is its lease's
// end, so a worker that dies leaves deliveries that simply come due again.
// The partial index deliveries_due_idx holds only pending and leased
// deliveries, by mode and due time: a lease reads the rows it takes and
// stops, whatever the number of deliveries not yet due, finished or paused.
// The statement is planned with its actual arguments on every call (a
// generic plan could not know that the due range is small).
//
// [Store.Settle] settles a batch, with its attempts and the endpoints'
// health, in one transaction sent as one pipelined round trip, each
// delivery only while its lease token holds it; it locks the
// endpoints it reads or writes, then the deliveries, each in id order, so
// concurrent batches and SetDisabled neither deadlock nor let a retried
// delivery of a disabled endpoint stay pending. [Store.ClaimBatch] (the
// [store.InboxBatcher] capability) claims many keys with one INSERT ... ON
// CONFLICT, in key order for the same reason.
// Enqueue is idempotent through the unique (event_id, endpoint_id)
// constraint and INSERT ... ON CONFLICT DO NOTHING; an event id reused with
// a different type, mode or data is [store.ErrConflict], checked in the same
// transaction. Inbox claims are one INSERT ... ON CONFLICT DO UPDATE that
// wins only when the key is absent or its window has ended, so exactly one
// of any number of concurrent claims wins; the claimed event's body is
// stored with the claim and kept until it is handled (or, for dead events,
// until it is replayed and handled).
//
// Disabling an endpoint pauses its pending deliveries in the same
// transaction; deliveries leased at that moment are not leased again when
// their lease expires, and their worker's retry or release pauses them.
// Enqueue creates paused deliveries for endpoints already disabled. An
// enqueue that commits concurrently with the disabling of its endpoint may
// still create a pending delivery; the sender, which reads the endpoint
// before sending, pauses it with a retry.
//
// Every instance should use the same [Config.Schema]; different schemas in
// one database are independent stores. Size the pool for the sender's and
// receiver's concurrency: a lease, a settle or a claim holds a connection
// for one round trip.
//
// # Waking other instances
//
// A sender that is idle looks for due deliveries once per poll interval.
// So that a delivery enqueued by one instance, or in the application's own
// transaction, is picked up at once by whichever instance is idle, the store
// uses PostgreSQL's LISTEN/NOTIFY. A transactional publish (Enqueue
// through [Store.Tx]), Requeue, RequeueFailed and the enabling of an
// endpoint call pg_notify on [Store.NotifyChannel] in their transaction,
// when they make deliveries due: PostgreSQL sends the notification when that
// transaction commits and drops it on rollback, so a wakeup never announces
// a delivery that does not exist, and a transactional publish wakes the
// senders exactly when its deliveries become visible. Enqueue on the Store
// itself (a sender's Publish) notifies just after its own transaction has
// committed, in a short transaction of its own that concurrent enqueues
// share (see Notifying has a cost). [Store.Subscribe] (the
// [store.Notifier] capability) listens; a started sender subscribes by
// itself and holds one extra connection for it, taken from the pool and
// never given back (the pool may open another in its place), so allow for
// one more connection per sender. The listening connection is pinged after
// 15 s of silence and replaced, with backoff, when it fails; each new start
// of listening wakes the sender once, for what it may have missed. A
// notification is only a hint: polling still runs, so a lost notification
// delays a delivery by at most a poll interval, as without notifications.
// LISTEN needs a session of its own, so it does not work through a pooler
// in transaction mode (PgBouncer's pool_mode=transaction) nor on a read
// replica: subscribe through a direct connection to the primary, or rely on
// polling.
//
// Notifying has a cost: PostgreSQL commits the transactions that notify one
// at a time, each holding a database-wide lock until its commit is flushed
// to disk. Enqueue on the Store therefore keeps the notification out of its
// transaction: once that has committed, it notifies in a transaction that
// writes nothing else and does not wait for the disk, and an enqueue that
// committed before such a notification began relies on it rather than
// sending its own, so concurrent publishes commit side by side and share a
// few notifications. Transactional publishes still notify in the
// application's transaction, so many of them at once commit one at a time
// (BenchmarkEnqueueParallel in this package measures Enqueue).
// [Config.DisableNotify] turns notifying off for a store that publishes
// more than it needs prompt delivery.
//
// # Transactional publish
//
// [Store.Tx] binds the store to the caller's own pgx.Tx, and a sender's
// PublishTx publishes through it, next to the business write it announces
// (the transactional outbox). The subscribed endpoints are read and the
// deliveries enqueued through that transaction, with the rules of every
// publish. The guarantee: the deliveries exist if and only if the
// transaction commits. A rollback, a failed commit or a crash before the
// commit leaves no delivery behind; once the commit returns, every
// subscribed endpoint has its delivery, durably, and any sender instance may
// lease it; idle senders are woken by the commit's notification (see Waking
// other instances). Nothing is sent before the commit, since senders cannot
// see uncommitted rows. Delivery itself is at least once, as always with
// webhooks: receivers de-duplicate by event id.
//
// # Retention
//
// Finished deliveries, their events, attempts and handled inbox entries stay
// until pruned: call [Store.PruneDeliveries], [Store.PruneAttempts] and
// [Store.PruneInbox] periodically. PruneDeliveries deletes in batches of a
// thousand rows, one short transaction each, skipping rows other
// transactions hold, so it can run beside senders and on several instances.
//
// # Concurrency
//
// A Store is safe for concurrent use by any number of goroutines, and any
// number of Stores (in any number of processes) may share one schema.
//
// # Module
//
// The package is a module of its own, github.com/webhookkit/webhookkit/store/postgres,
// so that github.com/jackc/pgx/v5 reaches only the programs that use this store:
//
//	go get github.com/webhookkit/webhookkit/store/postgres
//
// It requires the core module at the version it was released with; its
// tags are prefixed store/postgres/ (for example store/postgres/v0.1.0).
//
// Tests of code built on it can take a throwaway schema per test from
// [github.com/webhookkit/webhookkit/store/postgres/pgtest].
package postgres
