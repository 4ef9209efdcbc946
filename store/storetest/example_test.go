package storetest_test

import (
	"testing"

	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// A driver runs the suite from its own test, with a factory that makes a
// fresh store per case and cleans it up; and the lease benchmark from a
// benchmark. (Run needs the *testing.T of a real test, so this example is
// compiled but not run.)
func ExampleRun() {
	newStore := func(t *testing.T) storetest.Store {
		// A durable driver opens a fresh database or schema here and
		// registers its closing or dropping with t.Cleanup.
		return memory.New(nil)
	}
	_ = func(t *testing.T) { storetest.Run(t, newStore) }

	_ = func(b *testing.B) {
		storetest.BenchmarkLease(b, func(testing.TB) storetest.Store { return memory.New(nil) }, 1_000_000)
	}
}
