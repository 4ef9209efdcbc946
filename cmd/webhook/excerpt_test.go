package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBodyExcerpt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", ""},
		{"blank", " \n\r\n\t", ""},
		{"one line", "invalid event\n", "invalid event"},
		{"two of three lines", "invalid event\nsend the envelope\nthird\n", "invalid event | send the envelope"},
		{"blank lines skipped", "\n\nfirst\r\n\n second \n", "first | second"},
		{"control characters", "bad\x1b[31m red\x00\x07\tok", "bad[31m red ok"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"cut", strings.Repeat("é", 150), strings.Repeat("é", 98) + "..."},
	} {
		got := bodyExcerpt([]byte(tc.body), maxBodyExcerpt)
		require.Equal(t, tc.want, got, tc.name)
		require.LessOrEqual(t, len(got), maxBodyExcerpt, tc.name)
	}
}

// TestRefusalExplained checks that a receiver's explanation of a 4xx
// reaches the user: send prints the start of the answer's body in the
// attempt's "body", and listen logs the hint of its refusal.
func TestRefusalExplained(t *testing.T) {
	t.Parallel()
	l := startListen(t, "--secret", vecSecret)
	// The event-payload body to a listener expecting the envelope.
	r := cli(t, "", "send", "--provider", "event-payload", "--url", l.url, "--secret", vecSecret, "--type", "ping", "--max-attempts", "1")
	require.Equal(t, 1, r.code, r.stderr)
	lines := attempts(t, r.stdout)
	require.Len(t, lines, 1)
	require.Equal(t, http.StatusBadRequest, lines[0].Status)
	require.Equal(t, "400 Bad Request", lines[0].Error)
	require.True(t, strings.HasPrefix(lines[0].Body, "invalid event | the body has the event-payload format"), lines[0].Body)
	require.LessOrEqual(t, len(lines[0].Body), maxBodyExcerpt)
	require.Eventually(t, func() bool { return strings.Contains(l.stderr.String(), "reason=\"invalid event\"") }, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, l.stderr.String(), `reason="invalid event" hint="the body has the event-payload format {\"id\", \"event\", \"payload\"}, not webhookkit's envelope: receive it with the provider receiver.EventPayload`)

	// simulate prints it as send does, whoever answered.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, "\r\n{\"error\": \"amount\tmissing\"}\r\nsee https://docs.example/errors\r\nthird line\n")
	}))
	defer srv.Close()
	r = cli(t, "", "simulate", "--url", srv.URL, "--secret", vecSecret, "--type", "ping", "--max-attempts", "1")
	require.Equal(t, 1, r.code, r.stderr)
	lines = attempts(t, r.stdout)
	require.Len(t, lines, 1)
	require.Equal(t, `{"error": "amount missing"} | see https://docs.example/errors`, lines[0].Body)

	// A delivered attempt has no body field.
	r = cli(t, "", "send", "--url", l.url, "--secret", vecSecret, "--type", "ping")
	require.Equal(t, 0, r.code, r.stderr)
	require.NotContains(t, r.stdout, `"body"`)
}
