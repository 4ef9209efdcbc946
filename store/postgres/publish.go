package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// PublishTx publishes ev to the audience's subscribed endpoints inside the
// caller's transaction tx: the transactional outbox. It reads the endpoints
// and enqueues the deliveries through tx (with the same fan-out rule as the
// sender, [store.Publish]), so the deliveries exist if and only if tx
// commits: a rollback, or a crash before the commit, leaves nothing behind,
// and once the commit returns the event is durably queued for every
// subscribed endpoint. Senders see the deliveries only after the commit.
//
// tx must be a transaction on the database and schema of s (from the same
// pool or not). The enqueue runs in a savepoint, so an error such as
// [store.ErrConflict] (the event id stored with a different content) leaves
// tx usable; a database error may abort tx, as any failed statement does.
// It returns how many deliveries it created, [store.ErrNoAudience] for an
// invalid audience and an error wrapping the event package's validation
// error for an invalid event. Like every use of a pgx.Tx, calls must not
// overlap with other uses of the same tx.
func (s *Store) PublishTx(ctx context.Context, tx pgx.Tx, ev event.Event, aud store.Audience) (int, error) {
	if tx == nil {
		return 0, fmt.Errorf("postgres: publish: %w: nil transaction", store.ErrInvalid)
	}
	h := &handle{db: tx, n: s.n}
	return store.Publish(ctx, h, h, ev, aud)
}
