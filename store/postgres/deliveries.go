package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// deliveryColsD are a delivery's columns, d being deliveries and e events.
// The event's date column (its first publish time) is not read: an event
// read back has a zero Date, each attempt being dated when it is made.
const deliveryColsD = `d.id, d.endpoint_id, d.tenant,
	CASE d.state WHEN 'leased_paused' THEN 'leased' ELSE d.state END, d.attempts, d.created_at, d.first_attempt_at,
	d.next_attempt_at, d.last_attempt_at, d.last_error, d.finished_at, d.leased_by,
	e.id, e.type, e.mode, e.data, d.ordering_key, d.holds_key,
	d.state = 'pending' AND d.key_waiting`

// deliveryDest returns the scan destinations of deliveryColsD into d.
func deliveryDest(d *store.Delivery) []any {
	return []any{&d.ID, &d.EndpointID, &d.Tenant, (*string)(&d.State), &d.Attempts, nullTime{&d.CreatedAt},
		nullTime{&d.FirstAttemptAt}, nullTime{&d.NextAttemptAt}, nullTime{&d.LastAttemptAt}, &d.LastError,
		nullTime{&d.FinishedAt}, &d.LeasedBy,
		&d.Event.ID, &d.Event.Type, (*string)(&d.Event.APIMode), (*[]byte)(&d.Event.Data), &d.OrderingKey, &d.HoldsKey, &d.KeyWaiting}
}

