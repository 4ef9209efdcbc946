package dashboard_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/dashboardtest"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for one test, sending the bearer token
// on every request. It skips without Chromium, unless CI=true.
func browser(t *testing.T, token string) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", chromiumPath, err)
		}
		t.Skipf("%s not installed; skipping the browser test", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("about:blank")))
	_, err := chromedp.Call(bctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(bctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Authorization": "Bearer " + token},
	})
	require.NoError(t, err)
	return bctx
}

// shot saves a full-page screenshot in dir.
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	p := filepath.Join(dir, name+".png")
	require.NoError(t, os.WriteFile(p, png, 0o600))
	t.Logf("screenshot: %s", p)
}

// text returns the visible text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return s
}

// load runs an action that loads a page (a navigation, a link or a submit
// button), waits until the page has loaded and checks its HTTP status.
func load(t *testing.T, ctx context.Context, want int, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, a)
	require.NoError(t, err)
	require.NotNil(t, resp)
	require.Equal(t, int64(want), resp.Status, resp.URL)
}

// waitText reloads the page until the visible text of sel contains want
// (the sender delivers in the background).
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	require.Eventually(t, func() bool {
		if _, err := chromedp.RunResponse(ctx, chromedp.Reload()); err != nil {
			return false
		}
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		return err == nil && strings.Contains(s, want)
	}, 15*time.Second, 50*time.Millisecond, "%s never showed %q", sel, want)
}

func TestBrowser(t *testing.T) {
	e := dashboardtest.NewEnv(t, dashboardtest.Options{Start: true, WarnAt: 2})
	ctx := browser(t, "acme")
	// Screenshots go to a temporary folder, or to WEBHOOKKIT_SCREENSHOT_DIR
	// to keep them (CI artifacts).
	dir := t.TempDir()
	if d := os.Getenv("WEBHOOKKIT_SCREENSHOT_DIR"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		dir = d
	}
	hook := e.Receiver.Server.URL + "/hook"

	// Add an endpoint pointing at the local receiver; its secret shows once.
	load(t, ctx, http.StatusOK, chromedp.Navigate(e.Server.URL+e.Base))
	format, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#add select[name=format]`)))
	require.NoError(t, err)
	require.Equal(t, "envelope", format, "the envelope is the default body format")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#add input[name=url]`), hook),
		chromedp.SendKeys(chromedp.CSS(`#add input[name=account]`), "acct_browser"),
		chromedp.SendKeys(chromedp.CSS(`#add input[name=description]`), "Browser <b>test</b> endpoint"),
		chromedp.Click(chromedp.CSS(`#add input[name=event_type][value="webhook.test"]`)),
		chromedp.SendKeys(chromedp.CSS(`#add input[name=patterns]`), "patient.*"),
	))
	load(t, ctx, http.StatusCreated, chromedp.Click(chromedp.CSS(`#add button[type=submit]`)))
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(".secret input")))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, "whsec_"), secret)
	page := text(t, ctx, "main")
	require.Contains(t, page, "Endpoint added")
	require.Contains(t, page, "Browser <b>test</b> endpoint", "the description is shown as text")
	require.Contains(t, page, "webhook.test")
	facts := text(t, ctx, "dl.facts")
	require.Contains(t, facts, "acct_browser", "the endpoint is narrowed to the account typed")
	require.Contains(t, facts, "envelope")
	shot(t, ctx, dir, "1-endpoint-added")

	// Simulate: pick a type, invalid JSON is refused, then send.
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`a.button[href$="/simulate"]`)))
	// Choosing a type reloads the sample: app.js submits the form on
	// change (without JavaScript, the "Load sample payload" button does).
	load(t, ctx, http.StatusOK, chromedp.SetValue(chromedp.CSS(`select[name=type]`), "webhook.test"))
	payload, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`textarea[name=payload]`)))
	require.NoError(t, err)
	require.Contains(t, payload, `"hello": "world"`, "the sample is pre-filled and pretty-printed")
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`textarea[name=payload]`), `{"hello": "browser",`)))
	load(t, ctx, http.StatusUnprocessableEntity, chromedp.Click(chromedp.CSS(`form.simulate button[type=submit]`)))
	require.Contains(t, text(t, ctx, ".error"), "Nothing was sent: invalid JSON: the text ends before the object is complete")
	require.Equal(t, 0, e.Receiver.Count())
	shot(t, ctx, dir, "2-simulator-invalid-json")
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`textarea[name=payload]`), `{"hello": "browser", "random": "r-123"}`)))
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`form.simulate button[type=submit]`)))
	require.Contains(t, text(t, ctx, ".flash"), "Simulated event sent")

	// The delivery appears in the logs; expanding it shows request and response.
	waitText(t, ctx, ".log", "succeeded")
	require.NotContains(t, text(t, ctx, ".log"), "ok-from-receiver", "collapsed until expanded")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`details.delivery > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`details.delivery[open] .attempt`)),
	))
	att := text(t, ctx, "details.delivery[open] .attempt")
	for _, s := range []string{"Request", "Webhook-Signature", "v1,", `"hello": "browser"`, "Response", "200 OK", "ok-from-receiver", "X-Receiver"} {
		require.Contains(t, att, s)
	}
	shot(t, ctx, dir, "3-attempt-expanded")

	// The receiver fails: a new event fails (no retries configured).
	e.Receiver.Status.Store(http.StatusInternalServerError)
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`a.button[href$="/simulate"]`)))
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`form.simulate button[type=submit]`)))
	waitText(t, ctx, ".log", "failed")
	banners, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".banner")).map(b => b.innerText)`))
	require.NoError(t, err)
	require.Empty(t, banners, "one failure is below WarnAt")

	// Retry from the page: it fails again, and the yellow banner appears.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`details.delivery.state-failed > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`details.delivery.state-failed[open] form button`)),
	))
	load(t, ctx, http.StatusOK, chromedp.Click(chromedp.CSS(`details.delivery.state-failed[open] form button`)))
	require.Contains(t, text(t, ctx, ".flash"), "Delivery queued for another attempt now.")
	waitText(t, ctx, "main", "Deliveries are failing")
	banner := text(t, ctx, ".banner")
	require.Contains(t, banner, "2 consecutive failed attempts")
	require.Contains(t, banner, "disabled automatically")
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".banner")).backgroundColor`))
	require.NoError(t, err)
	require.Equal(t, "rgb(255, 246, 214)", bg, "the banner is yellow (the stylesheet loaded under the CSP)")
	waitText(t, ctx, ".log", "failed")
	require.Equal(t, 3, e.Receiver.Count(), "one success, one failure, one failed retry")
	shot(t, ctx, dir, "4-warning-banner")

	// The endpoints list shows the warning too.
	load(t, ctx, http.StatusOK, chromedp.Navigate(e.Server.URL+e.Base))
	require.Contains(t, text(t, ctx, "table.endpoints"), "Close to being disabled")
	shot(t, ctx, dir, "5-endpoints")
}
