package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/webhooktest"
)

// line is what listen prints for an event of a provider other than
// webhookkit.
type line struct {
	Provider string          `json:"provider"`
	Key      string          `json:"key"`
	Type     string          `json:"type"`
	Date     time.Time       `json:"date"`
	APIMode  string          `json:"api_mode"`
	Data     json.RawMessage `json:"data"`
}

// sendTo sends the server-side request req (from webhooktest) to
// url, as its sender would, and returns the status and body.
func sendTo(t *testing.T, url string, req *http.Request) (int, string) {
	t.Helper()
	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	out, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	out.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(out)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestListenProviders: listen --provider NAME accepts that provider's
// signed requests, prints each event once as a line with its key and
// type, and refuses a forged one.
func TestListenProviders(t *testing.T) {
	t.Parallel()
	sec := vecSecret
	stripeBody := []byte(`{"id":"evt_1","type":"invoice.paid","livemode":true,"data":{"object":{"id":"in_1"}}}`)
	slackBody := []byte(`{"type":"event_callback","event_id":"Ev42","event":{"type":"app_mention","text":"hi"}}`)
	for _, tc := range []struct {
		provider, secret string
		req              func(secret string) *http.Request
		key, typ, mode   string
	}{
		{"github", "gh secret", func(s string) *http.Request {
			return webhooktest.GitHubRequest(t, s, "issues", "d-42", []byte(`{"action":"opened","issue":{"number":1}}`))
		}, "d-42", "issues.opened", ""},
		{"stripe", "whsec_stripe", func(s string) *http.Request {
			return webhooktest.StripeRequest(t, s, time.Time{}, stripeBody)
		}, "evt_1", "invoice.paid", "live"},
		{"shopify", "shpss_x", func(s string) *http.Request {
			return webhooktest.ShopifyRequest(t, s, "orders/paid", "w-42", []byte(`{"id":1}`))
		}, "w-42", "orders.paid", ""},
		{"slack", "slack secret", func(s string) *http.Request {
			return webhooktest.SlackRequest(t, s, time.Time{}, slackBody)
		}, "Ev42", "app_mention", ""},
		{"standard", sec, func(s string) *http.Request {
			return webhooktest.StandardRequest(t, s, "msg_42", time.Time{}, []byte(`{"type":"user.created"}`))
		}, "msg_42", "user.created", ""},
		{"event-payload", sec, func(s string) *http.Request {
			return webhooktest.EventPayloadRequest(t, s, "whe_42", "medical-encounters.create", time.Time{}, map[string]string{"id": "enc_1"})
		}, "whe_42", "medical-encounters.create", ""},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			// The second secret is the current one: rotation.
			other := "other secret"
			if strings.HasPrefix(tc.secret, "whsec_") && tc.provider != "stripe" {
				other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
			}
			l := startListen(t, "--provider", tc.provider, "--secret", other, "--secret", tc.secret)
			forged := "whsec_QHBZ0MZ1iJeXw7VdsM5TGWyPuYVrjd6K"
			if tc.provider == "stripe" || !strings.HasPrefix(tc.secret, "whsec_") {
				forged = "forged"
			}
			code, _ := sendTo(t, l.url, tc.req(forged))
			require.Equal(t, http.StatusUnauthorized, code)
			for range 2 { // the second is a duplicate, not printed again
				code, body := sendTo(t, l.url, tc.req(tc.secret))
				require.Equal(t, http.StatusOK, code, body)
			}
			l.stop(t, os.Interrupt)
			lines := strings.Split(strings.TrimSpace(l.stdout.String()), "\n")
			require.Len(t, lines, 1, "stdout:\n%s", l.stdout.String())
			var got line
			require.NoError(t, json.Unmarshal([]byte(lines[0]), &got))
			require.Equal(t, tc.provider, got.Provider)
			require.Equal(t, tc.key, got.Key)
			require.Equal(t, tc.typ, got.Type)
			require.Equal(t, tc.mode, got.APIMode)
			require.False(t, got.Date.IsZero())
			require.NotEmpty(t, got.Data)
			require.Contains(t, l.stderr.String(), "reason=duplicate")
		})
	}
}

