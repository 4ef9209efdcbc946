package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// deliveryCols are a delivery's columns. The event's date column (its first
// publish time) is not read: an event read back has a zero Date, each
// attempt being dated when it is made.
const deliveryCols = `d.id, d.endpoint_id, d.tenant, e.id, e.type, e.mode, e.data,
	d.state, d.attempts, d.created_at, d.first_attempt_at, d.next_attempt_at, d.last_attempt_at,
	d.last_error, d.finished_at, d.leased_by, d.ordering_key, d.holds_key,
	d.state = 'pending' AND d.key_waiting = 1`

const deliveryFrom = ` FROM webhookkit_deliveries AS d JOIN webhookkit_events AS e ON e.id = d.event_id`

func scanDelivery(sc scanner) (*store.Delivery, error) {
	var (
		d                           store.Delivery
		mode, state                 string
		createdAt, nextAt           int64
		data                        []byte
		firstAt, lastAt, finishedAt sql.NullInt64
	)
	err := sc.Scan(&d.ID, &d.EndpointID, &d.Tenant, &d.Event.ID, &d.Event.Type, &mode, &data,
		&state, &d.Attempts, &createdAt, &firstAt, &nextAt, &lastAt, &d.LastError, &finishedAt, &d.LeasedBy,
		&d.OrderingKey, &d.HoldsKey, &d.KeyWaiting)
	if err != nil {
		return nil, err
	}
	d.Event.APIMode = event.Mode(mode)
	d.Event.Data = json.RawMessage(data)
	d.State = store.DeliveryState(state)
	d.CreatedAt = fromNanos(createdAt)
	d.FirstAttemptAt = fromNull(firstAt)
	d.NextAttemptAt = fromNanos(nextAt)
	d.LastAttemptAt = fromNull(lastAt)
	d.FinishedAt = fromNull(finishedAt)
	return &d, nil
}

// enqueueTarget is one row of the JSON array Enqueue inserts from.
type enqueueTarget struct {
	ID, EndpointID, Tenant string
}

func (t enqueueTarget) MarshalJSON() ([]byte, error) {
	return json.Marshal([3]string{t.ID, t.EndpointID, t.Tenant})
}

