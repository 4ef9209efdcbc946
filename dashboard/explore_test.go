package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// addAttempts logs attempts of ep directly, hoursAgo hours before now,
// with the given statuses (0: a network error), each taking d.
func (e *env) addAttempts(ep *store.Endpoint, hoursAgo int, d time.Duration, statuses ...int) {
	e.t.Helper()
	at := time.Now().Add(-time.Duration(hoursAgo) * time.Hour)
	for _, st := range statuses {
		require.NoError(e.t, e.st.AddAttempt(context.Background(), &store.Attempt{
			DeliveryID: "d", EndpointID: ep.ID, Tenant: ep.Tenant, EventID: "ev", EventType: "webhook.test",
			Mode: event.ModeTest, Number: 1, At: at, Duration: d, URL: ep.URL, StatusCode: st,
			Success: st >= 200 && st < 300,
		}))
	}
}

// statText returns the text of the charts' statistic (total, rate, p50,
// p95) on a page.
func statText(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<dd class="stat-` + name + `">([^<]*)</dd>`).FindStringSubmatch(body)
	require.NotNil(t, m, "no %s statistic on the page", name)
	return m[1]
}

func TestCharts(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addEndpoint("acme", "a")
	b := e.addEndpoint("acme", "b")
	g := e.addEndpoint("globex", "g")
	e.addAttempts(a, 2, 40*time.Millisecond, 200, 200, 200, 404)
	e.addAttempts(a, 30, 3*time.Second, 503, 0)
	e.addAttempts(b, 1, 8*time.Millisecond, 200, 200)
	e.addAttempts(b, 24*20, time.Millisecond, 200) // outside the 15-day window
	e.addAttempts(g, 1, time.Millisecond, 500, 500, 500)

	acme := e.client("acme")
	r := acme.get("")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `<svg class="chart-attempts"`)
	require.Contains(t, r.body, `<svg class="chart-latency"`)
	require.Contains(t, r.body, "Attempts of all endpoints, last 15 days")
	require.Equal(t, "8", statText(t, r.body, "total"), "acme's attempts in the window")
	require.Equal(t, "62.5%", statText(t, r.body, "rate"), "5 of 8 are 2xx")
	require.Contains(t, r.body, "8 attempts, 5 2xx, 1 4xx, 1 5xx, 1 network error; success rate 62.5%.", "the chart's accessible description")
	// 15 days are drawn in 6-hour bars (60), not 360 hourly slivers: one
	// bar per 6 hours with attempts.
	now := time.Now()
	buckets := map[time.Time]bool{}
	for _, ago := range []int{1, 2, 30} {
		buckets[store.Hour(now.Add(-time.Duration(ago)*time.Hour)).Truncate(6*time.Hour)] = true
	}
	require.Equal(t, len(buckets), strings.Count(r.body, `<g class="bar">`), "one bar per 6 hours with attempts")
	require.Contains(t, r.body, "Attempts per 6 hours by outcome")
	require.Contains(t, r.body, ">attempts per 6 hours</text>", "the axis says what a bar sums")
	require.Contains(t, r.body, "<figcaption>Latency per 6 hours:")
	require.Equal(t, 1, strings.Count(r.body, `<rect class="c-5xx"`), "globex's 5xx are not acme's")
	require.Regexp(t, `<title>[A-Z][a-z]{2} \d+ \d\d:00[^<]*: \d+ attempts, [^<]*1 4xx[^<]*; p50 [^<]*</title>`, r.body, "each bar has a title")
	require.NotContains(t, r.body, "style=", "no inline styles: the CSP refuses them")
	require.Equal(t, 2*len(buckets), strings.Count(r.body, `<circle class="dot`), "p50 and p95 for each bar")

	r = acme.get("endpoints/" + b.ID)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "Attempts of this endpoint, last 15 days")
	require.Equal(t, "2", statText(t, r.body, "total"))
	require.Equal(t, "100.0%", statText(t, r.body, "rate"))
	p50 := statText(t, r.body, "p50")
	require.Regexp(t, `^\d+ ms$`, p50)

	r = acme.get("endpoints/" + a.ID)
	require.Equal(t, "6", statText(t, r.body, "total"))
	// The true p95 is 3 s; the estimate interpolates in its bucket (2.5 to
	// 5 s): rank 5.7 of 6, 1.7 of the bucket's 2 attempts in.
	require.Equal(t, "4.62 s", statText(t, r.body, "p95"), "p95 estimated in the 2.5-5 s bucket")

	r = e.client("operator").get("")
	require.Equal(t, "11", statText(t, r.body, "total"), "operators see every tenant")
	require.Contains(t, r.body, "Attempts of all endpoints of all tenants")

	r = e.client("initech").get("")
	require.Equal(t, "0", statText(t, r.body, "total"))
	require.Equal(t, "—", statText(t, r.body, "rate"))
	require.Contains(t, r.body, "No attempts in this window")
}

