package memory_test

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// BenchmarkLease measures Lease+Complete per due delivery beside a backlog
// of 1,000 and 1,000,000 not-yet-due deliveries. Both sizes always run:
// seeding a million deliveries into memory takes a few seconds.
func BenchmarkLease(b *testing.B) {
	for _, backlog := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			storetest.BenchmarkLease(b, func(testing.TB) storetest.Store {
				return memory.New(&memory.Config{Logger: slog.New(slog.DiscardHandler)})
			}, backlog)
		})
	}
}
