package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
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
	require.Equal(t, http.StatusBadRequest, r.status, r.body)
	r, _ = c.api(http.MethodPatch, "endpoints/"+id, map[string]any{"format": "envelope"})
	require.Equal(t, http.StatusBadRequest, r.status, r.body)

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

// TestCreateFormAccountAndFormat adds endpoints with the HTML form's
// account and body format: they are stored through the sender's endpoint
// owner, shown on the endpoint page and in its (read-only) edit form, kept
// by an edit, and typed values survive a refused form. A tenant's form
// cannot reach another tenant, whatever the account.
func TestCreateFormAccountAndFormat(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")

	page := c.get("")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, `<input type="text" name="account" value=""`)
	require.Contains(t, page.body, `<option value="envelope" selected>`, "the envelope is the default")
	require.Contains(t, page.body, `<option value="event-payload">`)

	r := c.post("endpoints", url.Values{
		"url": {e.rc.Server.URL + "/hook"}, "patterns": {"*"},
		"account": {"  acct_1 "}, "format": {"event-payload"},
		"tenant": {"globex"}, // ignored: a tenant creates for itself
	})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	require.Contains(t, r.body, "<dt>Account</dt><dd>acct_1</dd>")
	require.Contains(t, r.body, `<dt>Body format</dt><dd><code class="tag">event-payload</code></dd>`)
	eps, _, err := e.st.ListEndpoints(context.Background(), store.EndpointFilter{AllTenants: true})
	require.NoError(t, err)
	require.Len(t, eps, 1)
	ep := eps[0]
	require.Equal(t, "acme", ep.Tenant)
	require.Equal(t, "acct_1", ep.Account, "trimmed")
	require.Equal(t, store.BodyEventPayload, ep.Format)

	// The edit form shows both, disabled: saving keeps them.
	page = c.get("endpoints/" + ep.ID)
	require.Contains(t, page.body, `name="account" value="acct_1" disabled`)
	require.Contains(t, page.body, `name="format" value="event-payload" disabled`)
	r = c.post("endpoints/"+ep.ID+"/edit", url.Values{"url": {ep.URL}, "patterns": {"*"}, "description": {"edited"},
		"account": {"acct_2"}, "format": {"envelope"}}) // disabled fields are not sent; a forged post is ignored
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	got, err := e.st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Equal(t, "edited", got.Description)
	require.Equal(t, "acct_1", got.Account)
	require.Equal(t, store.BodyEventPayload, got.Format)

	// Without an account or a format: organization-wide, the envelope.
	r = c.post("endpoints", url.Values{"url": {e.rc.Server.URL + "/hook"}, "patterns": {"*"}})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	require.Contains(t, r.body, "organization-wide")
	require.Contains(t, r.body, `<code class="tag">envelope</code>`)

	// A refused form keeps what was typed, and says which field is wrong.
	r = c.post("endpoints", url.Values{"url": {e.rc.Server.URL + "/hook"}, "patterns": {"*"}, "account": {"acct_9"}, "format": {"yaml"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
	require.Contains(t, r.body, "Endpoint not added: format: ")
	require.Contains(t, r.body, `name="account" value="acct_9"`)

	// An operator picks the tenant and the account.
	r = e.client("operator").post("endpoints", url.Values{"url": {e.rc.Server.URL + "/hook"}, "patterns": {"*"},
		"tenant": {"globex"}, "account": {"acct_g"}})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	eps, _, err = e.st.ListEndpoints(context.Background(), store.EndpointFilter{Tenant: "globex"})
	require.NoError(t, err)
	require.Len(t, eps, 1)
	require.Equal(t, "acct_g", eps[0].Account)
	require.Equal(t, http.StatusNotFound, c.get("endpoints/"+eps[0].ID).status, "another tenant's account stays hidden")
}
