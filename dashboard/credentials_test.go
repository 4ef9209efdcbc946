package dashboard_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/testcert"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// TestCredentialsRedacted shows an endpoint with OAuth2 and TLS settings
// through the API (one endpoint and the list) and the pages (the endpoint
// and the list): the client secret and every line of the TLS private key
// appear in none; the rest of the settings do: the token URL, client id,
// scopes and audience, the client certificate's subject and expiry, and
// how many certificates the CA bundle holds.
func TestCredentialsRedacted(t *testing.T) {
	e := newEnv(t, envOptions{})
	cert, key := storetest.ClientCertificate(t)
	ca := testcert.NewCA(t, "endpoint CA").PEM
	ep := &store.Endpoint{Tenant: "acme", Mode: "test", URL: e.rc.Server.URL + "/hook", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		OAuth2: &store.OAuth2{TokenURL: "https://auth.example.com/token", ClientID: "client-7",
			ClientSecret: "oauth-secret-do-not-show", Scopes: []string{"hooks", "hooks:read"}, Audience: "https://hooks.example.com"},
		TLS: &store.ClientTLS{CertPEM: cert, KeyPEM: key, CAPEM: ca}}
	require.NoError(t, e.st.CreateEndpoint(context.Background(), ep))
	b, _ := pem.Decode([]byte(cert))
	leaf, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)

	c := e.client("acme")
	r, body := c.api(http.MethodGet, "endpoints/"+ep.ID, nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	o := body["oauth2"].(map[string]any)
	require.Equal(t, "client-7", o["client_id"])
	require.Equal(t, sender.RedactedValue, o["client_secret"])
	require.Equal(t, "https://hooks.example.com", o["audience"])
	tv := body["tls"].(map[string]any)
	require.Equal(t, true, tv["client_certificate"])
	require.Equal(t, "CN=storetest client", tv["client_certificate_subject"])
	require.Equal(t, leaf.NotAfter.UTC().Format("2006-01-02T15:04:05Z"), tv["client_certificate_expires_at"])
	require.Equal(t, true, tv["ca_bundle"])
	require.Equal(t, 1.0, tv["ca_certificates"])
	list, _ := c.api(http.MethodGet, "endpoints", nil)
	require.Equal(t, http.StatusOK, list.status)

	page := c.get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, page.status)
	shown := html.UnescapeString(page.body)
	for _, s := range []string{
		"OAuth 2.0", "https://auth.example.com/token", "client-7", "client secret", "set, never shown",
		"hooks:read", "https://hooks.example.com",
		"client certificate <code>CN=storetest client</code>, expires " + leaf.NotAfter.UTC().Format("2006-01-02 15:04:05 UTC"),
		"private key", "CA bundle: 1 certificate,",
	} {
		require.Contains(t, shown, s)
	}
	listPage := c.get("")
	require.Equal(t, http.StatusOK, listPage.status)

	keyLines := strings.Split(strings.TrimSpace(key), "\n")
	keyLines = keyLines[1 : len(keyLines)-1] // the base64 lines, without BEGIN and END
	require.NotEmpty(t, keyLines)
	for _, text := range []string{r.body, list.body, page.body, listPage.body} {
		text = html.UnescapeString(text)
		require.NotContains(t, text, "oauth-secret-do-not-show")
		require.NotContains(t, text, "PRIVATE KEY")
		for _, l := range keyLines {
			require.NotContains(t, text, l)
		}
		require.NotContains(t, text, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	}
}

// TestCredentialsCABundleOnly: an endpoint that only trusts its own CA
// shows the bundle and no client certificate.
func TestCredentialsCABundleOnly(t *testing.T) {
	e := newEnv(t, envOptions{})
	ca1, ca2 := testcert.NewCA(t, "one").PEM, testcert.NewCA(t, "two").PEM
	ep := &store.Endpoint{Tenant: "acme", Mode: "test", URL: e.rc.Server.URL + "/hook", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		TLS:     &store.ClientTLS{CAPEM: ca1 + ca2}}
	require.NoError(t, e.st.CreateEndpoint(context.Background(), ep))
	page := e.client("acme").get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "CA bundle: 2 certificates")
	require.NotContains(t, page.body, "client certificate")
	require.NotContains(t, page.body, "OAuth 2.0")
}
