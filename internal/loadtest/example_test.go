package loadtest_test

import (
	"fmt"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
)

// Every figure the programs publish is a ratio of medians taken from
// alternating runs (A/B/A/B) of the subject and its baseline.
func ExampleMedian() {
	bare := []float64{21000, 23500, 22000, 22400}
	recv := []float64{19800, 20100, 21900, 20500}
	fmt.Printf("%.0f %.0f %.2f\n", loadtest.Median(bare), loadtest.Median(recv),
		loadtest.Ratio(loadtest.Median(recv), loadtest.Median(bare)))
	fmt.Println(loadtest.Percentile([]time.Duration{1, 2, 3, 4}, 0.5))
	// Output:
	// 22200 20300 0.91
	// 2ns
}
