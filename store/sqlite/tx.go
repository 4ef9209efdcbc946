package sqlite

import (
	"database/sql"

	"github.com/webhookkit/webhookkit/store"
)

// Tx returns a view of s bound to the caller's transaction tx, for
// publishing in it (a sender's PublishTx): the transactional outbox. The
// subscribed endpoints are read and the event and its deliveries written
// through tx, so they are enqueued if and only if tx commits. On error
// nothing of that enqueue remains in tx (it runs in a savepoint, rolled
// back) and the caller may still commit its other writes or roll back.
//
// tx must belong to a *sql.DB on the same database file, with this schema
// migrated; begin it on [Store.DB]: its transactions begin IMMEDIATE, so
// they never fail with SQLITE_BUSY when they move from reading to writing
// (a transaction begun DEFERRED that reads before publishing may). The view
// must not be used after tx ends.
func (s *Store) Tx(tx *sql.Tx) store.Tx { return s.inTx(tx) }

// inTx returns a view of s whose reads and writes all run in tx, writes
// inside savepoints.
func (s *Store) inTx(tx dbtx) *Store {
	return &Store{db: s.db, rdb: s.rdb, now: s.now, tx: tx, n: s.n, policy: s.policy, wsem: s.wsem}
}
