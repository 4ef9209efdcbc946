package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// BenchmarkSettle is storetest.BenchmarkSettle: ns/delivery to settle
// groups of 1, 32 and 256 leased deliveries with one Settle each.
func BenchmarkSettle(b *testing.B) {
	newStore := func(tb testing.TB) storetest.Store { return seeder{newStore(tb), tb} }
	for _, n := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { storetest.BenchmarkSettle(b, newStore, n) })
	}
}

// BenchmarkClaimBatch is storetest.BenchmarkClaimBatch: ns/claim to claim
// groups of 1, 32 and 256 new keys with one ClaimBatch each, against 32
// single Claims.
func BenchmarkClaimBatch(b *testing.B) {
	newStore := func(tb testing.TB) storetest.Store { return newStore(tb) }
	for _, n := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { storetest.BenchmarkClaimBatch(b, newStore, n, true) })
	}
	b.Run("singly=32", func(b *testing.B) { storetest.BenchmarkClaimBatch(b, newStore, 32, false) })
}

// copySettler settles with postgres.SettleCopy.
type copySettler struct{ seeder }

func (c copySettler) Settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	return postgres.SettleCopy(ctx, c.Store, b)
}

// BenchmarkSettleAttempts measures the choice Settle made for writing
// attempts: the INSERT ... SELECT FROM unnest(...) pipelined with the rest
// of the batch (one round trip), against COPY in an explicit transaction
// (BEGIN, COPY, the rest, COMMIT), in groups of 1, 32 and 256 deliveries.
func BenchmarkSettleAttempts(b *testing.B) {
	for _, n := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("unnest/batch=%d", n), func(b *testing.B) {
			storetest.BenchmarkSettle(b, func(tb testing.TB) storetest.Store { return seeder{newStore(tb), tb} }, n)
		})
		b.Run(fmt.Sprintf("copy/batch=%d", n), func(b *testing.B) {
			storetest.BenchmarkSettle(b, func(tb testing.TB) storetest.Store { return copySettler{seeder{newStore(tb), tb}} }, n)
		})
	}
}
