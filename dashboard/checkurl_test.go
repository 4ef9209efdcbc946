package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// TestPrivateURLRefusedAtCreation checks that, with a sender that refuses
// private networks, the dashboard refuses at once (400 in the API, 422 on the pages, with the reason) to
// create an endpoint whose URL is a non-public IP literal or localhost, or
// to change an endpoint's URL to one, on the pages and in the API, and
// stores nothing. A public host name is accepted without being resolved.
func TestPrivateURLRefusedAtCreation(t *testing.T) {
	e := newEnv(t, envOptions{Guarded: true})
	c := e.client("acme")
	ctx := context.Background()
	count := func() int {
		t.Helper()
		eps, _, err := e.st.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true})
		require.NoError(t, err)
		return len(eps)
	}

	private := []string{
		"http://127.0.0.1:8080/hook",
		"http://localhost/hook",
		"https://metadata.localhost/",
		"http://[::1]/hook",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.1.2.3/hook",
		"http://0x7f000001/hook",
		"http://user:s3cr3t@192.168.0.10/hook",
	}
	for _, u := range private {
		r, body := c.api(http.MethodPost, "endpoints", map[string]any{"url": u, "event_types": []string{"*"}})
		require.Equal(t, http.StatusBadRequest, r.status, u+": "+r.body)
		er := body["error"].(map[string]any)
		require.Equal(t, "invalid", er["code"], u)
		require.Contains(t, er["message"], "is not a public host", u)
		require.NotContains(t, r.body, "s3cr3t", u)

		r = c.post("endpoints", url.Values{"url": {u}, "patterns": {"*"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, u)
		require.Contains(t, r.body, "Endpoint not added:", u)
		require.Contains(t, r.body, "is not a public host", u)
		// (The form shows the submitted URL back to whoever typed it.)
		require.NotRegexp(t, `class="error"[^\n]*s3cr3t`, r.body, u)
	}
	require.Zero(t, count(), "nothing was stored")

	// A public name is not resolved, so it is accepted.
	r, ep := c.api(http.MethodPost, "endpoints", map[string]any{"url": "https://hooks.example.com/in", "event_types": []string{"*"}})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	id := ep["id"].(string)

	// Changing its URL to a private one is refused the same way.
	r, body := c.api(http.MethodPatch, "endpoints/"+id, map[string]any{"url": "http://127.0.0.1/hook"})
	require.Equal(t, http.StatusBadRequest, r.status, r.body)
	require.Contains(t, body["error"].(map[string]any)["message"], "is not a public host")
	r = c.post("endpoints/"+id+"/edit", url.Values{"url": {"http://localhost:9/x"}, "patterns": {"*"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
	require.Contains(t, r.body, "Endpoint not updated:")
	require.Contains(t, r.body, "is not a public host")
	got, err := e.st.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "https://hooks.example.com/in", got.URL)
	require.Equal(t, 1, count())
}

// TestPrivateURLAllowedWhenTheSenderAllowsIt checks that the dashboard
// applies the sender's setting: a sender that may reach private networks
// accepts loopback URLs.
func TestPrivateURLAllowedWhenTheSenderAllowsIt(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")
	r, _ := c.api(http.MethodPost, "endpoints", map[string]any{"url": "http://127.0.0.1:8080/hook", "event_types": []string{"*"}})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	r = c.post("endpoints", url.Values{"url": {"http://localhost/hook"}, "patterns": {"*"}})
	require.Equal(t, http.StatusCreated, r.status, r.body)
}
