package dashboard_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// TestURLCredentialsHidden checks that an endpoint URL's userinfo, user name
// and password alike (credentials the sender sends as basic auth and
// redacts from its own log), is shown by neither the pages nor the API: in
// the endpoint's URL, its attempts' URLs and errors, its deliveries' last
// errors and a ping's result, including attempts logged by an older sender
// with the user name in their URL. Saving the redacted URL back (as the
// edit form does) keeps the stored one; a new URL replaces it.
func TestURLCredentialsHidden(t *testing.T) {
	for _, tt := range []struct {
		name string
		user *url.Userinfo
	}{
		{"user and password", url.UserPassword("hookuser", "s3cr3t-pass")},
		{"token as user name", url.User("s3cr3t-token")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			c := e.client("acme")
			ctx := context.Background()
			secrets := []string{"s3cr3t", "hookuser"}
			noSecrets := func(t *testing.T, body, where string) {
				t.Helper()
				for _, s := range secrets {
					require.NotContains(t, body, s, where)
				}
			}

			ep := e.addEndpoint("acme", "with credentials")
			u, err := url.Parse(e.rc.Server.URL + "/hook")
			require.NoError(t, err)
			u.User = tt.user
			ep.URL = u.String()
			require.NoError(t, e.st.UpdateEndpoint(ctx, ep))
			redacted := strings.Replace(e.rc.Server.URL, "http://", "http://"+sender.RedactedValue+"@", 1) + "/hook"

			// A delivered attempt, and one an older sender logged with the
			// user name in its URL.
			ok := e.deliver(ep, "webhook.test")
			require.Equal(t, store.StateSucceeded, ok.State)
			require.NoError(t, e.st.AddAttempt(ctx, &store.Attempt{
				ID: "att_old", EndpointID: ep.ID, Tenant: "acme", EventID: "msg_old", EventType: "webhook.test",
				Mode: ep.Mode, Number: 1, At: time.Now(), URL: u.Redacted(), StatusCode: http.StatusOK, Success: true,
			}))

			// An endpoint with credentials whose port is closed: its
			// attempt fails with a transport error naming the URL.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			closed := "http://" + tt.user.String() + "@" + l.Addr().String() + "/hook"
			require.NoError(t, l.Close())
			bad := e.addEndpoint("acme", "closed port")
			bad.URL = closed
			require.NoError(t, e.st.UpdateEndpoint(ctx, bad))
			failed := e.deliver(bad, "webhook.test")
			require.Equal(t, store.StateFailed, failed.State)
			require.Contains(t, failed.LastError, "(redacted)@127.0.0.1")
			noSecrets(t, failed.LastError, "LastError")

			for _, path := range []string{"", "endpoints/" + ep.ID, "endpoints/" + bad.ID,
				"endpoints/" + ep.ID + "/deliveries/" + ok.ID, "endpoints/" + bad.ID + "/deliveries/" + failed.ID} {
				r := c.get(path)
				require.Equal(t, http.StatusOK, r.status, r.body)
				noSecrets(t, r.body, path)
			}
			require.Contains(t, c.get("endpoints/"+bad.ID+"/deliveries/"+failed.ID).body, "(redacted)@127.0.0.1")
			for _, path := range []string{"endpoints", "endpoints/" + ep.ID, "endpoints/" + ep.ID + "/attempts",
				"endpoints/" + ep.ID + "/attempts/att_old", "endpoints/" + bad.ID + "/attempts",
				"endpoints/" + bad.ID + "/deliveries", "endpoints/" + bad.ID + "/deliveries/" + failed.ID} {
				r, _ := c.api(http.MethodGet, path, nil)
				require.Equal(t, http.StatusOK, r.status, r.body)
				noSecrets(t, r.body, path)
			}
			r, m := c.api(http.MethodGet, "endpoints/"+ep.ID+"/attempts/att_old", nil)
			require.Equal(t, http.StatusOK, r.status, r.body)
			require.Equal(t, redacted, m["url"])

			// Ping's result, on the page and in the API.
			r = c.post("endpoints/"+bad.ID+"/ping", nil)
			require.Equal(t, http.StatusOK, r.status, r.body)
			require.Contains(t, r.body, "Ping failed")
			noSecrets(t, r.body, "ping page")
			r, _ = c.api(http.MethodPost, "endpoints/"+bad.ID+"/ping", nil)
			require.Equal(t, http.StatusOK, r.status, r.body)
			noSecrets(t, r.body, "ping API")

			for _, up := range []struct {
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
			} {
				r := up.update()
				require.Less(t, r.status, 400, up.name+": "+r.body)
				noSecrets(t, r.body, up.name)
				got, err := e.st.GetEndpoint(ctx, ep.ID)
				require.NoError(t, err)
				require.Equal(t, u.String(), got.URL, up.name+": the stored credentials are kept")
			}

			// The redacted userinfo on another host is a new URL: it
			// does not take the stored credentials along.
			other := strings.Replace(redacted, "127.0.0.1", "localhost", 1)
			r, _ = c.api(http.MethodPatch, "endpoints/"+ep.ID, map[string]any{"url": other})
			require.Equal(t, http.StatusOK, r.status, r.body)
			got, err := e.st.GetEndpoint(ctx, ep.ID)
			require.NoError(t, err)
			require.Equal(t, other, got.URL)

			// A new URL replaces the old one, credentials and all.
			r, _ = c.api(http.MethodPatch, "endpoints/"+ep.ID, map[string]any{"url": strings.Replace(redacted, "(redacted)", "new-user:new-pass", 1)})
			require.Equal(t, http.StatusOK, r.status, r.body)
			require.NotContains(t, r.body, "new-pass")
			require.NotContains(t, r.body, "new-user")
			got, err = e.st.GetEndpoint(ctx, ep.ID)
			require.NoError(t, err)
			require.Contains(t, got.URL, "//new-user:new-pass@")
		})
	}
}
