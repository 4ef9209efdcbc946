package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/store"
)

// settleCopy is Settle with the attempts written by COPY instead of the
// pipelined INSERT ... SELECT FROM unnest(...): BEGIN, COPY, the rest of
// Settle's batch, COMMIT. It is kept for BenchmarkSettleAttempts, which
// measured the choice.
func (h *handle) settleCopy(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	if err := b.Check(); err != nil {
		return store.SettleResult{}, err
	}
	atts, ids, err := stageAttempts(b.Settlements)
	if err != nil {
		return store.SettleResult{}, err
	}
	tx, err := h.db.Begin(ctx)
	if err != nil {
		return store.SettleResult{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if atts.n > 0 {
		args := atts.args()
		_, err := tx.CopyFrom(ctx, pgx.Identifier{h.n.schema, "attempts"}, attemptColumns,
			pgx.CopyFromFunc(func() func() ([]any, error) {
				i := 0
				return func() ([]any, error) {
					if i == atts.n {
						return nil, nil
					}
					row := make([]any, len(args))
					for c, col := range args {
						row[c] = columnValue(col, i)
					}
					i++
					return row, nil
				}
			}()))
		if err != nil {
			return store.SettleResult{}, err
		}
	}
	th := &handle{db: tx, n: h.n}
	q, err := th.queueSettle(b, nil)
	if err != nil {
		return store.SettleResult{}, err
	}
	if err := th.sendBatch(ctx, &q.batch, q.reads); err != nil {
		return store.SettleResult{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return store.SettleResult{}, err
	}
	setAttemptIDs(b.Settlements, ids)
	return q.res, nil
}

// attemptColumns are attemptCols one by one, for COPY.
var attemptColumns = []string{"id", "delivery_id", "endpoint_id", "tenant", "event_id", "event_type", "mode",
	"number", "at", "duration_ns", "url", "request_headers", "request_body", "status_code", "response_headers",
	"response_body", "response_truncated", "error", "success", "format"}

// columnValue returns row i of one of attemptArrays' columns.
func columnValue(col any, i int) any {
	switch c := col.(type) {
	case []string:
		return c[i]
	case []int32:
		return c[i]
	case []int64:
		return c[i]
	case [][]byte:
		return c[i]
	case []bool:
		return c[i]
	case []time.Time:
		return c[i]
	}
	panic(fmt.Sprintf("columnValue: unexpected column %T", col))
}
