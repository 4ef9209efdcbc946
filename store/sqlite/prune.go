package sqlite

import (
	"context"
	"encoding/json"
	"time"
)

// pruneBatchSize is how many deliveries one PruneDeliveries transaction
// deletes: small enough that the write lock is held briefly, large enough
// that a backlog of millions takes a few thousand transactions.
const pruneBatchSize = 1000

// PruneDeliveries deletes the succeeded and failed deliveries that finished
// before before, and the events left without deliveries, and returns how
// many deliveries it deleted. It works in batches of a thousand deliveries,
// oldest finished first, each in its own write transaction, reading them
// from a partial index on finished_at (so pending, leased and paused rows
// are never visited). If ctx ends or a batch fails, the batches already
// committed stay deleted and their count is returned with the error. A
// pruned event id is forgotten: enqueueing it again creates fresh
// deliveries. The attempt log is pruned separately ([Store.PruneAttempts]).
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	batch := s.pruneBatch
	if batch <= 0 {
		batch = pruneBatchSize
	}
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, errorf("sqlite: prune deliveries: %w", err)
		}
		var n int
		err := s.write(ctx, func(q dbtx) error {
			evs, err := deleteReturningEvents(ctx, q, `DELETE FROM webhookkit_deliveries WHERE id IN (
    SELECT id FROM webhookkit_deliveries
    WHERE state IN ('succeeded', 'failed') AND finished_at < ?
    ORDER BY finished_at LIMIT ?)
RETURNING event_id`, nanos(before), batch)
			if err != nil {
				return err
			}
			n = len(evs)
			return deleteOrphanEvents(ctx, q, evs)
		})
		if err != nil {
			return total, errorf("sqlite: prune deliveries: %w", err)
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// deleteReturningEvents runs a DELETE of deliveries that returns their
// event_id, and returns one id per deleted row.
func deleteReturningEvents(ctx context.Context, q dbtx, query string, args ...any) ([]string, error) {
	return queryAll(ctx, q, scanString, query, args...)
}

// deleteOrphanEvents deletes those of the events ids that no delivery
// refers to any more (the lookup uses the unique (event_id, endpoint_id)
// index).
func deleteOrphanEvents(ctx context.Context, q dbtx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `DELETE FROM webhookkit_events
WHERE id IN (SELECT value FROM json_each(?))
  AND NOT EXISTS (SELECT 1 FROM webhookkit_deliveries AS d WHERE d.event_id = webhookkit_events.id)`, string(idsJSON))
	return err
}
