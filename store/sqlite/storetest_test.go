package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) storetest.Store {
		s, _ := open(tb)
		return s
	})
}

// TestConformanceTx runs the transaction cases on transactions begun on
// the Store's write pool, as the package documentation says to; the cases
// read back through the read pool, another connection.
func TestConformanceTx(t *testing.T) {
	storetest.RunTx(t, func(tb testing.TB) storetest.TxStore {
		s, _ := open(tb)
		return storetest.TxStore{
			Store: s,
			Begin: func(ctx context.Context) (storetest.Transaction, error) {
				tx, err := s.DB().BeginTx(ctx, nil)
				if err != nil {
					return nil, err
				}
				return sqlTx{s.Tx(tx), tx}, nil
			},
		}
	})
}

// sqlTx is a *sql.Tx with the Store's view of it.
type sqlTx struct {
	store.Tx
	tx *sql.Tx
}

func (t sqlTx) Commit() error   { return t.tx.Commit() }
func (t sqlTx) Rollback() error { return t.tx.Rollback() }
