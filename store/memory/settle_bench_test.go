package memory_test

import (
	"fmt"
	"testing"

	"github.com/webhookkit/webhookkit/store/storetest"
)

// BenchmarkSettle is storetest.BenchmarkSettle: ns/delivery to settle
// groups of 1, 32 and 256 leased deliveries with one Settle each, against
// 32 settled one by one (AddAttempt, Complete and RecordResult each).
func BenchmarkSettle(b *testing.B) {
	newStore := benchStore
	for _, n := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { storetest.BenchmarkSettle(b, newStore, n, true) })
	}
	b.Run("singly=32", func(b *testing.B) { storetest.BenchmarkSettle(b, newStore, 32, false) })
}
