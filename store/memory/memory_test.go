package memory_test

import (
	"context"
	"testing"

	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(testing.TB) storetest.Store { return memory.New(nil) })
}

// TestConformanceTx runs the transaction cases on Begin's Tx, which is a
// storetest.Transaction as it is.
func TestConformanceTx(t *testing.T) {
	storetest.RunTx(t, func(testing.TB) storetest.TxStore {
		s := memory.New(nil)
		return storetest.TxStore{
			Store: s,
			Begin: func(context.Context) (storetest.Transaction, error) { return s.Begin(), nil },
		}
	})
}
