package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/webhookkit/webhookkit/store"
)

// Settle writes the batch (see [store.Outbox.Settle]) in one transaction
// and one round trip: its statements go to the server as one pipelined
// batch, which PostgreSQL runs as one implicit transaction (the statements
// up to the batch's single Sync), committed when the last statement
// succeeds and rolled back, whole, when one fails. In order:
//
//  1. plan_cache_mode is set to force_generic_plan for that transaction,
//     with set_config(..., true): every statement below reads by primary
//     key whatever its arrays hold, and without the setting PostgreSQL
//     plans the delivery lock and the settle UPDATE anew for their actual
//     arrays on every call (pg_prepared_statements counted 40 custom plans
//     in 40 batches of one; with it, 40 generic ones), which cost more than
//     running them (BenchmarkSettle, batch of one: about 0.8 ms against
//     1.0 ms per delivery, medians of four interleaved runs). A transaction-
//     local setting ends with the implicit transaction; SET LOCAL would do
//     the same but makes PostgreSQL warn that it is outside a transaction
//     block, which set_config does not. It is skipped on a view bound to a
//     caller's transaction, where the setting would outlive Settle.
//  2. The endpoints the batch reads or writes (those of its retried and
//     released deliveries, those of its health deltas, and those of the
//     keyed deliveries it finishes) are locked FOR
//     NO KEY UPDATE in id order. A concurrent SetDisabled then either
//     commits first, and is seen, or waits for the batch and pauses the
//     deliveries it made pending; and concurrent batches, which lock in the
//     same order and never upgrade a lock, cannot deadlock. (Enqueue's KEY
//     SHARE lock does not conflict with it.)
//  3. The deliveries are locked FOR UPDATE in id order, for the same
//     reason (two batches share deliveries when a lease expired and moved
//     on). Then the ordering keys of the deliveries it finishes
//     (succeeded, or failed without HoldKey) are locked, in shared mode,
//     with the advisory lock Enqueue takes exclusive (lockFinishedKeysSQL).
//  4. The attempts are inserted with one INSERT ... SELECT FROM
//     unnest(...), and added to the hourly aggregates (AttemptStats) with
//     one INSERT ... ON CONFLICT DO UPDATE, rows sorted by endpoint and
//     hour so that concurrent batches lock them in the same order. BenchmarkSettleAttempts measured it against COPY in an
//     explicit transaction (four round trips more): no difference beyond
//     the noise at 32 and 256 attempts, the pipelined INSERT ahead at 1
//     (1.7 ms against 1.9 ms, medians of five runs), and one statement in
//     the pipeline is simpler.
//  5. The deliveries are settled with one UPDATE per round of
//     [store.SettleBatch.Rounds] (one unless a delivery is settled twice),
//     each checking its tokens and returning the ids it settled; then the
//     next delivery of each key finished joins the lease index
//     (nextHeadsSQL: see deliveries_due_idx in schema.sql).
//  6. The health deltas are applied with one UPDATE ... FROM unnest(...)
//     that returns the endpoints.
//
// Errors wrap [store.ErrInvalid] for an ill-formed batch and
// [store.ErrConflict] for an attempt id stored already or given twice; on
// any error nothing is written (unless the connection failed during the
// commit itself, when, as for any commit, the outcome is unknown).
func (h *handle) Settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	if err := b.Check(); err != nil {
		return store.SettleResult{}, errorf("postgres: settle: %w", err)
	}
	if len(b.Settlements) == 0 && len(b.Health) == 0 {
		return store.SettleResult{}, nil
	}
	atts, ids, err := stageAttempts(b.Settlements)
	if err != nil {
		return store.SettleResult{}, errorf("postgres: settle: %w", err)
	}

	q, err := h.queueSettle(b, atts)
	if err != nil {
		return store.SettleResult{}, errorf("postgres: settle: %w", err)
	}
	err = h.sendBatch(ctx, &q.batch, q.reads)
	if isUniqueViolation(err) {
		return store.SettleResult{}, errorf("postgres: settle: an attempt id is stored already or given twice: %w", store.ErrConflict)
	}
	if err != nil {
		return store.SettleResult{}, errorf("postgres: settle: %w", err)
	}
	setAttemptIDs(b.Settlements, ids)
	return q.res, nil
}

// settleQueue is Settle's pipelined batch: the statements, a function per
// statement that reads its results, and the result they fill in.
type settleQueue struct {
	batch pgx.Batch
	reads []func(pgx.BatchResults) error
	res   store.SettleResult
}

