package sqlite

import (
	"context"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// Backlog counts the unfinished deliveries of mode (both when empty) as of
// now, in one statement over the due index, the index of the deliveries
// queued behind their key's head, and the paused index: finished
// deliveries are never read.
func (s *Store) Backlog(ctx context.Context, mode event.Mode, now time.Time) (store.Backlog, error) {
	if mode != "" && !mode.Valid() {
		return store.Backlog{}, errorf("sqlite: backlog: mode %q: %w", mode, store.ErrInvalid)
	}
	var b store.Backlog
	err := s.reader().QueryRowContext(ctx, `WITH due AS (
    SELECT
        coalesce(sum(state = 'pending' AND next_attempt_at <= ?2), 0) AS due,
        coalesce(sum(state = 'pending' AND next_attempt_at > ?2), 0) AS scheduled,
        coalesce(sum(state = 'leased'), 0) AS leased
    FROM webhookkit_deliveries INDEXED BY webhookkit_deliveries_due
    WHERE state IN ('pending', 'leased') AND key_waiting = 0 AND (?1 = '' OR mode = ?1)
), waiting AS (
    SELECT count(*) AS n
    FROM webhookkit_deliveries INDEXED BY webhookkit_deliveries_waiting
    WHERE state = 'pending' AND key_waiting = 1 AND (?1 = '' OR mode = ?1)
)
SELECT due.due, due.scheduled, due.leased,
    (SELECT count(*) FROM webhookkit_deliveries INDEXED BY webhookkit_deliveries_paused
     WHERE state = 'paused' AND (?1 = '' OR mode = ?1)),
    waiting.n
FROM due, waiting`,
		string(mode), nanos(now)).Scan(&b.Due, &b.Scheduled, &b.Leased, &b.Paused, &b.Waiting)
	if err != nil {
		return store.Backlog{}, errorf("sqlite: backlog: %w", err)
	}
	return b, nil
}
