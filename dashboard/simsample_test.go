package dashboard_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event/fasten"
)

// TestAPISimulateSample checks that the API's simulate without "data" (or
// with null) sends the sample the catalog declares for the type, as the
// simulator page and "webhook simulate" do, and that given data replaces it.
func TestAPISimulateSample(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")
	ep := e.addEndpoint("acme", "hook")
	info, ok := fasten.Catalog().Lookup(fasten.TypeEHIExportSuccess)
	require.True(t, ok)
	require.NotEqual(t, "{}", string(info.Sample), "the test needs a type with a sample")

	for _, body := range []map[string]any{
		{"type": fasten.TypeEHIExportSuccess},
		{"type": fasten.TypeEHIExportSuccess, "data": nil},
	} {
		r, _ := c.api(http.MethodPost, "endpoints/"+ep.ID+"/simulate", body)
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		var ev struct {
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &ev))
		require.JSONEq(t, string(info.Sample), string(ev.Data), "%v", body)
	}
	r, got := c.api(http.MethodPost, "endpoints/"+ep.ID+"/simulate", map[string]any{"type": fasten.TypeEHIExportSuccess, "data": map[string]any{"k": "v"}})
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	require.Equal(t, map[string]any{"k": "v"}, got["data"])

}
