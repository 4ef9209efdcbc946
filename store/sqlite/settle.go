package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/webhookkit/webhookkit/store"
)

// attemptRowsPerInsert caps the rows of one multi-row attempt INSERT, so its
// parameters (19 a row) stay well under SQLite's limit of 32766.
const attemptRowsPerInsert = 256

// Settle writes the batch in one write transaction (see
// [store.Outbox.Settle]): the attempts with multi-row INSERTs of up to 256
// rows each, the deliveries with one UPDATE ... FROM json_each(...) per
// round of [store.SettleBatch.Rounds] (one unless a delivery is settled
// twice) that checks each token and returns the ids it settled, and the
// health deltas with one UPDATE ... FROM json_each(...) that returns the
// endpoints. A retried or released delivery whose endpoint is disabled is
// paused; SQLite's single writer keeps a SetDisabled from slipping between
// reading the endpoint and writing the delivery. Errors: [store.ErrInvalid]
// for an ill-formed batch, [store.ErrConflict] for an attempt id stored
// already or given twice; on any error nothing is written.
func (s *Store) Settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	if err := b.Check(); err != nil {
		return store.SettleResult{}, fmt.Errorf("sqlite: settle: %w", err)
	}
	var res store.SettleResult
	if len(b.Settlements) == 0 && len(b.Health) == 0 {
		return res, nil
	}
	atts, ids, err := stageAttempts(b.Settlements)
	if err != nil {
		return res, fmt.Errorf("sqlite: settle: %w", err)
	}
	rounds, err := settleRounds(b)
	if err != nil {
		return res, fmt.Errorf("sqlite: settle: %w", err)
	}
	health, err := healthJSON(b.Health)
	if err != nil {
		return res, fmt.Errorf("sqlite: settle: %w", err)
	}
	err = s.write(ctx, func(q dbtx) error {
		res = store.SettleResult{}
		if err := insertAttempts(ctx, q, atts); err != nil {
			return err
		}
		if len(b.Settlements) > 0 {
			res.Lost = make([]bool, len(b.Settlements))
		}
		for _, r := range rounds {
			settled, err := queryAll(ctx, q, scanString, settleSQL, r.json)
			if err != nil {
				return err
			}
			ok := make(map[string]bool, len(settled))
			for _, id := range settled {
				ok[id] = true
			}
			for _, i := range r.idx {
				res.Lost[i] = !ok[b.Settlements[i].Ref.DeliveryID]
			}
		}
		if len(b.Health) == 0 {
			return nil
		}
		eps, err := queryAll(ctx, q, scanEndpoint, healthSQL, health)
		if err != nil {
			return err
		}
		byID := make(map[string]*store.Endpoint, len(eps))
		for _, ep := range eps {
			byID[ep.ID] = ep
		}
		res.Endpoints = make([]*store.Endpoint, len(b.Health))
		for i, d := range b.Health {
			res.Endpoints[i] = byID[d.EndpointID]
		}
		return nil
	})
	if err != nil {
		return store.SettleResult{}, fmt.Errorf("sqlite: settle: %w", err)
	}
	setAttemptIDs(b.Settlements, ids)
	return res, nil
}

// stagedAttempt is an attempt ready to insert: its id and its encoded
// headers.
type stagedAttempt struct {
	a           *store.Attempt
	id          string
	reqH, respH any
}

// stageAttempts encodes the settlements' attempts and picks the ids of those
// without one; ids[i] is the id of settlement i's attempt ("" when none).
func stageAttempts(ss []store.Settlement) ([]stagedAttempt, []string, error) {
	var atts []stagedAttempt
	ids := make([]string, len(ss))
	for i := range ss {
		a := ss[i].Attempt
		if a == nil {
			continue
		}
		st := stagedAttempt{a: a, id: a.ID}
		if st.id == "" {
			st.id = newID()
		}
		var err error
		if st.reqH, err = headerJSON(a.RequestHeaders); err != nil {
			return nil, nil, err
		}
		if st.respH, err = headerJSON(a.ResponseHeaders); err != nil {
			return nil, nil, err
		}
		ids[i] = st.id
		atts = append(atts, st)
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

// args returns the attempt's values in the order of attemptCols.
func (st *stagedAttempt) args() []any {
	a := st.a
	return []any{st.id, a.DeliveryID, a.EndpointID, a.Tenant, a.EventID, a.EventType, string(a.Mode), a.Number,
		nanos(a.At), int64(a.Duration), a.URL, st.reqH, a.RequestBody, a.StatusCode, st.respH, a.ResponseBody,
		boolInt(a.ResponseTruncated), a.Error, boolInt(a.Success)}
}

// insertAttempts inserts atts with multi-row INSERTs; an id stored already,
// or given twice, is [store.ErrConflict].
func insertAttempts(ctx context.Context, q dbtx, atts []stagedAttempt) error {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for len(atts) > 0 {
		n := min(len(atts), attemptRowsPerInsert)
		chunk := atts[:n]
		atts = atts[n:]
		args := make([]any, 0, n*19)
		for i := range chunk {
			args = append(args, chunk[i].args()...)
		}
		res, err := q.ExecContext(ctx, `INSERT INTO webhookkit_attempts (`+attemptCols+`) VALUES `+
			strings.Repeat(row+", ", n-1)+row+` ON CONFLICT (id) DO NOTHING`, args...)
		if err != nil {
			return err
		}
		if got, err := res.RowsAffected(); err != nil {
			return err
		} else if got != int64(n) {
			return fmt.Errorf("%d of %d attempt ids are stored already or given twice: %w", int64(n)-got, n, store.ErrConflict)
		}
	}
	return nil
}

// settleRound is one round of a batch's settlements (see
// [store.SettleBatch.Rounds]): their indexes and the JSON settleSQL reads.
type settleRound struct {
	idx  []int
	json string
}

// settleRow is one row of settleSQL's JSON: delivery id, token, outcome,
// at, next (nanoseconds) and error.
type settleRow struct {
	id, token string
	outcome   store.Outcome
	at, next  int64
	err       string
}

func (r settleRow) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{r.id, r.token, r.outcome, r.at, r.next, r.err})
}

