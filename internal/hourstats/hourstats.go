// Package hourstats holds what the SQL stores share about their tables of
// hourly attempt aggregates ([store.AttemptStats]): the counter columns and
// how a row maps to a [store.HourStats].
package hourstats

import (
	"fmt"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// Columns are the counter columns of an aggregates table, in the order of
// [store.HourStats]: the counts per class (n_2xx, n_4xx, n_5xx, n_network,
// n_other), then the latency buckets (lat_00 .. lat_13).
var Columns = func() []string {
	cols := []string{"n_2xx", "n_4xx", "n_5xx", "n_network", "n_other"}
	for i := range store.NumLatencyBuckets {
		cols = append(cols, fmt.Sprintf("lat_%02d", i))
	}
	return cols
}()

// Dest returns pointers to the counters of h in the order of Columns, for
// Scan.
func Dest(h *store.HourStats) []any {
	dest := make([]any, 0, len(Columns))
	for i := range h.Counts {
		dest = append(dest, &h.Counts[i])
	}
	for i := range h.Latency {
		dest = append(dest, &h.Latency[i])
	}
	return dest
}

// Values returns the counters of h in the order of Columns.
func Values(h *store.HourStats) []int64 {
	return append(h.Counts[:len(h.Counts):len(h.Counts)], h.Latency[:]...)
}

// Cond is one condition of a query of the aggregates, with a "?" for its
// one argument.
type Cond struct {
	SQL string
	Arg any
}

// Select returns the select list of a query of the aggregates: the hour and
// the sum of each of Columns, each sum cast with cast ("" for none, or
// "::bigint").
func Select(cast string) string {
	var b strings.Builder
	b.WriteString("hour")
	for _, c := range Columns {
		b.WriteString(", sum(" + c + ")" + cast)
	}
	return b.String()
}

// Filter checks f ([store.StatsFilter.Check]) and returns the conditions
// that select its rows: by endpoint, tenant and mode when set, and by hour,
// with the window's bounds given as hour returns them (the store's
// encoding of a time).
func Filter(f store.StatsFilter, hour func(time.Time) any) ([]Cond, error) {
	since, until, err := f.Check()
	if err != nil {
		return nil, err
	}
	var cs []Cond
	if f.EndpointID != "" {
		cs = append(cs, Cond{"endpoint_id = ?", f.EndpointID})
	}
	if !f.AllTenants {
		cs = append(cs, Cond{"tenant = ?", f.Tenant})
	}
	if f.Mode != "" {
		cs = append(cs, Cond{"mode = ?", string(f.Mode)})
	}
	return append(cs, Cond{"hour >= ?", hour(since)}, Cond{"hour < ?", hour(until)}), nil
}

// OnConflict returns the clause of an INSERT into the aggregates table
// (named table, unqualified) that adds a row to the row of the same
// endpoint and hour when there is one.
func OnConflict(table string) string {
	sets := make([]string, len(Columns))
	for i, c := range Columns {
		sets[i] = c + " = " + table + "." + c + " + excluded." + c
	}
	return " ON CONFLICT (endpoint_id, hour) DO UPDATE SET " + strings.Join(sets, ", ")
}
