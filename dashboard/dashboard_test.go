package dashboard_test

import (
	"bytes"
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

func TestNewConfig(t *testing.T) {
	st := memory.New(nil)
	live, err := sender.New(st, &sender.Config{Mode: event.ModeLive, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { _ = live.Close() })
	tests := []struct {
		name string
		cfg  *dashboard.Config
		want error
	}{
		{"nil config", nil, dashboard.ErrNoAuthorize},
		{"no Authorize", &dashboard.Config{Sender: live}, dashboard.ErrNoAuthorize},
		{"no Sender", &dashboard.Config{Authorize: authorize}, dashboard.ErrNoSender},
		{"negative WarnAt", &dashboard.Config{Authorize: authorize, Sender: live, WarnAt: -1}, dashboard.ErrInvalidConfig},
		{"bad BasePath", &dashboard.Config{Authorize: authorize, Sender: live, BasePath: `/x"><script>`}, dashboard.ErrInvalidConfig},
		{"read-only", &dashboard.Config{Authorize: authorize, Sender: live, ReadOnly: true}, nil},
		{"mode from the sender", &dashboard.Config{Authorize: authorize, Sender: live}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := dashboard.New(tt.cfg)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				require.Nil(t, h)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, h)
		})
	}
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		token, path string
		want        int
	}{
		{"", "", http.StatusUnauthorized},
		{"banned", "", http.StatusForbidden},
		{"", "api/endpoints", http.StatusUnauthorized},
		{"banned", "api/endpoints", http.StatusForbidden},
		{"", "static/style.css", http.StatusUnauthorized},
		{"acme", "", http.StatusOK},
		{"operator", "api/endpoints", http.StatusOK},
	}
	for _, tt := range tests {
		r := e.client(tt.token).get(tt.path)
		require.Equal(t, tt.want, r.status, "token %q path %q", tt.token, tt.path)
		if strings.HasPrefix(tt.path, "api/") {
			require.Contains(t, r.header.Get("Content-Type"), "application/json")
		}
	}

	// Mounted without a mux: the base path without its slash redirects, and
	// paths outside it are not found, with an answer and one log line that
	// name the base path (a handler behind http.StripPrefix sees them all).
	var logs bytes.Buffer
	h, err := dashboard.New(&dashboard.Config{Authorize: authorize, Sender: e.snd, BasePath: "webhooks",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks", nil))
	require.Equal(t, http.StatusMovedPermanently, rec.Code)
	require.Equal(t, "/webhooks/", rec.Header().Get("Location"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/other/", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Contains(t, rec.Body.String(), "serves the paths under /webhooks/")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/endpoints", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Equal(t, 1, strings.Count(logs.String(), "outside Config.BasePath"), logs.String())
}

func TestSecurityHeadersAndAssets(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")
	for _, path := range []string{"", "static/style.css", "api/endpoints", "endpoints/nope"} {
		r := c.get(path)
		csp := r.header.Get("Content-Security-Policy")
		require.Contains(t, csp, "frame-ancestors 'none'", path)
		require.Contains(t, csp, "script-src 'self'", path)
		require.NotContains(t, csp, "unsafe-inline", path)
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), path)
		require.Equal(t, "same-origin", r.header.Get("Referrer-Policy"), path)
		require.Equal(t, "DENY", r.header.Get("X-Frame-Options"), path)
	}
	css := c.get("static/style.css")
	require.Equal(t, http.StatusOK, css.status)
	require.Contains(t, css.header.Get("Content-Type"), "text/css")
	js := c.get("static/app.js")
	require.Equal(t, http.StatusOK, js.status)
	require.Contains(t, js.body, "data-autosubmit")
	require.Equal(t, http.StatusNotFound, c.get("static/").status)
	require.Equal(t, http.StatusNotFound, c.get("static/nope.css").status)

	// Pages have no inline script: the only script is the external file.
	page := e.client("acme").get("") // a fresh client gets the CSRF cookie
	require.Equal(t, 1, strings.Count(page.body, "<script"))
	require.Contains(t, page.body, `<script src="/webhooks/static/app.js" defer></script>`)
	// The CSRF cookie is HttpOnly and SameSite=Strict, scoped to the base path.
	cookie := page.header.Get("Set-Cookie")
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Strict")
	require.Contains(t, cookie, "Path=/webhooks/")
}

func TestEndpointsPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addEndpoint("acme", "acme orders", "patient.*")
	b := e.addEndpoint("globex", "globex hook", "*")

	r := e.client("acme").get("")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "acme orders")
	require.Contains(t, r.body, "patient.*")
	require.Contains(t, r.body, "/webhooks/endpoints/"+a.ID)
	require.NotContains(t, r.body, "globex hook")
	require.NotContains(t, r.body, b.ID)
	require.Contains(t, r.body, "enabled")
	require.Contains(t, r.body, "Add endpoint")
	for _, info := range fasten.Catalog().Types() { // the add form offers the sender's catalog
		if info.Type == event.TypePing {
			require.NotContains(t, r.body, `value="ping"`, "every endpoint can be pinged: ping is no subscription")
			continue
		}
		require.Contains(t, r.body, `value="`+info.Type+`"`)
	}

	r = e.client("operator").get("")
	require.Contains(t, r.body, "acme orders")
	require.Contains(t, r.body, "globex hook")
	require.Contains(t, r.body, "<th>Tenant</th>")
}

