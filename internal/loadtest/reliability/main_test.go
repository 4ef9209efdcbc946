package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/loadtest"
)

// TestSmoke runs every check at a tiny size: a short overload, a chaos run
// of 50 events per store, a 2-second soak. Each must pass and say what it
// proved. PostgreSQL joins when WEBHOOKKIT_TEST_POSTGRES_DSN is set, and is
// required when CI=true.
func TestSmoke(t *testing.T) {
	stores := "memory,sqlite"
	if os.Getenv(loadtest.EnvDSN) != "" {
		stores += ",postgres"
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set; CI must provide PostgreSQL", loadtest.EnvDSN)
	}
	var out, errOut bytes.Buffer
	code := cli([]string{"-stores", stores, "-overload", "500ms", "-capacity", "100", "-events", "50",
		"-soak", "2s", "-rate", "100", "-samples", "4"}, &out, &errOut)
	t.Log("\n" + out.String())
	require.Equal(t, 0, code, "stderr:\n%s", errOut.String())
	require.Contains(t, out.String(), "PASS overload: proved")
	for _, s := range strings.Split(stores, ",") {
		require.Contains(t, out.String(), "PASS chaos/"+s+": proved")
	}
	require.Contains(t, out.String(), "PASS soak: proved")
	require.NotContains(t, out.String(), "FAIL")
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-run", "fire"},
		{"-stores", "redis"},
		{"-capacity", "1"},
		{"-soak", "0s"},
		{"-nope"},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, cli(args, &out, &errOut), "args %q", args)
	}
}

// TestFaults shows the fault generator is deterministic per id and
// request number, honours its cap, and forgets delivered ids when asked.
func TestFaults(t *testing.T) {
	mix := faultMix{fault500: 50, faultLost: 40}
	run := func(forget bool) ([]fault, *faulty) {
		f := newFaulty(nil, 7, 3, mix, forget)
		var got []fault
		for range 10 {
			got = append(got, f.pick("a"))
		}
		return got, f
	}
	a, fa := run(false)
	b, _ := run(false)
	require.Equal(t, a, b, "same seed, same faults")
	faults := 0
	for _, k := range a {
		if k != faultNone {
			faults++
		}
	}
	require.LessOrEqual(t, faults, 3, "at most max faults per id: %v", a)
	require.Len(t, fa.seen, 1)
	_, ff := run(true)
	for range 20 {
		ff.pick("b")
	}
	require.NotContains(t, ff.seen, "b", "a delivered id is forgotten")
}

func TestIDs(t *testing.T) {
	x := newIDs()
	for _, n := range []int{0, 1, 4095, 1 << 40} {
		id := x.id(n)
		require.Len(t, id, 36)
		got, ok := x.seq(id)
		require.True(t, ok)
		require.Equal(t, n, got)
	}
	_, ok := newIDs().seq(x.id(1))
	require.False(t, ok, "another run's id")
}