// noStats hides the store's AttemptStats.
type noStats struct{ store.SenderStore }

func TestChartsWithoutStats(t *testing.T) {
	e := newEnv(t, envOptions{Wrap: func(s store.SenderStore) store.SenderStore { return noStats{s} }})
	ep := e.addEndpoint("acme", "a")
	for _, p := range []string{"", "endpoints/" + ep.ID} {
		r := e.client("acme").get(p)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.NotContains(t, r.body, "<svg", "no charts without aggregates")
	}
}

func TestEventSearch(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addEndpoint("acme", "a")
	b := e.addEndpoint("acme", "b")
	g := e.addEndpoint("globex", "g")
	ctx := context.Background()
	ev := event.Event{ID: "11111111-2222-4333-8444-555555555555", Type: "webhook.test", Data: json.RawMessage(`{"hello":"search"}`)}
	n, err := e.snd.Publish(ctx, ev, sender.ToTenant("acme"), nil)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	_, err = e.snd.Publish(ctx, event.Event{ID: "99999999-2222-4333-8444-555555555555", Type: "webhook.test", Data: json.RawMessage(`{}`)}, sender.ToTenant("globex"), nil)
	require.NoError(t, err)
	_, err = e.snd.ProcessDue(ctx)
	require.NoError(t, err)

	acme := e.client("acme")
	r := acme.get("events")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `name="id"`)
	require.NotContains(t, r.body, "Deliveries", "no search yet")

	r = acme.get("events?id=" + url.QueryEscape(" 11111111-2222-4333-8444-555555555555 "))
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "<code>11111111-2222-4333-8444-555555555555</code>")
	require.Contains(t, r.body, "&#34;hello&#34;: &#34;search&#34;", "the payload, pretty-printed")
	require.Equal(t, 2, strings.Count(r.body, `class="state state-succeeded"`), "both deliveries")
	for _, ep := range []*store.Endpoint{a, b} {
		require.Contains(t, r.body, `href="/webhooks/endpoints/`+ep.ID+`/deliveries/`)
	}
	require.Contains(t, r.body, "200 OK", "each delivery's latest response")
	require.NotContains(t, r.body, g.ID)

	// Another tenant's event is not found, as an unknown id is not.
	for _, id := range []string{"99999999-2222-4333-8444-555555555555", "00000000-2222-4333-8444-555555555555"} {
		r = acme.get("events?id=" + id)
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, r.body, "No delivery of an event with this id")
		require.NotContains(t, r.body, g.ID)
	}
	r = e.client("operator").get("events?id=99999999-2222-4333-8444-555555555555")
	require.Contains(t, r.body, `href="/webhooks/endpoints/`+g.ID+`/deliveries/`)

	r = acme.get("events?id=" + strings.Repeat("x", 300))
	require.Equal(t, http.StatusBadRequest, r.status)

	// Paging: one delivery a page.
	r = acme.get("events?id=11111111-2222-4333-8444-555555555555&limit=1")
	require.Equal(t, 1, strings.Count(r.body, `class="state state-succeeded"`))
	require.Contains(t, r.body, `rel="next"`)
}