func TestCreateEndpoint(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")
	r := c.post("endpoints", url.Values{
		"url":         {e.rc.Server.URL + "/hook"},
		"description": {"new one"},
		"event_type":  {fasten.TypeEHIExportSuccess, fasten.TypeEHIExportFailed},
		"patterns":    {"patient.*, webhook.test patient.*"},
		"tenant":      {"globex"}, // ignored: a tenant creates for itself
	})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	eps, _, err := e.st.ListEndpoints(context.Background(), store.EndpointFilter{AllTenants: true})
	require.NoError(t, err)
	require.Len(t, eps, 1)
	ep := eps[0]
	require.Equal(t, "acme", ep.Tenant)
	require.Equal(t, event.ModeTest, ep.Mode)
	require.Equal(t, []string{fasten.TypeEHIExportSuccess, fasten.TypeEHIExportFailed, "patient.*", "webhook.test"}, ep.EventTypes)
	require.Len(t, ep.Secrets, 1)
	key := ep.Secrets[0].Key
	require.True(t, strings.HasPrefix(key, "whsec_"))
	require.Equal(t, 1, strings.Count(html.UnescapeString(r.body), key), "the secret is shown once on creation")
	require.Contains(t, r.body, "shown only once")

	// Never again.
	page := c.get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, page.status)
	require.NotContains(t, html.UnescapeString(page.body), key)
	require.NotContains(t, page.body, "whsec_")
	api, _ := c.api(http.MethodGet, "endpoints/"+ep.ID, nil)
	require.NotContains(t, api.body, key)

	// Operators choose the tenant.
	r = e.client("operator").post("endpoints", url.Values{"url": {"https://example.com/h"}, "event_type": {fasten.TypeWebhookTest}, "tenant": {"initech"}})
	require.Equal(t, http.StatusCreated, r.status)
	eps, _, err = e.st.ListEndpoints(context.Background(), store.EndpointFilter{Tenant: "initech"})
	require.NoError(t, err)
	require.Len(t, eps, 1)
}

