package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/store"
)

const inboxCols = `key, state, body, claimed_at, expires_at, leased_until, attempts, last_error, finished_at`

func scanInbox(row pgx.Row) (*store.InboxEntry, error) {
	var e store.InboxEntry
	err := row.Scan(&e.Key, (*string)(&e.State), &e.Body, nullTime{&e.ClaimedAt}, nullTime{&e.ExpiresAt},
		nullTime{&e.LeasedUntil}, &e.Attempts, &e.LastError, nullTime{&e.FinishedAt})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Claim records c.Key with its body in one INSERT ... ON CONFLICT DO UPDATE
// that overwrites an existing row only when its window has ended
// (expires_at <= c.Now). It returns true when this call won: the key was
// absent or expired. Among concurrent claims of one key, from any number of
// processes, exactly one wins. The entry is claimed, holds its lease until
// c.Now+c.Lease (c.Now for a negative Lease) and its de-duplication window
// until c.Now+c.TTL (a non-positive TTL means [store.DefaultDedupWindow]).
// An empty key is an error wrapping [store.ErrInvalid].
func (h *handle) Claim(ctx context.Context, c store.Claim) (bool, error) {
	c, err := c.Normalize()
	if err != nil {
		return false, errorf("postgres: %w", err)
	}
	ttl, lease := c.TTL, c.Lease
	body := c.Body
	if body == nil {
		body = []byte{}
	}
	var key string
	err = h.db.QueryRow(ctx, h.n.q(`INSERT INTO {{schema}}.inbox AS i
			(key, state, body, claimed_at, expires_at, leased_until, attempts, last_error, finished_at)
		VALUES ($1, 'claimed', $2, $3, $4, $5, 0, '', NULL)
		ON CONFLICT (key) DO UPDATE SET
			state = 'claimed', body = excluded.body, claimed_at = excluded.claimed_at,
			expires_at = excluded.expires_at, leased_until = excluded.leased_until,
			attempts = 0, last_error = '', finished_at = NULL
		WHERE i.expires_at <= $3
		RETURNING key`), c.Key, body, c.Now, c.Now.Add(ttl), c.Now.Add(lease)).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, errorf("postgres: claim %q: %w", c.Key, err)
	}
	return true, nil
}

// ReleaseClaim forgets a claim (an entry still in the claimed state), so a
// retry of the event is accepted later. Releasing an absent key, or one
// already handled or dead, does nothing and is not an error: a late release
// never lets a duplicate through.
func (h *handle) ReleaseClaim(ctx context.Context, key string) error {
	if _, err := h.db.Exec(ctx, h.n.q(`DELETE FROM {{schema}}.inbox WHERE key = $1 AND state = 'claimed'`), key); err != nil {
		return errorf("postgres: release %q: %w", key, err)
	}
	return nil
}

