package seal_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

// TestKeyIDs checks that KeyIDs lists the ids of an endpoint's sealed
// credentials once each, sorted, and none for plaintext.
func TestKeyIDs(t *testing.T) {
	ep := &store.Endpoint{ID: "ep_1", Secrets: []store.SigningKey{{Key: "whsec_a"}, {Key: "whsec_b"}},
		OAuth2: &store.OAuth2{ClientSecret: "client"}, TLS: &store.ClientTLS{KeyPEM: "pem"}}
	require.Nil(t, seal.KeyIDs(ep))
	sealed, err := seal.Policy{Keys: ring(t, key("k2", 2))}.Seal(ep)
	require.NoError(t, err)
	older, err := seal.Policy{Keys: ring(t, key("k1", 1))}.Seal(ep)
	require.NoError(t, err)
	sealed.Secrets[1].Key = older.Secrets[1].Key
	require.Equal(t, []string{"k1", "k2"}, seal.KeyIDs(sealed))
}

// TestCheck checks Policy.Check: unknown ids (or no Keys) and a wrong key
// under a known id make a KeysError wrapping ErrUnknownKey and
// ErrWrongKey, whose text names the ids and the setting, not the keys.
func TestCheck(t *testing.T) {
	ep := &store.Endpoint{ID: "ep_1", Secrets: []store.SigningKey{{Key: "whsec_a"}}}
	sealed, err := seal.Policy{Keys: ring(t, key("k1", 1))}.Seal(ep)
	require.NoError(t, err)
	inUse, samples := []string{"k1"}, []*store.Endpoint{sealed}

	require.NoError(t, seal.Policy{Keys: ring(t, key("k2", 2), key("k1", 1))}.Check("X.Keys", inUse, samples))
	require.NoError(t, seal.Policy{Plaintext: true}.Check("X.Keys", nil, nil))

	for _, p := range []seal.Policy{{Keys: ring(t, key("k2", 2))}, {Plaintext: true}, {}} {
		err := p.Check("X.Keys", []string{"k3", "k1"}, samples)
		require.ErrorIs(t, err, seal.ErrUnknownKey)
		require.EqualError(t, err, `the store holds values sealed under key ids "k1", "k3", which X.Keys does not hold`)
	}

	err = seal.Policy{Keys: ring(t, key("k1", 9))}.Check("X.Keys", inUse, samples)
	require.ErrorIs(t, err, seal.ErrWrongKey)
	require.False(t, errors.Is(err, seal.ErrUnknownKey))
	require.EqualError(t, err, `the key in X.Keys under key id "k1" did not seal the values the store holds under that id `+
		`(another key was given the id, or the values were altered)`)

	err = seal.Policy{Keys: ring(t, key("k1", 9))}.Check("X.Keys", []string{"k1", "k0"}, samples)
	require.ErrorIs(t, err, seal.ErrWrongKey)
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	var ke *seal.KeysError
	require.ErrorAs(t, err, &ke)
	require.Equal(t, []string{"k0"}, ke.Unknown)
	require.Equal(t, []string{"k1"}, ke.Wrong)
}