// GetDelivery returns the delivery with its event, or an error wrapping
// [store.ErrNotFound]. LeaseToken is never set: only Lease hands it out.
func (h *handle) GetDelivery(ctx context.Context, id string) (*store.Delivery, error) {
	d := new(store.Delivery)
	err := h.db.QueryRow(ctx, h.n.q(`SELECT `+deliveryColsD+`
		FROM {{schema}}.deliveries d JOIN {{schema}}.events e ON e.id = d.event_id
		WHERE d.id = $1`), id).Scan(deliveryDest(d)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errorf("postgres: get delivery %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("postgres: get delivery %q: %w", id, err)
	}
	return d, nil
}

// typeFilter adds the condition for an [event.Pattern] on column col: "*"
// matches everything, "prefix.*" becomes a LIKE on the escaped prefix, a
// service its own name or a LIKE on it and a dot, anything else an exact
// match.
func typeFilter(w *where, col, pattern string) error {
	p, err := event.ParsePattern(pattern)
	if err != nil {
		return fmt.Errorf("%w: event type filter: %w", store.ErrInvalid, err)
	}
	switch {
	case pattern == "*":
	case strings.HasSuffix(pattern, ".*"):
		prefix := strings.TrimSuffix(pattern, "*")
		w.add(col+` LIKE ? ESCAPE '\'`, likeEscape(prefix)+"%")
	case p.Service():
		w.add("("+col+" = ? OR "+col+` LIKE ? ESCAPE '\')`, pattern, likeEscape(pattern)+".%")
	default:
		w.add(col+" = ?", pattern)
	}
	return nil
}

// ListDeliveries returns deliveries newest first (by CreatedAt, then ID),
// one page at a time, with the cursor of the next page (empty on the last).
// f.EventType may be an exact type or a pattern ("patient.*", "*"). A bad
// cursor or pattern is an error wrapping [store.ErrInvalid].
func (h *handle) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, string, error) {
	var w where
	if !f.AllTenants {
		w.add("d.tenant = ?", f.Tenant)
	}
	if f.EndpointID != "" {
		w.add("d.endpoint_id = ?", f.EndpointID)
	}
	if f.EventID != "" {
		w.add("d.event_id = ?", f.EventID)
	}
	if f.EventType != "" {
		if err := typeFilter(&w, "d.event_type", f.EventType); err != nil {
			return nil, "", errorf("postgres: list deliveries: %w", err)
		}
	}
	switch f.State {
	case "":
	case store.StateLeased:
		w.add("d.state IN ('leased', 'leased_paused')")
	default:
		w.add("d.state = ?", string(f.State))
	}
	if !f.Since.IsZero() {
		w.add("d.created_at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		w.add("d.created_at < ?", f.Until)
	}
	if f.Page.Cursor != "" {
		t, id, err := decodeTimeCursor("dl", f.Page.Cursor)
		if err != nil {
			return nil, "", errorf("postgres: list deliveries: %w", err)
		}
		w.add("(d.created_at, d.id) < (?, ?)", t, id)
	}
	size := f.Page.Size()
	sql := `SELECT ` + deliveryColsD + ` FROM {{schema}}.deliveries d JOIN {{schema}}.events e ON e.id = d.event_id` +
		w.String() + ` ORDER BY d.created_at DESC, d.id DESC LIMIT ` + w.arg(size+1)
	rows, err := h.db.Query(ctx, h.n.q(sql), w.args...)
	if err != nil {
		return nil, "", errorf("postgres: list deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Delivery, error) {
		d := new(store.Delivery)
		return d, r.Scan(deliveryDest(d)...)
	})
	if err != nil {
		return nil, "", errorf("postgres: list deliveries: %w", err)
	}
	if len(out) > size {
		out = out[:size]
		last := out[size-1]
		return out, encodeTimeCursor("dl", last.CreatedAt, last.ID), nil
	}
	return out, "", nil
}

// requeueSet is the SET list of a replay: pending (paused when the endpoint
// is disabled in this store), due at $2, attempts and first attempt reset,
// the key no longer held (a keyed delivery keeps its key_seq: its place,
// and is requeued in the lease index, key_waiting false, even behind its
// key's head: it may overtake the head, and Lease's head check keeps it in
// its place either way).
const requeueSet = `SET
	state = CASE WHEN EXISTS (SELECT 1 FROM {{schema}}.endpoints e WHERE e.id = endpoint_id AND e.disabled)
		THEN 'paused' ELSE 'pending' END,
	next_attempt_at = $2, attempts = 0, first_attempt_at = NULL, finished_at = NULL, lease_token = NULL,
	holds_key = false, key_waiting = false`

// Requeue makes a failed or succeeded delivery pending again, due at at,
// with Attempts and FirstAttemptAt reset and HoldsKey cleared (a replay;
// a keyed delivery keeps its place in its key's order); paused instead when its
// endpoint is disabled in this store. It notifies [Store.NotifyChannel]
// when it requeues. It returns an error wrapping [store.ErrConflict] for a
// pending, leased or paused delivery and [store.ErrNotFound] for a missing
// one.
func (h *handle) Requeue(ctx context.Context, id string, at time.Time) error {
	var state string
	err := h.db.QueryRow(ctx, h.n.q(`WITH upd AS (
			UPDATE {{schema}}.deliveries `+requeueSet+`
			WHERE id = $1 AND state IN ('failed', 'succeeded')
			RETURNING state
		)
		SELECT coalesce((SELECT 'requeued' FROM upd), (SELECT state FROM {{schema}}.deliveries WHERE id = $1), ''),
			CASE WHEN $3::text IS NOT NULL AND EXISTS (SELECT 1 FROM upd) THEN pg_notify($3, '')::text END`),
		id, at, h.n.notifyArg()).Scan(&state, nil)
	switch {
	case err != nil:
		return errorf("postgres: requeue delivery %q: %w", id, err)
	case state == "":
		return errorf("postgres: requeue delivery %q: %w", id, store.ErrNotFound)
	case state != "requeued":
		return errorf("postgres: requeue delivery %q: %w: it is %s", id, store.ErrConflict, strings.TrimSuffix(state, "_paused"))
	}
	return nil
}

// RequeueFailed requeues, as Requeue, every failed delivery of the endpoint
// that finished at or after since, in one statement, and returns how many;
// it notifies [Store.NotifyChannel] when that is not zero.
func (h *handle) RequeueFailed(ctx context.Context, endpointID string, since, at time.Time) (int, error) {
	var n int
	err := h.db.QueryRow(ctx, h.n.q(notifyCount(`UPDATE {{schema}}.deliveries `+requeueSet+`
		WHERE endpoint_id = $1 AND state = 'failed' AND finished_at >= $3 RETURNING 1`, 4)),
		endpointID, at, since, h.n.notifyArg()).Scan(&n, nil)
	if err != nil {
		return 0, errorf("postgres: requeue failed deliveries of endpoint %q: %w", endpointID, err)
	}
	return n, nil
}

// AdvanceRetries makes due at at the endpoint's pending deliveries that
// wait for a retry of an attempt leased at or after since (see
// [store.RetryAdvancer]), in one statement whose conditions include those
// of deliveries_due_idx, so that it can read the index's range of
// deliveries due after at rather than all of the endpoint's, and returns
// how many; it notifies
// [Store.NotifyChannel] when that is not zero.
func (h *handle) AdvanceRetries(ctx context.Context, endpointID string, since, at time.Time) (int, error) {
	var n int
	err := h.db.QueryRow(ctx, h.n.q(notifyCount(`UPDATE {{schema}}.deliveries SET next_attempt_at = $2
		WHERE state = 'pending' AND NOT key_waiting AND mode = ANY($5::text[]) AND next_attempt_at > $2
			AND endpoint_id = $1 AND attempts > 0 AND last_attempt_at >= $3
		RETURNING 1`, 4)),
		endpointID, at, since, h.n.notifyArg(), leaseModeNames()).Scan(&n, nil)
	if err != nil {
		return 0, errorf("postgres: advance the retries of endpoint %q: %w", endpointID, err)
	}
	return n, nil
}

// leaseModeNames returns the modes of leaseModes as text, for a statement
// that reads every mode's range of deliveries_due_idx.
func leaseModeNames() []string {
	names := make([]string, len(leaseModes))
	for i, m := range leaseModes {
		names[i] = string(m)
	}
	return names
}
