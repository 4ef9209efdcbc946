// Package storetest is the conformance suite every webhookkit store must
// pass, in the manner of testing/fstest and testing/slogtest: a driver's test
// calls [Run] with a [Factory] that makes a fresh, empty store, and the suite
// runs each case as a subtest on a store of its own.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			return memory.New(nil)
//		})
//	}
//
// # What it checks
//
//   - Endpoints: create, get, update, delete, list with paging and filters,
//     validation ([store.ErrInvalid]: malformed URLs and secrets, public
//     keys, each error naming the field and never the secret), both kinds of
//     signing keys, the CreatedAt stamped on secrets stored without one,
//     [store.ErrNotFound] and [store.ErrConflict], copies at the boundary,
//     health (RecordResult) and disabling, which pauses queued deliveries and
//     resumes them.
//   - Outbox: idempotent, all-or-nothing Enqueue per (event id, endpoint id);
//     Lease (due only, oldest due first, limit, mode, skipped endpoints,
//     exclusivity under concurrency, expiry); Complete, Retry, Fail and
//     Release with their lease tokens and [store.ErrLeaseLost].
//   - Deliveries: listing newest first with every filter and paging that
//     returns each row exactly once when creation times tie; Requeue and
//     RequeueFailed.
//   - Attempts: add, get, list newest first with filters (alone and
//     combined) and paging, paging that stays exact while attempts are added
//     between pages, prune.
//   - Inbox: claim atomicity under concurrency, the de-duplication window
//     and its defaults, release (of claimed entries only), handled and dead
//     marks, pruning; and, for stores implementing [store.InboxRecovery],
//     kept bodies, re-drive of claims whose lease ended, listing (by state
//     and of every state) and replay of dead entries, which resets Attempts
//     and clears LastError.
//   - Settle: a batch of mixed outcomes; lost leases among the others
//     (reported, not written, their attempts still logged); a delivery
//     settled twice in a batch; health deltas folded as RecordResult would
//     record each attempt, a deleted endpoint's skipped; retries and
//     releases of a disabled endpoint paused; nothing written when an
//     attempt id conflicts or the batch is ill-formed; a batch of one the
//     same as Complete, Retry, Fail or Release; concurrent batches beside
//     SetDisabled without deadlock, leaving no pending delivery of a
//     disabled endpoint.
//   - For stores implementing [store.InboxBatcher]: ClaimBatch (a key's
//     first claim in a batch wins, expired windows claimed again, kept
//     bodies, concurrent batches of overlapping keys beside single claims
//     with exactly one winner per key, all or nothing on an empty key) and
//     MarkHandledBatch (missing keys reported, the others marked; beside
//     claims of the same keys without deadlock).
//   - For stores implementing [store.DeliveryPruner]: pruning deletes only
//     deliveries finished before the cutoff (never pending, leased, paused
//     or requeued ones), returns how many, keeps an event while a delivery
//     refers to it and forgets it after, so enqueueing its id again creates
//     fresh deliveries.
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
//   - A delivery's CreatedAt is its event's Date (the publish time), so lists
//     are ordered by publish time and a clock-driven test controls them.
//   - Enqueue for an endpoint that is disabled creates the delivery paused,
//     so no pending delivery ever belongs to a disabled endpoint.
//   - A lease that expired but was not leased again still holds: its token
//     can settle the delivery until another Lease takes it.
//   - Complete, Retry, Fail and Release return [store.ErrLeaseLost] for an
//     unknown delivery id too.
//   - A leased delivery whose endpoint is disabled is not leased again when
//     its lease expires; its worker may still settle it (Retry and Release
//     then make it paused).
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
//   - Complete keeps LastError (the last failure); Requeue resets Attempts
//     and FirstAttemptAt but keeps LastAttemptAt; Release of a delivery's
//     only attempt clears FirstAttemptAt.
//   - ListInbox with an empty state lists every state; LeaseClaimed rejects
//     a limit or lease that is not positive with [store.ErrInvalid].
package storetest