// queueSettle queues the statements of Settle for b, inserting atts (none
// when atts is nil).
func (h *handle) queueSettle(b store.SettleBatch, atts *attemptArrays) (*settleQueue, error) {
	q := new(settleQueue)
	exec := func(br pgx.BatchResults) error { _, err := br.Exec(); return err }
	if _, inTx := h.db.(pgx.Tx); !inTx {
		// Plans made for the actual arrays cost more to make than they
		// save here: each statement reads by primary key whatever the
		// arrays hold. Local (true): only for this implicit transaction.
		q.batch.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
		q.reads = append(q.reads, exec)
	}
	finished := settleFinishedIDs(b)
	if readEps := settleReadEps(b); len(readEps) > 0 || len(b.Health) > 0 || len(finished) > 0 {
		q.batch.Queue(h.n.q(lockEndpointsSQL), readEps, healthIDs(b.Health), finished)
		q.reads = append(q.reads, exec)
	}
	if len(b.Settlements) > 0 {
		q.batch.Queue(h.n.q(lockDeliveriesSQL), settleIDs(b.Settlements))
		q.reads = append(q.reads, exec)
	}
	if len(finished) > 0 {
		q.batch.Queue(h.n.q(lockFinishedKeysSQL), finished, keyLockClass)
		q.reads = append(q.reads, exec)
	}
	h.queueAttempts(&q.batch, &q.reads, atts) // and their hourly aggregates
	if len(b.Settlements) > 0 {
		q.res.Lost = make([]bool, len(b.Settlements))
	}
	for _, r := range b.Rounds() {
		args, err := settleArgs(b.Settlements, r)
		if err != nil {
			return nil, err
		}
		q.batch.Queue(h.n.q(settleSQL), args...)
		q.reads = append(q.reads, func(br pgx.BatchResults) error {
			rows, _ := br.Query()
			settled, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			ok := make(map[string]bool, len(settled))
			for _, id := range settled {
				ok[id] = true
			}
			for _, i := range r {
				q.res.Lost[i] = !ok[b.Settlements[i].Ref.DeliveryID]
			}
			return nil
		})
	}
	if len(finished) > 0 {
		q.batch.Queue(h.n.q(nextHeadsSQL), finished)
		q.reads = append(q.reads, exec)
	}
	if len(b.Health) > 0 {
		q.batch.Queue(h.n.q(healthSQL), healthArgs(b.Health)...)
		q.reads = append(q.reads, func(br pgx.BatchResults) error {
			rows, _ := br.Query()
			eps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Endpoint, error) { return h.n.scanEndpoint(r) })
			if err != nil {
				return err
			}
			byID := make(map[string]*store.Endpoint, len(eps))
			for _, ep := range eps {
				byID[ep.ID] = ep
			}
			q.res.Endpoints = make([]*store.Endpoint, len(b.Health))
			for i, d := range b.Health {
				q.res.Endpoints[i] = byID[d.EndpointID]
			}
			return nil
		})
	}
	return q, nil
}

// sendBatch sends batch, reads each statement's results with its read
// function, and closes the results, which reads on to the end of the
// batch's implicit transaction: its commit's error counts too.
func (h *handle) sendBatch(ctx context.Context, batch *pgx.Batch, reads []func(pgx.BatchResults) error) (err error) {
	br := h.db.SendBatch(ctx, batch)
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	for _, read := range reads {
		if err := read(br); err != nil {
			return err
		}
	}
	return nil
}

// lockEndpointsSQL locks, in id order, the endpoints of the deliveries $1,
// the endpoints $2 and the endpoints of the keyed deliveries among $3 (the
// ones that may let their key's next delivery go: locking their endpoint
// first orders the batch with a concurrent SetDisabled, which locks the
// endpoint before the key's deliveries that nextHeadsSQL updates).
const lockEndpointsSQL = `SELECT id FROM {{schema}}.endpoints
	WHERE id = ANY(ARRAY(SELECT endpoint_id FROM {{schema}}.deliveries
			WHERE id = ANY($1::text[]) OR (id = ANY($3::text[]) AND ordering_key <> '')) || $2::text[])
	ORDER BY id FOR NO KEY UPDATE`

