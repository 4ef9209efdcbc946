package dashboard_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// TestCredentialsRedacted shows an endpoint with OAuth2 and TLS settings
// through the API and the endpoint page: the client secret and the TLS
// private key appear in neither; the rest of the settings do.
func TestCredentialsRedacted(t *testing.T) {
	e := newEnv(t, envOptions{})
	cert, key := storetest.ClientCertificate(t)
	ep := &store.Endpoint{Tenant: "acme", Mode: "test", URL: e.rc.Server.URL + "/hook", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		OAuth2: &store.OAuth2{TokenURL: "https://auth.example.com/token", ClientID: "client-7",
			ClientSecret: "oauth-secret-do-not-show", Scopes: []string{"hooks"}},
		TLS: &store.ClientTLS{CertPEM: cert, KeyPEM: key}}
	require.NoError(t, e.st.CreateEndpoint(context.Background(), ep))
	keyLine := strings.Split(key, "\n")[1]

	c := e.client("acme")
	r, body := c.api(http.MethodGet, "endpoints/"+ep.ID, nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	o := body["oauth2"].(map[string]any)
	require.Equal(t, "client-7", o["client_id"])
	require.Equal(t, sender.RedactedValue, o["client_secret"])
	require.Equal(t, true, body["tls"].(map[string]any)["client_certificate"])
	page := c.get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, page.status)
	for _, text := range []string{r.body, page.body} {
		require.NotContains(t, text, "oauth-secret-do-not-show")
		require.NotContains(t, text, keyLine)
		require.NotContains(t, text, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	}
}
