// Package memory is webhookkit's default store: endpoints, the outbox, the
// delivery and attempt logs, and the receiver's inbox, all in process
// memory. It passes the conformance suite in store/storetest, including the
// optional [store.InboxRecovery], [store.DeliveryPruner] and
// [store.RetryAdvancer]. It does not
// offer [store.InboxBatcher]: a claim here is a map insert under a lock,
// which batching would only delay, so a receiver claims each event at once.
//
//	s := memory.New(nil) // defaults; safe for concurrent use
//
// # What a crash loses
//
// Everything. The store lives in the process's memory and writes nothing
// anywhere: when the process exits or crashes, every endpoint (with its
// secrets), every queued, leased, paused or finished delivery, the attempt
// log and every inbox entry are gone. A sender restarted on an empty memory
// store has nothing to deliver and no endpoints; a receiver has forgotten
// which event ids it accepted, so retries of events it already handled are
// accepted again, and events it had accepted (answered 2xx) but not yet
// handled are lost, because the sender will not send them again. Use
// store/sqlite or store/postgres when any of that matters.
//
// # Bounded growth
//
// Four caps, each an exported default overridable in [Config], keep memory
// bounded however long the process runs; each eviction is counted in
// [Stats] and logged at powers of two:
//
//   - Inbox entries ([DefaultMaxInboxEntries], 1,000,000): at it, a claim
//     of a new key evicts one finished entry: the handled entry whose
//     window ends first (expired ones first), else the dead entry that died
//     earliest (dead entries wait for Replay, but they are finished, so they
//     go after handled ones and before any claimed one). Claimed entries are
//     accepted events not yet handled and are never evicted, since that
//     would let a redelivery in as new: with only claimed entries left,
//     Claim refuses with [store.ErrInboxFull] (a receiver answers 503 with
//     Retry-After) and counts the refusal in [Stats].InboxRefused, logged
//     at powers of two like evictions. Eviction and refusal cost O(log n).
//     PruneInbox forgets handled entries whose window ended; claimed and
//     dead ones stay until handled, replayed, released or evicted.
//   - Attempts ([DefaultMaxAttempts], 100,000) and their bytes
//     ([DefaultMaxAttemptBytes], 256 MiB, counting bodies, headers, URL,
//     error and ids; [Stats].AttemptBytes is the current total): beyond
//     either, the attempts that started earliest are evicted until the log
//     is under both (the last attempt left stays, however large), so a few
//     attempts with huge headers or bodies cannot hold the memory that
//     100,000 small ones would. PruneAttempts removes what it prunes.
//   - Finished deliveries ([DefaultMaxFinishedDeliveries], 100,000): beyond
//     it the succeeded and failed deliveries that finished earliest are
//     evicted, and an event id is forgotten with its last delivery (so
//     enqueueing it again creates new deliveries). Pending, leased and
//     paused deliveries are work, never evicted. PruneDeliveries forgets
//     the finished deliveries older than a cutoff the same way, so a
//     retention by age can apply before the cap does.
//
// # Cost
//
// One sync.RWMutex guards the store: reads (Get*, List*, Stats) share it,
// writes hold it alone. No method blocks on anything else or does I/O, so
// the context arguments are not consulted. The deep copies a store makes of
// what goes in and comes out are made outside the lock: values are copied
// before it is taken, and what is stored is never changed in place (an
// endpoint change stores a new snapshot; attempts, event data and inbox
// bodies are never written after they are stored), so results are copied
// after it is let go.
//
// Lease keeps pending and leased deliveries in heaps (one per endpoint and
// mode, ordered by due time, under one heap per mode ordered by each
// endpoint's earliest): it costs O(k log n) for k deliveries leased, never
// visiting deliveries that are not due. Settling, Enqueue, Claim,
// AddAttempt, PruneAttempts, PruneInbox and LeaseClaimed are O(log n) per
// item.
//
// ListAttempts walks an ordered index of the attempts of the delivery,
// event or endpoint it filters by (the smallest, when several), else of all
// attempts; ListDeliveries one of the endpoint's deliveries, else of all
// deliveries (with an EventID it sorts that event's few deliveries). A walk
// starts at the cursor by binary search and stops with a full page, so a
// page costs O(log n) plus the rows that the other filters (tenant, state,
// type, times) skip. The indexes shrink with eviction and pruning, and their
// memory stays proportional to what they hold. Cursors name the last row's
// (time, id), so pages stay exact while rows are added or evicted between
// them. ListEndpoints and ListInbox scan everything and sort the matches:
// fine for dashboards over the capped sizes above, not for hot paths.
// SetDisabled and RequeueFailed visit every delivery of the endpoint;
// PruneDeliveries visits every finished delivery.
//
// # Time
//
// Every time that matters is an argument (see package store), so a fake
// clock drives the store completely. The one exception is endpoints'
// CreatedAt and UpdatedAt, stamped from [Config].Now. A delivery's CreatedAt
// is its event's Date.
package memory
