package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/testcert"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

// ClientCertificate returns a fresh client certificate and its private
// key, as PEM, issued by a throwaway CA: valid [store.ClientTLS] values for
// tests.
func ClientCertificate(tb testing.TB) (certPEM, keyPEM string) {
	tb.Helper()
	return testcert.NewCA(tb, "storetest CA").Client(tb, "storetest client")
}

// testEndpointCredentials checks that OAuth2 and TLS settings round-trip
// whole (a store that seals them opens them again), are copied, can be
// changed and removed by an update, and are validated.
func testEndpointCredentials(f *endpointsFixture) {
	cert, key := ClientCertificate(f)
	ca := testcert.NewCA(f, "endpoint CA").PEM
	ep := f.endpoint(func(ep *store.Endpoint) {
		ep.OAuth2 = &store.OAuth2{TokenURL: "https://auth.example.com/oauth/token", ClientID: "client-1",
			ClientSecret: "s3cret", Scopes: []string{"hooks:write", "hooks:read"}, Audience: "https://hooks.example.com"}
		ep.TLS = &store.ClientTLS{CertPEM: cert, KeyPEM: key, CAPEM: ca}
	})
	got, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	require.Equal(f, ep.OAuth2, got.OAuth2)
	require.Equal(f, ep.TLS, got.TLS)
	requireSameEndpoint(f, ep, got)

	got.OAuth2.Scopes[0] = "changed"
	got.TLS.KeyPEM = "changed"
	again, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	require.Equal(f, "hooks:write", again.OAuth2.Scopes[0], "GetEndpoint returns a copy")
	require.Equal(f, key, again.TLS.KeyPEM)

	// Update: new client secret, no scopes, the CA bundle alone.
	again.OAuth2.ClientSecret, again.OAuth2.Scopes = "rotated", nil
	again.TLS = &store.ClientTLS{CAPEM: ca}
	require.NoError(f, f.s.UpdateEndpoint(f.ctx, again))
	got, err = f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	require.Equal(f, "rotated", got.OAuth2.ClientSecret)
	require.Empty(f, got.OAuth2.Scopes)
	require.Equal(f, &store.ClientTLS{CAPEM: ca}, got.TLS)
	got.OAuth2, got.TLS = nil, nil
	require.NoError(f, f.s.UpdateEndpoint(f.ctx, got))
	got, err = f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	require.Nil(f, got.OAuth2)
	require.Nil(f, got.TLS)

	other, otherKey := ClientCertificate(f)
	for name, c := range map[string]struct {
		field string
		edit  func(*store.Endpoint)
	}{
		"no client id": {"oauth2.client_id", func(ep *store.Endpoint) {
			ep.OAuth2 = &store.OAuth2{TokenURL: "https://a.example/t", ClientSecret: "x"}
		}},
		"no secret": {"oauth2.client_secret", func(ep *store.Endpoint) { ep.OAuth2 = &store.OAuth2{TokenURL: "https://a.example/t", ClientID: "x"} }},
		"token url": {"oauth2.token_url", func(ep *store.Endpoint) {
			ep.OAuth2 = &store.OAuth2{TokenURL: "ftp://a", ClientID: "x", ClientSecret: "y"}
		}},
		"url with creds": {"oauth2.token_url", func(ep *store.Endpoint) {
			ep.OAuth2 = &store.OAuth2{TokenURL: "https://u:p@a.example/t", ClientID: "x", ClientSecret: "y"}
		}},
		"empty tls":  {"tls", func(ep *store.Endpoint) { ep.TLS = &store.ClientTLS{} }},
		"cert alone": {"tls", func(ep *store.Endpoint) { ep.TLS = &store.ClientTLS{CertPEM: cert} }},
		"mismatch":   {"tls.certificate", func(ep *store.Endpoint) { ep.TLS = &store.ClientTLS{CertPEM: other, KeyPEM: key} }},
		"bad ca":     {"tls.ca", func(ep *store.Endpoint) { ep.TLS = &store.ClientTLS{CAPEM: "not pem"} }},
	} {
		bad := validEndpoint()
		c.edit(bad)
		err := f.s.CreateEndpoint(f.ctx, bad)
		require.ErrorIs(f, err, store.ErrInvalid, name)
		var fe *store.FieldError
		require.True(f, errors.As(err, &fe), name)
		require.Equal(f, c.field, fe.Field, name)
		require.NotContains(f, err.Error(), otherKey, name)
		require.NotContains(f, err.Error(), key, name)
	}
}

// CredentialedEndpoint returns a valid endpoint with every kind of
// credential (a signing secret, an OAuth2 client secret, a TLS client
// certificate and key), and texts of those secrets that a dump of a store
// that seals them at rest must not contain: for tests of encryption at rest.
func CredentialedEndpoint(tb testing.TB) (*store.Endpoint, []string) {
	tb.Helper()
	cert, key := ClientCertificate(tb)
	ep := &store.Endpoint{
		Tenant: "acme", Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: testSecret}},
		OAuth2: &store.OAuth2{TokenURL: "https://auth.example.com/token", ClientID: "client-1",
			ClientSecret: "oauth-client-secret-42", Scopes: []string{"hooks"}},
		TLS: &store.ClientTLS{CertPEM: cert, KeyPEM: key},
	}
	keyLine := strings.Split(strings.TrimSpace(key), "\n")[1] // a line of the key's base64
	return ep, []string{strings.TrimPrefix(testSecret, signature.SecretPrefix), "oauth-client-secret-42", keyLine}
}

// Keyring returns a seal.Keyring of the given ids, the first sealing, each
// key made of the byte i+1 for the i-th id: stable keys for tests, never
// for production.
func Keyring(tb testing.TB, ids ...string) *seal.Keyring {
	tb.Helper()
	keys := make([]seal.Key, len(ids))
	for i, id := range ids {
		keys[i] = seal.Key{ID: id, Secret: bytes.Repeat([]byte{byte(i + 1)}, seal.KeySize)}
	}
	r, err := seal.NewKeyring(keys...)
	require.NoError(tb, err)
	return r
}
