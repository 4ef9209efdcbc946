package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/event"
)

// Class is the outcome class of an attempt, as the delivery charts split
// attempts: by the class of the response's status code, or a network error
// when no response arrived.
type Class int

// The outcome classes, in the order of [HourStats].Counts.
const (
	// Class2xx is a 2xx response.
	Class2xx Class = iota
	// Class4xx is a 4xx response.
	Class4xx
	// Class5xx is a 5xx response.
	Class5xx
	// ClassNetwork is an attempt without a response (status 0): a
	// connection, TLS or timeout error, or a URL the sender refused.
	ClassNetwork
	// ClassOther is any other status: 1xx and 3xx (redirects are not
	// followed, so they fail the attempt).
	ClassOther
	// NumClasses is the number of classes.
	NumClasses
)

// String returns "2xx", "4xx", "5xx", "network" or "other".
func (c Class) String() string {
	switch c {
	case Class2xx:
		return "2xx"
	case Class4xx:
		return "4xx"
	case Class5xx:
		return "5xx"
	case ClassNetwork:
		return "network"
	}
	return "other"
}

// ClassOf returns the outcome class of an attempt with the given status
// code (0: no response).
func ClassOf(status int) Class {
	switch {
	case status == 0:
		return ClassNetwork
	case status >= 200 && status < 300:
		return Class2xx
	case status >= 400 && status < 500:
		return Class4xx
	case status >= 500 && status < 600:
		return Class5xx
	}
	return ClassOther
}

// LatencyBounds are the upper bounds of the buckets of [HourStats].Latency,
// a fixed histogram of attempt durations in a 1-2.5-5 series from 5 ms to
// 10 s, then 30 s and one minute; the last bucket, past the last bound, holds the slower
// attempts. An attempt falls in the first bucket whose bound is not below
// its duration.
var LatencyBounds = [NumLatencyBuckets - 1]time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
}

// NumLatencyBuckets is the number of buckets of [HourStats].Latency.
const NumLatencyBuckets = 14

// LatencyBucket returns the index in [HourStats].Latency of an attempt
// that took d.
func LatencyBucket(d time.Duration) int {
	for i, b := range LatencyBounds {
		if d <= b {
			return i
		}
	}
	return NumLatencyBuckets - 1
}

// Hour returns t truncated to its UTC hour: the hour of [HourStats] an
// attempt that started at t counts in.
func Hour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// HourStats is the aggregate of the attempts that started in one hour, for
// one endpoint or summed over several (see [AttemptStats]).
type HourStats struct {
	// Hour is the start of the hour, UTC.
	Hour time.Time
	// Counts are the attempts of each [Class], indexed by it.
	Counts [NumClasses]int64
	// Latency is the histogram of the attempts' durations: Latency[i]
	// attempts fell in bucket i of [LatencyBounds].
	Latency [NumLatencyBuckets]int64
}

