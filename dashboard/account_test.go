package dashboard_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAccountAndFormat checks that the dashboard creates endpoints narrowed
// to an account and with a body format, shows both (API, endpoint page and
// attempt), refuses to change them, and scopes by organization: another
// organization sees none of them.
func TestAccountAndFormat(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")
	r, ep := c.api(http.MethodPost, "endpoints", map[string]any{
		"url": e.rc.Server.URL + "/hook", "event_types": []string{"patient"},
		"account": "acct_1", "format": "event-payload",
	})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	id := ep["id"].(string)
	require.Equal(t, "acct_1", ep["account"])
	require.Equal(t, "event-payload", ep["format"])

	r, wide := c.api(http.MethodPost, "endpoints", map[string]any{"url": e.rc.Server.URL + "/hook", "event_types": []string{"*"}})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	require.Nil(t, wide["account"], "organization-wide: no account")
	require.Equal(t, "envelope", wide["format"], "the default format by name")

	r, _ = c.api(http.MethodPatch, "endpoints/"+id, map[string]any{"account": "acct_2"})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
	r, _ = c.api(http.MethodPatch, "endpoints/"+id, map[string]any{"format": "envelope"})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)

	page := c.get("endpoints/" + id)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "<dt>Account</dt><dd>acct_1</dd>")
	require.Contains(t, page.body, `<dt>Body format</dt><dd><code class="tag">event-payload</code></dd>`)
	page = c.get("endpoints/" + wide["id"].(string))
	require.Contains(t, page.body, "organization-wide")
	require.Contains(t, page.body, `<code class="tag">envelope</code>`)

	// A ping's attempt shows its format.
	r, ping := c.api(http.MethodPost, "endpoints/"+id+"/ping", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "event-payload", ping["attempt"].(map[string]any)["format"], r.body)

	// The dashboard scopes by organization: another one sees nothing.
	r, _ = e.client("globex").api(http.MethodGet, "endpoints/"+id, nil)
	require.Equal(t, http.StatusNotFound, r.status)
}