func TestDeliveryLogTimeRange(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "a")
	ctx := context.Background()
	t0 := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, id := range []string{"evt_early", "evt_mid", "evt_late"} {
		ev := event.Event{ID: id, Type: "webhook.test", APIMode: event.ModeTest, Date: t0, Data: json.RawMessage(`{}`)}
		_, err := e.st.Enqueue(ctx, store.EnqueueRequest{Event: ev, Targets: []store.Target{{EndpointID: ep.ID, Tenant: "acme"}},
			Now: t0.Add(time.Duration(i) * time.Hour)})
		require.NoError(t, err)
	}
	acme := e.client("acme")
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"evt_early", "evt_mid", "evt_late"}},
		{"from=2030-05-01T13:00", []string{"evt_mid", "evt_late"}},
		{"to=2030-05-01T13:00", []string{"evt_early"}},
		{"from=2030-05-01T12:30&to=2030-05-01T14:00", []string{"evt_mid"}},
		{"from=2030-05-01T13:00:00Z", []string{"evt_mid", "evt_late"}},
	} {
		r := acme.get("endpoints/" + ep.ID + "?" + tc.query)
		require.Equal(t, http.StatusOK, r.status, tc.query)
		for _, id := range []string{"evt_early", "evt_mid", "evt_late"} {
			if slicesContains(tc.want, id) {
				require.Contains(t, r.body, id, tc.query)
			} else {
				require.NotContains(t, r.body, id, tc.query)
			}
		}
	}
	r := acme.get("endpoints/" + ep.ID + "?from=yesterday")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "is not a time")
	require.Contains(t, r.body, "evt_early", "an invalid time does not filter")

	// The JSON API takes the same range.
	resp, m := acme.api(http.MethodGet, "endpoints/"+ep.ID+"/deliveries?from=2030-05-01T13:00:00Z", nil)
	require.Equal(t, http.StatusOK, resp.status)
	require.Len(t, m["data"], 2)
	resp, _ = acme.api(http.MethodGet, "endpoints/"+ep.ID+"/deliveries?to=soon", nil)
	require.Equal(t, http.StatusBadRequest, resp.status)
}

func slicesContains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestCatalogPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.client("acme").get("catalog")
	require.Equal(t, http.StatusOK, r.status)
	cat := e.snd.Catalog().Types()
	require.NotEmpty(t, cat)
	for _, ty := range cat {
		require.Contains(t, r.body, `id="type-`+ty.Type+`"`)
		if ty.Description != "" {
			require.Contains(t, r.body, template(ty.Description))
		}
	}
	require.Contains(t, r.body, `<pre class="body sample">`)
	require.Contains(t, r.body, "Sample payload")

	custom, err := event.NewCatalog(event.TypeInfo{Type: "order.paid", Description: "An order was <paid>",
		Sample: json.RawMessage(`{"order_id":"ord_1"}`), Schema: json.RawMessage(`{"type":"object","required":["order_id"]}`)})
	require.NoError(t, err)
	e = newEnv(t, envOptions{Catalog: custom})
	r = e.client("acme").get("catalog")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "An order was &lt;paid&gt;")
	require.Contains(t, r.body, `<pre class="body schema">{
  &#34;type&#34;: &#34;object&#34;,`)
	require.Contains(t, r.body, `&#34;order_id&#34;: &#34;ord_1&#34;`)

	e = newEnv(t, envOptions{NoCatalog: true})
	r = e.client("acme").get("catalog")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "has not published a catalog")
}

