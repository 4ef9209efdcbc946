package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

// KeyCheckStore is what [RunKeyCheck] tests: a store that seals endpoint
// credentials under the keys it is given and checks them.
type KeyCheckStore interface {
	store.Endpoints
	store.KeyChecker
}

// Reopen opens a store over one database with the given keys; nil keys
// mean no Keyring, with credentials written in plaintext. Every call opens
// the same database.
type Reopen func(tb testing.TB, keys *seal.Keyring) KeyCheckStore

// RunKeyCheck checks a store's [store.KeyChecker]: CheckKeys passes on a
// store without sealed credentials, whatever its keys, and when its keys
// hold every id in use; it fails with a [*seal.KeysError] wrapping
// [seal.ErrUnknownKey] that names the missing ids when values are sealed
// under ids its keys lack (or it has none), and one wrapping
// [seal.ErrWrongKey] when an id is given another key; it follows the ids
// in use as endpoints are rewritten under a new key or deleted. newStore
// returns a [Reopen] over a fresh database for each case. RunKeyCheck does
// not call t.Parallel.
func RunKeyCheck(t *testing.T, newStore Factory[Reopen]) {
	ctx := context.Background()
	k1, k2, k3 := testKey("k1", 1), testKey("k2", 2), testKey("k3", 3)
	ring := func(tb testing.TB, keys ...seal.Key) *seal.Keyring {
		tb.Helper()
		r, err := seal.NewKeyring(keys...)
		require.NoError(tb, err)
		return r
	}
	create := func(tb testing.TB, s KeyCheckStore) *store.Endpoint {
		tb.Helper()
		ep := &store.Endpoint{Tenant: "acme", Mode: event.ModeTest, URL: "https://hooks.example.com/in",
			EventTypes: []string{"*"}, Secrets: []store.SigningKey{{Key: testSecret}}}
		require.NoError(tb, s.CreateEndpoint(ctx, ep))
		return ep
	}
	// unknown requires err to be a KeysError naming ids as unknown.
	unknown := func(tb testing.TB, err error, ids ...string) {
		tb.Helper()
		require.ErrorIs(tb, err, seal.ErrUnknownKey)
		require.NotErrorIs(tb, err, seal.ErrWrongKey)
		var ke *seal.KeysError
		require.ErrorAs(tb, err, &ke)
		require.Equal(tb, ids, ke.Unknown)
		require.Empty(tb, ke.Wrong)
		for _, id := range ids {
			require.Contains(tb, err.Error(), `"`+id+`"`)
		}
		require.Contains(tb, err.Error(), "Config.Keys")
	}

	t.Run("Empty", func(t *testing.T) {
		open := newStore(t)
		require.NoError(t, open(t, nil).CheckKeys(ctx))
		require.NoError(t, open(t, ring(t, k1)).CheckKeys(ctx))
	})
	t.Run("Plaintext", func(t *testing.T) {
		open := newStore(t)
		create(t, open(t, nil))
		require.NoError(t, open(t, nil).CheckKeys(ctx), "plaintext needs no key")
		require.NoError(t, open(t, ring(t, k2)).CheckKeys(ctx))
	})
	t.Run("UnknownKey", func(t *testing.T) {
		open := newStore(t)
		ep, _ := CredentialedEndpoint(t) // secrets, OAuth2 client secret, TLS key
		require.NoError(t, open(t, ring(t, k1)).CreateEndpoint(ctx, ep))
		create(t, open(t, nil)) // plaintext beside it

		unknown(t, open(t, ring(t, k2)).CheckKeys(ctx), "k1")
		unknown(t, open(t, nil).CheckKeys(ctx), "k1")
		require.NoError(t, open(t, ring(t, k1)).CheckKeys(ctx))
		require.NoError(t, open(t, ring(t, k1, k2)).CheckKeys(ctx))
		require.NoError(t, open(t, ring(t, k2, k1)).CheckKeys(ctx), "an old key that still opens")
	})
	t.Run("WrongKey", func(t *testing.T) {
		open := newStore(t)
		ep, _ := CredentialedEndpoint(t)
		require.NoError(t, open(t, ring(t, k1)).CreateEndpoint(ctx, ep))
		err := open(t, ring(t, testKey("k1", 9))).CheckKeys(ctx)
		require.ErrorIs(t, err, seal.ErrWrongKey)
		require.NotErrorIs(t, err, seal.ErrUnknownKey)
		var ke *seal.KeysError
		require.ErrorAs(t, err, &ke)
		require.Equal(t, []string{"k1"}, ke.Wrong)
		require.Contains(t, err.Error(), `"k1"`)

		err = open(t, ring(t, testKey("k1", 9), k2)).CheckKeys(ctx)
		require.ErrorIs(t, err, seal.ErrWrongKey)
	})
	t.Run("SeveralUnknown", func(t *testing.T) {
		open := newStore(t)
		for range 3 {
			create(t, open(t, ring(t, k1)))
			create(t, open(t, ring(t, k2)))
		}
		unknown(t, open(t, ring(t, k3)).CheckKeys(ctx), "k1", "k2")
		unknown(t, open(t, ring(t, k3, k2)).CheckKeys(ctx), "k1")
		require.NoError(t, open(t, ring(t, k3, k2, k1)).CheckKeys(ctx))
	})
	t.Run("Rewritten", func(t *testing.T) {
		open := newStore(t)
		a := create(t, open(t, ring(t, k1)))
		b := create(t, open(t, ring(t, k3)))
		create(t, open(t, ring(t, k2)))
		unknown(t, open(t, ring(t, k2)).CheckKeys(ctx), "k1", "k3")

		// Rewriting a under k2 (the first key) and deleting b leave only k2.
		rotated := open(t, ring(t, k2, k1, k3))
		got, err := rotated.GetEndpoint(ctx, a.ID)
		require.NoError(t, err)
		got.Description = "resealed"
		require.NoError(t, rotated.UpdateEndpoint(ctx, got))
		require.NoError(t, rotated.DeleteEndpoint(ctx, b.ID))
		require.NoError(t, open(t, ring(t, k2)).CheckKeys(ctx))
	})
}

// testKey returns a key with the given id made of the byte b.
func testKey(id string, b byte) seal.Key {
	return seal.Key{ID: id, Secret: bytes.Repeat([]byte{b}, seal.KeySize)}
}

// FillSealed creates n endpoints through open, nine in ten sealed under
// key k1 and the rest under k2, as in a rotation half done, and returns
// the Keyring (k2, k1) that opens them all: the setup of a benchmark of
// CheckKeys.
func FillSealed(tb testing.TB, open Reopen, n int) *seal.Keyring {
	tb.Helper()
	ctx := context.Background()
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	old, err := seal.NewKeyring(k1)
	require.NoError(tb, err)
	both, err := seal.NewKeyring(k2, k1)
	require.NoError(tb, err)
	writers := []KeyCheckStore{open(tb, old), open(tb, both)}
	for i := range n {
		ep := &store.Endpoint{Tenant: "acme", Mode: event.ModeTest, URL: "https://hooks.example.com/in",
			EventTypes: []string{"*"}, Secrets: []store.SigningKey{{Key: testSecret}}}
		w := writers[0]
		if i%10 == 9 {
			w = writers[1]
		}
		require.NoError(tb, w.CreateEndpoint(ctx, ep))
	}
	return both
}
