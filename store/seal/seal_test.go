package seal_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

func key(id string, b byte) seal.Key {
	return seal.Key{ID: id, Secret: bytes.Repeat([]byte{b}, seal.KeySize)}
}

func ring(t testing.TB, keys ...seal.Key) *seal.Keyring {
	t.Helper()
	r, err := seal.NewKeyring(keys...)
	require.NoError(t, err)
	return r
}

func TestSealOpen(t *testing.T) {
	r := ring(t, key("k1", 1))
	s, err := r.Seal("whsec_plain", "ctx")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(s, seal.Prefix+"k1:"))
	require.NotContains(t, s, "whsec_plain")
	id, ok := seal.KeyID(s)
	require.True(t, ok)
	require.Equal(t, "k1", id)
	pt, err := r.Open(s, "ctx")
	require.NoError(t, err)
	require.Equal(t, "whsec_plain", pt)

	s2, err := r.Seal("whsec_plain", "ctx")
	require.NoError(t, err)
	require.NotEqual(t, s, s2, "a fresh nonce per value")

	_, err = r.Open(s, "another endpoint")
	require.ErrorIs(t, err, seal.ErrWrongKey, "bound to its context")
	_, err = ring(t, key("k1", 2)).Open(s, "ctx")
	require.ErrorIs(t, err, seal.ErrWrongKey, "same id, other key")
	_, err = ring(t, key("k2", 1)).Open(s, "ctx")
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	require.NotContains(t, fmt.Sprint(err), s[len(seal.Prefix)+3:])
}

func TestRotation(t *testing.T) {
	old := ring(t, key("k1", 1))
	s, err := old.Seal("secret", "c")
	require.NoError(t, err)
	both := ring(t, key("k2", 2), key("k1", 1))
	require.False(t, both.Current(s))
	pt, err := both.Open(s, "c")
	require.NoError(t, err)
	require.Equal(t, "secret", pt)
	s2, err := both.Seal(pt, "c")
	require.NoError(t, err)
	require.True(t, both.Current(s2))
	_, err = old.Open(s2, "c")
	require.ErrorIs(t, err, seal.ErrUnknownKey)
}

func TestNewKeyringRefuses(t *testing.T) {
	for name, keys := range map[string][]seal.Key{
		"none":     nil,
		"short":    {{ID: "a", Secret: []byte("short")}},
		"no id":    {key("", 1)},
		"bad id":   {key("a b", 1)},
		"repeated": {key("a", 1), key("a", 2)},
	} {
		_, err := seal.NewKeyring(keys...)
		require.ErrorIs(t, err, seal.ErrInvalidKey, name)
	}
	k := key("a", 7)
	require.NotContains(t, fmt.Sprintf("%v %+v %#v", k, k, k), "\x07")
}

func endpoint() *store.Endpoint {
	return &store.Endpoint{ID: "ep1", Secrets: []store.SigningKey{{Key: "whsec_A"}, {Key: "whsec_B"}},
		OAuth2: &store.OAuth2{ClientID: "id", ClientSecret: "client-secret"},
		TLS:    &store.ClientTLS{CertPEM: "cert", KeyPEM: "tls-key"}}
}

func TestPolicy(t *testing.T) {
	_, err := seal.Policy{}.Seal(endpoint())
	require.ErrorIs(t, err, seal.ErrNoPolicy)

	ep := endpoint()
	plain, err := seal.Policy{Plaintext: true}.Seal(ep)
	require.NoError(t, err)
	require.Equal(t, "whsec_A", plain.Secrets[0].Key)

	p := seal.Policy{Keys: ring(t, key("k1", 1))}
	sealed, err := p.Seal(ep)
	require.NoError(t, err)
	require.Equal(t, "whsec_A", ep.Secrets[0].Key, "the argument is not changed")
	all := fmt.Sprintf("%s %s %s %s", sealed.Secrets[0].Key, sealed.Secrets[1].Key, sealed.OAuth2.ClientSecret, sealed.TLS.KeyPEM)
	for _, secret := range []string{"whsec_A", "whsec_B", "client-secret", "tls-key"} {
		require.NotContains(t, all, secret)
	}
	require.False(t, p.Stale(sealed))
	require.True(t, p.Stale(endpoint()), "plaintext is stale")
	require.True(t, seal.Policy{Keys: ring(t, key("k2", 2), key("k1", 1))}.Stale(sealed))

	// Moving a sealed value to another endpoint does not open it.
	moved := sealed.Clone()
	moved.ID = "ep2"
	require.ErrorIs(t, p.Open(moved), seal.ErrWrongKey)
	require.ErrorIs(t, seal.Policy{Plaintext: true}.Open(sealed.Clone()), seal.ErrUnknownKey)

	require.NoError(t, p.Open(sealed))
	require.Equal(t, endpoint().Secrets[1].Key, sealed.Secrets[1].Key)
	require.Equal(t, "client-secret", sealed.OAuth2.ClientSecret)
	require.Equal(t, "tls-key", sealed.TLS.KeyPEM)

	// Plaintext read by a sealing store passes (sealed at the next write).
	old := endpoint()
	require.NoError(t, p.Open(old))
	require.Equal(t, "whsec_A", old.Secrets[0].Key)
}

func TestParseKeyring(t *testing.T) {
	a := strings.Repeat("A", 43) + "="
	r, err := seal.ParseKeyring("new=" + a + ", old=" + strings.Repeat("B", 43))
	require.NoError(t, err)
	require.Equal(t, "new", r.Primary())
	for _, bad := range []string{"", "x", "x=!!", "x=" + a[:10], "x=" + a + ",x=" + a} {
		_, err := seal.ParseKeyring(bad)
		require.ErrorIs(t, err, seal.ErrInvalidKey, bad)
		require.NotContains(t, err.Error(), a)
	}
}
