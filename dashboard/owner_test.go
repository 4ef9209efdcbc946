package dashboard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/store"
)

// ordersCatalog is a catalog of a neutral domain, with a sample for
// order.paid only.
func ordersCatalog(t testing.TB) *event.Catalog {
	t.Helper()
	cat, err := event.NewCatalog(
		event.TypeInfo{Type: "order.paid", Description: "An order was paid",
			Sample: json.RawMessage(`{"order_id":"ord_1042","amount":4200}`)},
		event.TypeInfo{Type: "invoice.finalized", Description: "An invoice can no longer change"},
	)
	require.NoError(t, err)
	return cat
}

// addByForm adds an endpoint of the local receiver with the add form (its
// other fields from form) as the tenant "acme", the tenant's first, and
// returns it as stored.
func addByForm(t *testing.T, e *env, c *client, form url.Values) *store.Endpoint {
	t.Helper()
	form.Set("url", e.rc.Server.URL+"/hook")
	r := c.post("endpoints", form)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	eps, _, err := e.st.ListEndpoints(context.Background(), store.EndpointFilter{Tenant: "acme"})
	require.NoError(t, err)
	require.Len(t, eps, 1)
	return eps[0]
}

// TestCatalogFromSender checks that the event types the dashboard offers,
// as subscriptions and in the simulator with their samples, are the
// sender's catalog's, and that the sender's rules refuse what the catalog
// does not list.
func TestCatalogFromSender(t *testing.T) {
	e := newEnv(t, envOptions{Catalog: ordersCatalog(t)})
	c := e.client("acme")
	ctx := context.Background()

	page := c.get("")
	require.Equal(t, http.StatusOK, page.status)
	for _, typ := range []string{"order.paid", "invoice.finalized"} {
		require.Contains(t, page.body, `name="event_type" value="`+typ+`"`)
	}
	require.Contains(t, page.body, "An invoice can no longer change")
	require.NotContains(t, page.body, `value="ping"`)
	require.NotContains(t, page.body, fasten.TypeEHIExportSuccess, "no provider's types unless the sender has them")

	r := c.post("endpoints", url.Values{"url": {e.rc.Server.URL + "/hook"}, "patterns": {"order.payed"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
	require.Contains(t, alertOf(t, r.body), "Endpoint not added: event types[0]: &#34;order.payed&#34; selects no event type of the catalog")

	ep := addByForm(t, e, c, url.Values{"event_type": {"order.paid"}, "patterns": {"invoice.*"}})
	require.Equal(t, []string{"order.paid", "invoice.*"}, ep.EventTypes)

	// The simulator: the catalog's types, ping included; the first one the
	// endpoint subscribes to is chosen, with its sample.
	r = c.get("endpoints/" + ep.ID + "/simulate")
	require.Equal(t, http.StatusOK, r.status)
	for _, typ := range []string{"invoice.finalized", "order.paid", "ping"} {
		require.Contains(t, r.body, `<option value="`+typ+`"`)
	}
	require.Contains(t, r.body, `<input type="hidden" name="type" value="invoice.finalized">`)
	require.Contains(t, r.body, ">{}</textarea>", "an entry without a sample starts at {}")
	r = c.get("endpoints/" + ep.ID + "/simulate?type=order.paid")
	require.Contains(t, r.body, "&#34;order_id&#34;: &#34;ord_1042&#34;", "the catalog's sample, pretty-printed")

	r = c.post("endpoints/"+ep.ID+"/simulate", url.Values{"type": {"order.refunded"}, "payload": {`{}`}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	require.Contains(t, alertOf(t, r.body), "Nothing was sent: type: &#34;order.refunded&#34; is not in the catalog.")
	r = c.post("endpoints/"+ep.ID+"/simulate", url.Values{"type": {"order.paid"}, "payload": {`{"order_id":"ord_7"}`}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	ds, _, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme"})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "order.paid", ds[0].Event.Type)
}

// TestWithoutCatalog checks that without a catalog on the sender, types are
// typed in: no checkboxes, a free type field in the simulator starting at
// {}, and any valid type or pattern accepted.
func TestWithoutCatalog(t *testing.T) {
	e := newEnv(t, envOptions{NoCatalog: true})
	c := e.client("acme")
	ctx := context.Background()

	page := c.get("")
	require.NotContains(t, page.body, `name="event_type"`)
	require.Contains(t, page.body, `Event types or patterns <input type="text" name="patterns"`)

	ep := addByForm(t, e, c, url.Values{"patterns": {"order.payed, invoice.*"}})
	require.Equal(t, []string{"order.payed", "invoice.*"}, ep.EventTypes)

	r := c.get("endpoints/" + ep.ID + "/simulate?type=invoice.paid")
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.body, "<select")
	require.Contains(t, r.body, `<input type="text" name="type" value="invoice.paid" required`)
	require.Contains(t, r.body, ">{}</textarea>")

	r = c.post("endpoints/"+ep.ID+"/simulate", url.Values{"type": {"invoice.paid"}, "payload": {`{"invoice_id":"in_1"}`}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	r = c.post("endpoints/"+ep.ID+"/simulate", url.Values{"type": {""}, "payload": {`{}`}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	require.Contains(t, alertOf(t, r.body), "Nothing was sent: type: missing.")
	ds, _, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme"})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "invoice.paid", ds[0].Event.Type)
}

// TestActionsGoThroughTheSender checks that the dashboard changes nothing
// behind the sender's back: once the sender is closed, every endpoint
// administration (which the store alone would accept) answers 503 and
// changes nothing, while reading, through the sender's store, still works.
func TestActionsGoThroughTheSender(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "before", "*")
	c := e.client("acme")
	c.csrfToken()
	require.NoError(t, e.snd.Close())

	for _, a := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "endpoints", map[string]any{"url": "https://example.com/h", "event_types": []string{"*"}}},
		{http.MethodPatch, "endpoints/" + ep.ID, map[string]any{"description": "after"}},
		{http.MethodDelete, "endpoints/" + ep.ID, nil},
		{http.MethodPost, "endpoints/" + ep.ID + "/rotate", nil},
		{http.MethodPost, "endpoints/" + ep.ID + "/disable", nil},
	} {
		r, body := c.api(a.method, a.path, a.body)
		require.Equal(t, http.StatusServiceUnavailable, r.status, "%s %s: %s", a.method, a.path, r.body)
		require.Equal(t, "unavailable", body["error"].(map[string]any)["code"])
	}
	for _, path := range []string{"endpoints/" + ep.ID + "/edit", "endpoints/" + ep.ID + "/delete"} {
		r := c.post(path, url.Values{"url": {ep.URL}, "description": {"after"}, "patterns": {"*"}})
		require.Equal(t, http.StatusServiceUnavailable, r.status, path)
		require.Contains(t, r.body, "The sender is stopped")
	}
	r := c.post("endpoints", url.Values{"url": {"https://example.com/h"}, "patterns": {"*"}})
	require.Equal(t, http.StatusServiceUnavailable, r.status)

	got, err := e.st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Equal(t, "before", got.Description)
	require.False(t, got.Disabled)
	require.Len(t, got.Secrets, 1)
	eps, _, err := e.st.ListEndpoints(context.Background(), store.EndpointFilter{AllTenants: true})
	require.NoError(t, err)
	require.Len(t, eps, 1)

	page := c.get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, page.status, "reads go to the sender's store")
	require.Contains(t, page.body, "before")
	_, list := c.api(http.MethodGet, "endpoints", nil)
	require.Len(t, list["data"], 1)
}

// TestReadOnlyWithUnstartedSender checks that a read-only dashboard over an
// unstarted sender shows lists and logs, hides every action, and refuses
// every state change.
func TestReadOnlyWithUnstartedSender(t *testing.T) {
	e := newEnv(t, envOptions{ReadOnly: true})
	ep := e.addEndpoint("acme", "read me", "*")
	e.deliver(ep, "ping")
	c := e.client("acme")

	page := c.get("")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "read me")
	require.NotContains(t, page.body, "Add endpoint")
	page = c.get("endpoints/" + ep.ID)
	require.Contains(t, page.body, "succeeded")
	for _, action := range []string{"Send ping", "Rotate secret", "Disable", "Delete", "Edit endpoint", "Resend"} {
		require.NotContains(t, page.body, action)
	}
	for _, path := range []string{"endpoints", "endpoints/" + ep.ID + "/edit", "endpoints/" + ep.ID + "/ping"} {
		r := c.post(path, url.Values{"csrf_token": {"any"}})
		require.Equal(t, http.StatusNotImplemented, r.status, path)
	}
	for _, path := range []string{"endpoints", "endpoints/" + ep.ID + "/ping", "endpoints/" + ep.ID + "/simulate"} {
		r, body := c.api(http.MethodPost, path, map[string]any{})
		require.Equal(t, http.StatusNotImplemented, r.status, path)
		require.Equal(t, "read_only", body["error"].(map[string]any)["code"])
	}
	require.Equal(t, 1, e.rc.Count(), "nothing but the delivery made above")
	require.NotContains(t, page.body, `action="/webhooks/endpoints/`+ep.ID+`/delete"`)
}
