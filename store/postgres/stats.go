package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/internal/hourstats"
	"github.com/webhookkit/webhookkit/store"
)

// statsValueCols are the counter columns of the aggregates table, in the
// order of store.HourStats.
var statsValueCols = hourstats.Columns

// statsUpsertSQL adds rows of aggregates, given as arrays (statsArgs), to
// attempt_hours. The rows come sorted by (endpoint_id, hour), so
// concurrent batches lock the rows they share in the same order.
var statsUpsertSQL = func() string {
	var b strings.Builder
	b.WriteString("INSERT INTO {{schema}}.attempt_hours (endpoint_id, hour, tenant, mode, " +
		strings.Join(statsValueCols, ", ") + ")\n\tSELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[]")
	for i := range statsValueCols {
		b.WriteString(", $" + strconv.Itoa(5+i) + "::bigint[]")
	}
	b.WriteString(")" + hourstats.OnConflict("attempt_hours"))
	return b.String()
}()

// statsArgs returns statsUpsertSQL's arguments for the attempts, or nil
// when there are none.
func statsArgs(as []*store.Attempt) []any {
	rows := store.AggregateAttempts(as)
	if len(rows) == 0 {
		return nil
	}
	eps, tenants, modes := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	hours := make([]time.Time, len(rows))
	vals := make([][]int64, len(statsValueCols))
	for i := range vals {
		vals[i] = make([]int64, len(rows))
	}
	for i, r := range rows {
		eps[i], hours[i], tenants[i], modes[i] = r.EndpointID, r.Hour, r.Tenant, string(r.Mode)
		for j, c := range hourstats.Values(&r.HourStats) {
			vals[j][i] = c
		}
	}
	args := []any{eps, hours, tenants, modes}
	for _, v := range vals {
		args = append(args, v)
	}
	return args
}

// queueAttempts queues, on batch, the INSERT of the attempts and the upsert
// of their hourly aggregates, with a read function for each statement.
func (h *handle) queueAttempts(batch *pgx.Batch, reads *[]func(pgx.BatchResults) error, atts *attemptArrays) {
	if atts == nil || atts.n == 0 {
		return
	}
	exec := func(br pgx.BatchResults) error { _, err := br.Exec(); return err }
	batch.Queue(h.n.q(insertAttemptsSQL), atts.args()...)
	*reads = append(*reads, exec)
	batch.Queue(h.n.q(statsUpsertSQL), statsArgs(atts.src)...)
	*reads = append(*reads, exec)
}

// AttemptStats implements [store.AttemptStats]: one GROUP BY over the rows
// of attempt_hours in the window (one per endpoint and hour), read by its
// primary key (endpoint_id, hour) for one endpoint, by the index (tenant,
// mode, hour) for a tenant, and by the index on hour across tenants. A
// filter without a window is an error wrapping [store.ErrInvalid].
func (h *handle) AttemptStats(ctx context.Context, f store.StatsFilter) ([]store.HourStats, error) {
	sql, args, err := statsQuery(f)
	if err != nil {
		return nil, errorf("postgres: %w", err)
	}
	rows, err := h.db.Query(ctx, h.n.q(sql), args...)
	if err != nil {
		return nil, errorf("postgres: attempt stats: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.HourStats, error) {
		var hs store.HourStats
		err := r.Scan(append([]any{&hs.Hour}, hourstats.Dest(&hs)...)...)
		hs.Hour = hs.Hour.UTC()
		return hs, err
	})
	if err != nil {
		return nil, errorf("postgres: attempt stats: %w", err)
	}
	return out, nil
}

// statsQuery returns AttemptStats's statement (with {{schema}}) and its
// arguments for f, or an error wrapping [store.ErrInvalid].
func statsQuery(f store.StatsFilter) (string, []any, error) {
	conds, err := hourstats.Filter(f, func(t time.Time) any { return t })
	if err != nil {
		return "", nil, err
	}
	var w where
	for _, c := range conds {
		w.add(c.SQL, c.Arg)
	}
	return `SELECT ` + hourstats.Select("::bigint") + ` FROM {{schema}}.attempt_hours` + w.String() +
		` GROUP BY hour ORDER BY hour`, w.args, nil
}

// pruneStatsSQL deletes the hourly aggregates of the hours that end at or
// before $1 (the start of the hour $1 falls in).
const pruneStatsSQL = `DELETE FROM {{schema}}.attempt_hours WHERE hour < $1`

// statsColumns are the columns of attempt_hours for schemaColumns.
func statsColumns() map[string]string {
	cols := map[string]string{"endpoint_id": "text", "hour": "timestamp with time zone", "tenant": "text", "mode": "text"}
	for _, c := range statsValueCols {
		cols[c] = "bigint"
	}
	return cols
}
