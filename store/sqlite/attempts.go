package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

const attemptCols = `id, delivery_id, endpoint_id, tenant, event_id, event_type, mode, number, at, duration,
	url, request_headers, request_body, status_code, response_headers, response_body,
	response_truncated, error, success, format`

func scanAttempt(sc scanner) (*store.Attempt, error) {
	var (
		a                  store.Attempt
		mode               string
		at, dur            int64
		reqH, respH        sql.NullString
		truncated, success int
	)
	err := sc.Scan(&a.ID, &a.DeliveryID, &a.EndpointID, &a.Tenant, &a.EventID, &a.EventType, &mode, &a.Number,
		&at, &dur, &a.URL, &reqH, &a.RequestBody, &a.StatusCode, &respH, &a.ResponseBody,
		&truncated, &a.Error, &success, &a.Format)
	if err != nil {
		return nil, err
	}
	a.Mode = event.Mode(mode)
	a.At = fromNanos(at)
	a.Duration = time.Duration(dur)
	a.ResponseTruncated = truncated != 0
	a.Success = success != 0
	if reqH.Valid {
		if err := json.Unmarshal([]byte(reqH.String), &a.RequestHeaders); err != nil {
			return nil, fmt.Errorf("attempt %s: request_headers: %w", a.ID, err)
		}
	}
	if respH.Valid {
		if err := json.Unmarshal([]byte(respH.String), &a.ResponseHeaders); err != nil {
			return nil, fmt.Errorf("attempt %s: response_headers: %w", a.ID, err)
		}
	}
	return &a, nil
}

func headerJSON(h http.Header) (any, error) { return jsonOrNull(h) }

// AddAttempt stores a copy of a, assigning a.ID (a UUID) when empty. An
// existing ID is [store.ErrConflict].
func (s *Store) AddAttempt(ctx context.Context, a *store.Attempt) error {
	atts, ids, err := stageAttempts([]store.Settlement{{Attempt: a}})
	if err != nil {
		return errorf("sqlite: add attempt: %w", err)
	}
	err = s.write(ctx, func(q dbtx) error { return insertAttempts(ctx, q, atts) })
	if err != nil {
		return errorf("sqlite: add attempt %q: %w", ids[0], err)
	}
	a.ID = ids[0]
	return nil
}

// GetAttempt returns the attempt, or [store.ErrNotFound].
func (s *Store) GetAttempt(ctx context.Context, id string) (*store.Attempt, error) {
	a, err := scanAttempt(s.reader().QueryRowContext(ctx, `SELECT `+attemptCols+` FROM webhookkit_attempts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf("sqlite: attempt %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("sqlite: get attempt: %w", err)
	}
	return a, nil
}

// ListAttempts returns attempts newest first (by At, then ID), one page at a
// time, and the next page's cursor ("" on the last). A malformed cursor is
// [store.ErrInvalid].
func (s *Store) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*store.Attempt, string, error) {
	var w where
	if !f.AllTenants {
		w.add("tenant = ?", f.Tenant)
	}
	if f.EndpointID != "" {
		w.add("endpoint_id = ?", f.EndpointID)
	}
	if f.EventID != "" {
		w.add("event_id = ?", f.EventID)
	}
	if f.DeliveryID != "" {
		w.add("delivery_id = ?", f.DeliveryID)
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", nanos(f.Until))
	}
	if f.Page.Cursor != "" {
		n, id, err := decodeTimeCursor(f.Page.Cursor)
		if err != nil {
			return nil, "", err
		}
		w.add("(at, id) < (?, ?)", n, id)
	}
	size := f.Page.Size()
	out, err := queryAll(ctx, s.reader(), scanAttempt, `SELECT `+attemptCols+` FROM webhookkit_attempts`+w.String()+
		` ORDER BY at DESC, id DESC LIMIT ?`, append(w.args, size+1)...)
	if err != nil {
		return nil, "", errorf("sqlite: list attempts: %w", err)
	}
	out, next := cutPage(out, size, func(l *store.Attempt) string { return encodeTimeCursor(nanos(l.At), l.ID) })
	return out, next, nil
}

// PruneAttempts deletes attempts that started before the given time and
// returns how many, and, in the same transaction, the hourly aggregates
// ([Store.AttemptStats]) of the hours that end at or before it.
func (s *Store) PruneAttempts(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, `DELETE FROM webhookkit_attempts WHERE at < ?`, nanos(before))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return pruneStats(ctx, q, nanos(before))
	})
	if err != nil {
		return 0, errorf("sqlite: prune attempts: %w", err)
	}
	return int(n), nil
}
