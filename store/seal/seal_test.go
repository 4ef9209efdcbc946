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

// TestParseKeyringErrors checks that ParseKeyring's errors say what is
// wrong and what the form is, counting items from 1, without repeating
// what could be key material.
func TestParseKeyringErrors(t *testing.T) {
	secret := "c2VjcmV0LWtleS1tYXRlcmlhbC1kby1ub3QtZWNobw" // base64 that must never show
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{"seal: invalid key: no keys: want id=base64[,id=base64...]", "seal.NewKey"}},
		{"blank", "  ", []string{"no keys: want id=base64[,id=base64...]"}},
		{"a bare secret", secret, []string{"item 1 of 1: want id=base64, such as 2026-01="}},
		{"no id", "=" + secret, []string{"item 1 of 1: want id=base64"}},
		{"trailing comma", "k1=" + secret + ",", []string{"item 2 of 2 is empty"}},
		{"bad id", "k 1=" + secret, []string{"item 1 of 1: an id is 1 to 64 letters"}},
		{"not base64", "k1=" + secret + "!!", []string{`key "k1": not standard base64`}},
		{"short", "k1=" + secret, []string{`key "k1" is 31 bytes, want 32`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := seal.ParseKeyring(tc.text)
			require.ErrorIs(t, err, seal.ErrInvalidKey)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), secret)
		})
	}
}

// TestNewKey checks that NewKey's line parses back into a keyring whose
// primary is its id, that two keys differ, and that a bad id is refused.
func TestNewKey(t *testing.T) {
	a, err := seal.NewKey("2026-01")
	require.NoError(t, err)
	b, err := seal.NewKey("2026-02")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(a, "2026-01="), a)
	_, sa, _ := strings.Cut(a, "=")
	_, sb, _ := strings.Cut(b, "=")
	require.NotEqual(t, sa, sb)

	r, err := seal.ParseKeyring(b + "," + a)
	require.NoError(t, err)
	require.Equal(t, "2026-02", r.Primary())
	sealed, err := r.Seal("whsec_x", "ctx")
	require.NoError(t, err)
	plain, err := r.Open(sealed, "ctx")
	require.NoError(t, err)
	require.Equal(t, "whsec_x", plain)

	for _, bad := range []string{"", "a b", "a=b", strings.Repeat("x", 65)} {
		_, err := seal.NewKey(bad)
		require.ErrorIs(t, err, seal.ErrInvalidKey, bad)
	}
}
