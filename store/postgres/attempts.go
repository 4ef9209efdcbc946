package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

const attemptCols = `id, delivery_id, endpoint_id, tenant, event_id, event_type, mode, number, at, duration_ns,
	url, request_headers, request_body, status_code, response_headers, response_body, response_truncated,
	error, success, format`

func scanAttempt(row pgx.Row) (*store.Attempt, error) {
	var (
		a           store.Attempt
		mode        string
		durNS       int64
		reqH, respH []byte
		reqB, respB []byte
	)
	err := row.Scan(&a.ID, &a.DeliveryID, &a.EndpointID, &a.Tenant, &a.EventID, &a.EventType, &mode, &a.Number,
		nullTime{&a.At}, &durNS, &a.URL, &reqH, &reqB, &a.StatusCode, &respH, &respB, &a.ResponseTruncated,
		&a.Error, &a.Success, &a.Format)
	if err != nil {
		return nil, err
	}
	a.Mode = event.Mode(mode)
	a.Duration = time.Duration(durNS)
	a.RequestBody, a.ResponseBody = reqB, respB
	if err := json.Unmarshal(reqH, &a.RequestHeaders); err != nil {
		return nil, fmt.Errorf("attempt %s request headers: %w", a.ID, err)
	}
	if err := json.Unmarshal(respH, &a.ResponseHeaders); err != nil {
		return nil, fmt.Errorf("attempt %s response headers: %w", a.ID, err)
	}
	return &a, nil
}

// AddAttempt stores a copy of a, assigning a.ID (a UUID) when empty. An
// existing id is an error wrapping [store.ErrConflict].
func (h *handle) AddAttempt(ctx context.Context, a *store.Attempt) error {
	if a == nil {
		return errorf("postgres: add attempt: %w: nil attempt", store.ErrInvalid)
	}
	atts, ids, err := stageAttempts([]store.Settlement{{Attempt: a}})
	if err != nil {
		return errorf("postgres: add attempt: %w", err)
	}
	// The attempt and its hourly aggregate, in one implicit transaction
	// (or the caller's).
	var (
		batch pgx.Batch
		reads []func(pgx.BatchResults) error
	)
	h.queueAttempts(&batch, &reads, atts)
	err = h.sendBatch(ctx, &batch, reads)
	if isUniqueViolation(err) {
		return errorf("postgres: add attempt %q: %w", ids[0], store.ErrConflict)
	}
	if err != nil {
		return errorf("postgres: add attempt %q: %w", ids[0], err)
	}
	a.ID = ids[0]
	return nil
}

// GetAttempt returns the attempt, or an error wrapping [store.ErrNotFound].
func (h *handle) GetAttempt(ctx context.Context, id string) (*store.Attempt, error) {
	a, err := scanAttempt(h.db.QueryRow(ctx, h.n.q(`SELECT `+attemptCols+` FROM {{schema}}.attempts WHERE id = $1`), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errorf("postgres: get attempt %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("postgres: get attempt %q: %w", id, err)
	}
	return a, nil
}

// ListAttempts returns attempts newest first (by At, then ID), one page at a
// time, with the cursor of the next page (empty on the last). A bad cursor
// is an error wrapping [store.ErrInvalid].
func (h *handle) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*store.Attempt, string, error) {
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
		w.add("at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		w.add("at < ?", f.Until)
	}
	if f.Page.Cursor != "" {
		t, id, err := decodeTimeCursor("at", f.Page.Cursor)
		if err != nil {
			return nil, "", errorf("postgres: list attempts: %w", err)
		}
		w.add("(at, id) < (?, ?)", t, id)
	}
	size := f.Page.Size()
	sql := `SELECT ` + attemptCols + ` FROM {{schema}}.attempts` + w.String() +
		` ORDER BY at DESC, id DESC LIMIT ` + w.arg(size+1)
	rows, err := h.db.Query(ctx, h.n.q(sql), w.args...)
	if err != nil {
		return nil, "", errorf("postgres: list attempts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Attempt, error) { return scanAttempt(r) })
	if err != nil {
		return nil, "", errorf("postgres: list attempts: %w", err)
	}
	if len(out) > size {
		out = out[:size]
		last := out[size-1]
		return out, encodeTimeCursor("at", last.At, last.ID), nil
	}
	return out, "", nil
}

// PruneAttempts deletes attempts that started before the given time and
// returns how many, and, in the same implicit transaction, the hourly
// aggregates ([Store.AttemptStats]) of the hours that end at or before it.
func (h *handle) PruneAttempts(ctx context.Context, before time.Time) (int, error) {
	var batch pgx.Batch
	var n int64
	batch.Queue(h.n.q(`DELETE FROM {{schema}}.attempts WHERE at < $1`), before).Exec(func(tag pgconn.CommandTag) error {
		n = tag.RowsAffected()
		return nil
	})
	batch.Queue(h.n.q(pruneStatsSQL), store.Hour(before))
	if err := h.db.SendBatch(ctx, &batch).Close(); err != nil {
		return 0, errorf("postgres: prune attempts: %w", err)
	}
	return int(n), nil
}
