package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// endpointStats are one endpoint's hourly aggregates, by the hour's Unix
// time.
type endpointStats struct {
	tenant string
	mode   event.Mode
	hours  map[int64]*store.HourStats
}

// recordStats counts a in its endpoint's hour. The caller holds s.mu.
func (s *Store) recordStats(a *store.Attempt) {
	es := s.stats[a.EndpointID]
	if es == nil {
		es = &endpointStats{tenant: a.Tenant, mode: a.Mode, hours: make(map[int64]*store.HourStats)}
		s.stats[a.EndpointID] = es
	}
	hour := store.Hour(a.At)
	hs := es.hours[hour.Unix()]
	if hs == nil {
		hs = &store.HourStats{Hour: hour}
		es.hours[hour.Unix()] = hs
	}
	hs.Record(a)
}

// pruneStats drops the hours that end at or before before. The caller
// holds s.mu.
func (s *Store) pruneStats(before time.Time) {
	keep := store.Hour(before).Unix() // the first hour kept
	for id, es := range s.stats {
		for h := range es.hours {
			if h < keep {
				delete(es.hours, h)
			}
		}
		if len(es.hours) == 0 {
			delete(s.stats, id)
		}
	}
}

// AttemptStats implements [store.AttemptStats]. The aggregates count every
// attempt added since the hour was last pruned, including attempts the
// caps ([Config].MaxAttempts, MaxAttemptBytes) have evicted from the log
// since: pruning, not eviction, removes them. A query looks at each
// endpoint with aggregates (one map entry each, to check its tenant and
// mode) and, for each it selects, at the hours of its window or the hours
// held (the fewer), so its cost does not grow with the number of attempts.
func (s *Store) AttemptStats(_ context.Context, f store.StatsFilter) ([]store.HourStats, error) {
	since, until, err := f.Check()
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	first, end := since.Unix(), until.Unix()
	// Sums by hour: in a slice over the window when it is up to a year
	// long (one allocation), else in a map.
	span := (end - first + 3599) / 3600
	var (
		dense  []store.HourStats
		sparse map[int64]*store.HourStats
	)
	if span <= 366*24 {
		dense = make([]store.HourStats, span)
	} else {
		sparse = make(map[int64]*store.HourStats)
	}
	add := func(h int64, hs *store.HourStats) {
		if h < first || h >= end {
			return
		}
		var sum *store.HourStats
		if dense != nil {
			sum = &dense[(h-first)/3600]
		} else if sum = sparse[h]; sum == nil {
			sum = new(store.HourStats)
			sparse[h] = sum
		}
		sum.Hour = hs.Hour
		sum.Add(hs)
	}
	visit := func(es *endpointStats) {
		if (!f.AllTenants && es.tenant != f.Tenant) || (f.Mode != "" && es.mode != f.Mode) {
			return
		}
		if span < int64(len(es.hours)) {
			for h := first; h < end; h += 3600 {
				if hs := es.hours[h]; hs != nil {
					add(h, hs)
				}
			}
			return
		}
		for h, hs := range es.hours {
			add(h, hs)
		}
	}

	s.mu.RLock()
	if f.EndpointID != "" {
		if es := s.stats[f.EndpointID]; es != nil {
			visit(es)
		}
	} else {
		for _, es := range s.stats {
			visit(es)
		}
	}
	s.mu.RUnlock()

	var out []store.HourStats
	for i := range dense {
		if dense[i].Total() > 0 {
			out = append(out, dense[i])
		}
	}
	for _, hs := range sparse {
		out = append(out, *hs)
	}
	slices.SortFunc(out, func(a, b store.HourStats) int { return a.Hour.Compare(b.Hour) })
	return out, nil
}
