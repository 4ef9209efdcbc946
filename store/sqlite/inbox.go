package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

const inboxCols = `key, state, body, claimed_at, expires_at, leased_until, attempts, last_error, finished_at`

func scanInbox(sc scanner) (*store.InboxEntry, error) {
	var (
		e                            store.InboxEntry
		state                        string
		claimedAt, expiresAt, leased int64
		finishedAt                   sql.NullInt64
	)
	if err := sc.Scan(&e.Key, &state, &e.Body, &claimedAt, &expiresAt, &leased, &e.Attempts, &e.LastError, &finishedAt); err != nil {
		return nil, err
	}
	e.State = store.InboxState(state)
	e.ClaimedAt = fromNanos(claimedAt)
	e.ExpiresAt = fromNanos(expiresAt)
	e.LeasedUntil = fromNanos(leased)
	e.FinishedAt = fromNull(finishedAt)
	return &e, nil
}

// Claim records c.Key with its body, claimed at c.Now, remembered until
// c.Now+c.TTL ([store.DefaultDedupWindow] when c.TTL is not positive) and
// leased to the caller until c.Now+c.Lease (c.Now when c.Lease is negative).
// It is one statement (an upsert that only overwrites an entry whose window
// ended by c.Now), so among concurrent claims of a key, from any number of
// goroutines or processes, exactly one wins. An empty key is
// [store.ErrInvalid].
func (s *Store) Claim(ctx context.Context, c store.Claim) (bool, error) {
	c, err := c.Normalize()
	if err != nil {
		return false, errorf("sqlite: %w", err)
	}
	ttl, lease := c.TTL, c.Lease
	body := c.Body
	if body == nil {
		body = []byte{}
	}
	var won bool
	err = s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, `INSERT INTO webhookkit_inbox (`+inboxCols+`)
VALUES (?1, 'claimed', ?2, ?3, ?4, ?5, 0, '', NULL)
ON CONFLICT (key) DO UPDATE SET
    state = 'claimed', body = excluded.body, claimed_at = excluded.claimed_at,
    expires_at = excluded.expires_at, leased_until = excluded.leased_until,
    attempts = 0, last_error = '', finished_at = NULL
WHERE webhookkit_inbox.expires_at <= excluded.claimed_at`,
			c.Key, body, nanos(c.Now), addDur(c.Now, ttl), addDur(c.Now, lease))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		won = n == 1
		return err
	})
	if err != nil {
		return false, errorf("sqlite: claim: %w", err)
	}
	return won, nil
}

// ReleaseClaim forgets key while it is claimed, so the event is accepted
// again. A handled or dead entry is left alone (a late release never lets a
// duplicate through), and releasing an absent key is not an error.
func (s *Store) ReleaseClaim(ctx context.Context, key string) error {
	err := s.write(ctx, func(q dbtx) error {
		_, err := q.ExecContext(ctx, `DELETE FROM webhookkit_inbox WHERE key = ? AND state = 'claimed'`, key)
		return err
	})
	if err != nil {
		return errorf("sqlite: release: %w", err)
	}
	return nil
}

// MarkHandled records that the callback succeeded at time at and drops the
// stored body; the key is remembered until its window ends.
// [store.ErrNotFound] when missing.
func (s *Store) MarkHandled(ctx context.Context, key string, at time.Time) error {
	return s.inboxUpdate(ctx, "mark handled", key,
		`state = 'handled', body = NULL, finished_at = ?`, nanos(at))
}

// MarkDead records that the callback failed for good at time at, with the
// reason; the body is kept for [Store.Replay]. [store.ErrNotFound] when
// missing.
func (s *Store) MarkDead(ctx context.Context, key string, at time.Time, reason string) error {
	return s.inboxUpdate(ctx, "mark dead", key,
		`state = 'dead', finished_at = ?, last_error = ?`, nanos(at), reason)
}