// lockFinishedKeysSQL takes, in a fixed order, the advisory lock of each
// (endpoint, ordering key) of the deliveries $1 in shared mode ($2 is
// keyLockClass): it waits for the Enqueues of those keys that have not
// committed (they hold it exclusive), so nextHeadsSQL, a later statement
// with a later snapshot, sees what they inserted; and an Enqueue that comes
// after waits for this batch, and sees its outcome (see keyWaitingSQL).
const lockFinishedKeysSQL = `SELECT pg_advisory_xact_lock_shared($2, k.h) FROM (
		SELECT DISTINCT hashtext(endpoint_id || chr(31) || ordering_key) AS h FROM {{schema}}.deliveries
		WHERE id = ANY($1::text[]) AND ordering_key <> '' ORDER BY 1
	) AS k`

// nextHeadsSQL clears key_waiting on the head of each key of the
// deliveries $1 (its first blocking delivery, one step into
// deliveries_key_idx), which puts it in the lease index.
const nextHeadsSQL = `UPDATE {{schema}}.deliveries d SET key_waiting = false
	FROM (SELECT DISTINCT endpoint_id, ordering_key FROM {{schema}}.deliveries
			WHERE id = ANY($1::text[]) AND ordering_key <> '') AS s,
		LATERAL (` + keyHeadOfSQL + `) AS head
	WHERE d.id = head.id AND d.key_waiting`

// keyHeadOfSQL selects the id of the first blocking delivery of the key
// s.endpoint_id, s.ordering_key.
const keyHeadOfSQL = `SELECT k.id FROM {{schema}}.deliveries k
			WHERE k.endpoint_id = s.endpoint_id AND k.ordering_key = s.ordering_key AND k.ordering_key <> ''
				AND (k.state IN ('pending', 'leased', 'leased_paused', 'paused') OR k.holds_key)
			ORDER BY k.key_seq LIMIT 1`

// lockDeliveriesSQL locks the deliveries $1 in id order, so two batches
// that share deliveries (which happens when a lease expired and moved on)
// wait for each other instead of deadlocking in the settle UPDATE.
const lockDeliveriesSQL = `SELECT id FROM {{schema}}.deliveries WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`

// settleIDs returns the ids of the deliveries settled.
func settleIDs(ss []store.Settlement) []string {
	ids := make([]string, len(ss))
	for i := range ss {
		ids[i] = ss[i].Ref.DeliveryID
	}
	return ids
}

// settleFinishedIDs returns the ids of the deliveries that the batch may
// make stop blocking their ordering key: those it settles as succeeded, or
// as failed without HoldKey.
func settleFinishedIDs(b store.SettleBatch) []string {
	var ids []string
	for i := range b.Settlements {
		st := &b.Settlements[i]
		if st.Outcome == store.OutcomeSucceeded || st.Outcome == store.OutcomeFailed && !st.HoldKey {
			ids = append(ids, st.Ref.DeliveryID)
		}
	}
	return ids
}

// settleReadEps returns the ids of the deliveries whose endpoints Settle
// reads: the retried and released ones.
func settleReadEps(b store.SettleBatch) []string {
	ids := []string{}
	for i := range b.Settlements {
		if st := &b.Settlements[i]; st.Outcome == store.OutcomeRetry || st.Outcome == store.OutcomeReleased {
			ids = append(ids, st.Ref.DeliveryID)
		}
	}
	return ids
}

func healthIDs(ds []store.HealthDelta) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.EndpointID
	}
	return ids
}

// attemptCols' values of many attempts, one array per column.
type attemptArrays struct {
	n                                                     int
	id, delivery, endpoint, tenant, event, typ, mode, url []string
	reqH, respH, errs, format                             []string
	number, status                                        []int32
	at                                                    []time.Time
	dur                                                   []int64
	reqB, respB                                           [][]byte
	truncated, success                                    []bool
	src                                                   []*store.Attempt // for the hourly aggregates
}

func (a *attemptArrays) args() []any {
	return []any{a.id, a.delivery, a.endpoint, a.tenant, a.event, a.typ, a.mode, a.number, a.at, a.dur,
		a.url, a.reqH, a.reqB, a.status, a.respH, a.respB, a.truncated, a.errs, a.success, a.format}
}

