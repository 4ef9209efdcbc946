package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// PublishTx publishes ev inside the caller's transaction tx (the
// transactional outbox): the subscribed endpoints are read and the event and
// its deliveries written through tx, so they are enqueued if and only if tx
// commits. It returns how many deliveries it created; on error nothing of
// the publish remains in tx (a savepoint is rolled back) and the caller may
// still commit its other writes or roll back.
//
// tx must belong to a *sql.DB on the same database file, with this schema
// migrated; the easiest is [Store.DB]: its transactions begin IMMEDIATE, so
// they never fail with SQLITE_BUSY when they move from reading to writing.
// A transaction begun DEFERRED that reads before publishing may. The
// fan-out rule is [store.Subscribers]; the errors are those of
// [store.Publish].
func (s *Store) PublishTx(ctx context.Context, tx *sql.Tx, ev event.Event, aud store.Audience) (int, error) {
	if tx == nil {
		return 0, fmt.Errorf("sqlite: publish tx: %w: nil transaction", store.ErrInvalid)
	}
	v := s.inTx(tx)
	return store.Publish(ctx, v, v, ev, aud)
}

// inTx returns a view of s whose reads and writes all run in tx, writes
// inside savepoints.
func (s *Store) inTx(tx dbtx) *Store {
	return &Store{db: s.db, rdb: s.rdb, now: s.now, tx: tx}
}
