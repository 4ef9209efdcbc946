// Package storetest is the conformance suite every webhookkit store must
// pass, in the manner of testing/fstest and testing/slogtest: a driver's test
// calls a runner with a [Factory] that makes a fresh, empty store, and the
// runner runs each case as a subtest on a store of its own.
//
// There is a runner per role of package store, each taking a factory that
// returns only what the role needs, so an implementation of one role (an
// inbox kept apart from the sender's store, say) is tested alone; [Run]
// runs them all on a store that has every role:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(testing.TB) storetest.Store {
//			return memory.New(nil)
//		})
//	}
//
// A driver with transaction views ([store.Tx]) runs [RunTx] too. Cases for
// optional capabilities ([store.InboxRecovery], [store.DeliveryPruner],
// [store.RetryAdvancer], [store.Notifier]) run when the value under test has them and are skipped,
// with a message, when it does not.
//
// # RunEndpoints
//
// [RunEndpoints] tests [store.Endpoints]: create, get, update, delete, list
// with paging and filters, validation ([store.ErrInvalid]: malformed URLs
// and secrets, public keys, each error naming the field and never the
// secret), both kinds of signing keys, the CreatedAt stamped on secrets
// stored without one, [store.ErrNotFound] and [store.ErrConflict], copies at
// the boundary, and the fields UpdateEndpoint must leave alone.
//
// # RunHealth
//
// [RunHealth] tests [store.EndpointHealth] on a [HealthStore] (it needs the
// endpoints too, and the outbox, whose Settle writes health): the health
// after each attempt settled alone (failures counted, a success resetting
// the run), disabling and enabling (which resets health), copies, ListEndpoints with ActiveOnly,
// UpdateEndpoint keeping the disabled state and health, and
// [store.ErrNotFound] for endpoints that are missing or deleted.
//
// # RunOutbox
//
// [RunOutbox] tests [store.Outbox] and [store.Deliveries] on an
// [OutboxStore], which holds the endpoints and their health as well:
// deliveries are enqueued for endpoints the store holds, and disabling an
// endpoint pauses its deliveries.
//
//   - Outbox: idempotent, all-or-nothing Enqueue per (event id, endpoint
//     id), created at the request's Now and due at its DueAt; Backlog;
//     Lease (due only, oldest due first, limit, mode, skipped endpoints,
//     exclusivity under concurrency, expiry); each outcome settled alone
//     through Settle with its lease token, and its lease lost to a wrong,
//     empty, expired or settled token or an unknown delivery; disabling,
//     which pauses queued deliveries and resumes them.
//   - Deliveries: listing newest first with every filter and paging that
//     returns each row exactly once when creation times tie; Requeue and
//     RequeueFailed; DeleteEndpoint's deliveries.
//   - Settle: a batch of mixed outcomes; lost leases among the others
//     (reported, not written, their attempts still logged); a delivery
//     settled twice in a batch; health deltas folded as the same attempts
//     settled one by one would record them, a deleted endpoint's skipped;
//     retries and releases of a disabled endpoint paused; nothing written
//     when an attempt id conflicts or the batch is ill-formed; each outcome
//     settled alone, for a first attempt, a later one and a disabled
//     endpoint; concurrent batches beside
//     SetDisabled without deadlock, leaving no pending delivery of a
//     disabled endpoint.
//   - For stores implementing [store.DeliveryPruner]: pruning deletes only
//     deliveries finished before the cutoff (never pending, leased, paused
//     or requeued ones), returns how many, keeps an event while a delivery
//     refers to it and forgets it after, so enqueueing its id again creates
//     fresh deliveries.
//   - For stores implementing [store.RetryAdvancer]: advancing an
//     endpoint's retries makes due exactly its pending deliveries attempted
//     since the given time and due after the new time, keeping their
//     attempt counts and errors; leased, paused, finished, never attempted
//     and other endpoints' deliveries are left alone.
//
// # RunAttempts
//
// [RunAttempts] tests [store.Attempts]: add, get, list newest first with
// filters (alone and combined) and paging, paging that stays exact while
// attempts are added between pages, prune.
//
// # RunInbox
//
// [RunInbox] tests [store.Inbox]: claim atomicity under concurrency, the
// de-duplication window and its defaults, release (of claimed entries
// only), handled and dead marks, pruning; and, for inboxes implementing
// [store.InboxRecovery], kept bodies, re-drive of claims whose lease ended,
// listing (by state and of every state) and replay of dead entries, which
// resets Attempts and clears LastError; and, for inboxes implementing
// [store.InboxBatcher], ClaimBatch (a key's first claim in a batch wins,
// expired windows claimed again, kept bodies, concurrent batches of
// overlapping keys beside single claims with exactly one winner per key,
// all or nothing on an empty key) and MarkHandledBatch (missing keys
// reported, the others marked; beside claims of the same keys without
// deadlock).
//
// # RunTx
//
// [RunTx] tests transaction views ([store.Tx]) through a [TxStore]: the
// store, and a Begin that starts one of the driver's transactions and
// returns its [Transaction] (the view bound to it, with Commit and
// Rollback). What a transaction enqueues is not in the store before the
// commit (read through the store: another connection, for a database) and
// is gone after a rollback; a refused enqueue ([store.ErrConflict],
// [store.ErrNotFound]) leaves the transaction usable and its other writes
// committable; GetEndpoint and ListEndpoints read through it; and, when the
// store is a [store.Notifier], a commit that enqueued wakes a subscriber
// while an open transaction and a rollback do not.
//
// # Run
//
// [Run] runs [RunEndpoints], [RunHealth], [RunOutbox], [RunAttempts] and
// [RunInbox] on a [Store], which has every role; the subtests are named
// after the roles (Endpoints/..., EndpointHealth/..., Outbox/...,
// Deliveries/..., DeliveryPruner/..., RetryAdvancer/..., Attempts/..., Inbox/...,
// InboxRecovery/...), so `go test -run` picks a role or a case.
//
// # Benchmarks
//
// [BenchmarkLease] and [BenchmarkListAttempts] measure the two costs that
// must not grow with the store's size: leasing beside a backlog that is not
// due, and listing one delivery's attempts out of a large log.
// [BenchmarkSettle] and [BenchmarkClaimBatch] measure what batching saves:
// the cost per delivery settled and per event claimed, in groups of any
// size, against the same work one call at a time.
//
// # Time
//
// Every case passes explicit times (a fixed base in 2030, whole
// milliseconds, so stores with microsecond precision round-trip them); no case
// reads the wall clock to decide what is due, and no case sleeps. Times are
// compared with [time.Time.Equal], so a store may return them in any
// location.
//
// # Conventions the suite settles
//
// The store contracts leave a few details open; the suite expects:
//
//   - A delivery's CreatedAt is the enqueue request's Now (the publish
//     time), so lists are ordered by publish time and a clock-driven test
//     controls them.
//   - Enqueue for an endpoint that is disabled creates the delivery paused,
//     so no pending delivery ever belongs to a disabled endpoint.
//   - A lease that expired but was not leased again still holds: its token
//     can settle the delivery until another Lease takes it.
//   - Settle reports the lease of an unknown delivery id lost too.
//   - A leased delivery whose endpoint is disabled is not leased again when
//     its lease expires; its worker may still settle it (a retry or a
//     release then makes it paused).
//   - Lease rejects a Limit or Duration that is not positive with
//     [store.ErrInvalid].
//   - An inbox implementing [store.InboxRecovery] keeps claimed and dead
//     entries through PruneInbox.
//   - Enqueue to an endpoint id the store does not hold is
//     [store.ErrNotFound] and creates nothing, not even the event, as a
//     foreign key would refuse it.
//   - Lease rejects an invalid Mode with [store.ErrInvalid] too.
//   - Requeue and RequeueFailed of a delivery whose endpoint is disabled
//     make it paused.
//   - DeleteEndpoint forgets an event id left without deliveries, as
//     PruneDeliveries does.
//   - Claim with a TTL that is not positive uses [store.DefaultDedupWindow];
//     a negative Lease means zero; an empty Key is [store.ErrInvalid].
//   - A de-duplication window ends at its ExpiresAt for Claim and PruneInbox
//     alike: at that instant the key can be claimed again and is pruned.
//   - ReleaseClaim of a handled or dead entry changes nothing.
//   - A success keeps LastError (the last failure); Requeue resets Attempts
//     and FirstAttemptAt but keeps LastAttemptAt; a release of a delivery's
//     only attempt clears FirstAttemptAt.
//   - ListInbox with an empty state lists every state; LeaseClaimed rejects
//     a limit or lease that is not positive with [store.ErrInvalid].
//   - A [store.Notifier] sends nothing for a transaction that is still open
//     or was rolled back (the contract allows spurious values; the suite
//     does not expect them there).
package storetest