// template escapes s as html/template does in text.
func template(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestTheme(t *testing.T) {
	e := newEnv(t, envOptions{Theme: dashboard.Theme{
		Name: "Acme <Hooks>", LogoURL: "https://cdn.acme.example/logo.svg",
		Accent: "#ff6600", Background: "rgb(250, 250, 250)", Text: "navy", OK: "hsl(140, 60%, 35%)",
	}})
	c := e.client("acme")
	r := c.get("")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "<title>Webhook endpoints · Acme &lt;Hooks&gt;</title>")
	require.Contains(t, r.body, `<img class="logo" src="https://cdn.acme.example/logo.svg" alt="">Acme &lt;Hooks&gt;`)
	require.Contains(t, r.header.Get("Content-Security-Policy"), "img-src 'self' data: https://cdn.acme.example;")
	require.Contains(t, r.header.Get("Content-Security-Policy"), "style-src 'self';")
	require.Contains(t, r.body, `href="/webhooks/theme.css"`)

	css := c.get("theme.css")
	require.Equal(t, http.StatusOK, css.status)
	require.Equal(t, "text/css; charset=utf-8", css.header.Get("Content-Type"))
	require.Equal(t, ":root { --accent:#ff6600; --bg:rgb(250, 250, 250); --fg:navy; --ok:hsl(140, 60%, 35%); }\n", css.body)

	// The default theme: the default name, an empty theme.css, no other
	// image origin.
	e = newEnv(t, envOptions{})
	r = e.client("acme").get("")
	require.Contains(t, r.body, "· Webhooks</title>")
	require.NotContains(t, r.body, `class="logo"`)
	require.Equal(t, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		r.header.Get("Content-Security-Policy"))
	require.Equal(t, ":root { }\n", e.client("acme").get("theme.css").body)
}

func TestThemeRefusesInjection(t *testing.T) {
	snd, err := sender.New(memory.New(nil), &sender.Config{Logger: quiet})
	require.NoError(t, err)
	for _, tc := range []struct {
		field string
		theme dashboard.Theme
	}{
		{"Accent", dashboard.Theme{Accent: "red; } body { display:none"}},
		{"Accent", dashboard.Theme{Accent: "url(https://evil.example/x)"}},
		{"Background", dashboard.Theme{Background: "#12345"}},
		{"Text", dashboard.Theme{Text: "</style><script>alert(1)</script>"}},
		{"OK", dashboard.Theme{OK: "rgb(1,2,3);x:y"}},
		{"Bad", dashboard.Theme{Bad: "expression(alert(1))"}},
		{"Name", dashboard.Theme{Name: "Acme\n"}},
		{"Name", dashboard.Theme{Name: strings.Repeat("n", 101)}},
		{"LogoURL", dashboard.Theme{LogoURL: "javascript:alert(1)"}},
		{"LogoURL", dashboard.Theme{LogoURL: "http://cdn.example/logo.png"}},
		{"LogoURL", dashboard.Theme{LogoURL: "https://user:pw@cdn.example/logo.png"}},
		{"LogoURL", dashboard.Theme{LogoURL: "//evil.example/logo.png"}},
		{"LogoURL", dashboard.Theme{LogoURL: `https://cdn.example/" onerror="alert(1)`}},
		{"LogoURL", dashboard.Theme{LogoURL: "https://cdn.example/a b.png"}},
		{"LogoURL", dashboard.Theme{LogoURL: "logo.png"}},
		{"LogoURL", dashboard.Theme{LogoURL: "data:image/svg+xml,<svg/>"}},
	} {
		_, err := dashboard.New(&dashboard.Config{Authorize: authorize, Sender: snd, Theme: tc.theme})
		require.ErrorIs(t, err, dashboard.ErrInvalidConfig, "%+v", tc.theme)
		require.Contains(t, err.Error(), "Theme."+tc.field)
		require.Equal(t, err, tc.theme.Validate(), "Validate says what New says")
	}
	require.NoError(t, dashboard.Theme{}.Validate())
	for _, w := range []time.Duration{-time.Hour, dashboard.MaxChartWindow + time.Hour} {
		_, err := dashboard.New(&dashboard.Config{Authorize: authorize, Sender: snd, ChartWindow: w})
		require.True(t, errors.Is(err, dashboard.ErrInvalidConfig), "ChartWindow %v", w)
	}
	_, err = dashboard.New(&dashboard.Config{Authorize: authorize, Sender: snd, Theme: dashboard.Theme{
		LogoURL: "/assets/logo.svg", Accent: "#abc", Surface: "white", Muted: "hsla(0, 0%, 40%, 0.9)", Line: "#e4e7ecff",
	}})
	require.NoError(t, err)
}

