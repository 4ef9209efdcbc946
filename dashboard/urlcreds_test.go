package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestURLPasswordHidden checks that an endpoint URL's password, a credential
// the sender sends as basic auth and redacts from its own log, is not shown
// by the pages or the API, and that saving the redacted URL back (as the
// edit form does) keeps the stored one.
func TestURLPasswordHidden(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")
	ctx := context.Background()
	ep := e.addEndpoint("acme", "with credentials")
	u, err := url.Parse(e.rc.srv.URL + "/hook")
	require.NoError(t, err)
	u.User = url.UserPassword("hookuser", "s3cr3t-pass")
	ep.URL = u.String()
	require.NoError(t, e.st.UpdateEndpoint(ctx, ep))
	redacted := u.Redacted()
	require.NotContains(t, redacted, "s3cr3t-pass")

	for _, path := range []string{"", "endpoints/" + ep.ID} {
		r := c.get(path)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.NotContains(t, r.body, "s3cr3t-pass", path)
		require.Contains(t, r.body, "hookuser", path)
	}
	for _, path := range []string{"endpoints", "endpoints/" + ep.ID} {
		r, _ := c.api(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.NotContains(t, r.body, "s3cr3t-pass", path)
	}

	tests := []struct {
		name   string
		update func() response
	}{
		{"form with the redacted URL", func() response {
			return c.post("endpoints/"+ep.ID+"/edit", url.Values{"url": {redacted}, "description": {"form"}, "patterns": {"*"}})
		}},
		{"API with the redacted URL", func() response {
			r, _ := c.api(http.MethodPatch, "endpoints/"+ep.ID, map[string]any{"url": redacted, "description": "api"})
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.update()
			require.Less(t, r.status, 400, r.body)
			require.NotContains(t, r.body, "s3cr3t-pass")
			got, err := e.st.GetEndpoint(ctx, ep.ID)
			require.NoError(t, err)
			require.Equal(t, u.String(), got.URL, "the stored password is kept")
		})
	}

	// A new URL replaces the old one, password and all.
	r, _ := c.api(http.MethodPatch, "endpoints/"+ep.ID, map[string]any{"url": strings.Replace(redacted, "xxxxx", "new-pass", 1)})
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotContains(t, r.body, "new-pass")
	got, err := e.st.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Contains(t, got.URL, ":new-pass@")
}