// inboxUpdate runs an UPDATE of one inbox entry ($1 is the key) and maps
// zero rows to [store.ErrNotFound].
func (h *handle) inboxUpdate(ctx context.Context, op, key, sql string, args ...any) error {
	tag, err := h.db.Exec(ctx, h.n.q(sql), append([]any{key}, args...)...)
	if err != nil {
		return errorf("postgres: %s %q: %w", op, key, err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("postgres: %s %q: %w", op, key, store.ErrNotFound)
	}
	return nil
}

// MarkHandled records that the callback succeeded at time at and drops the
// body; the key is remembered until its window ends. It returns an error
// wrapping [store.ErrNotFound] when the key is missing.
func (h *handle) MarkHandled(ctx context.Context, key string, at time.Time) error {
	return h.inboxUpdate(ctx, "mark handled", key, `UPDATE {{schema}}.inbox SET
		state = 'handled', body = NULL, finished_at = $2, leased_until = NULL WHERE key = $1`, at)
}

// MarkDead records that the callback failed for good at time at, with the
// reason; the body is kept for replay. It returns an error wrapping
// [store.ErrNotFound] when the key is missing.
func (h *handle) MarkDead(ctx context.Context, key string, at time.Time, reason string) error {
	return h.inboxUpdate(ctx, "mark dead", key, `UPDATE {{schema}}.inbox SET
		state = 'dead', finished_at = $2, last_error = $3, leased_until = NULL WHERE key = $1`, at, reason)
}

// PruneInbox deletes handled entries whose window ended by now
// (expires_at <= now, the boundary at which Claim wins again) and returns
// how many. Claimed and dead entries stay: they hold events not yet handled.
func (h *handle) PruneInbox(ctx context.Context, now time.Time) (int, error) {
	tag, err := h.db.Exec(ctx, h.n.q(`DELETE FROM {{schema}}.inbox WHERE state = 'handled' AND expires_at <= $1`), now)
	if err != nil {
		return 0, errorf("postgres: prune inbox: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// LeaseClaimed takes up to limit claimed entries whose lease ended
// (leased_until <= now), oldest lease first, in one statement using FOR
// UPDATE SKIP LOCKED, so concurrent callers never take the same entry. It
// extends their lease to now+lease, increments Attempts and returns them
// with their bodies. A non-positive limit or lease is an error wrapping
// [store.ErrInvalid].
func (h *handle) LeaseClaimed(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.InboxEntry, error) {
	if limit <= 0 || lease <= 0 {
		return nil, errorf("postgres: lease claimed: %w: limit and lease must be positive", store.ErrInvalid)
	}
	rows, err := h.db.Query(ctx, h.n.q(`UPDATE {{schema}}.inbox SET leased_until = $2, attempts = attempts + 1
		WHERE key IN (
			SELECT key FROM {{schema}}.inbox
			WHERE state = 'claimed' AND leased_until <= $1
			ORDER BY leased_until LIMIT $3
			FOR UPDATE SKIP LOCKED
		)
		RETURNING `+inboxCols), pgx.QueryExecModeExec, now, now.Add(lease), limit) // a custom plan each time, as Lease
	if err != nil {
		return nil, errorf("postgres: lease claimed: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.InboxEntry, error) { return scanInbox(r) })
	if err != nil {
		return nil, errorf("postgres: lease claimed: %w", err)
	}
	return out, nil
}

// GetInboxEntry returns the entry, or an error wrapping [store.ErrNotFound].
func (h *handle) GetInboxEntry(ctx context.Context, key string) (*store.InboxEntry, error) {
	e, err := scanInbox(h.db.QueryRow(ctx, h.n.q(`SELECT `+inboxCols+` FROM {{schema}}.inbox WHERE key = $1`), key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errorf("postgres: get inbox entry %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("postgres: get inbox entry %q: %w", key, err)
	}
	return e, nil
}

// ListInbox returns entries in the given state (every state when empty),
// newest claim first (by ClaimedAt, then Key), one page at a time, with the
// cursor of the next page (empty on the last). A bad cursor is an error
// wrapping [store.ErrInvalid].
func (h *handle) ListInbox(ctx context.Context, state store.InboxState, p store.Page) ([]*store.InboxEntry, string, error) {
	var w where
	if state != "" {
		w.add("state = ?", string(state))
	}
	if p.Cursor != "" {
		t, key, err := decodeTimeCursor("in", p.Cursor)
		if err != nil {
			return nil, "", errorf("postgres: list inbox: %w", err)
		}
		w.add("(claimed_at, key) < (?, ?)", t, key)
	}
	size := p.Size()
	sql := `SELECT ` + inboxCols + ` FROM {{schema}}.inbox` + w.String() +
		` ORDER BY claimed_at DESC, key DESC LIMIT ` + w.arg(size+1)
	rows, err := h.db.Query(ctx, h.n.q(sql), w.args...)
	if err != nil {
		return nil, "", errorf("postgres: list inbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.InboxEntry, error) { return scanInbox(r) })
	if err != nil {
		return nil, "", errorf("postgres: list inbox: %w", err)
	}
	if len(out) > size {
		out = out[:size]
		last := out[size-1]
		return out, encodeTimeCursor("in", last.ClaimedAt, last.Key), nil
	}
	return out, "", nil
}

// Replay makes a dead entry claimed again and due for re-drive at time at
// (its lease ends then, so LeaseClaimed takes it from at on), with Attempts
// reset to 0 and LastError and FinishedAt cleared. It returns an
// error wrapping [store.ErrNotFound] when the key is missing and
// [store.ErrConflict] when the entry is not dead.
func (h *handle) Replay(ctx context.Context, key string, at time.Time) error {
	var state string
	err := h.db.QueryRow(ctx, h.n.q(`WITH upd AS (
			UPDATE {{schema}}.inbox SET state = 'claimed', leased_until = $2, finished_at = NULL,
				attempts = 0, last_error = ''
			WHERE key = $1 AND state = 'dead'
			RETURNING state
		)
		SELECT coalesce((SELECT 'replayed' FROM upd), (SELECT state FROM {{schema}}.inbox WHERE key = $1), '')`),
		key, at).Scan(&state)
	switch {
	case err != nil:
		return errorf("postgres: replay %q: %w", key, err)
	case state == "":
		return errorf("postgres: replay %q: %w", key, store.ErrNotFound)
	case state != "replayed":
		return errorf("postgres: replay %q: %w: it is %s", key, store.ErrConflict, state)
	}
	return nil
}

// ClaimBatch claims every key of cs in one statement (see
// [store.InboxBatcher]): an INSERT ... SELECT FROM unnest(...) ... ON
// CONFLICT (key) DO UPDATE that overwrites only an entry whose window ended
// by its claim's Now and returns the keys it won (a single key goes through
// [Store.Claim]'s statement, which is cheaper to plan). A key's later claims in
// cs are left out first (they lose; one statement cannot change a row
// twice), and the rows are inserted in key order, so concurrent batches of
// overlapping keys wait for each other in one order and never deadlock.
// Among concurrent batches and single claims of one key, from any number of
// processes, exactly one wins. An empty key is an error wrapping
// [store.ErrInvalid]; on any error nothing is claimed.
func (h *handle) ClaimBatch(ctx context.Context, cs []store.Claim) ([]bool, error) {
	firsts, idx, err := store.DedupClaims(cs)
	if err != nil {
		return nil, errorf("postgres: claim batch: %w", err)
	}
	won := make([]bool, len(cs))
	switch len(firsts) {
	case 0:
		return won, nil
	case 1: // Claim's statement is cheaper to plan
		w, err := h.Claim(ctx, firsts[0])
		if err != nil {
			return nil, errorf("postgres: claim batch: %w", err)
		}
		won[idx[0]] = w
		return won, nil
	}
	var (
		keys          = make([]string, len(firsts))
		bodies        = make([][]byte, len(firsts))
		now, exp, lse = make([]time.Time, len(firsts)), make([]time.Time, len(firsts)), make([]time.Time, len(firsts))
	)
	for i, c := range firsts {
		keys[i], bodies[i] = c.Key, c.Body
		if bodies[i] == nil {
			bodies[i] = []byte{}
		}
		now[i], exp[i], lse[i] = c.Now, c.Now.Add(c.TTL), c.Now.Add(c.Lease)
	}
	rows, err := h.db.Query(ctx, h.n.q(claimBatchSQL), keys, bodies, now, exp, lse)
	if err != nil {
		return nil, errorf("postgres: claim batch: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, errorf("postgres: claim batch: %w", err)
	}
	ok := make(map[string]bool, len(got))
	for _, k := range got {
		ok[k] = true
	}
	for j, c := range firsts {
		won[idx[j]] = ok[c.Key]
	}
	return won, nil
}

// claimBatchSQL claims the keys $1 with bodies $2, claimed at $3, expiring
// at $4 and leased until $5, in key order, and returns the keys it won.
const claimBatchSQL = `INSERT INTO {{schema}}.inbox AS i
		(key, state, body, claimed_at, expires_at, leased_until, attempts, last_error, finished_at)
	SELECT c.key, 'claimed', c.body, c.now, c.expires, c.leased, 0, '', NULL
	FROM unnest($1::text[], $2::bytea[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[])
		AS c (key, body, now, expires, leased)
	ORDER BY c.key
	ON CONFLICT (key) DO UPDATE SET
		state = 'claimed', body = excluded.body, claimed_at = excluded.claimed_at,
		expires_at = excluded.expires_at, leased_until = excluded.leased_until,
		attempts = 0, last_error = '', finished_at = NULL
	WHERE i.expires_at <= excluded.claimed_at
	RETURNING key`

// MarkHandledBatch marks every key handled at time at, dropping the bodies,
// in one round trip (see [store.InboxBatcher]): the entries are locked in
// key order, as ClaimBatch takes them, so the two never deadlock, then
// updated by one UPDATE. Keys not in the inbox are reported by a
// [*store.MissingKeysError], returned after the others are marked.
func (h *handle) MarkHandledBatch(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	var (
		batch  pgx.Batch
		marked []string
	)
	batch.Queue(h.n.q(`SELECT key FROM {{schema}}.inbox WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`), keys)
	batch.Queue(h.n.q(`UPDATE {{schema}}.inbox SET
			state = 'handled', body = NULL, finished_at = $2, leased_until = NULL
		WHERE key = ANY($1::text[]) RETURNING key`), keys, at).Query(func(rows pgx.Rows) error {
		var err error
		marked, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err := h.db.SendBatch(ctx, &batch).Close(); err != nil {
		return errorf("postgres: mark handled batch: %w", err)
	}
	return store.MissingKeys(keys, marked)
}