// failingStats is a store whose AttemptStats fails.
type failingStats struct{ store.SenderStore }

func (failingStats) AttemptStats(context.Context, store.StatsFilter) ([]store.HourStats, error) {
	return nil, errors.New("no such table: webhookkit_attempt_hours")
}

func TestChartsFailureLeavesThePage(t *testing.T) {
	e := newEnv(t, envOptions{Wrap: func(s store.SenderStore) store.SenderStore { return failingStats{s} }})
	ep := e.addEndpoint("acme", "a")
	for _, p := range []string{"", "endpoints/" + ep.ID} {
		r := e.client("acme").get(p)
		require.Equal(t, http.StatusOK, r.status, "the page shows without its charts")
		require.Contains(t, r.body, "The delivery charts could not be read.")
		require.NotContains(t, r.body, "no such table", "the cause is logged, not shown")
		require.Contains(t, r.body, ep.ID)
	}
}

func TestStatsAndSearchAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addEndpoint("acme", "a")
	g := e.addEndpoint("globex", "g")
	e.addAttempts(a, 1, 40*time.Millisecond, 200, 200, 200, 503)
	e.addAttempts(g, 1, time.Millisecond, 500)
	acme := e.client("acme")

	r, m := acme.api(http.MethodGet, "stats", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.EqualValues(t, 4, m["total"])
	require.InDelta(t, 0.75, m["success_rate"], 1e-9)
	hours := m["hours"].([]any)
	require.Len(t, hours, 1)
	h0 := hours[0].(map[string]any)
	require.Equal(t, map[string]any{"2xx": 3.0, "4xx": 0.0, "5xx": 1.0, "network": 0.0, "other": 0.0}, h0["counts"])
	require.InDelta(t, 40, h0["p50_ms"], 15, "within the 25-50 ms bucket")

	r, m = acme.api(http.MethodGet, "endpoints/"+a.ID+"/stats", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.EqualValues(t, 4, m["total"])
	r, _ = acme.api(http.MethodGet, "endpoints/"+g.ID+"/stats", nil)
	require.Equal(t, http.StatusNotFound, r.status, "another tenant's endpoint")

	ev := event.Event{ID: "11111111-2222-4333-8444-666666666666", Type: "webhook.test", Data: json.RawMessage(`{}`)}
	_, err := e.snd.Publish(context.Background(), ev, sender.ToAllTenants(), nil)
	require.NoError(t, err)
	r, m = acme.api(http.MethodGet, "events/"+ev.ID+"/deliveries", nil)
	require.Equal(t, http.StatusOK, r.status)
	data := m["data"].([]any)
	require.Len(t, data, 1, "acme's delivery only")
	require.Equal(t, a.ID, data[0].(map[string]any)["endpoint_id"])
	_, m = e.client("operator").api(http.MethodGet, "events/"+ev.ID+"/deliveries", nil)
	require.Len(t, m["data"], 2)

	ns := newEnv(t, envOptions{Wrap: func(s store.SenderStore) store.SenderStore { return noStats{s} }})
	r, _ = ns.client("acme").api(http.MethodGet, "stats", nil)
	require.Equal(t, http.StatusNotImplemented, r.status)
}
