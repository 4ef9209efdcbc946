package dashboard

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// Chart geometry, in SVG user units: the drawing is scaled to the page's
// width by the stylesheet, keeping its aspect ratio.
const (
	chartW      = 720.0
	chartH      = 170.0
	chartLeft   = 44.0 // room for the y axis labels
	chartRight  = 8.0
	chartTop    = 18.0 // room for the unit above the y axis
	chartBottom = 22.0 // room for the x axis labels
)

// chartClasses are the outcome classes the charts show, bottom up, with
// their legend labels (store.ClassOther joins the chart only when present).
var chartClasses = []struct {
	c     store.Class
	label string
}{
	{store.Class2xx, "2xx"},
	{store.Class4xx, "4xx"},
	{store.Class5xx, "5xx"},
	{store.ClassNetwork, "network error"},
	{store.ClassOther, "other status"},
}

// chartView is the delivery charts of one endpoint or of every endpoint in
// scope: attempts per bucket by outcome, and latency per bucket, drawn as
// SVG on the server from the store's hourly aggregates, summed into
// buckets of an hour or more (see bucketFor).
type chartView struct {
	// ID prefixes the ids of the SVG titles, for aria-labelledby.
	ID string
	// Of says whose attempts these are: "this endpoint", "all endpoints".
	Of     string
	Window string // "15 days"
	Bucket string // what one bar sums: "hour", "6 hours", "day"
	From   time.Time
	To     time.Time

	Total       int64
	Counts      []classCount
	SuccessRate string // "97.5%", or "—" without attempts
	P50, P95    string // "120 ms", or "—"

	W, H                   float64
	PlotX, PlotY           float64
	PlotW, PlotH, PlotBase float64
	MidX, MidY             float64 // the plot's centre

	Bars    []chartBar
	YTicks  []chartTick
	XTicks  []chartTick
	Latency latencyView
}

type classCount struct {
	Class, Label string
	N            int64
}

// chartBar is the stacked bar of one bucket.
type chartBar struct {
	Title    string // for the hour's tooltip and screen readers
	X, W     float64
	Segments []chartSegment
}

type chartSegment struct {
	Class string
	Y, H  float64
}

type chartTick struct {
	Pos   float64 // x or y
	Label string
}

// latencyView is the latency chart: p50 and p95 per bucket.
type latencyView struct {
	P50Points, P95Points string // SVG polyline points
	Dots                 []chartDot
	YTicks               []chartTick
}

type chartDot struct {
	X, Y  float64
	Class string
	Title string
}

// statsReader returns the store's AttemptStats, or nil when it has none.
func (h *handler) statsReader() store.AttemptStats {
	st, _ := h.st.(store.AttemptStats)
	return st
}

// chart reads the hourly aggregates f selects over the chart window ending
// now and draws them. It returns nil, nil when the store keeps no
// aggregates.
func (h *handler) chart(ctx context.Context, id, of string, f store.StatsFilter) (*chartView, error) {
	st := h.statsReader()
	if st == nil {
		return nil, nil
	}
	end := store.Hour(h.now()).Add(time.Hour) // the current hour included
	start := end.Add(-h.chartWindow)
	f.Mode, f.Since, f.Until = h.mode, start, end
	hours, err := st.AttemptStats(ctx, f)
	if err != nil {
		return nil, err
	}
	return drawChart(id, of, start, end, hours), nil
}

// chartOrLog is chart for a page: a failure is logged and reported as
// failed (true), so the rest of the page still shows.
func (h *handler) chartOrLog(r *http.Request, id, of string, f store.StatsFilter) (*chartView, bool) {
	v, err := h.chart(r.Context(), id, of, f)
	if err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "dashboard: reading the delivery charts",
			slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		return nil, true
	}
	return v, false
}

// bucketSizes are the spans one bar of the charts may sum, finest first:
// divisors of a day, aligned to midnight UTC, then whole days.
var bucketSizes = []time.Duration{
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 96 * time.Hour, 7 * 24 * time.Hour,
}

// maxBars is the most bars a chart draws: at the chart's width, each bar
// gets at least about 7 user units (4 at the narrowest page), so that a
// bar stays wide enough to see and to point at.
const maxBars = 90

// bucketFor returns the finest of bucketSizes that draws the window
// [start, end) in at most maxBars bars (the coarsest when none does).
func bucketFor(start, end time.Time) time.Duration {
	for _, b := range bucketSizes {
		if bars(start, end, b) <= maxBars {
			return b
		}
	}
	return bucketSizes[len(bucketSizes)-1]
}

