package storetest_test

import (
	"context"
	"testing"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// A driver runs the whole suite from its own test, with a factory that
// makes a fresh store per case and cleans it up, and the transaction cases
// with a factory that also begins transactions; the lease benchmark runs
// from a benchmark. (The runners need the *testing.T of a real test, so
// this example is compiled but not run.)
func ExampleRun() {
	newStore := func(tb testing.TB) storetest.Store {
		// A durable driver opens a fresh database or schema here and
		// registers its closing or dropping with tb.Cleanup.
		return memory.New(nil)
	}
	_ = func(t *testing.T) { storetest.Run(t, newStore) }

	_ = func(t *testing.T) {
		storetest.RunTx(t, func(testing.TB) storetest.TxStore {
			s := memory.New(nil)
			return storetest.TxStore{
				Store: s,
				Begin: func(context.Context) (storetest.Transaction, error) { return s.Begin(), nil },
			}
		})
	}

	_ = func(b *testing.B) { storetest.BenchmarkLease(b, newStore, 1_000_000) }
}

// An implementation of one role runs that role's cases alone: here an
// inbox kept apart from the sender's store. A factory returns only what the
// role needs.
func ExampleRunInbox() {
	_ = func(t *testing.T) {
		storetest.RunInbox(t, func(testing.TB) store.Inbox { return memory.New(nil) })
	}
}
