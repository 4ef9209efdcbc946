package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/store"
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
// and a pinned load process per target (the receiver with its memory
// inbox, SQLite's and, when the DSN is set, PostgreSQL's), the receiver's
// counters checked against the load's (every 200 accepted and handled, no
// duplicates, no errors), and the table and ratios printed.
func TestSmoke(t *testing.T) {
	inboxes := []string{loadtest.Memory, loadtest.SQLite}
	if os.Getenv(loadtest.EnvDSN) != "" {
		inboxes = append(inboxes, loadtest.Postgres)
	}
	var out, errOut bytes.Buffer
	code := cli([]string{"-ab", "-rounds", "1", "-c", "4", "-d", "1s", "-warmup", "200ms", "-inbox", strings.Join(inboxes, ",")}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	t.Log("\n" + out.String())
	require.Regexp(t, regexp.MustCompile(`\| 1 \| bare \| [1-9][0-9]* \| 0 \|`), out.String())
	for _, ib := range inboxes {
		require.Regexp(t, regexp.MustCompile(`\| 1 \| receiver/`+ib+` \| [1-9][0-9]* \|`), out.String())
		require.Contains(t, out.String(), "ratio receiver/"+ib+"/bare (medians): ")
	}
	if batches(t) {
		require.Regexp(t, regexp.MustCompile(`\| 1 \| receiver/sqlite \|( [^|]+ \|){4} [0-9.]+ \| [0-9.]+ \|`), out.String(),
			"the durable inbox's batches are reported")
	}
	require.NotContains(t, out.String(), "PROBLEM")
}

// batches reports whether the SQLite inbox writes claims in batches.
func batches(t *testing.T) bool {
	st, err := loadtest.OpenStore(context.Background(), loadtest.SQLite, loadtest.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	_, ok := st.Inbox.(store.InboxBatcher)
	return ok
}

// TestLatencySmoke runs the latency mode briefly: a sender and a receiver
// in this process on one durable store (PostgreSQL when the DSN is set,
// else SQLite), every published event handed to the callback once.
func TestLatencySmoke(t *testing.T) {
	kind := loadtest.SQLite
	if os.Getenv(loadtest.EnvDSN) != "" {
		kind = loadtest.Postgres
	}
	var out, errOut bytes.Buffer
	code := cli([]string{"latency", "-store", kind, "-rates", "50", "-d", "1s", "-warmup", "200ms", "-json"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	t.Log("\n" + out.String())
	line := regexp.MustCompile(`(?m)^latency (.*)$`).FindStringSubmatch(out.String())
	require.NotNil(t, line, "a JSON result line")
	var res latencyResult
	require.NoError(t, json.Unmarshal([]byte(line[1]), &res))
	require.Equal(t, kind, res.Store)
	require.Equal(t, 50, res.Rate)
	require.Positive(t, res.Published)
	require.Equal(t, res.Published, res.Delivered, "every published event reached the callback")
	require.Zero(t, res.Twice)
	require.Positive(t, res.P50ms)
	require.GreaterOrEqual(t, res.P99ms, res.P50ms)
	require.Regexp(t, regexp.MustCompile(`\| 50 \| [0-9]+ \| [0-9]+ \|`), out.String())
	require.Contains(t, out.String(), "where the window's time went")
	if kind == loadtest.Postgres {
		require.Positive(t, res.Costs.Leases, "the sender's leases are counted")
	}
}

// TestLatencySplitPools runs the latency mode with a pool per part and
// checks that the server's CPU is reported for each.
func TestLatencySplitPools(t *testing.T) {
	if os.Getenv(loadtest.EnvDSN) == "" {
		t.Skip(loadtest.EnvDSN + " is not set")
	}
	var out, errOut bytes.Buffer
	code := cli([]string{"latency", "-split-pools", "-rates", "50", "-d", "1s", "-warmup", "200ms", "-json"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	line := regexp.MustCompile(`(?m)^latency (.*)$`).FindStringSubmatch(out.String())
	require.NotNil(t, line, "a JSON result line")
	var res latencyResult
	require.NoError(t, json.Unmarshal([]byte(line[1]), &res))
	require.Equal(t, res.Published, res.Delivered, "every published event reached the callback")
	if res.Costs.PGOK {
		require.Contains(t, out.String(), "by part, µs per event: publish")
		require.Len(t, res.Costs.PGPartsUS, 3)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-target", "nginx"},
		{"-ab", "-target", "bare"},
		{"-rounds", "0"},
		{"load", "-url", "http://127.0.0.1:1/", "-secret", "nope"},
		{"serve", "-target", "nginx"},
		{"-inbox", "redis"},
		{"latency", "-rates", "0"},
		{"latency", "-store", "redis"},
		{"latency", "-split-pools", "-store", "sqlite"},
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
