package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/internal/hourstats"
	"github.com/webhookkit/webhookkit/store"
)

// statsValueCols are the counter columns of the aggregates table, in the
// order of store.HourStats.
var statsValueCols = hourstats.Columns

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
	b.WriteString(hourstats.OnConflict("webhookkit_attempt_hours"))
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
			for _, c := range hourstats.Values(&r.HourStats) {
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
	query, args, err := statsQuery(f)
	if err != nil {
		return nil, errorf("sqlite: %w", err)
	}
	out, err := queryAll(ctx, s.reader(), scanHourStats, query, args...)
	if err != nil {
		return nil, errorf("sqlite: attempt stats: %w", err)
	}
	return out, nil
}

// statsQuery returns AttemptStats's statement and its arguments for f, or
// an error wrapping [store.ErrInvalid].
func statsQuery(f store.StatsFilter) (string, []any, error) {
	conds, err := hourstats.Filter(f, func(t time.Time) any { return nanos(t) })
	if err != nil {
		return "", nil, err
	}
	var w where
	for _, c := range conds {
		w.add(c.SQL, c.Arg)
	}
	return `SELECT ` + hourstats.Select("") + ` FROM webhookkit_attempt_hours` + w.String() +
		` GROUP BY hour ORDER BY hour`, w.args, nil
}

func scanHourStats(sc scanner) (store.HourStats, error) {
	var (
		hs   store.HourStats
		hour int64
	)
	if err := sc.Scan(append([]any{&hour}, hourstats.Dest(&hs)...)...); err != nil {
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