// bars counts the buckets of size b that [start, end) touches.
func bars(start, end time.Time, b time.Duration) int {
	return int(end.Add(-1).Truncate(b).Sub(start.Truncate(b))/b) + 1
}

// bucketStats sums hours (oldest first) into buckets of size b, aligned
// to multiples of b from midnight UTC ([time.Time.Truncate]); each sum's
// Hour is its bucket's start. Buckets without attempts are left out.
func bucketStats(hours []store.HourStats, b time.Duration) []store.HourStats {
	var out []store.HourStats
	for i := range hours {
		start := hours[i].Hour.Truncate(b)
		if n := len(out); n == 0 || !out[n-1].Hour.Equal(start) {
			out = append(out, store.HourStats{Hour: start})
		}
		out[len(out)-1].Add(&hours[i])
	}
	return out
}

// bucketText names a bucket size: "hour", "6 hours", "day", "2 days".
func bucketText(b time.Duration) string {
	switch {
	case b == time.Hour:
		return "hour"
	case b == 24*time.Hour:
		return "day"
	case b == 7*24*time.Hour:
		return "week"
	case b%(24*time.Hour) == 0:
		return strconv.Itoa(int(b/(24*time.Hour))) + " days"
	}
	return strconv.Itoa(int(b/time.Hour)) + " hours"
}

// drawChart lays out the charts of hours, the hourly aggregates of
// [start, end), summed into bars of a bucket size that keeps the bars
// readable (see bucketFor). The first and last bars may cover less than a
// bucket, where the window cuts it: they are drawn narrower, and their
// titles say which hours they hold.
func drawChart(id, of string, start, end time.Time, hours []store.HourStats) *chartView {
	bucket := bucketFor(start, end)
	v := &chartView{
		ID: id, Of: of, Window: windowText(end.Sub(start)), From: start, To: end,
		Bucket: bucketText(bucket),
		W:      chartW, H: chartH, PlotX: chartLeft, PlotY: chartTop,
		PlotW: chartW - chartLeft - chartRight, PlotH: chartH - chartTop - chartBottom,
	}
	v.PlotBase = v.PlotY + v.PlotH
	v.MidX, v.MidY = v.PlotX+v.PlotW/2, v.PlotY+v.PlotH/2
	buckets := bucketStats(hours, bucket)
	var sum store.HourStats
	var peak int64
	for i := range buckets {
		sum.Add(&buckets[i])
		peak = max(peak, buckets[i].Total())
	}
	v.Total = sum.Total()
	for _, c := range chartClasses {
		if c.c == store.ClassOther && sum.Counts[c.c] == 0 {
			continue
		}
		v.Counts = append(v.Counts, classCount{Class: "c-" + c.c.String(), Label: c.label, N: sum.Counts[c.c]})
	}
	v.SuccessRate, v.P50, v.P95 = "—", "—", "—"
	if v.Total > 0 {
		v.SuccessRate = strconv.FormatFloat(100*sum.SuccessRate(), 'f', 1, 64) + "%"
		v.P50, v.P95 = latencyText(sum.Quantile(0.5)), latencyText(sum.Quantile(0.95))
	}

	// x scales time: a bar spans its bucket's hours inside the window.
	perHour := v.PlotW / float64(end.Sub(start)/time.Hour)
	x := func(t time.Time) float64 { return v.PlotX + float64(t.Sub(start))/float64(time.Hour)*perHour }
	span := func(b time.Time) (from, to time.Time) {
		from, to = b, b.Add(bucket)
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		return from, to
	}
	// Days on the x axis, at midnight UTC, at most about eight labels.
	n := int(end.Sub(start) / time.Hour)
	every := max(1, n/24/8+1)
	for d, day := 0, start.Truncate(24*time.Hour); !day.After(end); d, day = d+1, day.Add(24*time.Hour) {
		if day.Before(start) || d%every != 0 {
			continue
		}
		v.XTicks = append(v.XTicks, chartTick{Pos: x(day), Label: day.Format("Jan 2")})
	}

	// Attempts per bucket, stacked by class, scaled to a round peak.
	top := niceCeil(float64(max(peak, 1)))
	scale := v.PlotH / top
	for _, t := range []float64{0, top / 2, top} {
		v.YTicks = append(v.YTicks, chartTick{Pos: v.PlotBase - t*scale, Label: countText(t)})
	}
	for i := range buckets {
		bs := &buckets[i]
		from, to := span(bs.Hour)
		w := x(to) - x(from)
		b := chartBar{X: x(from) + w*0.1, W: max(w*0.8, 0.5), Title: bucketTitle(bs, from, to)}
		y := v.PlotBase
		for _, c := range chartClasses {
			if k := bs.Counts[c.c]; k > 0 {
				h := float64(k) * scale
				y -= h
				b.Segments = append(b.Segments, chartSegment{Class: "c-" + c.c.String(), Y: round2(y), H: round2(h)})
			}
		}
		b.X, b.W = round2(b.X), round2(b.W)
		v.Bars = append(v.Bars, b)
	}

	// Latency per bucket: p50 and p95 of the bucket's merged histogram,
	// scaled to a round peak of the p95s.
	var slowest time.Duration
	for i := range buckets {
		slowest = max(slowest, buckets[i].Quantile(0.95))
	}
	ltop := niceCeil(float64(max(slowest, time.Millisecond)))
	lscale := v.PlotH / ltop
	for _, t := range []float64{0, ltop / 2, ltop} {
		v.Latency.YTicks = append(v.Latency.YTicks, chartTick{Pos: v.PlotBase - t*lscale, Label: latencyText(time.Duration(t))})
	}
	var p50, p95 []string
	for i := range buckets {
		bs := &buckets[i]
		from, to := span(bs.Hour)
		cx := round2((x(from) + x(to)) / 2)
		for _, q := range []struct {
			q     float64
			class string
			pts   *[]string
		}{{0.5, "p50", &p50}, {0.95, "p95", &p95}} {
			d := bs.Quantile(q.q)
			cy := round2(v.PlotBase - float64(d)*lscale)
			*q.pts = append(*q.pts, fmt.Sprintf("%g,%g", cx, cy))
			v.Latency.Dots = append(v.Latency.Dots, chartDot{X: cx, Y: cy, Class: q.class,
				Title: fmt.Sprintf("%s: %s %s", spanText(from, to), q.class, latencyText(d))})
		}
	}
	v.Latency.P50Points, v.Latency.P95Points = strings.Join(p50, " "), strings.Join(p95, " ")
	return v
}