// Enqueue records req.Event once and creates a delivery, created at req.Now
// and due at req.Due(), for each target endpoint that has none for the
// event id, all in one transaction. A target endpoint that is disabled gets
// its delivery paused, so no pending delivery belongs to a disabled
// endpoint. It returns how many deliveries it created (existing pairs and
// repeated targets are not counted). A target endpoint this store does not
// hold is [store.ErrNotFound], an event id already stored with a different
// type, mode or data is [store.ErrConflict], and in both cases nothing is
// written; an invalid event is [store.ErrInvalid]. Data is stored byte for
// byte.
func (s *Store) Enqueue(ctx context.Context, req store.EnqueueRequest) (int, error) {
	ev, targets := req.Event, req.Targets
	if ev.ID == "" || !ev.APIMode.Valid() {
		return 0, errorf("sqlite: enqueue: %w: the event needs an id and a valid mode", store.ErrInvalid)
	}
	if err := event.ValidType(ev.Type); err != nil {
		return 0, errorf("sqlite: enqueue: %w: %w", store.ErrInvalid, err)
	}
	if len(targets) == 0 {
		return 0, nil
	}
	ts := make([]enqueueTarget, len(targets))
	for i, t := range targets {
		ts[i] = enqueueTarget{ID: newID(), EndpointID: t.EndpointID, Tenant: t.Tenant}
	}
	tsJSON, err := json.Marshal(ts)
	if err != nil {
		return 0, errorf("sqlite: enqueue: %w", err)
	}
	data := []byte(ev.Data)
	if data == nil {
		data = []byte{}
	}
	var n int64
	err = s.write(ctx, func(q dbtx) error {
		var missing string
		err := q.QueryRowContext(ctx, `SELECT t.value ->> 1 FROM json_each(?) AS t
WHERE NOT EXISTS (SELECT 1 FROM webhookkit_endpoints AS ep WHERE ep.id = t.value ->> 1) LIMIT 1`,
			string(tsJSON)).Scan(&missing)
		switch {
		case err == nil:
			return fmt.Errorf("endpoint %q: %w", missing, store.ErrNotFound)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		res, err := q.ExecContext(ctx, `INSERT INTO webhookkit_events (id, type, mode, date, data)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			ev.ID, ev.Type, string(ev.APIMode), nanos(req.Now), data)
		if err != nil {
			return err
		}
		if inserted, err := res.RowsAffected(); err != nil {
			return err
		} else if inserted == 0 {
			var typ, mode string
			var stored []byte
			if err := q.QueryRowContext(ctx, `SELECT type, mode, data FROM webhookkit_events WHERE id = ?`,
				ev.ID).Scan(&typ, &mode, &stored); err != nil {
				return err
			}
			if typ != ev.Type || mode != string(ev.APIMode) || !bytes.Equal(stored, data) {
				return fmt.Errorf("event %q is stored with a different type, mode or data: %w", ev.ID, store.ErrConflict)
			}
		}
		// A keyed delivery is numbered after every keyed delivery stored
		// (one step down the key_seq index; SQLite's single writer keeps
		// the numbers in commit order). One enqueue's deliveries share a
		// number: each is for another endpoint. One that has a blocking
		// delivery of its key before it waits out of the due index
		// (key_waiting) until the schema's triggers make it the head.
		res, err = q.ExecContext(ctx, `INSERT INTO webhookkit_deliveries
    (id, event_id, endpoint_id, tenant, mode, event_type, state, attempts, created_at, next_attempt_at,
     ordering_key, key_seq, key_waiting)
SELECT t.value ->> 0, ?1, t.value ->> 1, t.value ->> 2, ?2, ?3,
    CASE WHEN EXISTS (SELECT 1 FROM webhookkit_endpoints AS ep
                      WHERE ep.id = t.value ->> 1 AND ep.disabled = 1)
         THEN 'paused' ELSE 'pending' END,
    0, ?4, ?6, ?7,
    CASE WHEN ?7 = '' THEN 0 ELSE 1 + COALESCE((SELECT MAX(k.key_seq) FROM webhookkit_deliveries AS k
        WHERE k.ordering_key <> ''), 0) END,
    ?7 <> '' AND EXISTS (SELECT 1 FROM webhookkit_deliveries AS k
        WHERE k.endpoint_id = t.value ->> 1 AND k.ordering_key = ?7
            AND k.ordering_key <> '' AND (k.state IN ('pending', 'leased', 'paused') OR k.holds_key = 1))
FROM json_each(?5) AS t WHERE true
ON CONFLICT (event_id, endpoint_id) DO NOTHING`,
			ev.ID, string(ev.APIMode), ev.Type, nanos(req.Now), string(tsJSON), nanos(req.Due()), req.OrderingKey)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		if n > 0 {
			s.wakeOnCommit()
		}
		return err
	})
	if err != nil {
		return 0, errorf("sqlite: enqueue: %w", err)
	}
	return int(n), nil
}

// Lease takes up to req.Limit due deliveries (NextAttemptAt <= req.Now,
// pending or with an ended lease), oldest due first, in one write
// transaction: each gets a fresh random token, state leased until
// req.Now+req.Duration, Attempts+1, LastAttemptAt (and FirstAttemptAt when
// unset) req.Now. The due rows are read through a partial index on the due
// time, so the cost grows with what is leased (plus due rows skipped by
// req.Mode and req.SkipEndpoints, and heads of keys with a delivery
// leased), not with the rows due later, nor with the deliveries queued
// behind their key's head, which are not in the index. A
// non-positive Limit or Duration, or a Mode neither empty nor valid, is
// [store.ErrInvalid].
func (s *Store) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	if req.Limit <= 0 || req.Duration <= 0 {
		return nil, errorf("sqlite: lease: %w: Limit and Duration must be positive", store.ErrInvalid)
	}
	if req.Mode != "" && !req.Mode.Valid() {
		return nil, errorf("sqlite: lease: %w: mode %q", store.ErrInvalid, req.Mode)
	}
	now := nanos(req.Now)
	var w where
	w.add("state IN ('pending', 'leased') AND key_waiting = 0") // the due index's condition
	w.add("next_attempt_at <= ?", now)
	// An ended lease of a disabled endpoint's delivery is not handed out
	// again (its worker may still settle it). Pending rows never belong to a
	// disabled endpoint, so only leased rows pay for the lookup.
	w.add(`(state = 'pending' OR NOT EXISTS (SELECT 1 FROM webhookkit_endpoints AS ep
    WHERE ep.id = endpoint_id AND ep.disabled = 1))`)
	if req.Mode != "" {
		w.add("mode = ?", string(req.Mode))
	}
	if len(req.SkipEndpoints) > 0 {
		skip, err := json.Marshal(req.SkipEndpoints)
		if err != nil {
			return nil, errorf("sqlite: lease: %w", err)
		}
		w.add("endpoint_id NOT IN (SELECT value FROM json_each(?))", string(skip))
	}
	w.add(keyHeadSQL, now)
	var out []*store.Delivery
	err := s.write(ctx, func(q dbtx) error {
		ids, err := queryAll(ctx, q, scanString, `SELECT id FROM webhookkit_deliveries`+w.String()+
			` ORDER BY next_attempt_at LIMIT ?`, append(w.args, req.Limit)...)
		if err != nil || len(ids) == 0 {
			return err
		}
		idsJSON, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE webhookkit_deliveries SET
    state = 'leased', lease_token = lower(hex(randomblob(16))), leased_by = ?1,
    attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, ?2),
    last_attempt_at = ?2, next_attempt_at = ?3
WHERE id IN (SELECT value FROM json_each(?4))`,
			req.Worker, now, addDur(req.Now, req.Duration), string(idsJSON)); err != nil {
			return err
		}
		ds, err := queryAll(ctx, q, scanLeased, `SELECT `+deliveryCols+`, d.lease_token`+deliveryFrom+
			` WHERE d.id IN (SELECT value FROM json_each(?))`, string(idsJSON))
		if err != nil {
			return err
		}
		byID := make(map[string]*store.Delivery, len(ds))
		for _, d := range ds {
			byID[d.ID] = d
		}
		out = make([]*store.Delivery, 0, len(ids))
		for _, id := range ids {
			out = append(out, byID[id])
		}
		return nil
	})
	if err != nil {
		return nil, errorf("sqlite: lease: %w", err)
	}
	return out, nil
}

// keyHeadSQL admits a keyed delivery only when it is its key's head: no
// delivery of its endpoint and key blocks it (enqueued before it and
// unfinished or holding the key, or holding a lease that has not ended at
// ?). Each lookup is an index search: one step into the key's queue (the
// partial key index), and the endpoint's leased deliveries.
const keyHeadSQL = `(ordering_key = '' OR (NOT EXISTS (SELECT 1 FROM webhookkit_deliveries AS k
    WHERE k.endpoint_id = webhookkit_deliveries.endpoint_id AND k.ordering_key = webhookkit_deliveries.ordering_key
        AND k.key_seq < webhookkit_deliveries.key_seq
        AND k.ordering_key <> '' AND (k.state IN ('pending', 'leased', 'paused') OR k.holds_key = 1))
    AND NOT EXISTS (SELECT 1 FROM webhookkit_deliveries AS k
    WHERE k.endpoint_id = webhookkit_deliveries.endpoint_id AND k.ordering_key = webhookkit_deliveries.ordering_key
        AND k.id <> webhookkit_deliveries.id
        AND k.ordering_key <> '' AND k.state = 'leased' AND k.next_attempt_at > ?)))`

// scanTail scans extra columns after the ones a scan function knows.
type scanTail struct {
	sc   scanner
	tail *string
}

func (s scanTail) Scan(dest ...any) error { return s.sc.Scan(append(dest, s.tail)...) }

// scanLeased reads a delivery followed by its lease token.
func scanLeased(sc scanner) (*store.Delivery, error) {
	var token string
	d, err := scanDelivery(scanTail{sc, &token})
	if err != nil {
		return nil, err
	}
	d.LeaseToken = token
	return d, nil
}

// pendingOrPaused sets a delivery pending, or paused when its endpoint is
// disabled.
const pendingOrPaused = `state = CASE WHEN EXISTS (
        SELECT 1 FROM webhookkit_endpoints AS ep WHERE ep.id = endpoint_id AND ep.disabled = 1)
        THEN 'paused' ELSE 'pending' END`

// GetDelivery returns the delivery (without its lease token), or
// [store.ErrNotFound].
func (s *Store) GetDelivery(ctx context.Context, id string) (*store.Delivery, error) {
	d, err := scanDelivery(s.reader().QueryRowContext(ctx, `SELECT `+deliveryCols+deliveryFrom+` WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf("sqlite: delivery %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("sqlite: get delivery: %w", err)
	}
	return d, nil
}

// ListDeliveries returns deliveries newest first (by CreatedAt, then ID),
// one page at a time, and the next page's cursor ("" on the last).
// EventType is an [event.Pattern] (an exact type, a service, a prefix or
// "*"). A malformed cursor or pattern is [store.ErrInvalid].
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, string, error) {
	var w where
	switch {
	case f.AllTenants:
	case f.EndpointID != "" || f.EventID != "":
		// The unary + keeps SQLite off the tenant index, which it would
		// otherwise walk to avoid a sort, reading every delivery of the
		// tenant: an endpoint's or an event's are far fewer.
		w.add("+d.tenant = ?", f.Tenant)
	default:
		w.add("d.tenant = ?", f.Tenant)
	}
	if f.EndpointID != "" {
		w.add("d.endpoint_id = ?", f.EndpointID)
	}
	if f.EventID != "" {
		w.add("d.event_id = ?", f.EventID)
	}
	var pattern event.Pattern
	if f.EventType != "" {
		if !strings.Contains(f.EventType, "*") && !event.Pattern(f.EventType).Service() {
			w.add("d.event_type = ?", f.EventType)
		} else {
			p, err := event.ParsePattern(f.EventType)
			if err != nil {
				return nil, "", errorf("sqlite: list deliveries: %w: %w", store.ErrInvalid, err)
			}
			pattern = p
			// Narrow by the literal prefix in SQL (LIKE is case-insensitive
			// for ASCII, so the pattern itself decides below); a service's
			// prefix is its name.
			if prefix, _, _ := strings.Cut(f.EventType, "*"); prefix != "" {
				w.add(`d.event_type LIKE ? ESCAPE '\'`, likePrefix(prefix))
			}
		}
	}
	if f.State != "" {
		w.add("d.state = ?", string(f.State))
	}
	if !f.Since.IsZero() {
		w.add("d.created_at >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("d.created_at < ?", nanos(f.Until))
	}
	size := f.Page.Size()
	cursor := f.Page.Cursor
	var out []*store.Delivery
	// A pattern that SQL cannot express exactly is applied here; the loop
	// reads on until the page is full or the rows run out.
	for {
		ww := where{conds: append([]string(nil), w.conds...), args: append([]any(nil), w.args...)}
		if cursor != "" {
			n, id, err := decodeTimeCursor(cursor)
			if err != nil {
				return nil, "", err
			}
			ww.add("(d.created_at, d.id) < (?, ?)", n, id)
		}
		batch, last, more, err := s.listDeliveries(ctx, ww, size+1-len(out))
		if err != nil {
			return nil, "", errorf("sqlite: list deliveries: %w", err)
		}
		for _, d := range batch {
			if pattern == "" || pattern.Match(d.Event.Type) {
				out = append(out, d)
			}
		}
		if len(out) > size {
			out = out[:size]
			l := out[size-1]
			return out, encodeTimeCursor(nanos(l.CreatedAt), l.ID), nil
		}
		if !more {
			return out, "", nil
		}
		cursor = encodeTimeCursor(nanos(last.CreatedAt), last.ID)
	}
}

// listDeliveries reads up to n rows and reports whether it got n (more may
// follow after last).
func (s *Store) listDeliveries(ctx context.Context, w where, n int) (ds []*store.Delivery, last *store.Delivery, more bool, err error) {
	ds, err = queryAll(ctx, s.reader(), scanDelivery, `SELECT `+deliveryCols+deliveryFrom+w.String()+
		` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`, append(w.args, n)...)
	if err != nil {
		return nil, nil, false, err
	}
	if len(ds) > 0 {
		last = ds[len(ds)-1]
	}
	return ds, last, len(ds) == n, nil
}

// requeueSet is the replay update shared by Requeue and RequeueFailed; ?1 is
// the due time. A delivery of a disabled endpoint is requeued paused. A
// keyed one is requeued in the due index (key_waiting = 0) even when it is
// not its key's head: it may overtake the head, and Lease's head check
// keeps it in its place either way.
const requeueSet = `UPDATE webhookkit_deliveries SET ` + pendingOrPaused + `,
    next_attempt_at = ?1, attempts = 0, first_attempt_at = NULL,
    finished_at = NULL, lease_token = NULL, holds_key = 0, key_waiting = 0`

// Requeue makes a failed or succeeded delivery pending again (paused if its
// endpoint is disabled), due at at, with Attempts and FirstAttemptAt reset;
// HoldsKey cleared; LastAttemptAt and LastError are kept for reference
// until the next attempt. A keyed delivery keeps its place in its key's
// order. [store.ErrConflict] for a pending, leased or paused delivery,
// [store.ErrNotFound] when missing.
func (s *Store) Requeue(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, requeueSet+` WHERE id = ?2 AND state IN ('failed', 'succeeded')`, nanos(at), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			if n > 0 {
				s.wakeOnCommit()
			}
			return err
		}
		var state string
		err = q.QueryRowContext(ctx, `SELECT state FROM webhookkit_deliveries WHERE id = ?`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("delivery %q is %s: %w", id, state, store.ErrConflict)
	})
	if err != nil {
		return errorf("sqlite: requeue: %w", err)
	}
	return nil
}

