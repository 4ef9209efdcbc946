package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/webhookkit/webhookkit/store"
)

// statsValueCols are the counters of webhookkit_attempt_hours in the order
// of store.HourStats: the counts per class, then the latency histogram.
var statsValueCols = func() []string {
	cols := []string{"n_2xx", "n_4xx", "n_5xx", "n_network", "n_other"}
	for i := range store.NumLatencyBuckets {
		cols = append(cols, fmt.Sprintf("lat_%02d", i))
	}
	return cols
}()

// statsKeyCols are the other columns of webhookkit_attempt_hours.
const statsKeyCols = "endpoint_id, hour, tenant, mode"

// statsRowsPerInsert caps the rows of one upsert of hourly aggregates (23
// parameters a row).
const statsRowsPerInsert = 256

// statsUpsertSQL adds n rows of aggregates to webhookkit_attempt_hours.
func statsUpsertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO webhookkit_attempt_hours (" + statsKeyCols + ", " + strings.Join(statsValueCols, ", ") + ") VALUES ")
	row := "(" + strings.Repeat("?, ", 3+len(statsValueCols)) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT (endpoint_id, hour) DO UPDATE SET ")
	for i, c := range statsValueCols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = " + c + " + excluded." + c)
	}
	return b.String()
}

// recordStats adds the attempts to the hourly aggregates, in the caller's
// write transaction.
func recordStats(ctx context.Context, q dbtx, atts []stagedAttempt) error {
	as := make([]*store.Attempt, len(atts))
	for i := range atts {
		as[i] = atts[i].a
	}
	rows := store.AggregateAttempts(as)
	for len(rows) > 0 {
		n := min(len(rows), statsRowsPerInsert)
		args := make([]any, 0, n*(4+len(statsValueCols)))
		for _, r := range rows[:n] {
			args = append(args, r.EndpointID, nanos(r.Hour), r.Tenant, string(r.Mode))
			for _, c := range r.Counts {
				args = append(args, c)
			}
			for _, c := range r.Latency {
				args = append(args, c)
			}
		}
		rows = rows[n:]
		if _, err := q.ExecContext(ctx, statsUpsertSQL(n), args...); err != nil {
			return fmt.Errorf("attempt stats: %w", err)
		}
	}
	return nil
}

// AttemptStats implements [store.AttemptStats]: one GROUP BY over the rows
// of webhookkit_attempt_hours in the window (one per endpoint and hour),
// read by its primary key (endpoint_id, hour) for one endpoint, by the
// index (tenant, mode, hour) for a tenant, and by the index on hour across
// tenants. A filter without a window is [store.ErrInvalid].
func (s *Store) AttemptStats(ctx context.Context, f store.StatsFilter) ([]store.HourStats, error) {
	since, until, err := f.Check()
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
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
	w.add("hour >= ?", nanos(since))
	w.add("hour < ?", nanos(until))
	sums := make([]string, len(statsValueCols))
	for i, c := range statsValueCols {
		sums[i] = "SUM(" + c + ")"
	}
	out, err := queryAll(ctx, s.reader(), scanHourStats, `SELECT hour, `+strings.Join(sums, ", ")+
		` FROM webhookkit_attempt_hours`+w.String()+` GROUP BY hour ORDER BY hour`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempt stats: %w", err)
	}
	return out, nil
}

func scanHourStats(sc scanner) (store.HourStats, error) {
	var (
		hs   store.HourStats
		hour int64
	)
	dest := []any{&hour}
	for i := range hs.Counts {
		dest = append(dest, &hs.Counts[i])
	}
	for i := range hs.Latency {
		dest = append(dest, &hs.Latency[i])
	}
	if err := sc.Scan(dest...); err != nil {
		return hs, err
	}
	hs.Hour = fromNanos(hour)
	return hs, nil
}

// pruneStats deletes the hourly aggregates of the hours that end at or
// before before.
func pruneStats(ctx context.Context, q dbtx, before int64) error {
	_, err := q.ExecContext(ctx, `DELETE FROM webhookkit_attempt_hours WHERE hour < ?`,
		nanos(store.Hour(fromNanos(before))))
	return err
}

// statsColumns are the columns of webhookkit_attempt_hours for
// schemaColumns.
func statsColumns() map[string]string {
	cols := map[string]string{"endpoint_id": "TEXT", "hour": "INTEGER", "tenant": "TEXT", "mode": "TEXT"}
	for _, c := range statsValueCols {
		cols[c] = "INTEGER"
	}
	return cols
}
