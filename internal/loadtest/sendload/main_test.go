package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/loadtest"
)

// TestMain lets the test binary stand in for sendload: the endpoint and
// the measuring process the smoke test starts are this binary.
func TestMain(m *testing.M) {
	if loadtest.IsChild() {
		os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSmoke runs one small round per store end to end (endpoint and sender
// in two pinned processes): every delivery must succeed against the bare
// endpoint and the report must carry a ratio per store. PostgreSQL joins
// when WEBHOOKKIT_TEST_POSTGRES_DSN is set, and is required when CI=true.
func TestSmoke(t *testing.T) {
	stores := "memory,sqlite"
	pg := os.Getenv(loadtest.EnvDSN) != ""
	if pg {
		stores += ",postgres"
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set; CI must provide PostgreSQL", loadtest.EnvDSN)
	} else {
		t.Logf("%s is not set: measuring memory and sqlite only", loadtest.EnvDSN)
	}
	var out, errOut bytes.Buffer
	code := cli([]string{"-stores", stores, "-n", "200", "-rounds", "1", "-c", "4"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	t.Log("\n" + out.String())
	want := []string{"memory", "sqlite"}
	if pg {
		want = append(want, "postgres")
	}
	for _, s := range want {
		require.Regexp(t, regexp.MustCompile(`\| `+s+` \| 1 \| [1-9][0-9]* \| [1-9][0-9]* \| [0-9.]+ \|`), out.String())
	}
	require.Contains(t, out.String(), "goal: sender with the memory store")
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-stores", "redis"},
		{"-n", "0"},
		{"run", "-url", "http://127.0.0.1:1/", "-c", "-1"},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, cli(args, &out, &errOut), "args %q", args)
	}
	var out, errOut bytes.Buffer
	require.Equal(t, 1, cli([]string{"run", "-url", "http://192.0.2.1/"}, &out, &errOut))
	require.Contains(t, errOut.String(), "non-loopback")
}
