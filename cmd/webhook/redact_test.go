package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestURLCredentialsRedacted checks that the CLI never prints the
// credentials of an endpoint URL: not in send's "delivering ... to" line,
// not in the attempt lines, and not in listen's forwarding logs and errors.
func TestURLCredentialsRedacted(t *testing.T) {
	t.Parallel()
	r := cli(t, "", "send", "--url", "http://sendUser:sendPw@127.0.0.1:1/x", "--secret", vecSecret, "--type", "a.b", "--max-attempts", "1")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "to http://(redacted)@127.0.0.1:1/x")
	for _, secret := range []string{"sendUser", "sendPw"} {
		require.NotContains(t, r.stdout+r.stderr, secret)
	}

	l := startListen(t, "--secret", vecSecret, "--forward-to", "http://fwdUser:fwdPw@127.0.0.1:1/hooks")
	r = cli(t, "", "send", "--url", l.url, "--secret", vecSecret, "--type", "ping")
	require.Equal(t, 0, r.code, r.stderr)
	require.Eventually(t, func() bool { return strings.Contains(l.stderr.String(), "forwarding to") }, 20*time.Second, 10*time.Millisecond,
		"stderr:\n%s", l.stderr.String())
	require.Contains(t, l.stderr.String(), "forwarding accepted events to http://(redacted)@127.0.0.1:1/hooks")
	require.Contains(t, l.stderr.String(), "forwarding to http://(redacted)@127.0.0.1:1/hooks")
	for _, secret := range []string{"fwdUser", "fwdPw"} {
		require.NotContains(t, l.stderr.String(), secret)
	}
	// Not drained: the forward would be retried for seconds.
	require.NoError(t, l.cmd.Process.Kill())
	<-l.done
}
