package storetest

import (
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// statsCases test [store.AttemptStats]; each skips when the store does
// not have it.
var statsCases = []testCase[*outboxFixture]{
	{"Aggregates", testStatsAggregates},
	{"Filters", testStatsFilters},
	{"Settle", testStatsSettle},
	{"SettleConflictCountsNothing", testStatsSettleConflict},
	{"Prune", testStatsPrune},
	{"InvalidWindow", testStatsInvalidWindow},
}

// stats returns the store's [store.AttemptStats], skipping the case when
// it has none.
func (f *outboxFixture) stats() store.AttemptStats {
	f.Helper()
	st, ok := f.s.(store.AttemptStats)
	if !ok {
		f.Skip("the store does not implement store.AttemptStats")
	}
	return st
}

// hours runs AttemptStats and requires it to succeed, with hours in order.
func (f *outboxFixture) hours(filter store.StatsFilter) []store.HourStats {
	f.Helper()
	hs, err := f.stats().AttemptStats(f.ctx, filter)
	require.NoError(f, err)
	for i := 1; i < len(hs); i++ {
		require.True(f, hs[i-1].Hour.Before(hs[i].Hour), "hours in order, each once")
	}
	for _, h := range hs {
		require.Equal(f, time.UTC, h.Hour.Location(), "hours in UTC")
		require.Equal(f, store.Hour(h.Hour), h.Hour, "whole hours")
		require.NotZero(f, h.Total(), "hours without attempts are left out")
	}
	return hs
}

// statAttempt returns an attempt of endpoint ep at t with a status and a
// duration.
func statAttempt(ep *store.Endpoint, t time.Time, status int, d time.Duration) *store.Attempt {
	return &store.Attempt{
		DeliveryID: "d-" + t.Format("150405.000"), EndpointID: ep.ID, Tenant: ep.Tenant, EventID: "e-1",
		EventType: "ping", Mode: ep.Mode, Number: 1, At: t, Duration: d, URL: ep.URL,
		StatusCode: status, Success: status >= 200 && status < 300,
	}
}

// add stores attempts with AddAttempt.
func (f *outboxFixture) add(as ...*store.Attempt) {
	f.Helper()
	for _, a := range as {
		require.NoError(f, f.s.AddAttempt(f.ctx, a))
	}
}

// statsHour is the hour of base, the suite's clock; the window of the
// cases is the day around it.
var statsHour = store.Hour(base)

func window() store.StatsFilter {
	return store.StatsFilter{AllTenants: true, Since: statsHour.Add(-12 * time.Hour), Until: statsHour.Add(12 * time.Hour)}
}

func testStatsAggregates(f *outboxFixture) {
	f.stats()
	ep := f.endpoint()
	h0, h1 := statsHour, statsHour.Add(time.Hour)
	f.add(
		statAttempt(ep, h0.Add(time.Minute), 200, 3*time.Millisecond),   // latency bucket 0
		statAttempt(ep, h0.Add(2*time.Minute), 204, 7*time.Millisecond), // 1
		statAttempt(ep, h0.Add(59*time.Minute), 404, 40*time.Millisecond),
		statAttempt(ep, h0.Add(59*time.Minute+59*time.Second), 503, 2*time.Second),
		statAttempt(ep, h1, 0, 10*time.Second),                   // network error, bucket 10
		statAttempt(ep, h1.Add(time.Second), 302, 2*time.Minute), // other, last bucket
	)
	hs := f.hours(window())
	require.Len(f, hs, 2)
	sameTime(f, h0, hs[0].Hour, "first hour")
	sameTime(f, h1, hs[1].Hour, "second hour")
	require.Equal(f, [store.NumClasses]int64{2, 1, 1, 0, 0}, hs[0].Counts, "2xx, 4xx, 5xx, network, other")
	require.Equal(f, [store.NumClasses]int64{0, 0, 0, 1, 1}, hs[1].Counts)
	var lat0, lat1 [store.NumLatencyBuckets]int64
	lat0[0], lat0[1], lat0[3], lat0[8] = 1, 1, 1, 1
	lat1[10], lat1[store.NumLatencyBuckets-1] = 1, 1
	require.Equal(f, lat0, hs[0].Latency, "latency histogram of the first hour")
	require.Equal(f, lat1, hs[1].Latency, "latency histogram of the second hour")
	require.InDelta(f, 0.5, hs[0].SuccessRate(), 1e-9)

	// The window bounds the hours: Since is truncated to its hour, Until
	// is exclusive.
	w := window()
	w.Since, w.Until = h0.Add(30*time.Minute), h1
	hs = f.hours(w)
	require.Len(f, hs, 1)
	sameTime(f, h0, hs[0].Hour, "only the first hour")
	w.Since, w.Until = h1.Add(time.Minute), h1.Add(time.Hour)
	hs = f.hours(w)
	require.Len(f, hs, 1)
	sameTime(f, h1, hs[0].Hour, "only the second hour")
}

func testStatsFilters(f *outboxFixture) {
	f.stats()
	a1 := f.endpoint()
	a2 := f.endpoint()
	b1 := f.endpoint(withTenant("globex"))
	live := f.endpoint(withMode(event.ModeLive))
	t := statsHour.Add(10 * time.Minute)
	f.add(
		statAttempt(a1, t, 200, time.Millisecond),
		statAttempt(a1, t.Add(time.Second), 500, time.Millisecond),
		statAttempt(a2, t, 200, time.Millisecond),
		statAttempt(b1, t, 404, time.Millisecond),
		statAttempt(live, t, 200, time.Millisecond),
	)
	for _, tc := range []struct {
		name  string
		edit  func(*store.StatsFilter)
		total int64
		n2xx  int64
	}{
		{"all", func(*store.StatsFilter) {}, 5, 3},
		{"endpoint", func(s *store.StatsFilter) { s.EndpointID = a1.ID }, 2, 1},
		{"tenant", func(s *store.StatsFilter) { s.AllTenants, s.Tenant = false, "acme" }, 4, 3},
		{"tenant and mode", func(s *store.StatsFilter) { s.AllTenants, s.Tenant, s.Mode = false, "acme", event.ModeTest }, 3, 2},
		{"other tenant", func(s *store.StatsFilter) { s.AllTenants, s.Tenant = false, "globex" }, 1, 0},
		{"endpoint of another tenant", func(s *store.StatsFilter) { s.AllTenants, s.Tenant, s.EndpointID = false, "globex", a1.ID }, 0, 0},
		{"live", func(s *store.StatsFilter) { s.Mode = event.ModeLive }, 1, 1},
		{"unknown endpoint", func(s *store.StatsFilter) { s.EndpointID = "nope" }, 0, 0},
	} {
		w := window()
		tc.edit(&w)
		hs := f.hours(w)
		if tc.total == 0 {
			require.Empty(f, hs, tc.name)
			continue
		}
		require.Len(f, hs, 1, tc.name)
		require.Equal(f, tc.total, hs[0].Total(), tc.name)
		require.Equal(f, tc.n2xx, hs[0].Counts[store.Class2xx], tc.name)
	}
}

func testStatsSettle(f *outboxFixture) {
	f.stats()
	ep, ds := f.leased(3)
	t := at(time.Minute)
	ok := attemptOf(ds[0], true, t)
	bad := attemptOf(ds[1], false, t)
	f.settle(store.SettleBatch{Settlements: []store.Settlement{
		{Ref: ds[0].Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: ok},
		{Ref: ds[1].Ref(), Outcome: store.OutcomeRetry, Next: at(time.Hour), Error: "503", Attempt: bad},
		succeeded(ds[2].Ref(), t), // no attempt: counts nothing
	}})
	w := window()
	w.EndpointID = ep.ID
	hs := f.hours(w)
	require.Len(f, hs, 1)
	sameTime(f, store.Hour(t), hs[0].Hour, "the attempts' hour")
	require.Equal(f, [store.NumClasses]int64{1, 0, 1, 0, 0}, hs[0].Counts)
	require.Equal(f, int64(2), hs[0].Latency[store.LatencyBucket(20*time.Millisecond)])

	// A second batch adds to the same hour.
	f.add(statAttempt(ep, t.Add(time.Second), 200, 20*time.Millisecond))
	hs = f.hours(w)
	require.Len(f, hs, 1)
	require.Equal(f, [store.NumClasses]int64{2, 0, 1, 0, 0}, hs[0].Counts)
}

func testStatsSettleConflict(f *outboxFixture) {
	f.stats()
	ep, ds := f.leased(2)
	t := at(time.Minute)
	existing := attemptOf(ds[0], true, t)
	f.add(existing)
	dup := attemptOf(ds[1], true, t)
	dup.ID = existing.ID
	_, err := f.s.Settle(f.ctx, store.SettleBatch{Settlements: []store.Settlement{
		{Ref: ds[0].Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: attemptOf(ds[0], true, t)},
		{Ref: ds[1].Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: dup},
	}})
	require.ErrorIs(f, err, store.ErrConflict)
	w := window()
	w.EndpointID = ep.ID
	hs := f.hours(w)
	require.Len(f, hs, 1)
	require.Equal(f, int64(1), hs[0].Total(), "a failed Settle adds nothing to the aggregates")
	require.ErrorIs(f, f.s.AddAttempt(f.ctx, existing.Clone()), store.ErrConflict)
	require.Equal(f, int64(1), f.hours(w)[0].Total(), "a failed AddAttempt adds nothing to the aggregates")
}

func testStatsPrune(f *outboxFixture) {
	f.stats()
	ep := f.endpoint()
	h0, h1, h2 := statsHour, statsHour.Add(time.Hour), statsHour.Add(2*time.Hour)
	f.add(
		statAttempt(ep, h0.Add(time.Minute), 200, time.Millisecond),
		statAttempt(ep, h1.Add(time.Minute), 200, time.Millisecond),
		statAttempt(ep, h1.Add(50*time.Minute), 200, time.Millisecond),
		statAttempt(ep, h2.Add(time.Minute), 200, time.Millisecond),
	)
	// Pruning in the middle of h1 drops h0 (which ended) and keeps h1
	// whole, though one of its attempts is gone from the log.
	n, err := f.s.PruneAttempts(f.ctx, h1.Add(30*time.Minute))
	require.NoError(f, err)
	require.Equal(f, 2, n)
	hs := f.hours(window())
	require.Len(f, hs, 2)
	sameTime(f, h1, hs[0].Hour, "the hour pruning fell in is kept")
	require.Equal(f, int64(2), hs[0].Total())
	sameTime(f, h2, hs[1].Hour, "later hours are kept")

	// Pruning at the end of h1 drops it.
	_, err = f.s.PruneAttempts(f.ctx, h2)
	require.NoError(f, err)
	hs = f.hours(window())
	require.Len(f, hs, 1)
	sameTime(f, h2, hs[0].Hour, "only the last hour is left")
}

func testStatsInvalidWindow(f *outboxFixture) {
	st := f.stats()
	for _, w := range []store.StatsFilter{
		{AllTenants: true},
		{AllTenants: true, Since: base},
		{AllTenants: true, Until: base},
		{AllTenants: true, Since: base, Until: base},
		{AllTenants: true, Since: base, Until: base.Add(-time.Hour)},
	} {
		_, err := st.AttemptStats(f.ctx, w)
		require.ErrorIs(f, err, store.ErrInvalid, "%+v", w)
	}
}
