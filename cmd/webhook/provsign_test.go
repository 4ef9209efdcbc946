package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// providerSecret is a secret of the provider's own form: a whsec_ secret
// for the Standard Webhooks providers and Stripe, any text otherwise.
func providerSecret(provider string) string {
	switch provider {
	case "github", "shopify", "slack":
		return provider + " secret, as typed"
	}
	return vecSecret
}

// TestSignVerifyProviders: webhook sign --provider X | webhook verify
// --provider X is valid for every provider, and invalid under another
// secret or for another body.
func TestSignVerifyProviders(t *testing.T) {
	t.Parallel()
	body := writeFile(t, "body.json", `{"id":"evt_1","type":"invoice.paid","event_id":"Ev1"}`)
	other := writeFile(t, "other.json", `{"id":"evt_2"}`)
	for _, p := range providers {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			sec := providerSecret(p.Name())
			r := cli(t, "", "sign", "--provider", p.Name(), "--secret", sec, body)
			require.Equal(t, 0, r.code, r.stderr)
			headers := r.stdout

			r = cli(t, headers, "verify", "--provider", p.Name(), "--secret", sec, "--headers", "-", body)
			require.Equal(t, 0, r.code, "headers:\n%s\nstderr: %s", headers, r.stderr)
			require.Equal(t, "valid\n", r.stdout)

			wrong := "whsec_QHBZ0MZ1iJeXw7VdsM5TGWyPuYVrjd6K"
			r = cli(t, headers, "verify", "--provider", p.Name(), "--secret", wrong, "--headers", "-", body)
			require.Equal(t, 1, r.code, r.stderr)
			r = cli(t, headers, "verify", "--provider", p.Name(), "--secret", sec, "--headers", "-", other)
			require.Equal(t, 1, r.code, r.stderr)
		})
	}
}

// TestSignProviderHeaders: sign --provider prints the provider's headers
// with the ids, types and time given, or the defaults; a flag the provider
// does not sign, and a second secret where the provider signs with one,
// are usage errors.
func TestSignProviderHeaders(t *testing.T) {
	t.Parallel()
	body := writeFile(t, "body.json", `{}`)
	r := cli(t, "", "sign", "--provider", "github", "--secret", "s", "--type", "push", "--id", "d-1", body)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "X-Github-Event: push\n")
	require.Contains(t, r.stdout, "X-Github-Delivery: d-1\n")
	require.Contains(t, r.stdout, "X-Hub-Signature-256: sha256=")

	r = cli(t, "", "sign", "--provider", "github", "--secret", "s", body)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "X-Github-Event: ping\n", "GitHub's ping by default")

	r = cli(t, "", "sign", "--provider", "shopify", "--secret", "s", body)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "X-Shopify-Topic: orders/create\n")

	r = cli(t, "", "sign", "--provider", "stripe", "--secret", "whsec_a", "--secret", "whsec_b", "--timestamp", "1700000000", body)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `^Stripe-Signature: t=1700000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}\n$`, r.stdout, "one v1 per secret, as in a roll")

	r = cli(t, "", "sign", "--provider", "slack", "--secret", "s", "--timestamp", "1700000000", body)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "X-Slack-Request-Timestamp: 1700000000\n")

	for _, args := range [][]string{
		{"--provider", "stripe", "--id", "x"},
		{"--provider", "slack", "--type", "message"},
		{"--provider", "github", "--timestamp", "1700000000"},
		{"--provider", "standard", "--type", "a.b"},
		{"--provider", "github", "--secret", "two"},
		{"--provider", "github", "--id", "has space"},
		{"--provider", "nope"},
	} {
		r := cli(t, "", append(append([]string{"sign", "--secret", "s"}, args...), body)...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
	}
}

