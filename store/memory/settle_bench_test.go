package memory_test

import (
	"fmt"
	"testing"

	"github.com/webhookkit/webhookkit/store/storetest"
)

// BenchmarkSettle is storetest.BenchmarkSettle: ns/delivery to settle
// groups of 1, 32 and 256 leased deliveries with one Settle each.
func BenchmarkSettle(b *testing.B) {
	for _, n := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { storetest.BenchmarkSettle(b, benchStore, n) })
	}
}