// spanText describes the hours [from, to) of a bar: "Jan 2 15:00 UTC" for
// one hour, "Jan 2 18:00–24:00 UTC (6 hours)" within a day, and
// "Jan 2 00:00 – Jan 4 00:00 UTC (2 days)" across days.
func spanText(from, to time.Time) string {
	d := to.Sub(from)
	switch {
	case d <= time.Hour:
		return from.Format("Jan 2 15:04 MST")
	case from.Truncate(24 * time.Hour).Equal(to.Add(-1).Truncate(24 * time.Hour)):
		until := to.Format("15:04 MST")
		if to.Equal(to.Truncate(24 * time.Hour)) {
			until = "24:00 " + to.Format("MST")
		}
		return from.Format("Jan 2 15:04") + "–" + until + " (" + bucketText(d) + ")"
	}
	return from.Format("Jan 2 15:04") + " – " + to.Format("Jan 2 15:04 MST") + " (" + bucketText(d) + ")"
}

// bucketTitle describes one bar's attempts, for its tooltip.
func bucketTitle(hs *store.HourStats, from, to time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d attempts", spanText(from, to), hs.Total())
	for _, c := range chartClasses {
		if k := hs.Counts[c.c]; k > 0 {
			fmt.Fprintf(&b, ", %d %s", k, c.label)
		}
	}
	fmt.Fprintf(&b, "; p50 %s, p95 %s", latencyText(hs.Quantile(0.5)), latencyText(hs.Quantile(0.95)))
	return b.String()
}

// niceCeil returns the smallest of 1, 2 or 5 times a power of ten that is
// at least x (x > 0).
func niceCeil(x float64) float64 {
	p := 1.0
	for p*10 <= x {
		p *= 10
	}
	for p > x {
		p /= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// countText formats an axis count: 0, 5, 2.5k, 1.2M.
func countText(f float64) string {
	switch {
	case f >= 1e6:
		return strconv.FormatFloat(f/1e6, 'g', 3, 64) + "M"
	case f >= 1e3:
		return strconv.FormatFloat(f/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}

// latencyText formats a latency: "0 ms", "120 ms", "2.5 s".
func latencyText(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'g', 3, 64) + " s"
}

// windowText describes the chart window: "15 days", "36 hours".
func windowText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		if n := int(d / (24 * time.Hour)); n != 1 {
			return strconv.Itoa(n) + " days"
		}
		return "1 day"
	}
	return strconv.Itoa(int(d/time.Hour)) + " hours"
}
