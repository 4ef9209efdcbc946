package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseAndReport feeds two rounds of benchmark output through the
// parser and checks the medians and ratios of the lease report.
func TestParseAndReport(t *testing.T) {
	res := results{}
	for _, out := range []string{
		"goos: linux\nBenchmarkLease/backlog=1000-2         \t  100\t      1000 ns/op\t  200 B/op\t   4 allocs/op\n" +
			"BenchmarkLease/backlog=100000-2 \t 100\t 1100 ns/op\nBenchmarkLease/backlog=1000000-2 \t 100\t 3000 ns/op\nPASS\n",
		"BenchmarkLease/backlog=1000 \t 100\t 3000 ns/op\t 100 B/op\t 2 allocs/op\n" +
			"BenchmarkLease/backlog=100000 \t 100\t 1300 ns/op\nBenchmarkLease/backlog=1000000 \t 100\t 1000 ns/op\n",
	} {
		require.Equal(t, 3, res.parse("./store/memory", strings.NewReader(out)))
	}
	require.Equal(t, 2000.0, res.ns("./store/memory BenchmarkLease/backlog=1000"))
	require.Equal(t, 3.0, res.allocs("./store/memory BenchmarkLease/backlog=1000"))
	require.Equal(t, 100.0, res.spread("./store/memory BenchmarkLease/backlog=1000"))
	var w bytes.Buffer
	reportLease(&w, res)
	require.Contains(t, w.String(), "| memory | storetest: lease (batches of 10) + one Settle per batch, per delivery | 2000 | 1200 | 2000 | 0.60 | 1.00 | 100% |")
	require.NotContains(t, w.String(), "| sqlite |", "stores that did not run are left out")
}

// TestSmoke builds and runs the event suite for one round of one iteration.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	var out, errOut bytes.Buffer
	code := cli([]string{"-suites", "event", "-rounds", "1", "-benchtime", "1x"}, &out, &errOut)
	require.Equal(t, 0, code, "stderr:\n%s", errOut.String())
	t.Log("\n" + out.String())
	require.Regexp(t, `\| event.Decode \(strict\) \| [1-9][0-9]* \| `, out.String())
	require.Contains(t, out.String(), "| encoding/json into a struct |")
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-suites", "nope"}, {"-rounds", "0"}, {"-x"}} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, cli(args, &out, &errOut), "args %q", args)
	}
}
