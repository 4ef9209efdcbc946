package store_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// TestCredentialsRedact formats and logs an endpoint with OAuth2 and TLS
// settings every way: neither the client secret nor the private key shows.
func TestCredentialsRedact(t *testing.T) {
	ep := &store.Endpoint{ID: "ep1",
		OAuth2:  &store.OAuth2{TokenURL: "https://auth.example.com/t", ClientID: "c", ClientSecret: "oauth-secret"},
		TLS:     &store.ClientTLS{CertPEM: "CERT", KeyPEM: "-----BEGIN PRIVATE KEY-----tls-key"},
		Secrets: []store.SigningKey{{Key: "whsec_signing"}}}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "oauth2", ep.OAuth2, "tls", ep.TLS, "oauth2v", *ep.OAuth2, "tlsv", *ep.TLS)
	out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", ep, ep, ep, ep.OAuth2, *ep.OAuth2, *ep.TLS, ep.TLS) + buf.String()
	for _, secret := range []string{"oauth-secret", "tls-key", "whsec_signing"} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, "auth.example.com")
	require.Contains(t, out, "(redacted)")
}
