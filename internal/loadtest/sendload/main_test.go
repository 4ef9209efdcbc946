package main

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

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

func TestInstancesArgs(t *testing.T) {
	cfg, err := parseInstances([]string{"-instances", "1,3", "-c", "32"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{1, 3}, cfg.instances)
	require.Equal(t, []int{32}, cfg.workers(1))
	require.Equal(t, []int{11, 11, 10}, cfg.workers(3))
	require.Equal(t, []int{1, 3}, cfg.order(1))
	require.Equal(t, []int{3, 1}, cfg.order(2))
	cfg, err = parseInstances([]string{"-instances", "2, 4", "-c", "4", "-per-instance"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{4, 4, 4, 4}, cfg.workers(4))

	for _, args := range [][]string{
		{"-instances", "0"},
		{"-instances", "1,1"},
		{"-instances", "1,x"},
		{"-instances", ""},
		{"-instances", "1,3", "-c", "2"},
		{"-n", "0"},
		{"-endpoints", "0"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, cli(append([]string{"instances"}, args...), &out, &errOut), "args %q", args)
	}
}

func TestInstancesReport(t *testing.T) {
	cfg := instancesConfig{instances: []int{1, 3}, n: 1000, rounds: 2, c: 32, endpoints: 1}
	run := func(round, k int, elapsed time.Duration, dups int64, pgOK bool) instRun {
		return instRun{round: round, k: k, elapsed: elapsed, dups: dups, pgOK: pgOK,
			senders: 200 * time.Millisecond, pgOurs: 300 * time.Millisecond, pgAll: 400 * time.Millisecond,
			endpoint: 50 * time.Millisecond, busy: elapsed * 3 / 2, poolWait: 7 * time.Millisecond,
			waits: map[string]int{"running": 10, "IO:WALSync": 5}, samples: 10}
	}
	runs := []instRun{
		run(1, 1, time.Second, 0, true), run(1, 3, 2*time.Second, 1, true),
		run(2, 3, 2*time.Second, 2, true), run(2, 1, time.Second, 0, true),
	}
	require.Equal(t, "| 1 | 3 | 500 | 1 | 200 | 300 | 400 | 50 | 1.50 | 7 |", runRow(runs[1], cfg.n))
	noPG := runs[0]
	noPG.pgOK = false
	require.Equal(t, "| 1 | 1 | 1000 | 0 | 200 | n/a | n/a | 50 | 1.50 | 7 |", runRow(noPG, cfg.n))

	report := strings.Join(instancesSummary(cfg, runs), "\n")
	require.Contains(t, report, "| 1 | 32 | 1000 | 1.00 | 0 | 200 | 300 | 400 | 50 | 1.50 |")
	require.Contains(t, report, "| 3 | 10-11 | 500 | 0.50 | 3 | 200 | 300 | 400 | 50 | 1.50 |")
	require.Contains(t, report, "- 3 instance(s): running 1.00, IO:WALSync 0.50 (20 samples)")
	require.Contains(t, report, "goal: total deliveries/s with 3 instances >= with 1: 0.50, MISSED")
	require.Contains(t, strings.Join(instancesHeader(cfg), "\n"), "(1: 32; 3: 11+11+10)")

	res := childResult{ok: 5, failed: 1, last: 123, cpu: time.Second, poolWait: time.Millisecond}
	got, err := parseResult(res.String())
	require.NoError(t, err)
	require.Equal(t, res, got)
	_, err = parseResult("ok=x")
	require.Error(t, err)
}

// TestInstancesSmoke runs the instances mode once, tiny, end to end: one
// and two sender processes on one PostgreSQL schema deliver everything,
// with no duplicate. It needs WEBHOOKKIT_TEST_POSTGRES_DSN (required when
// CI=true).
func TestInstancesSmoke(t *testing.T) {
	if os.Getenv(loadtest.EnvDSN) == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must provide PostgreSQL", loadtest.EnvDSN)
		}
		t.Skipf("%s is not set", loadtest.EnvDSN)
	}
	var out, errOut bytes.Buffer
	code := cli([]string{"instances", "-instances", "1,2", "-n", "200", "-rounds", "1", "-c", "4"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	t.Log("\n" + out.String())
	require.Regexp(t, regexp.MustCompile(`(?m)^\| 1 \| 1 \| [1-9][0-9]* \| 0 \|`), out.String())
	require.Regexp(t, regexp.MustCompile(`(?m)^\| 1 \| 2 \| [1-9][0-9]* \| 0 \|`), out.String())
	require.Contains(t, out.String(), "goal: total deliveries/s with 2 instances >= with 1:")
}