// TestListenSlackChallenge: listen --provider slack answers Slack's
// url_verification with its challenge and prints nothing.
func TestListenSlackChallenge(t *testing.T) {
	t.Parallel()
	l := startListen(t, "--provider", "slack", "--secret", "s3cret")
	code, body := sendTo(t, l.url, webhooktest.SlackRequest(t, "s3cret", time.Time{},
		[]byte(`{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", body)
	l.stop(t, os.Interrupt)
	require.Empty(t, l.stdout.String())
}

// TestVerifyProviders: verify --provider checks each provider's signature
// from a headers file; GitHub's documented example is valid.
func TestVerifyProviders(t *testing.T) {
	t.Parallel()
	doc := writeFile(t, "gh.txt", "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n")
	r := cli(t, "Hello, World!", "verify", "--provider", "github", "--secret", "It's a Secret to Everybody", "--headers", doc)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "valid\n", r.stdout)
	r = cli(t, "Hello, World?", "verify", "--provider", "github", "--secret", "It's a Secret to Everybody", "--headers", doc)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "invalid: signature: no matching signature")

	body := []byte(`{"id":"evt_9","type":"charge.refunded","livemode":false}`)
	req := webhooktest.StripeRequest(t, "whsec_abc", time.Time{}, body)
	headers := writeFile(t, "stripe.txt", "Stripe-Signature: "+req.Header.Get("Stripe-Signature")+"\n")
	bodyFile := writeFile(t, "body.json", string(body))
	r = cli(t, "", "verify", "--provider", "stripe", "--secret", "whsec_old", "--secret", "whsec_abc", "--headers", headers, bodyFile)
	require.Equal(t, 0, r.code, r.stderr)
	old := webhooktest.StripeRequest(t, "whsec_abc", time.Now().Add(-time.Hour), body)
	headers = writeFile(t, "old.txt", "Stripe-Signature: "+old.Header.Get("Stripe-Signature")+"\n")
	r = cli(t, "", "verify", "--provider", "stripe", "--secret", "whsec_abc", "--headers", headers, bodyFile)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "timestamp too old")

	sreq := webhooktest.StandardRequest(t, vecSecret, "msg_1", time.Time{}, body)
	r = cli(t, string(body), "verify", "--provider", "standard", "--secret", vecSecret,
		"--id", "msg_1", "--timestamp", sreq.Header.Get("Webhook-Timestamp"), "--signature", sreq.Header.Get("Webhook-Signature"))
	require.Equal(t, 0, r.code, r.stderr)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--provider", "gitlab", "--secret", "x", "--headers", doc}, "--provider"},
		{[]string{"verify", "--provider", "github", "--secret", "x", "--id", "a", "--timestamp", "1", "--signature", "s"}, "--headers"},
		{[]string{"verify", "--provider", "standard", "--secret", "nope", "--headers", doc}, "--secret"},
		{[]string{"listen", "--provider", "github", "--secret", "x", "--mode", "live"}, "--mode"},
		{[]string{"listen", "--provider", "svix", "--secret", "x"}, "--provider"},
	} {
		r := cli(t, "", tc.args...)
		require.Equal(t, 2, r.code, "%v: %s", tc.args, r.stderr)
		require.Contains(t, r.stderr, tc.want)
	}
}

// TestListenForwardsProviderRequest: listen --provider github
// --forward-to re-posts GitHub's original request, which a second
// listener with the same secret accepts.
func TestListenForwardsProviderRequest(t *testing.T) {
	t.Parallel()
	app := startListen(t, "--provider", "github", "--secret", "gh")
	fwd := startListen(t, "--provider", "github", "--secret", "gh", "--forward-to", app.url)
	code, body := sendTo(t, fwd.url, webhooktest.GitHubRequest(t, "gh", "push", "d-fwd", []byte(`{"ref":"refs/heads/main"}`)))
	require.Equal(t, http.StatusOK, code, body)
	require.Eventually(t, func() bool { return strings.Contains(app.stdout.String(), "\n") }, 20*time.Second, 10*time.Millisecond,
		"forwarded event not received; forwarder stderr:\n%s", fwd.stderr.String())
	fwd.stop(t, os.Interrupt)
	app.stop(t, os.Interrupt)
	for _, out := range []string{fwd.stdout.String(), app.stdout.String()} {
		require.Equal(t, 1, strings.Count(out, "\n"), out)
		require.Contains(t, out, `{"provider":"github","key":"d-fwd","type":"push","date":"`)
		require.Contains(t, out, `"data":{"ref":"refs/heads/main"}}`)
	}
}