// Total returns the number of attempts.
func (h *HourStats) Total() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Add adds the counts and histogram of o to h (keeping h's Hour).
func (h *HourStats) Add(o *HourStats) {
	for i := range h.Counts {
		h.Counts[i] += o.Counts[i]
	}
	for i := range h.Latency {
		h.Latency[i] += o.Latency[i]
	}
}

// Record counts one attempt in h.
func (h *HourStats) Record(a *Attempt) {
	h.Counts[ClassOf(a.StatusCode)]++
	h.Latency[LatencyBucket(a.Duration)]++
}

// SuccessRate returns the share of attempts with a 2xx response, from 0 to
// 1; 0 without attempts.
func (h *HourStats) SuccessRate() float64 {
	n := h.Total()
	if n == 0 {
		return 0
	}
	return float64(h.Counts[Class2xx]) / float64(n)
}

// Quantile estimates the q-quantile (0 < q <= 1; 0.5 for the median) of
// the attempts' durations from the histogram, 0 without attempts.
//
// Precision: the estimate interpolates linearly inside the bucket that
// holds the quantile, so it lies within that bucket's bounds; the true value
// does too. The bounds of a bucket are at most 2.5 times apart up to 10 s
// and 3 times from 10 to 30 s (the first bucket, 0 to 5 ms, is off by at
// most 5 ms), so an estimate is within a factor of 2.5 of the true
// quantile (3 between 10 and 30 s), and usually much closer. In the last
// bucket, past one minute, the estimate is one minute: a lower bound.
func (h *HourStats) Quantile(q float64) time.Duration {
	n := int64(0)
	for _, c := range h.Latency {
		n += c
	}
	if n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := q * float64(n) // the rank sought, in (0, n]
	seen := int64(0)
	for i, c := range h.Latency {
		if c == 0 || float64(seen+c) < rank {
			seen += c
			continue
		}
		if i == NumLatencyBuckets-1 {
			return LatencyBounds[len(LatencyBounds)-1]
		}
		lo := time.Duration(0)
		if i > 0 {
			lo = LatencyBounds[i-1]
		}
		hi := LatencyBounds[i]
		frac := (rank - float64(seen)) / float64(c)
		return lo + time.Duration(frac*float64(hi-lo))
	}
	return LatencyBounds[len(LatencyBounds)-1]
}

// StatsFilter selects the attempts [AttemptStats] aggregates. Zero fields
// do not filter.
type StatsFilter struct {
	// Tenant and AllTenants work as in [EndpointFilter].
	Tenant     string
	AllTenants bool
	// EndpointID selects one endpoint's attempts.
	EndpointID string
	// Mode selects the attempts of one mode's endpoints.
	Mode event.Mode
	// Since and Until bound the hours: Since <= Hour < Until, where Since
	// is first truncated to its hour. Both are required: the window bounds
	// the work.
	Since, Until time.Time
}

// AttemptStats is an optional capability of a store with an attempt log:
// hourly aggregates of the attempts, kept up to date as attempts are
// recorded (by [Attempts.AddAttempt] and [Outbox.Settle], in the same
// transaction in the SQL stores) and pruned with them. Find it by type
// assertion. Implementations must be safe for concurrent use.
//
// The aggregates are kept per endpoint and hour, so a query reads at most
// one row per endpoint and hour of its window, whatever the number of
// attempts: its cost is bounded by the window and the endpoints, not by the
// traffic. [Attempts.PruneAttempts] drops the hours that end at or before
// its time (the hour it falls in is kept whole).
type AttemptStats interface {
	// AttemptStats returns, oldest first, one HourStats for each hour of
	// the filter's window with attempts, summed over the endpoints the
	// filter selects. Hours without attempts are left out. A filter
	// without Since or Until, or with Until not after Since, is
	// [ErrInvalid].
	AttemptStats(ctx context.Context, f StatsFilter) ([]HourStats, error)
}

// Check returns an error wrapping [ErrInvalid] for a filter without a
// window, and otherwise the window's first hour and its end.
func (f StatsFilter) Check() (since, until time.Time, err error) {
	if f.Since.IsZero() || f.Until.IsZero() || !f.Until.After(f.Since) {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: attempt stats: want a window with Since before Until", ErrInvalid)
	}
	return Hour(f.Since), f.Until.UTC(), nil
}

// EndpointHour is one endpoint's [HourStats]: the row a store keeps per
// endpoint and hour.
type EndpointHour struct {
	// EndpointID, Tenant and Mode are those of the attempts.
	EndpointID string
	Tenant     string
	Mode       event.Mode
	// HourStats are their aggregates in the hour.
	HourStats
}

// AggregateAttempts sums attempts into one EndpointHour per endpoint and
// hour, sorted by endpoint id then hour: what a store adds to its
// aggregates when it records them (in that order, so that concurrent
// writers lock rows in the same order). Nil attempts are skipped.
func AggregateAttempts(as []*Attempt) []EndpointHour {
	type k struct {
		ep   string
		hour int64
	}
	idx := make(map[k]int, len(as))
	var out []EndpointHour
	for _, a := range as {
		if a == nil {
			continue
		}
		hour := Hour(a.At)
		key := k{a.EndpointID, hour.Unix()}
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, EndpointHour{EndpointID: a.EndpointID, Tenant: a.Tenant, Mode: a.Mode, HourStats: HourStats{Hour: hour}})
		}
		out[i].Record(a)
	}
	slices.SortFunc(out, func(x, y EndpointHour) int {
		if c := strings.Compare(x.EndpointID, y.EndpointID); c != 0 {
			return c
		}
		return x.Hour.Compare(y.Hour)
	})
	return out
}
