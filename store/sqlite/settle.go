package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/webhookkit/webhookkit/store"
)

// attemptRowsPerInsert caps the rows of one multi-row attempt INSERT, so its
// parameters (19 a row) stay well under SQLite's limit of 32766.
const attemptRowsPerInsert = 256

// Settle writes the batch in one write transaction (see
// [store.Outbox.Settle]): the attempts with multi-row INSERTs of up to 256
// rows each, then each settlement in batch order with its outcome's UPDATE
// (prepared once per batch), then each health delta with one prepared
// UPDATE ... RETURNING. Prepared statements measured faster than one
// UPDATE ... FROM json_each(...) for all the deliveries (BenchmarkSettle:
// SQLite's parser, not its writes, dominated the big statement), and
// multi-row INSERTs faster than a prepared one per attempt. A retried or
// released delivery whose endpoint is disabled is paused; SQLite's single
// writer keeps a SetDisabled from slipping between reading the endpoint
// and writing the delivery. Errors: [store.ErrInvalid] for an ill-formed
// batch, [store.ErrConflict] for an attempt id stored already or given
// twice; on any error nothing is written.
func (s *Store) Settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	if err := b.Check(); err != nil {
		return store.SettleResult{}, errorf("sqlite: settle: %w", err)
	}
	var res store.SettleResult
	if len(b.Settlements) == 0 && len(b.Health) == 0 {
		return res, nil
	}
	atts, ids, err := stageAttempts(b.Settlements)
	if err != nil {
		return res, errorf("sqlite: settle: %w", err)
	}
	err = s.write(ctx, func(q dbtx) error {
		res = store.SettleResult{}
		if err := insertAttempts(ctx, q, atts); err != nil {
			return err
		}
		if len(b.Settlements) > 0 {
			res.Lost = make([]bool, len(b.Settlements))
			if err := settleEach(ctx, q, b.Settlements, res.Lost); err != nil {
				return err
			}
		}
		if len(b.Health) > 0 {
			res.Endpoints = make([]*store.Endpoint, len(b.Health))
			return s.applyHealth(ctx, q, b.Health, res.Endpoints)
		}
		return nil
	})
	if err != nil {
		return store.SettleResult{}, errorf("sqlite: settle: %w", err)
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
		boolInt(a.ResponseTruncated), a.Error, boolInt(a.Success), string(a.Format)}
}

// insertAttempts inserts atts with multi-row INSERTs, and adds them to the
// hourly aggregates; an id stored already, or given twice, is
// [store.ErrConflict].
func insertAttempts(ctx context.Context, q dbtx, atts []stagedAttempt) error {
	all := atts
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for len(atts) > 0 {
		n := min(len(atts), attemptRowsPerInsert)
		chunk := atts[:n]
		atts = atts[n:]
		args := make([]any, 0, n*20)
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
	// The hourly aggregates (AttemptStats), in the same transaction.
	return recordStats(ctx, q, all)
}

// settleSets are the SET clauses of each outcome's settle statement
// (settleSQL), over the arguments ?1 at, ?2 next and ?3 error (nanoseconds
// for times), and for a failure ?6 HoldKey.
var settleSets = map[store.Outcome]string{
	store.OutcomeSucceeded: `state = 'succeeded', finished_at = ?1`,
	store.OutcomeRetry:     pendingOrPaused + `, next_attempt_at = ?2, last_error = ?3`,
	store.OutcomeFailed: `state = 'failed', finished_at = ?1, last_error = ?3,
    holds_key = CASE WHEN ?6 AND ordering_key <> '' THEN 1 ELSE 0 END`,
	store.OutcomeReleased: pendingOrPaused + `, next_attempt_at = ?2, attempts = MAX(attempts - 1, 0),
    first_attempt_at = CASE WHEN attempts <= 1 THEN NULL ELSE first_attempt_at END`,
}

// settleSQL returns the statement that settles a delivery with outcome o
// while the lease ?5 holds the delivery ?4; settleArgs are its arguments.
func settleSQL(o store.Outcome) string {
	return `UPDATE webhookkit_deliveries SET ` + settleSets[o] + `, lease_token = NULL
WHERE id = ?4 AND lease_token = ?5 AND state = 'leased'`
}

func settleArgs(st *store.Settlement) []any {
	args := []any{nanos(st.At), nanos(st.Next), st.Error, st.Ref.DeliveryID, st.Ref.Token}
	if st.Outcome == store.OutcomeFailed {
		args = append(args, st.HoldKey)
	}
	return args
}

// settleEach settles ss in order, each statement prepared once, and sets
// lost[i] for each settlement whose lease did not hold the delivery.
func settleEach(ctx context.Context, q dbtx, ss []store.Settlement, lost []bool) error {
	stmts := make(map[store.Outcome]*sql.Stmt, 4)
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for i := range ss {
		st := &ss[i]
		stmt := stmts[st.Outcome]
		if stmt == nil {
			var err error
			if stmt, err = q.PrepareContext(ctx, settleSQL(st.Outcome)); err != nil {
				return err
			}
			stmts[st.Outcome] = stmt
		}
		r, err := stmt.ExecContext(ctx, settleArgs(st)...)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		lost[i] = n == 0
	}
	return nil
}

// healthSQL applies one health delta by the rule of
// [store.HealthDelta.Apply] and returns the endpoint: ?1 endpoint id,
// ?2 failures, ?3 first failure, ?4 last failure, ?5 last success
// (nanoseconds, NULL for zero times), ?6 SetBreaker, ?7 Breaker, ?8
// BreakerSince.
const healthSQL = `UPDATE webhookkit_endpoints SET
    consecutive_failures = CASE WHEN ?5 IS NOT NULL THEN ?2 ELSE consecutive_failures + ?2 END,
    failing_since = CASE WHEN ?5 IS NOT NULL THEN ?3
        WHEN ?2 > 0 THEN MIN(COALESCE(failing_since, ?3), ?3)
        ELSE failing_since END,
    last_success_at = CASE WHEN ?5 IS NULL THEN last_success_at
        ELSE MAX(COALESCE(last_success_at, ?5), ?5) END,
    last_failure_at = CASE WHEN ?4 IS NULL THEN last_failure_at
        ELSE MAX(COALESCE(last_failure_at, ?4), ?4) END,
    breaker_state = CASE WHEN ?6 THEN ?7 ELSE breaker_state END,
    breaker_since = CASE WHEN ?6 THEN ?8 ELSE breaker_since END
WHERE id = ?1 RETURNING ` + endpointCols

// applyHealth applies the deltas with one prepared statement and sets
// out[i] to delta i's endpoint after it (nil when there is none).
func (s *Store) applyHealth(ctx context.Context, q dbtx, ds []store.HealthDelta, out []*store.Endpoint) error {
	stmt, err := q.PrepareContext(ctx, healthSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, d := range ds {
		var ff any
		if d.Failures > 0 {
			ff = nanos(d.FirstFailure)
		}
		ep, err := s.scanEndpoint(stmt.QueryRowContext(ctx,
			d.EndpointID, d.Failures, ff, nullNanos(d.LastFailure), nullNanos(d.LastSuccess),
			d.SetBreaker, string(d.Breaker), nullNanos(d.BreakerSince)))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		out[i] = ep
	}
	return nil
}