// add appends one attempt, stored with the given id.
func (a *attemptArrays) add(x *store.Attempt, id string) error {
	reqH, err := json.Marshal(http.Header(x.RequestHeaders))
	if err != nil {
		return err
	}
	respH, err := json.Marshal(http.Header(x.ResponseHeaders))
	if err != nil {
		return err
	}
	a.n++
	a.src = append(a.src, x)
	a.id = append(a.id, id)
	a.delivery = append(a.delivery, x.DeliveryID)
	a.endpoint = append(a.endpoint, x.EndpointID)
	a.tenant = append(a.tenant, x.Tenant)
	a.event = append(a.event, x.EventID)
	a.typ = append(a.typ, x.EventType)
	a.mode = append(a.mode, string(x.Mode))
	a.number = append(a.number, int32(x.Number))
	a.at = append(a.at, x.At)
	a.dur = append(a.dur, int64(x.Duration))
	a.url = append(a.url, x.URL)
	a.reqH = append(a.reqH, string(reqH))
	a.reqB = append(a.reqB, x.RequestBody)
	a.status = append(a.status, int32(x.StatusCode))
	a.respH = append(a.respH, string(respH))
	a.respB = append(a.respB, x.ResponseBody)
	a.truncated = append(a.truncated, x.ResponseTruncated)
	a.errs = append(a.errs, x.Error)
	a.success = append(a.success, x.Success)
	a.format = append(a.format, string(x.Format))
	return nil
}

// insertAttemptsSQL inserts the attempts given as attemptArrays.args.
const insertAttemptsSQL = `INSERT INTO {{schema}}.attempts (` + attemptCols + `)
	SELECT id, delivery_id, endpoint_id, tenant, event_id, event_type, mode, number, at, duration_ns,
		url, request_headers::jsonb, request_body, status_code, response_headers::jsonb, response_body,
		response_truncated, error, success, format
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::integer[], $9::timestamptz[], $10::bigint[], $11::text[], $12::text[], $13::bytea[], $14::integer[],
		$15::text[], $16::bytea[], $17::boolean[], $18::text[], $19::boolean[], $20::text[])
	AS a (id, delivery_id, endpoint_id, tenant, event_id, event_type, mode, number, at, duration_ns,
		url, request_headers, request_body, status_code, response_headers, response_body,
		response_truncated, error, success, format)`

// stageAttempts collects the settlements' attempts and picks the ids of
// those without one; ids[i] is the id of settlement i's attempt ("" when
// none).
func stageAttempts(ss []store.Settlement) (*attemptArrays, []string, error) {
	atts := new(attemptArrays)
	ids := make([]string, len(ss))
	for i := range ss {
		a := ss[i].Attempt
		if a == nil {
			continue
		}
		ids[i] = a.ID
		if ids[i] == "" {
			ids[i] = uuid.NewString()
		}
		if err := atts.add(a, ids[i]); err != nil {
			return nil, nil, err
		}
	}
	return atts, ids, nil
}

// setAttemptIDs gives the settlements' attempts the ids they were stored
// with.
func setAttemptIDs(ss []store.Settlement, ids []string) {
	for i := range ss {
		if a := ss[i].Attempt; a != nil {
			a.ID = ids[i]
		}
	}
}

// settleSQL settles the deliveries of one round, each only while its token
// holds the leased delivery, and returns the ids it settled: $1 the ids,
// $2 a jsonb object mapping each id to its settlement (settleValue). The
// endpoints it reads are locked by the batch's first statement.
//
// It reads each delivery by primary key (or in one pass over a small
// table) and looks its settlement up by key in $2, joining nothing: a join
// with the batch, as unnest(...) arrays or an IN (subquery), let the
// planner, misled by stale statistics on state, pick a nested loop that
// rescans the batch for every leased row (quadratic in the batch size).
var settleSQL = strings.NewReplacer(
	"{token}", "($2::jsonb -> d.id ->> 0)",
	"{o}", "($2::jsonb -> d.id ->> 1)::smallint",
	"{at}", "($2::jsonb -> d.id ->> 2)::timestamptz",
	"{next}", "($2::jsonb -> d.id ->> 3)::timestamptz",
	"{err}", "($2::jsonb -> d.id ->> 4)",
	"{hold}", "coalesce(($2::jsonb -> d.id ->> 5)::boolean, false)",
).Replace(fmt.Sprintf(`UPDATE {{schema}}.deliveries d SET
		state = CASE {o} WHEN %[1]d THEN 'succeeded' WHEN %[3]d THEN 'failed'
			ELSE CASE WHEN coalesce((SELECT e.disabled FROM {{schema}}.endpoints e WHERE e.id = d.endpoint_id), false)
				THEN 'paused' ELSE 'pending' END END,
		finished_at = CASE WHEN {o} IN (%[1]d, %[3]d) THEN {at} ELSE d.finished_at END,
		next_attempt_at = CASE WHEN {o} IN (%[2]d, %[4]d) THEN {next} ELSE d.next_attempt_at END,
		last_error = CASE WHEN {o} IN (%[2]d, %[3]d) THEN {err} ELSE d.last_error END,
		attempts = CASE WHEN {o} = %[4]d THEN greatest(d.attempts - 1, 0) ELSE d.attempts END,
		first_attempt_at = CASE WHEN {o} = %[4]d AND d.attempts <= 1 THEN NULL ELSE d.first_attempt_at END,
		holds_key = {o} = %[3]d AND {hold} AND d.ordering_key <> '',
		lease_token = NULL
	WHERE d.id = ANY($1::text[]) AND d.lease_token = {token} AND d.state IN ('leased', 'leased_paused')
	RETURNING d.id`, store.OutcomeSucceeded, store.OutcomeRetry, store.OutcomeFailed, store.OutcomeReleased))