func (s *Store) inboxUpdate(ctx context.Context, op, key, set string, args ...any) error {
	err := s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, `UPDATE webhookkit_inbox SET `+set+` WHERE key = ?`, append(args, key)...)
		if err != nil {
			return err
		}
		return mustAffect(res, fmt.Errorf("inbox key %q: %w", key, store.ErrNotFound))
	})
	if err != nil {
		return errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// PruneInbox deletes handled entries whose window ended by now and returns
// how many. Claimed and dead entries are kept whatever their age: they hold
// events not yet handled.
func (s *Store) PruneInbox(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, `DELETE FROM webhookkit_inbox WHERE state = 'handled' AND expires_at <= ?`, nanos(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, errorf("sqlite: prune inbox: %w", err)
	}
	return int(n), nil
}

// LeaseClaimed takes up to limit claimed entries whose lease ended by now,
// oldest lease first, extends their lease to now+lease, increments Attempts
// and returns them with their bodies, in one transaction. A non-positive
// limit or lease is [store.ErrInvalid].
func (s *Store) LeaseClaimed(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.InboxEntry, error) {
	if limit <= 0 || lease <= 0 {
		return nil, errorf("sqlite: lease claimed: %w: limit and lease must be positive", store.ErrInvalid)
	}
	var out []*store.InboxEntry
	err := s.write(ctx, func(q dbtx) error {
		keys, err := queryAll(ctx, q, scanString, `SELECT key FROM webhookkit_inbox
WHERE state = 'claimed' AND leased_until <= ? ORDER BY leased_until LIMIT ?`, nanos(now), limit)
		if err != nil || len(keys) == 0 {
			return err
		}
		keysJSON, err := json.Marshal(keys)
		if err != nil {
			return err
		}
		es, err := queryAll(ctx, q, scanInbox, `UPDATE webhookkit_inbox SET leased_until = ?, attempts = attempts + 1
WHERE key IN (SELECT value FROM json_each(?)) RETURNING `+inboxCols, addDur(now, lease), string(keysJSON))
		if err != nil {
			return err
		}
		byKey := make(map[string]*store.InboxEntry, len(es))
		for _, e := range es {
			byKey[e.Key] = e
		}
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return nil
	})
	if err != nil {
		return nil, errorf("sqlite: lease claimed: %w", err)
	}
	return out, nil
}

// GetInboxEntry returns the entry, or [store.ErrNotFound].
func (s *Store) GetInboxEntry(ctx context.Context, key string) (*store.InboxEntry, error) {
	e, err := scanInbox(s.reader().QueryRowContext(ctx, `SELECT `+inboxCols+` FROM webhookkit_inbox WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf("sqlite: inbox key %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("sqlite: get inbox entry: %w", err)
	}
	return e, nil
}

// ListInbox returns entries in the given state (every state when empty),
// newest claim first (by ClaimedAt, then Key), one page at a time, and the
// next page's cursor ("" on the last). A malformed cursor is
// [store.ErrInvalid].
func (s *Store) ListInbox(ctx context.Context, state store.InboxState, p store.Page) ([]*store.InboxEntry, string, error) {
	var w where
	if state != "" {
		w.add("state = ?", string(state))
	}
	if p.Cursor != "" {
		n, key, err := decodeTimeCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		w.add("(claimed_at, key) < (?, ?)", n, key)
	}
	size := p.Size()
	out, err := queryAll(ctx, s.reader(), scanInbox, `SELECT `+inboxCols+` FROM webhookkit_inbox`+w.String()+
		` ORDER BY claimed_at DESC, key DESC LIMIT ?`, append(w.args, size+1)...)
	if err != nil {
		return nil, "", errorf("sqlite: list inbox: %w", err)
	}
	out, next := cutPage(out, size, func(l *store.InboxEntry) string { return encodeTimeCursor(nanos(l.ClaimedAt), l.Key) })
	return out, next, nil
}

// Replay makes a dead entry claimed again, with its body, due for re-drive
// (by [Store.LeaseClaimed]) at time at; Attempts is reset to 0 and
// LastError and FinishedAt are cleared. [store.ErrNotFound] when missing,
// [store.ErrConflict] when it is not dead.
func (s *Store) Replay(ctx context.Context, key string, at time.Time) error {
	err := s.write(ctx, func(q dbtx) error {
		var state string
		err := q.QueryRowContext(ctx, `SELECT state FROM webhookkit_inbox WHERE key = ?`, key).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("inbox key %q: %w", key, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if state != string(store.InboxDead) {
			return fmt.Errorf("inbox key %q is %s, not dead: %w", key, state, store.ErrConflict)
		}
		_, err = q.ExecContext(ctx, `UPDATE webhookkit_inbox SET state = 'claimed', leased_until = ?, finished_at = NULL,
	attempts = 0, last_error = ''
WHERE key = ?`, nanos(at), key)
		return err
	})
	if err != nil {
		return errorf("sqlite: replay: %w", err)
	}
	return nil
}

// claimRowsPerInsert caps the rows of one multi-row claim INSERT (5
// parameters a row).
const claimRowsPerInsert = 256

// ClaimBatch claims every key of cs in one write transaction (see
// [store.InboxBatcher]): the claims, a key's later ones left out (they
// lose), go in multi-row upserts of up to 256 rows, each overwriting only
// an entry whose window ended by its claim's Now and returning the keys it
// won. An empty key is [store.ErrInvalid]; on any error nothing is claimed.
func (s *Store) ClaimBatch(ctx context.Context, cs []store.Claim) ([]bool, error) {
	firsts, idx, err := store.DedupClaims(cs)
	if err != nil {
		return nil, errorf("sqlite: claim batch: %w", err)
	}
	won := make([]bool, len(cs))
	if len(firsts) == 0 {
		return won, nil
	}
	const row = "(?, 'claimed', ?, ?, ?, ?, 0, '', NULL)"
	err = s.write(ctx, func(q dbtx) error {
		clear(won)
		for start := 0; start < len(firsts); start += claimRowsPerInsert {
			chunk := firsts[start:min(start+claimRowsPerInsert, len(firsts))]
			args := make([]any, 0, 5*len(chunk))
			for _, c := range chunk {
				body := c.Body
				if body == nil {
					body = []byte{}
				}
				args = append(args, c.Key, body, nanos(c.Now), addDur(c.Now, c.TTL), addDur(c.Now, c.Lease))
			}
			keys, err := queryAll(ctx, q, scanString, `INSERT INTO webhookkit_inbox (`+inboxCols+`)
VALUES `+strings.Repeat(row+", ", len(chunk)-1)+row+`
ON CONFLICT (key) DO UPDATE SET
    state = 'claimed', body = excluded.body, claimed_at = excluded.claimed_at,
    expires_at = excluded.expires_at, leased_until = excluded.leased_until,
    attempts = 0, last_error = '', finished_at = NULL
WHERE webhookkit_inbox.expires_at <= excluded.claimed_at
RETURNING key`, args...)
			if err != nil {
				return err
			}
			got := make(map[string]bool, len(keys))
			for _, k := range keys {
				got[k] = true
			}
			for j := range chunk {
				won[idx[start+j]] = got[chunk[j].Key]
			}
		}
		return nil
	})
	if err != nil {
		return nil, errorf("sqlite: claim batch: %w", err)
	}
	return won, nil
}

// MarkHandledBatch marks every key handled at time at, dropping the stored
// bodies, in one UPDATE (see [store.InboxBatcher]). Keys not in the inbox
// are reported by a [*store.MissingKeysError], returned after the others
// are marked.
func (s *Store) MarkHandledBatch(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	keysJSON, err := json.Marshal(keys)
	if err != nil {
		return errorf("sqlite: mark handled batch: %w", err)
	}
	var marked []string
	err = s.write(ctx, func(q dbtx) error {
		marked, err = queryAll(ctx, q, scanString, `UPDATE webhookkit_inbox SET
    state = 'handled', body = NULL, finished_at = ?
WHERE key IN (SELECT value FROM json_each(?)) RETURNING key`, nanos(at), string(keysJSON))
		return err
	})
	if err != nil {
		return errorf("sqlite: mark handled batch: %w", err)
	}
	return store.MissingKeys(keys, marked)
}
