package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

var dashboardRe = regexp.MustCompile(`open (http://\S+/\?token=\S+)`)

func TestDashboard(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/webhooks.db"
	st, err := sqlite.Open(path, &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	epID, _ := fillStore(t, st)
	require.NoError(t, st.Close())

	d := startBackground(t, dashboardRe, "dashboard", "--store", "sqlite:"+path, "--addr", "127.0.0.1:0")
	u, err := url.Parse(d.url)
	require.NoError(t, err)
	token := u.Query().Get("token")
	require.Len(t, token, 43, "32 random bytes, base64url")
	base := "http://" + u.Host

	get := func(c *http.Client, target string, h http.Header) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, target, nil)
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		return resp, string(b)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Without the token, or with a wrong one: refused.
	resp, _ := get(noRedirect, base+"/", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = get(noRedirect, base+"/?token=wrong", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = get(noRedirect, base+"/api/endpoints", http.Header{"Authorization": {"Bearer wrong"}})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The printed URL: the token becomes an HttpOnly cookie and leaves the URL.
	resp, _ = get(noRedirect, d.url, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/", resp.Header.Get("Location"))
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	require.True(t, cookies[0].HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, cookies[0].SameSite)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	resp, page := get(browser, d.url, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "/", resp.Request.URL.Path)
	require.Empty(t, resp.Request.URL.RawQuery)
	require.Contains(t, page, epID, "the store's endpoint is listed")
	require.Contains(t, page, `name="event_type" value="patient.ehi_export_success"`, "without --catalog, the provider's types")

	// API clients use a bearer token; scope is every tenant.
	resp, body := get(noRedirect, base+"/api/endpoints", http.Header{"Authorization": {"Bearer " + token}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list), body)
	require.Len(t, list.Data, 1)
	require.Equal(t, epID, list.Data[0].ID)

	d.stop(t, os.Interrupt)
	require.NotContains(t, strings.ReplaceAll(d.stderr.String(), d.url, ""), token,
		"the token is printed once, in the URL to open")
}

// TestDashboardCatalog checks that --catalog gives the dashboard's sender
// its event types: they are offered as subscriptions, and the sender's
// endpoint owner refuses a subscription that selects none of them.
func TestDashboardCatalog(t *testing.T) {
	t.Parallel()
	cat := writeFile(t, "events.json", ordersCatalog)
	d := startBackground(t, dashboardRe, "dashboard", "--catalog", cat, "--addr", "127.0.0.1:0")
	call := apiCaller(t, d.url)

	code, page := call(http.MethodGet, "/", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, `name="event_type" value="order.paid"`)
	require.Contains(t, page, `name="event_type" value="invoice.finalized"`)
	require.NotContains(t, page, "patient.", "the provider's catalog is replaced")

	code, body := call(http.MethodPost, "/api/endpoints", `{"url":"http://127.0.0.1:9/hook","event_types":["order.payed"]}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, `"field":"event_types[0]"`)
	require.Contains(t, body, `selects no event type of the catalog`)
	code, body = call(http.MethodPost, "/api/endpoints", `{"url":"http://127.0.0.1:9/hook","event_types":["order.*"]}`)
	require.Equal(t, http.StatusCreated, code, body)
	require.Contains(t, body, `"secret":"whsec_`)
	d.stop(t, os.Interrupt)

	r := cli(t, "", "dashboard", "--catalog", writeFile(t, "bad.json", `{"types":[{"type":"order.*"}]}`))
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "types[0].type")
}

// apiCaller returns a func that calls the dashboard that printed the URL
// printed, with its token as a bearer token and a JSON body, and returns
// the status and the answer's body.
func apiCaller(t *testing.T, printed string) func(method, path, body string) (int, string) {
	t.Helper()
	u, err := url.Parse(printed)
	require.NoError(t, err)
	return func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+u.Host+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+u.Query().Get("token"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		return resp.StatusCode, string(b)
	}
}

// TestDashboardAllInterfaces checks that a dashboard listening on every
// interface prints a URL a person can open.
func TestDashboardAllInterfaces(t *testing.T) {
	t.Parallel()
	d := startBackground(t, dashboardRe, "dashboard", "--addr", "0.0.0.0:0")
	u, err := url.Parse(d.url)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", u.Hostname(), d.url)
	require.Contains(t, d.stderr.String(), "listening on all interfaces")

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(d.url)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the printed URL opens the dashboard")
	d.stop(t, os.Interrupt)
}

func TestDashboardUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"dashboard", "--mode", "prod"},
		{"dashboard", "--addr", "nonsense"},
		{"dashboard", "--store", "ftp://x"},
	} {
		r := cli(t, "", args...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
	}
}

// TestDashboardTheme checks that the --theme-* flags brand the dashboard:
// the name and logo in the page, the colours in the served theme.css.
func TestDashboardTheme(t *testing.T) {
	t.Parallel()
	d := startBackground(t, dashboardRe, "dashboard", "--addr", "127.0.0.1:0",
		"--theme-name", "Acme Hooks", "--theme-logo", "https://cdn.acme.example/logo.svg",
		"--theme-color", "accent=#ff6600", "--theme-color", "Background = rgb(250, 250, 250)",
		"--theme-color", "ok=teal", "--theme-color", "accent=#f60") // the last accent wins
	call := apiCaller(t, d.url)

	code, page := call(http.MethodGet, "/", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, "<title>Webhook endpoints · Acme Hooks</title>")
	require.Contains(t, page, `<img class="logo" src="https://cdn.acme.example/logo.svg" alt="">Acme Hooks`)
	code, css := call(http.MethodGet, "/theme.css", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, ":root { --accent:#f60; --bg:rgb(250, 250, 250); --ok:teal; }\n", css)
	d.stop(t, os.Interrupt)
}

// TestDashboardThemeUsage: a bad --theme-* value is a usage error (exit 2)
// that names the flag and says what it wants, before any store is opened.
func TestDashboardThemeUsage(t *testing.T) {
	t.Parallel()
	db := t.TempDir() + "/never.db"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--theme-color", "accent=red; } body {"}, "--theme-color accent=red; } body {: not a CSS colour (want #rrggbb"},
		{[]string{"--theme-color", "accent=#12345"}, "--theme-color accent=#12345: not a CSS colour"},
		{[]string{"--theme-color", "border=#fff"}, `--theme-color "border=#fff": unknown key "border" (want one of accent, background, surface, text, muted, line, ok, bad)`},
		{[]string{"--theme-color", "#fff"}, `--theme-color "#fff": want KEY=COLOR, such as accent=#ff6600`},
		{[]string{"--theme-logo", "http://cdn.example/logo.png"}, `--theme-logo "http://cdn.example/logo.png": want an https URL`},
		{[]string{"--theme-name", strings.Repeat("n", 101)}, "--theme-name: longer than 100 characters"},
	} {
		r := cli(t, "", append([]string{"dashboard", "--store", "sqlite:" + db, "--addr", "127.0.0.1:0"}, tc.args...)...)
		require.Equal(t, 2, r.code, "%v: %s", tc.args, r.stderr)
		require.Contains(t, r.stderr, "webhook dashboard: "+tc.want, tc.args)
		require.Contains(t, r.stderr, "Run 'webhook dashboard -h' for usage.")
	}
	_, err := os.Stat(db)
	require.ErrorIs(t, err, os.ErrNotExist, "no store was created")
}
