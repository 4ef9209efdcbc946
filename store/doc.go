// Package store defines the storage roles webhookkit needs, as small
// interfaces a user can implement or mix: [Endpoints] and [Outbox] (with
// [Deliveries] and [Attempts]) on the sending side, [Inbox] on the receiving
// side. A single type may implement all of them; each driver in a
// sub-package does.
//
// # Optional capabilities
//
// Besides the roles, a store may offer capabilities that callers find by
// type assertion: [DeliveryPruner] (the sender prunes finished deliveries
// and their events after the retention period), [RetryAdvancer] (when a
// sender's circuit breaker for an endpoint closes, the deliveries that
// failed while the endpoint was down are due again at once; every driver
// has it), [Notifier] (the sender
// wakes at once when another process makes deliveries due, instead of at
// its next poll; store/postgres does this with LISTEN/NOTIFY) and
// [InboxBatcher] (a receiver claims the events of concurrent requests, and
// marks them handled, many in one statement: a group commit; the SQL
// drivers have it) and [SchemaChecker] (a sender's or receiver's Start
// checks that the schema exists, and fails with [ErrNotMigrated] when it
// does not; the SQL drivers have it) and [KeyChecker] (a sender's Start
// checks that the keys the store was given open the endpoint credentials
// it holds, and fails naming the missing key ids when they do not; the
// SQL drivers have it). A store built by embedding one value per role
// hides them unless it forwards them.
//
// # Drivers
//
//   - store/memory: the default; fast, bounded, safe for concurrent use, and
//     gone when the process exits.
//   - store/sqlite: a single file, durable, for one machine.
//   - store/postgres: durable and shared, for many sender and receiver
//     instances working the same outbox and inbox.
//
// Every driver passes the same conformance suite, store/storetest.
//
// # Time
//
// Methods that depend on the current time take it as an argument (now, at)
// instead of reading a clock, so the sender and receiver can be driven by a
// fake clock in tests and every instance agrees on what "due" means.
//
// # Deliveries and leases
//
// A delivery is one event for one endpoint; there is at most one per
// (event id, endpoint id). Its life:
//
//	pending --Lease--> leased --succeeded--> succeeded
//	                     |------retry-----> pending (due later)
//	                     |------failed----> failed (dead; Requeue makes it pending)
//	                     |------released--> pending (attempt not counted)
//	                     '--lease expires-> due again (the attempt counts)
//	pending/leased --endpoint disabled--> paused --endpoint enabled--> pending
//
// Leasing hands out a token, and [Outbox.Settle] ends leases in batches,
// in one transaction: each [Settlement] names its [Outcome] (one of the
// four above), presents its token and brings the attempt to log, and the
// batch carries one [HealthDelta] per endpoint, the batch's attempts
// folded into one change of the endpoint's health. A settlement whose
// token no longer holds the delivery (the lease expired and moved on) is
// reported lost in [SettleResult].Lost, so two workers never settle the
// same attempt, and one stale lease does not fail the others; its attempt
// is logged all the same. Settling in batches is what lets a durable store
// keep up with the wire: a commit per batch instead of three per delivery.
//
// # Retention
//
// Finished deliveries and their events stay until pruned. A store that can
// forget them implements the optional [DeliveryPruner], found by type
// assertion; the attempt log has [Attempts.PruneAttempts] and the inbox
// [Inbox.PruneInbox].
//
// # Errors
//
// Drivers return [ErrNotFound] and [ErrConflict] (wrapped or not) for the
// conditions documented on each method, and [ErrInvalid] for arguments they
// refuse; test with [errors.Is]. Every driver checks an endpoint with
// [Endpoint.Validate] (through [Endpoint.Prepare]) when it creates or
// updates it, so a malformed URL or secret is refused there, not at each
// delivery. The SQL drivers' Migrate returns [ErrSchemaMismatch] when a
// table with one of their names belongs to something else, and their other
// methods return [ErrNotMigrated] when Migrate was not called.
package store