// TestSendProviderToListen: webhook send --provider NAME delivers to a
// webhook listen --provider NAME as that provider's sender would: the
// event arrives with the key and type send was given.
func TestSendProviderToListen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider, typ, id string
		wantType, mode    string
	}{
		{"github", "pull_request", "d-7", "pull_request.opened", ""},
		{"stripe", "invoice.paid", "evt_7", "invoice.paid", "live"},
		{"shopify", "orders/create", "w-7", "orders.create", ""},
		{"slack", "app_mention", "Ev7", "app_mention", ""},
		{"standard", "user.created", "msg_7", "user.created", ""},
		{"event-payload", "medical-encounters.create", "3f0c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "medical-encounters.create", ""},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			sec := providerSecret(tc.provider)
			l := startListen(t, "--provider", tc.provider, "--secret", sec)
			args := []string{"send", "--provider", tc.provider, "--url", l.url, "--secret", sec,
				"--type", tc.typ, "--id", tc.id, "--data", `{"action":"opened","n":7}`, "--min-backoff", "10ms"}
			if tc.mode != "" {
				args = append(args, "--mode", tc.mode)
			}
			r := cli(t, "", args...)
			require.Equal(t, 0, r.code, r.stderr)
			require.Len(t, attempts(t, r.stdout), 1)
			require.Contains(t, r.stderr, tc.id)

			l.stop(t, os.Interrupt)
			lines := strings.Split(strings.TrimSpace(l.stdout.String()), "\n")
			require.Len(t, lines, 1, "stdout:\n%s\nstderr:\n%s", l.stdout.String(), l.stderr.String())
			var got line
			require.NoError(t, json.Unmarshal([]byte(lines[0]), &got))
			require.Equal(t, tc.provider, got.Provider)
			require.Equal(t, tc.id, got.Key)
			require.Equal(t, tc.wantType, got.Type)
			require.Equal(t, tc.mode, got.APIMode)
			require.Contains(t, string(got.Data), `"n":7`)
		})
	}
}

// TestSendProviderRetrySignsAfresh: each attempt of send --provider carries
// the provider's headers and body and no Standard Webhooks header, and is
// retried like any other delivery.
func TestSendProviderRetrySignsAfresh(t *testing.T) {
	t.Parallel()
	srv := newEndpoint(t, http.StatusServiceUnavailable, http.StatusOK)
	r := cli(t, "", "send", "--provider", "github", "--url", srv.URL, "--secret", "gh", "--type", "push",
		"--id", "d-1", "--data", `{"ref":"main"}`, "--min-backoff", "10ms")
	require.Equal(t, 0, r.code, r.stderr)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	for _, req := range reqs {
		require.JSONEq(t, `{"ref":"main"}`, string(req.body))
		require.Equal(t, "push", req.header.Get("X-GitHub-Event"))
		require.Equal(t, "d-1", req.header.Get("X-GitHub-Delivery"), "the same delivery on a retry")
		require.NotEmpty(t, req.header.Get("X-Hub-Signature-256"))
		require.Empty(t, req.header.Get("webhook-signature"))
		require.Empty(t, req.header.Get("webhook-id"))
	}
}

// TestSendStopsOnRefusedSignature: a 401 or 403 is not retried, whatever
// --max-attempts says, and send ends with a hint about --secret.
func TestSendStopsOnRefusedSignature(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			srv := newEndpoint(t, status, http.StatusOK)
			r := cli(t, "", "send", "--url", srv.URL, "--secret", vecSecret, "--type", "ping",
				"--max-attempts", "5", "--min-backoff", "10ms")
			require.Equal(t, 1, r.code, r.stderr)
			got := attempts(t, r.stdout)
			require.Len(t, got, 1, "not retried")
			require.Equal(t, status, got[0].Status)
			require.Len(t, srv.requests(), 1)
			require.Contains(t, r.stderr, "the receiver refused the signature: check --secret")
		})
	}

	// A wrong secret against a real receiver: listen answers 401.
	l := startListen(t, "--secret", vecSecret)
	r := cli(t, "", "send", "--url", l.url, "--secret", "whsec_QHBZ0MZ1iJeXw7VdsM5TGWyPuYVrjd6K", "--type", "ping",
		"--max-attempts", "5", "--min-backoff", "10ms")
	require.Equal(t, 1, r.code, r.stderr)
	require.Len(t, attempts(t, r.stdout), 1)
	require.Contains(t, r.stderr, "401 Unauthorized: the receiver refused the signature: check --secret")
}
