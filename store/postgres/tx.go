package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/store"
)

// Tx returns a view of s bound to the caller's transaction tx, for
// publishing in it (a sender's PublishTx): the transactional outbox. It
// reads the endpoints and enqueues the deliveries through tx, so they exist
// if and only if tx commits: a rollback, or a crash before the commit,
// leaves nothing behind, and once the commit returns the event is durably
// queued. Senders see the deliveries only after the commit, and are woken
// then by the notification the enqueue sends on commit (see
// [Store.Subscribe]).
//
// tx must be a transaction on the database and schema of s (from the same
// pool or not). Each enqueue runs in a savepoint, so an error such as
// [store.ErrConflict] (the event id stored with a different content) leaves
// tx usable; a database error may abort tx, as any failed statement does.
// Like every use of a pgx.Tx, calls must not overlap with other uses of the
// same tx, and the view must not be used after tx ends. A nil tx panics on
// first use.
func (s *Store) Tx(tx pgx.Tx) store.Tx { return &handle{db: tx, n: s.n} }
