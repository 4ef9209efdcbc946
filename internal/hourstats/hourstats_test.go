package hourstats_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/hourstats"
	"github.com/webhookkit/webhookkit/store"
)

func TestOrder(t *testing.T) {
	var h store.HourStats
	h.Counts[store.Class5xx] = 7
	h.Latency[3] = 9
	require.Len(t, hourstats.Columns, int(store.NumClasses)+store.NumLatencyBuckets)
	v := hourstats.Values(&h)
	require.Equal(t, int64(7), v[2], hourstats.Columns[2])
	require.Equal(t, int64(9), v[int(store.NumClasses)+3], hourstats.Columns[int(store.NumClasses)+3])
	require.Equal(t, store.HourStats{Counts: h.Counts, Latency: h.Latency}, h, "Values does not change h")
	var back store.HourStats
	for i, p := range hourstats.Dest(&back) {
		*p.(*int64) = v[i]
	}
	require.Equal(t, h, back)
}

func Example() {
	fmt.Println(hourstats.Columns[:5], hourstats.Columns[5], hourstats.Columns[len(hourstats.Columns)-1])
	// Output: [n_2xx n_4xx n_5xx n_network n_other] lat_00 lat_13
}
