package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// TestConformance runs the shared store suite, each case on a store in a
// fresh schema of its own.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store { return newStore(t) })
}

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
// batches of 10, then complete each) beside a not-yet-due backlog of
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