// RequeueFailed requeues, as [Store.Requeue], every failed delivery of the
// endpoint that finished at or after since, in one transaction, and returns
// how many.
func (s *Store) RequeueFailed(ctx context.Context, endpointID string, since, at time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, requeueSet+`
WHERE endpoint_id = ?2 AND state = 'failed' AND finished_at >= ?3`, nanos(at), endpointID, nanos(since))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		if n > 0 {
			s.wakeOnCommit()
		}
		return err
	})
	if err != nil {
		return 0, errorf("sqlite: requeue failed: %w", err)
	}
	return int(n), nil
}

// advanceRetriesSQL is AdvanceRetries' statement: ?1 the new due time, ?2
// the endpoint, ?3 since.
const advanceRetriesSQL = `UPDATE webhookkit_deliveries SET next_attempt_at = ?1
WHERE state IN ('pending', 'leased') AND key_waiting = 0 AND next_attempt_at > ?1
    AND state = 'pending' AND +endpoint_id = ?2 AND attempts > 0 AND last_attempt_at >= ?3`

// AdvanceRetries makes due at at the endpoint's pending deliveries that
// wait for a retry of an attempt leased at or after since (see
// [store.RetryAdvancer]), in one statement that reads the due index's range
// of deliveries due after at, and returns how many.
func (s *Store) AdvanceRetries(ctx context.Context, endpointID string, since, at time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(q dbtx) error {
		// The first line is the due index's condition, so the index serves;
		// the unary + keeps SQLite off the endpoint index, which would read
		// all the endpoint's pending deliveries, due or not.
		res, err := q.ExecContext(ctx, advanceRetriesSQL,
			nanos(at), endpointID, nanos(since))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		if n > 0 {
			s.wakeOnCommit()
		}
		return err
	})
	if err != nil {
		return 0, errorf("sqlite: advance retries: %w", err)
	}
	return int(n), nil
}
