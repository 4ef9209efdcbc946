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
			rows, err := tx.Query(ctx, h.n.q(`DELETE FROM {{schema}}.deliveries WHERE id IN (
					SELECT id FROM {{schema}}.deliveries
					WHERE state IN ('succeeded', 'failed') AND finished_at < $1
					ORDER BY finished_at LIMIT $2
					FOR UPDATE SKIP LOCKED
				)
				RETURNING event_id, CASE WHEN holds_key THEN endpoint_id END, CASE WHEN holds_key THEN ordering_key END`),
				before, batch)
			if err != nil {
				return err
			}
			var evs, heldEps, heldKeys []string
			var ev string
			var ep, key *string
			if _, err := pgx.ForEachRow(rows, []any{&ev, &ep, &key}, func() error {
				evs = append(evs, ev)
				if ep != nil && key != nil {
					heldEps, heldKeys = append(heldEps, *ep), append(heldKeys, *key)
				}
				return nil
			}); err != nil {
				return err
			}
			n = len(evs)
			if err := h.releaseKeys(ctx, tx, heldEps, heldKeys); err != nil {
				return err
			}
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

// releaseKeys lets the next delivery of each key (eps[i], keys[i]) go into
// the lease index after the failed deliveries that held those keys were
// pruned: it takes the keys' advisory locks in shared mode, in a fixed
// order, then clears key_waiting on each key's head, in a statement of its
// own (see lockFinishedKeysSQL for why).
func (h *handle) releaseKeys(ctx context.Context, tx pgx.Tx, eps, keys []string) error {
	if len(eps) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($3, k.h) FROM (
			SELECT DISTINCT hashtext(t.ep || chr(31) || t.key) AS h FROM unnest($1::text[], $2::text[]) AS t (ep, key) ORDER BY 1
		) AS k`, eps, keys, keyLockClass); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, h.n.q(`UPDATE {{schema}}.deliveries d SET key_waiting = false
		FROM (SELECT DISTINCT ep AS endpoint_id, key AS ordering_key FROM unnest($1::text[], $2::text[]) AS t (ep, key)) AS s,
			LATERAL (`+keyHeadOfSQL+`) AS head
		WHERE d.id = head.id AND d.key_waiting`), eps, keys)
	return err
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
