package webhooktest_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// fatalTB records Fatalf instead of ending the test, to see what a helper
// reports.
type fatalTB struct {
	testing.TB
	fatal string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestSampleEvent(t *testing.T) {
	cat, err := event.NewCatalog(
		event.TypeInfo{Type: "order.paid", Sample: json.RawMessage(`{"order_id": "ord_1", "amount": 4200}`)},
		event.TypeInfo{Type: "invoice.finalized"},
	)
	require.NoError(t, err)

	ev := webhooktest.SampleEvent(t, cat, "order.paid")
	require.Equal(t, event.ModeTest, ev.APIMode)
	require.Equal(t, "order.paid", ev.Type)
	require.True(t, ev.Date.IsZero(), "dated by the sender")
	require.Equal(t, `{"order_id": "ord_1", "amount": 4200}`, string(ev.Data), "the sample, verbatim")

	require.JSONEq(t, `{}`, string(webhooktest.SampleEvent(t, cat, "invoice.finalized").Data), "no sample: {}")

	info, _ := fasten.Catalog().Lookup(fasten.TypeEHIExportSuccess)
	require.Equal(t, string(info.Sample), string(webhooktest.SampleEvent(t, fasten.Catalog(), fasten.TypeEHIExportSuccess).Data))

	for _, c := range []*event.Catalog{cat, nil} {
		tb := &fatalTB{TB: t}
		webhooktest.SampleEvent(tb, c, "order.payed")
		require.Contains(t, tb.fatal, `webhooktest: event type "order.payed" is not in the catalog`)
		if c != nil {
			require.Contains(t, tb.fatal, "it lists: invoice.finalized, order.paid, ping")
		}
	}
}
