package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// pruneBatchSize is how many deliveries one PruneDeliveries transaction
// deletes: small enough to hold row locks and write WAL briefly, large
// enough that a backlog of millions takes a few thousand round trips.
const pruneBatchSize = 1000

// PruneDeliveries deletes the succeeded and failed deliveries that finished
// before before, and the events left without deliveries, and returns how
// many deliveries it deleted. It works in batches of a thousand deliveries,
// oldest finished first, each in its own transaction, read from a partial
// index on finished_at (pending, leased and paused rows are never visited).
// Rows another transaction holds (a concurrent Requeue, an Enqueue adding
// to the event) are skipped (FOR UPDATE SKIP LOCKED) and left for the next
// run, so several instances may prune at once. If ctx ends or a batch
// fails, the batches already committed stay deleted and their count is
// returned with the error. A pruned event id is forgotten: enqueueing it
// again creates fresh deliveries. The attempt log is pruned separately
// ([Store.PruneAttempts]).
func (h *handle) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	batch := h.n.pruneBatch
	if batch <= 0 {
		batch = pruneBatchSize
	}
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, errorf("postgres: prune deliveries: %w", err)
		}
		var n int
		err := h.inTx(ctx, func(tx pgx.Tx) error {
			evs, err := deleteReturningEvents(ctx, tx, h.n.q(`DELETE FROM {{schema}}.deliveries WHERE id IN (
					SELECT id FROM {{schema}}.deliveries
					WHERE state IN ('succeeded', 'failed') AND finished_at < $1
					ORDER BY finished_at LIMIT $2
					FOR UPDATE SKIP LOCKED
				)
				RETURNING event_id`), before, batch)
			if err != nil {
				return err
			}
			n = len(evs)
			return h.deleteOrphanEvents(ctx, tx, evs)
		})
		if err != nil {
			return total, errorf("postgres: prune deliveries: %w", err)
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// deleteReturningEvents runs a DELETE of deliveries returning their
// event_id and returns one id per deleted row.
func deleteReturningEvents(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// deleteOrphanEvents deletes those of the events ids that no delivery refers
// to any more. An event row locked by another transaction (an Enqueue adding
// deliveries to it) is skipped, so the delete never races an Enqueue into a
// foreign-key error; a skipped orphan is only a row left behind.
func (h *handle) deleteOrphanEvents(ctx context.Context, tx pgx.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, h.n.q(`DELETE FROM {{schema}}.events WHERE id IN (
			SELECT e.id FROM {{schema}}.events e
			WHERE e.id = ANY($1::text[])
				AND NOT EXISTS (SELECT 1 FROM {{schema}}.deliveries d WHERE d.event_id = e.id)
			FOR UPDATE SKIP LOCKED
		)`), ids)
	return err
}
