package dashboard

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// TestChartBuckets: the window decides the bucket size, the finest that
// draws at most maxBars bars, so the default 15 days are 6-hour bars at
// least 8 user units wide instead of 360 hourly slivers; short windows
// stay hourly; the longest window still fits.
func TestChartBuckets(t *testing.T) {
	end := time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC) // a window ending at 17:00, cutting its last 6-hour bucket
	for _, tc := range []struct {
		window time.Duration
		want   time.Duration
		text   string
	}{
		{24 * time.Hour, time.Hour, "hour"},
		{72 * time.Hour, time.Hour, "hour"},
		{7 * 24 * time.Hour, 2 * time.Hour, "2 hours"},
		{DefaultChartWindow, 6 * time.Hour, "6 hours"},
		{30 * 24 * time.Hour, 12 * time.Hour, "12 hours"},
		{60 * 24 * time.Hour, 24 * time.Hour, "day"},
		{90 * 24 * time.Hour, 48 * time.Hour, "2 days"},
		{MaxChartWindow, 7 * 24 * time.Hour, "week"},
	} {
		start := end.Add(-tc.window)
		b := bucketFor(start, end)
		require.Equal(t, tc.want, b, "%v", tc.window)
		require.Equal(t, tc.text, bucketText(b))
		require.LessOrEqual(t, bars(start, end, b), maxBars, "%v", tc.window)
	}

	// Every hour of the default window has attempts: 61 bars (the window
	// starts and ends inside a 6-hour bucket), the full ones wide.
	start := end.Add(-DefaultChartWindow)
	var hours []store.HourStats
	for h := start; h.Before(end); h = h.Add(time.Hour) {
		hs := store.HourStats{Hour: h}
		hs.Counts[store.Class2xx], hs.Counts[store.Class5xx] = 3, 1
		hs.Latency[2], hs.Latency[5] = 3, 1
		hours = append(hours, hs)
	}
	v := drawChart("c", "this endpoint", start, end, hours)
	require.Equal(t, "6 hours", v.Bucket)
	require.Equal(t, int64(4*360), v.Total)
	require.Len(t, v.Bars, 61)
	require.Len(t, v.Latency.Dots, 2*61)
	first, full, last := v.Bars[0], v.Bars[1], v.Bars[60]
	require.GreaterOrEqual(t, full.W, 7.0, "a full bar is readable")
	require.Less(t, first.W, full.W, "the first bar holds only the window's part of its bucket")
	require.Less(t, last.W, full.W)
	// The window starts at 17:00 on Feb 23: the first bar holds 17:00 only,
	// a full one six hours, the last 12:00 to 17:00 on Mar 10.
	require.Equal(t, "Feb 23 17:00 UTC: 4 attempts, 3 2xx, 1 5xx; p50 20 ms, p95 220 ms", first.Title)
	require.Equal(t, "Feb 23 18:00–24:00 UTC (6 hours): 24 attempts, 18 2xx, 6 5xx; p50 20 ms, p95 220 ms", full.Title)
	require.Equal(t, "Mar 10 12:00–17:00 UTC (5 hours): 20 attempts, 15 2xx, 5 5xx; p50 20 ms, p95 220 ms", last.Title)
	var height float64
	for _, s := range full.Segments {
		height += s.H
	}
	require.InDelta(t, v.PlotH*24/50, height, 0.05, "bars scale to the busiest bucket (24, under a round 50)")
	require.Equal(t, "Mar 10 12:00–17:00 UTC (5 hours): p95 220 ms", v.Latency.Dots[121].Title)
}
