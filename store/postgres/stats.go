package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/store"
)

// statsValueCols are the counters of attempt_hours in the order of
// store.HourStats: the counts per class, then the latency histogram.
var statsValueCols = func() []string {
	cols := []string{"n_2xx", "n_4xx", "n_5xx", "n_network", "n_other"}
	for i := range store.NumLatencyBuckets {
		cols = append(cols, fmt.Sprintf("lat_%02d", i))
	}
	return cols
}()

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
	b.WriteString(")\n\tON CONFLICT (endpoint_id, hour) DO UPDATE SET ")
	for i, c := range statsValueCols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = attempt_hours." + c + " + excluded." + c)
	}
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
		for j, c := range r.Counts {
			vals[j][i] = c
		}
		for j, c := range r.Latency {
			vals[len(r.Counts)+j][i] = c
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
	since, until, err := f.Check()
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	var w where
	if f.EndpointID != "" {
		w.add("endpoint_id = ?", f.EndpointID)
	}
	if !f.AllTenants {
		w.add("tenant = ?", f.Tenant)
	}
	if f.Mode != "" {
		w.add("mode = ?", string(f.Mode))
	}
	w.add("hour >= ?", since)
	w.add("hour < ?", until)
	sums := make([]string, len(statsValueCols))
	for i, c := range statsValueCols {
		sums[i] = "sum(" + c + ")::bigint"
	}
	rows, err := h.db.Query(ctx, h.n.q(`SELECT hour, `+strings.Join(sums, ", ")+
		` FROM {{schema}}.attempt_hours`+w.String()+` GROUP BY hour ORDER BY hour`), w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: attempt stats: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.HourStats, error) {
		var hs store.HourStats
		dest := []any{&hs.Hour}
		for i := range hs.Counts {
			dest = append(dest, &hs.Counts[i])
		}
		for i := range hs.Latency {
			dest = append(dest, &hs.Latency[i])
		}
		err := r.Scan(dest...)
		hs.Hour = hs.Hour.UTC()
		return hs, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: attempt stats: %w", err)
	}
	return out, nil
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
