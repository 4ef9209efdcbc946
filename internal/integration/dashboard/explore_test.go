package dashboard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/dashboardtest"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// screenshotDir is where a test saves its screenshots: a temporary folder,
// or WEBHOOKKIT_SCREENSHOT_DIR to keep them (CI artifacts).
func screenshotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("WEBHOOKKIT_SCREENSHOT_DIR"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

// seedAttempts logs the chart window's 15 days of attempts for ep, a few
// an hour, with a burst of 5xx and network errors three hours ago. It
// returns how many fall in the window the dashboard draws now and the
// 6-hour buckets (the default window's bars) they fall in.
func seedAttempts(t *testing.T, st store.Attempts, ep *store.Endpoint) (int, map[time.Time]bool) {
	t.Helper()
	now := time.Now()
	since := store.Hour(now).Add(time.Hour - dashboard.DefaultChartWindow)
	n, buckets := 0, map[time.Time]bool{}
	for h := range int(dashboard.DefaultChartWindow / time.Hour) {
		statuses := []int{200, 200, 200, 204}
		if h%24 >= 8 && h%24 < 18 {
			statuses = append(statuses, 200, 201, 200) // busier hours
		}
		if h%7 == 0 {
			statuses = append(statuses, 404)
		}
		if h == 3 {
			statuses = append(statuses, 500, 503, 0, 0)
		}
		for i, s := range statuses {
			at := now.Add(-time.Duration(h)*time.Hour - time.Duration(i)*time.Minute)
			err := st.AddAttempt(context.Background(), &store.Attempt{
				DeliveryID: uuid.NewString(), EndpointID: ep.ID, Tenant: ep.Tenant, EventID: uuid.NewString(),
				EventType: "webhook.test", Mode: event.ModeTest, Number: 1,
				At:       at,
				Duration: time.Duration(20+10*i+h%48) * time.Millisecond, URL: ep.URL, StatusCode: s,
				Success: s >= 200 && s < 300,
			})
			require.NoError(t, err)
			if !at.Before(since) {
				n++
				buckets[store.Hour(at).Truncate(6*time.Hour)] = true
			}
		}
	}
	return n, buckets
}

func TestBrowserChartsSearchCatalog(t *testing.T) {
	e := dashboardtest.NewEnv(t, dashboardtest.Options{Start: true, Theme: dashboard.Theme{
		Name: "Acme Webhooks", Accent: "#7a2ff0",
	}})
	ctx := browser(t, "acme")
	dir := screenshotDir(t)
	ep := &store.Endpoint{Tenant: "acme", URL: e.Receiver.Server.URL + "/hook", Description: "charts", EventTypes: []string{"*"}}
	_, err := e.Sender.Endpoints().Create(context.Background(), ep)
	require.NoError(t, err)
	seeded, buckets := seedAttempts(t, e.Store, ep)

	// One event, delivered by the running sender: it is what we search.
	evID := uuid.NewString()
	_, err = e.Sender.Publish(context.Background(), event.Event{ID: evID, Type: "webhook.test",
		Data: json.RawMessage(`{"hello":"search"}`)}, sender.ToTenant("acme"), nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.Receiver.Count() == 1 }, 10*time.Second, 20*time.Millisecond)

	// The endpoints page: the tenant's charts, drawn as SVG, styled by the
	// stylesheet under the strict CSP, with the theme's accent.
	load(t, ctx, http.StatusOK, chromedp.Navigate(e.Server.URL+e.Base))
	waitText(t, ctx, ".charts", "Attempts of all endpoints")
	total := text(t, ctx, ".stat-total")
	require.Contains(t, []string{itoa(seeded), itoa(seeded + 1)}, total, "the seeded attempts and the delivery (once its aggregate is written)")
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart-attempts g.bar").length`))
	require.NoError(t, err)
	require.Equal(t, len(buckets), bars, "15 days in 6-hour bars, not 360 hourly slivers")
	// A full bar is wide enough to see and to point at.
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll("svg.chart-attempts g.bar rect")).map(r => r.getBoundingClientRect().width)`))
	require.NoError(t, err)
	require.GreaterOrEqual(t, slices.Max(widths), 4.0, "bars are at least 4 px wide")
	unit, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("svg.chart-attempts text.unit").textContent`))
	require.NoError(t, err)
	require.Equal(t, "attempts per 6 hours", unit, "the axis says what a bar sums")
	require.Contains(t, text(t, ctx, "figure.chart figcaption"), "Attempts per 6 hours")
	tips, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("svg.chart-attempts g.bar > title")).map(t => t.textContent)`))
	require.NoError(t, err)
	require.Contains(t, strings.Join(tips, "\n"), "(6 hours): ", "a bar's tooltip says its hours")
	box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector("svg.chart-attempts").getBoundingClientRect(); return [r.width, r.height]; })()`))
	require.NoError(t, err)
	require.Greater(t, box[0], 400.0, "the chart is laid out across the page")
	require.Greater(t, box[1], 80.0)
	fill, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("svg.chart-attempts rect.c-5xx")).fill`))
	require.NoError(t, err)
	require.Equal(t, "rgb(196, 50, 10)", fill, "5xx bars are red (the stylesheet applies to the SVG)")
	accent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".nav a")).color !== "" && getComputedStyle(document.querySelector("a.brand")).color`))
	require.NoError(t, err)
	require.NotEmpty(t, accent)
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("table.endpoints a")).color`))
	require.NoError(t, err)
	require.Equal(t, "rgb(122, 47, 240)", link, "links take the theme's accent from theme.css")
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`))
	require.NoError(t, err)
	require.Equal(t, "Webhook endpoints · Acme Webhooks", title)
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById(document.querySelector("svg.chart-attempts").getAttribute("aria-labelledby").split(" ")[1]).textContent`))
	require.NoError(t, err)
	require.Contains(t, label, "success rate", "the chart's accessible description")
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart-latency polyline").length`))
	require.NoError(t, err)
	require.Equal(t, 2, lines, "p50 and p95 lines")
	shot(t, ctx, dir, "charts-1-endpoints")

	// The endpoint's page: its own charts above the delivery log.
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`table.endpoints a.mono`)))
	waitText(t, ctx, ".charts", "Attempts of this endpoint")
	require.Contains(t, text(t, ctx, ".stat-p95"), "ms")
	shot(t, ctx, dir, "charts-2-endpoint")

	// Find the event by id from the header's link.
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`.nav a[href$="/events"]`)))
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`form.search input[name=id]`), evID)))
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)))
	results := text(t, ctx, "table.results")
	require.Contains(t, results, "succeeded")
	require.Contains(t, results, "200 OK")
	require.Contains(t, text(t, ctx, "section.event"), evID)
	shot(t, ctx, dir, "charts-3-search")
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`table.results a[href*="/deliveries/"]`)))
	require.Contains(t, text(t, ctx, "main"), evID, "the delivery page of the event")

	// The catalog, from the header's link.
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`.nav a[href$="/catalog"]`)))
	cat := text(t, ctx, "main")
	require.Contains(t, cat, "Event catalog")
	types := e.Sender.Catalog().Types()
	require.NotEmpty(t, types)
	for _, ty := range types {
		require.Contains(t, cat, ty.Type)
	}
	samples, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("pre.sample").length`))
	require.NoError(t, err)
	require.Positive(t, samples)
	shot(t, ctx, dir, "charts-4-catalog")
	require.False(t, strings.Contains(cat, "has not published"), "the sender has a catalog")
}

func itoa(n int) string { return strconv.Itoa(n) }