func settleRounds(b store.SettleBatch) ([]settleRound, error) {
	var out []settleRound
	for _, idx := range b.Rounds() {
		rows := make([]settleRow, len(idx))
		for j, i := range idx {
			st := &b.Settlements[i]
			rows[j] = settleRow{st.Ref.DeliveryID, st.Ref.Token, st.Outcome, nanos(st.At), nanos(st.Next), st.Error}
		}
		js, err := json.Marshal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, settleRound{idx: idx, json: string(js)})
	}
	return out, nil
}

// settleSQL settles the deliveries of one round, given as a JSON array of
// settleRows, each only while its token holds the leased delivery, and
// returns the ids it settled. Outcomes are the store.Outcome numbers:
// 1 succeeded, 2 retry, 3 failed, 4 released.
var settleSQL = fmt.Sprintf(`UPDATE webhookkit_deliveries AS d SET
    state = CASE s.outcome WHEN %[1]d THEN 'succeeded' WHEN %[3]d THEN 'failed'
        ELSE CASE WHEN EXISTS (SELECT 1 FROM webhookkit_endpoints AS ep WHERE ep.id = d.endpoint_id AND ep.disabled = 1)
            THEN 'paused' ELSE 'pending' END END,
    finished_at = CASE WHEN s.outcome IN (%[1]d, %[3]d) THEN s.at ELSE d.finished_at END,
    next_attempt_at = CASE WHEN s.outcome IN (%[2]d, %[4]d) THEN s.next ELSE d.next_attempt_at END,
    last_error = CASE WHEN s.outcome IN (%[2]d, %[3]d) THEN s.err ELSE d.last_error END,
    attempts = CASE WHEN s.outcome = %[4]d THEN MAX(d.attempts - 1, 0) ELSE d.attempts END,
    first_attempt_at = CASE WHEN s.outcome = %[4]d AND d.attempts <= 1 THEN NULL ELSE d.first_attempt_at END,
    lease_token = NULL
FROM (SELECT value ->> 0 AS sid, value ->> 1 AS token, value ->> 2 AS outcome, value ->> 3 AS at,
        value ->> 4 AS next, value ->> 5 AS err
    FROM json_each(?)) AS s
WHERE d.id = s.sid AND d.lease_token = s.token AND d.state = 'leased'
RETURNING id`, store.OutcomeSucceeded, store.OutcomeRetry, store.OutcomeFailed, store.OutcomeReleased)

// healthRow is one row of healthSQL's JSON: endpoint id, failures, first
// failure, last failure and last success (nanoseconds, null when zero).
type healthRow struct {
	id       string
	failures int
	ff       any
	lf, ls   any
}

func (r healthRow) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{r.id, r.failures, r.ff, r.lf, r.ls})
}

func healthJSON(ds []store.HealthDelta) (string, error) {
	if len(ds) == 0 {
		return "", nil
	}
	rows := make([]healthRow, len(ds))
	for i, d := range ds {
		ff := nullNanos(d.FirstFailure)
		if d.Failures == 0 {
			ff = nil
		}
		rows[i] = healthRow{d.EndpointID, d.Failures, ff, nullNanos(d.LastFailure), nullNanos(d.LastSuccess)}
	}
	js, err := json.Marshal(rows)
	return string(js), err
}

// healthSQL applies health deltas, given as a JSON array of healthRows, by
// the rule of [store.HealthDelta.Apply], and returns the endpoints.
const healthSQL = `UPDATE webhookkit_endpoints AS e SET
    consecutive_failures = CASE WHEN h.ls IS NOT NULL THEN h.failures
        ELSE e.consecutive_failures + h.failures END,
    failing_since = CASE WHEN h.ls IS NOT NULL THEN h.ff
        WHEN h.failures > 0 THEN MIN(COALESCE(e.failing_since, h.ff), h.ff)
        ELSE e.failing_since END,
    last_success_at = CASE WHEN h.ls IS NULL THEN e.last_success_at
        ELSE MAX(COALESCE(e.last_success_at, h.ls), h.ls) END,
    last_failure_at = CASE WHEN h.lf IS NULL THEN e.last_failure_at
        ELSE MAX(COALESCE(e.last_failure_at, h.lf), h.lf) END
FROM (SELECT value ->> 0 AS hid, value ->> 1 AS failures, value ->> 2 AS ff, value ->> 3 AS lf,
        value ->> 4 AS ls
    FROM json_each(?)) AS h
WHERE e.id = h.hid
RETURNING ` + endpointCols