func TestCreateEndpointInvalid(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")
	tests := []struct {
		name string
		form url.Values
		msg  string
	}{
		{"no types", url.Values{"url": {"https://example.com/h"}}, `Endpoint not added: event types: at least one pattern is required (&#34;*&#34; for all).`},
		{"bad pattern", url.Values{"url": {"https://example.com/h"}, "patterns": {"patient.* patient.*.x"}}, `Endpoint not added: event types[1]: invalid pattern`},
		{"typo", url.Values{"url": {"https://example.com/h"}, "patterns": {"patient.ehi_export_sucess"}}, `Endpoint not added: event types[0]: &#34;patient.ehi_export_sucess&#34; selects no event type of the catalog`},
		{"relative URL", url.Values{"url": {"/hook"}, "event_type": {fasten.TypeWebhookTest}}, "Endpoint not added: url: want an absolute http"},
		{"ftp URL", url.Values{"url": {"ftp://example.com"}, "event_type": {fasten.TypeWebhookTest}}, "Endpoint not added: url: want an absolute http"},
		{"unknown format", url.Values{"url": {"https://example.com/h"}, "event_type": {fasten.TypeWebhookTest}, "format": {"xml"}},
			`Endpoint not added: format: &#34;xml&#34;: want &#34;envelope&#34; or &#34;event-payload&#34;.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("endpoints", tt.form)
			require.Equal(t, http.StatusUnprocessableEntity, r.status)
			require.Contains(t, r.body, tt.msg)
			eps, _, err := e.st.ListEndpoints(context.Background(), store.EndpointFilter{AllTenants: true})
			require.NoError(t, err)
			require.Empty(t, eps)
		})
	}
}

func TestEscaping(t *testing.T) {
	e := newEnv(t, envOptions{})
	const evil = `<script>alert("x")</script>`
	ep := e.addEndpoint("acme", evil, "*")
	c := e.client("acme")
	for _, path := range []string{"", "endpoints/" + ep.ID, "endpoints/" + ep.ID + "?type=" + url.QueryEscape(evil), "endpoints/" + ep.ID + "/simulate"} {
		r := c.get(path)
		require.Equal(t, http.StatusOK, r.status, path)
		require.NotContains(t, r.body, evil, path)
		require.NotContains(t, r.body, "<script>alert", path)
	}
	r := c.get("endpoints/" + ep.ID)
	require.Contains(t, r.body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")

	// A receiver answering HTML is shown as text, not markup.
	e.rc.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Evil", evil)
		_, _ = w.Write([]byte(evil))
	})
	d := e.deliver(ep, "ping")
	r = c.get("endpoints/" + ep.ID + "/deliveries/" + d.ID)
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.body, "<script>alert")
	require.Contains(t, r.body, "&lt;script&gt;")
}

func TestEditEndpoint(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "before", "*")
	c := e.client("acme")
	r := c.post("endpoints/"+ep.ID+"/edit", url.Values{
		"url": {"https://example.com/new"}, "description": {"after"},
		"event_type": {fasten.TypeWebhookTest}, "patterns": {"patient.*"},
	})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Equal(t, "/webhooks/endpoints/"+ep.ID+"?done=updated", r.header.Get("Location"))
	got, err := e.st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Equal(t, "https://example.com/new", got.URL)
	require.Equal(t, "after", got.Description)
	require.Equal(t, []string{fasten.TypeWebhookTest, "patient.*"}, got.EventTypes)
	require.Equal(t, ep.Secrets[0].Key, got.Secrets[0].Key, "editing keeps the secret")
	require.Contains(t, c.get("endpoints/"+ep.ID+"?done=updated").body, "Endpoint updated.")

	// Invalid edits change nothing.
	r = c.post("endpoints/"+ep.ID+"/edit", url.Values{"url": {"https://example.com/x"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	require.Contains(t, r.body, "Endpoint not updated: event types: at least one pattern is required")
	got, err = e.st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Equal(t, "https://example.com/new", got.URL)
}

func TestRotateSecret(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	r := e.client("acme").post("endpoints/"+ep.ID+"/rotate", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	got, err := e.st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Len(t, got.Secrets, 2)
	old, fresh := got.Secrets[0], got.Secrets[1]
	require.Equal(t, ep.Secrets[0].Key, old.Key)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), old.ExpiresAt, time.Minute, "the old secret keeps signing for 24 h")
	require.True(t, fresh.ExpiresAt.IsZero())
	require.Equal(t, 1, strings.Count(html.UnescapeString(r.body), fresh.Key), "the new secret is shown once")
	require.NotContains(t, html.UnescapeString(r.body), old.Key)
	require.Contains(t, r.body, "signs until")
}

func TestDisableEnableDelete(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	c := e.client("acme")
	ctx := context.Background()

	r := c.post("endpoints/"+ep.ID+"/disable", nil)
	require.Equal(t, http.StatusSeeOther, r.status)
	got, err := e.st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled)
	page := c.get("endpoints/" + ep.ID)
	require.Contains(t, page.body, `class="banner"`)
	require.Contains(t, page.body, "Endpoint disabled</strong>: disabled from the dashboard")
	require.Contains(t, page.body, "Enable endpoint")
	require.Contains(t, c.get("").body, "Disabled")

	r = c.post("endpoints/"+ep.ID+"/enable", nil)
	require.Equal(t, http.StatusSeeOther, r.status)
	got, err = e.st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.False(t, got.Disabled)
	require.NotContains(t, c.get("endpoints/"+ep.ID).body, `class="banner"`)

	r = c.post("endpoints/"+ep.ID+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, "/webhooks/?done=deleted", r.header.Get("Location"))
	_, err = e.st.GetEndpoint(ctx, ep.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Equal(t, http.StatusNotFound, c.get("endpoints/"+ep.ID).status)
	require.Contains(t, c.get("?done=deleted").body, "Endpoint deleted.")
}

func TestPing(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	c := e.client("acme")
	r := c.post("endpoints/"+ep.ID+"/ping", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "Ping delivered: 200 OK in")
	require.Contains(t, r.body, "ok-from-receiver")
	require.Contains(t, r.body, "<th>Webhook-Signature</th><td>v1,")
	require.Equal(t, 1, e.rc.Count())

	e.rc.Status.Store(http.StatusForbidden)
	r = c.post("endpoints/"+ep.ID+"/ping", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "Ping failed: the endpoint answered 403 Forbidden.")
	require.Contains(t, r.body, "receiver-failure-body")
	require.Equal(t, 2, e.rc.Count())
}

func TestDeliveryLogs(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	ok := e.deliver(ep, fasten.TypeEHIExportSuccess)
	e.rc.Status.Store(http.StatusInternalServerError)
	bad := e.deliver(ep, fasten.TypeEHIExportFailed)
	require.Equal(t, store.StateSucceeded, ok.State)
	require.Equal(t, store.StateFailed, bad.State)

	c := e.client("acme")
	r := c.get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, 2, strings.Count(r.body, `<details class="delivery`))
	for _, s := range []string{
		fasten.TypeEHIExportSuccess, fasten.TypeEHIExportFailed, ok.Event.ID, bad.Event.ID,
		"succeeded", "failed", "200 OK", "500 Internal Server Error",
		"ok-from-receiver", "receiver-failure-body", "<th>Webhook-Signature</th><td>v1,", "<th>Webhook-Id</th><td>" + bad.Event.ID, "X-Receiver",
		"&#34;api_mode&#34;: &#34;test&#34;", // the request payload, pretty-printed
		"Retry now", "Resend", "Attempts are kept for 15 days",
	} {
		require.Contains(t, r.body, s)
	}

	// Filters.
	r = c.get("endpoints/" + ep.ID + "?state=failed")
	require.Equal(t, 1, strings.Count(r.body, `<details class="delivery`))
	require.Contains(t, r.body, bad.Event.ID)
	require.NotContains(t, r.body, ok.Event.ID)
	r = c.get("endpoints/" + ep.ID + "?type=" + url.QueryEscape(fasten.TypeEHIExportSuccess))
	require.Equal(t, 1, strings.Count(r.body, `<details class="delivery`))
	require.Contains(t, r.body, ok.Event.ID)
	r = c.get("endpoints/" + ep.ID + "?type=patient.*&state=succeeded")
	require.Equal(t, 1, strings.Count(r.body, `<details class="delivery`))
	r = c.get("endpoints/" + ep.ID + "?type=" + url.QueryEscape("bad type!"))
	require.Contains(t, r.body, "is not an event type or pattern")
	require.Equal(t, 2, strings.Count(r.body, `<details class="delivery`))

	// One delivery with its attempts.
	r = c.get("endpoints/" + ep.ID + "/deliveries/" + bad.ID)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, bad.Event.ID)
	require.Contains(t, r.body, `<details class="attempt-row">`)
	require.Contains(t, r.body, "500 Internal Server Error")
	require.Contains(t, r.body, "receiver-failure-body")
	require.Contains(t, r.body, "Retry now")
}

func TestRetry(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	e.rc.Status.Store(http.StatusBadGateway)
	d := e.deliver(ep, "ping")
	require.Equal(t, store.StateFailed, d.State)
	e.rc.Status.Store(http.StatusOK)

	c := e.client("acme")
	r := c.post("endpoints/"+ep.ID+"/deliveries/"+d.ID+"/retry", nil)
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Equal(t, "/webhooks/endpoints/"+ep.ID+"?done=retried", r.header.Get("Location"))
	got, err := e.st.GetDelivery(context.Background(), d.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatePending, got.State)

	// Retrying a delivery already queued is a conflict.
	r = c.post("endpoints/"+ep.ID+"/deliveries/"+d.ID+"/retry", url.Values{"return": {"delivery"}})
	require.Equal(t, http.StatusConflict, r.status)

	_, err = e.snd.ProcessDue(context.Background())
	require.NoError(t, err)
	got, err = e.st.GetDelivery(context.Background(), d.ID)
	require.NoError(t, err)
	require.Equal(t, store.StateSucceeded, got.State)
	r = c.get("endpoints/" + ep.ID + "/deliveries/" + d.ID)
	require.Contains(t, r.body, "200 OK")
}

func TestReplayFailed(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	e.rc.Status.Store(http.StatusServiceUnavailable)
	e.deliver(ep, "ping")
	e.deliver(ep, fasten.TypeWebhookTest)
	c := e.client("acme")
	r := c.post("endpoints/"+ep.ID+"/replay", url.Values{"since": {"24h"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Contains(t, c.get(strings.TrimPrefix(r.header.Get("Location"), "/webhooks/")).body, "2 failed deliveries queued again.")
	ds, _, err := e.st.ListDeliveries(context.Background(), store.DeliveryFilter{Tenant: "acme", State: store.StatePending})
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.Equal(t, http.StatusBadRequest, c.post("endpoints/"+ep.ID+"/replay", url.Values{"since": {"forever"}}).status)
}

func TestWarningBanner(t *testing.T) {
	e := newEnv(t, envOptions{WarnAt: 2})
	ep := e.addEndpoint("acme", "", "*")
	c := e.client("acme")
	e.rc.Status.Store(http.StatusInternalServerError)
	e.deliver(ep, "ping")
	require.NotContains(t, c.get("endpoints/"+ep.ID).body, `class="banner"`, "one failure is below WarnAt")
	e.deliver(ep, "ping")
	r := c.get("endpoints/" + ep.ID)
	require.Contains(t, r.body, `class="banner"`)
	require.Contains(t, r.body, "2 consecutive failed attempts")
	require.Contains(t, r.body, "will be disabled automatically")
	list := c.get("")
	require.Contains(t, list.body, "Close to being disabled")
	require.Contains(t, list.body, `class="warn"`)
}

func TestSimulator(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	c := e.client("acme")
	ctx := context.Background()

	r := c.get("endpoints/" + ep.ID + "/simulate?type=" + fasten.TypeEHIExportSuccess)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "Send simulated payload")
	require.Contains(t, r.body, "\n  &#34;download_links&#34;: [", "the sample is pretty-printed")
	for _, info := range fasten.Catalog().Types() {
		require.Contains(t, r.body, `<option value="`+info.Type+`"`)
	}
	// An unknown type falls back to a known one.
	require.Equal(t, http.StatusOK, c.get("endpoints/"+ep.ID+"/simulate?type=nope").status)

	none := func() {
		t.Helper()
		ds, _, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme"})
		require.NoError(t, err)
		require.Empty(t, ds, "nothing may be sent")
	}
	invalid := []struct{ name, typ, payload, msg string }{
		{"syntax error", fasten.TypeWebhookTest, "{\n  \"a\": 1,\n}", "invalid JSON at line 3, column 1"},
		{"not an object", fasten.TypeWebhookTest, `[1,2]`, "must be a JSON object"},
		{"empty", fasten.TypeWebhookTest, ``, "the payload is empty"},
		{"trailing data", fasten.TypeWebhookTest, `{} {}`, "unexpected text after the object"},
		{"duplicate key", fasten.TypeWebhookTest, `{"a":1,"a":2}`, `Nothing was sent: data: duplicate key &#34;a&#34;`},
		{"bad type", "no spaces!", `{}`, "Nothing was sent: type: "},
		{"type outside the catalog", "order.paid", `{}`, "Nothing was sent: type: &#34;order.paid&#34; is not in the catalog."},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("endpoints/"+ep.ID+"/simulate", url.Values{"type": {tt.typ}, "payload": {tt.payload}})
			require.Equal(t, http.StatusUnprocessableEntity, r.status)
			require.Contains(t, r.body, tt.msg)
			none()
		})
	}
	require.Equal(t, 0, e.rc.Count())

	payload := `{"hello": "dashboard", "n": 42}`
	r = c.post("endpoints/"+ep.ID+"/simulate", url.Values{"type": {fasten.TypeWebhookTest}, "payload": {payload}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Equal(t, "/webhooks/endpoints/"+ep.ID+"?done=simulated", r.header.Get("Location"))
	ds, _, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme"})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, fasten.TypeWebhookTest, ds[0].Event.Type)
	require.Equal(t, event.ModeTest, ds[0].Event.APIMode)
	require.JSONEq(t, payload, string(ds[0].Event.Data))
	_, err = e.snd.ProcessDue(ctx)
	require.NoError(t, err)
	logs := c.get("endpoints/" + ep.ID + "?done=simulated")
	require.Contains(t, logs.body, "Simulated event sent")
	require.Contains(t, logs.body, ds[0].Event.ID)
	require.Contains(t, logs.body, "&#34;hello&#34;: &#34;dashboard&#34;")
}

func TestSimulatorLiveMode(t *testing.T) {
	e := newEnv(t, envOptions{Mode: event.ModeLive})
	ep := e.addEndpoint("acme", "", "*")
	c := e.client("acme")
	r := c.get("endpoints/" + ep.ID + "/simulate")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "only available in test mode")
	require.NotContains(t, r.body, "Send simulated payload")
	require.NotContains(t, c.get("endpoints/"+ep.ID).body, "Simulate webhook")
	require.Contains(t, c.get("").body, "live mode")

	r = c.post("endpoints/"+ep.ID+"/simulate", url.Values{"type": {fasten.TypeWebhookTest}, "payload": {`{}`}})
	require.Equal(t, http.StatusConflict, r.status)
	require.Contains(t, r.body, "only available in test mode")
	api, body := c.api(http.MethodPost, "endpoints/"+ep.ID+"/simulate", map[string]any{"type": "ping", "data": map[string]any{}})
	require.Equal(t, http.StatusConflict, api.status)
	require.Equal(t, "live_mode", body["error"].(map[string]any)["code"])
	ds, _, err := e.st.ListDeliveries(context.Background(), store.DeliveryFilter{AllTenants: true})
	require.NoError(t, err)
	require.Empty(t, ds)
}

func TestReadOnly(t *testing.T) {
	e := newEnv(t, envOptions{ReadOnly: true})
	ep := e.addEndpoint("acme", "", "*")
	c := e.client("acme")
	r := c.get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "read-only")
	require.NotContains(t, r.body, "Send ping")
	require.Equal(t, http.StatusNotImplemented, c.post("endpoints/"+ep.ID+"/delete", url.Values{"csrf_token": {"none"}}).status)
	api, _ := c.api(http.MethodDelete, "endpoints/"+ep.ID, nil)
	require.Equal(t, http.StatusNotImplemented, api.status)
	_, err := e.st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
}

// Unknown routes and methods.
func TestRouting(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	c := e.client("acme")
	require.Equal(t, http.StatusNotFound, c.get("nope").status)
	require.Equal(t, http.StatusNotFound, c.get("endpoints/unknown-id").status)
	// GET never changes anything: action paths are POST only.
	for _, action := range []string{"delete", "disable", "rotate", "ping"} {
		require.Equal(t, http.StatusMethodNotAllowed, c.get("endpoints/"+ep.ID+"/"+action).status, action)
	}
	got, err := e.st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	require.False(t, got.Disabled)
	require.Len(t, got.Secrets, 1)
	require.Equal(t, 0, e.rc.Count())
	r, body := c.api(http.MethodGet, "nope", nil)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "not_found", body["error"].(map[string]any)["code"])
}

// TestEndpointPageBreaker: the endpoint page shows an open circuit
// breaker, as the sender records it on the endpoint.
func TestEndpointPageBreaker(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "acme orders")
	r := e.client("acme").get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.body, "circuit")

	d := store.HealthDelta{EndpointID: ep.ID, SetBreaker: true, Breaker: store.BreakerOpen, BreakerSince: time.Now()}
	_, err := e.st.Settle(context.Background(), store.SettleBatch{Health: []store.HealthDelta{d}})
	require.NoError(t, err)
	r = e.client("acme").get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Contains(t, r.body, `<span class="state state-disabled"`, r.body)
	require.Contains(t, r.body, "circuit open")
}