// settleValue is one settlement in settleSQL's $2: token, outcome, at,
// next (RFC 3339, null when zero), error and HoldKey.
type settleValue [6]any

// settleArgs returns settleSQL's arguments for the settlements at idx.
func settleArgs(ss []store.Settlement, idx []int) ([]any, error) {
	ids := make([]string, len(idx))
	byID := make(map[string]settleValue, len(idx))
	for j, i := range idx {
		st := &ss[i]
		ids[j] = st.Ref.DeliveryID
		byID[st.Ref.DeliveryID] = settleValue{st.Ref.Token, st.Outcome, jsonTime(st.At), jsonTime(st.Next), st.Error, st.HoldKey}
	}
	m, err := json.Marshal(byID)
	if err != nil {
		return nil, err
	}
	return []any{ids, string(m)}, nil
}

// jsonTime is t as settleSQL reads it: RFC 3339 to the microsecond (what
// timestamptz keeps), or nil when zero.
func jsonTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.999999Z07:00")
}

// healthSQL applies health deltas by the rule of [store.HealthDelta.Apply]
// and returns the endpoints: $1 endpoint ids, $2 failures, $3 first
// failures, $4 last failures, $5 last successes (NULL for zero times), and
// $6 SetBreaker, $7 Breaker, $8 BreakerSince.
const healthSQL = `UPDATE {{schema}}.endpoints e SET
		consecutive_failures = CASE WHEN h.ls IS NOT NULL THEN h.failures
			ELSE e.consecutive_failures + h.failures END,
		failing_since = CASE WHEN h.ls IS NOT NULL THEN h.ff
			WHEN h.failures > 0 THEN least(e.failing_since, h.ff)
			ELSE e.failing_since END,
		last_success_at = greatest(e.last_success_at, h.ls),
		last_failure_at = greatest(e.last_failure_at, h.lf),
		breaker_state = CASE WHEN h.setb THEN h.bstate ELSE e.breaker_state END,
		breaker_since = CASE WHEN h.setb THEN h.bsince ELSE e.breaker_since END
	FROM unnest($1::text[], $2::integer[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[],
			$6::boolean[], $7::text[], $8::timestamptz[])
		AS h (hid, failures, ff, lf, ls, setb, bstate, bsince)
	WHERE e.id = h.hid
	RETURNING ` + endpointCols

// healthArgs returns healthSQL's arguments.
func healthArgs(ds []store.HealthDelta) []any {
	var (
		ids        = make([]string, len(ds))
		failures   = make([]int32, len(ds))
		ff, lf, ls = make([]pgtype.Timestamptz, len(ds)), make([]pgtype.Timestamptz, len(ds)), make([]pgtype.Timestamptz, len(ds))
		setb       = make([]bool, len(ds))
		bstate     = make([]string, len(ds))
		bsince     = make([]pgtype.Timestamptz, len(ds))
	)
	for i, d := range ds {
		ids[i], failures[i] = d.EndpointID, int32(d.Failures)
		if d.Failures > 0 {
			ff[i] = pgTime(d.FirstFailure)
		}
		lf[i], ls[i] = pgTime(d.LastFailure), pgTime(d.LastSuccess)
		setb[i], bstate[i], bsince[i] = d.SetBreaker, string(d.Breaker), pgTime(d.BreakerSince)
	}
	return []any{ids, failures, ff, lf, ls, setb, bstate, bsince}
}

// pgTime is t as a timestamptz, NULL when zero.
func pgTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}
