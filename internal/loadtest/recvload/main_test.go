package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/loadtest"
)

// TestMain lets the test binary stand in for recvload: the server and load
// processes the smoke test starts are this binary, run as the program.
func TestMain(m *testing.M) {
	if loadtest.IsChild() {
		os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSmoke runs one short A/B round end to end: a pinned server process
// and a pinned load process per target, the receiver's counters checked
// against the load's (every 200 accepted and handled, no duplicates, no
// errors), and the table and ratio printed.
func TestSmoke(t *testing.T) {
	var out, errOut bytes.Buffer
	code := cli([]string{"-ab", "-rounds", "1", "-c", "4", "-d", "1s", "-warmup", "200ms"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	t.Log("\n" + out.String())
	for _, target := range []string{"bare", "receiver"} {
		require.Regexp(t, regexp.MustCompile(`\| 1 \| `+target+` \| [1-9][0-9]* \|`), out.String())
	}
	require.Contains(t, out.String(), "ratio receiver/bare (medians): ")
	require.NotContains(t, out.String(), "PROBLEM")
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-target", "nginx"},
		{"-ab", "-target", "bare"},
		{"-rounds", "0"},
		{"load", "-url", "http://127.0.0.1:1/", "-secret", "nope"},
		{"serve", "-target", "nginx"},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, cli(args, &out, &errOut), "args %q", args)
	}
}

// TestLoopbackOnly shows the load and the server refuse other addresses.
func TestLoopbackOnly(t *testing.T) {
	sec := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for _, args := range [][]string{
		{"load", "-url", "http://192.0.2.1:80/", "-secret", sec, "-d", "1ms"},
		{"load", "-url", "http://example.com/", "-secret", sec, "-d", "1ms"},
		{"serve", "-target", "bare", "-addr", "0.0.0.0:0"},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 1, cli(args, &out, &errOut), "args %q", args)
		require.True(t, strings.Contains(errOut.String(), "non-loopback"), "args %q: %s", args, errOut.String())
	}
}
