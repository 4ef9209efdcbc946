package postgres

import (
	"context"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// Backlog counts the unfinished deliveries of mode (both when empty) as of
// now, in one statement over the partial due, waiting and paused indexes: finished
// deliveries are never read. A leased delivery whose endpoint was disabled
// during its lease counts as leased.
func (h *handle) Backlog(ctx context.Context, mode event.Mode, now time.Time) (store.Backlog, error) {
	if mode != "" && !mode.Valid() {
		return store.Backlog{}, errorf("postgres: backlog: mode %q: %w", mode, store.ErrInvalid)
	}
	modes := []string{string(mode)}
	if mode == "" {
		modes = []string{string(event.ModeLive), string(event.ModeTest)}
	}
	var (
		b            store.Backlog
		leasedPaused int
	)
	err := h.db.QueryRow(ctx, h.n.q(`WITH due AS (
			SELECT
				count(*) FILTER (WHERE state = 'pending' AND next_attempt_at <= $2) AS due,
				count(*) FILTER (WHERE state = 'pending' AND next_attempt_at > $2) AS scheduled,
				count(*) FILTER (WHERE state = 'leased') AS leased
			FROM {{schema}}.deliveries
			WHERE state IN ('pending', 'leased') AND NOT key_waiting AND mode = ANY($1)
		), waiting AS (
			SELECT count(*) AS n
			FROM {{schema}}.deliveries
			WHERE state = 'pending' AND key_waiting AND mode = ANY($1)
		), paused AS (
			SELECT
				count(*) FILTER (WHERE state = 'paused') AS paused,
				count(*) FILTER (WHERE state = 'leased_paused') AS leased_paused
			FROM {{schema}}.deliveries
			WHERE state IN ('paused', 'leased_paused') AND mode = ANY($1)
		)
		SELECT due.due, due.scheduled, leased, paused, leased_paused, waiting.n
		FROM due, waiting, paused`), modes, now).
		Scan(&b.Due, &b.Scheduled, &b.Leased, &b.Paused, &leasedPaused, &b.Waiting)
	if err != nil {
		return store.Backlog{}, errorf("postgres: backlog: %w", err)
	}
	b.Leased += leasedPaused
	return b, nil
}
