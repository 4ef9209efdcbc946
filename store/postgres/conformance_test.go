package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// TestConformance runs the shared store suite, each case on a store in a
// fresh schema of its own.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(tb testing.TB) storetest.Store { return newStore(tb) })
}

// TestConformanceTx runs the transaction cases on transactions of the
// store's pool; the cases read back through the pool, on other
// connections.
func TestConformanceTx(t *testing.T) {
	t.Parallel()
	storetest.RunTx(t, func(tb testing.TB) storetest.TxStore {
		pool := newPool(tb)
		s := newStoreOn(tb, pool)
		return storetest.TxStore{
			Store: s,
			Begin: func(ctx context.Context) (storetest.Transaction, error) {
				tx, err := pool.Begin(ctx)
				if err != nil {
					return nil, err
				}
				return pgTx{s.Tx(tx), tx, ctx}, nil
			},
		}
	})
}

// pgTx is a pgx.Tx with the Store's view of it; it ends with the context
// it began with.
type pgTx struct {
	store.Tx
	tx  pgx.Tx
	ctx context.Context
}

func (t pgTx) Commit() error   { return t.tx.Commit(t.ctx) }
func (t pgTx) Rollback() error { return t.tx.Rollback(t.ctx) }

// seeder gives the suite's benchmark a bulk backlog seeder without adding
// one to the driver's API.
type seeder struct {
	*postgres.Store
	tb testing.TB
}

func (s seeder) SeedBacklog(ctx context.Context, targets []store.Target, n int, due time.Time) error {
	seed(ctx, s.tb, s.Store, targets, n, due)
	return nil
}

// BenchmarkConformanceLease is the suite's lease benchmark (lease in
// batches of 10, then settle each batch with one Settle) beside a not-yet-due backlog of
// 1,000 and 100,000 deliveries; 1,000,000 too with WEBHOOKKIT_FULL=1.
func BenchmarkConformanceLease(b *testing.B) {
	for _, n := range backlogSizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			storetest.BenchmarkLease(b, func(tb testing.TB) storetest.Store {
				return seeder{newStore(tb), tb}
			}, n)
		})
	}
}
