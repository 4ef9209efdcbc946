package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
	"github.com/webhookkit/webhookkit/store/sqlite"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// plaintext is the Config of tests that keep credentials in plaintext.
var plaintext = &sqlite.Config{PlaintextSecrets: true}

// testKeys is the Keyring the driver's tests seal with.
func testKeys(tb testing.TB) *seal.Keyring { return storetest.Keyring(tb, "test-1") }

// keyring returns a Keyring of keys.
func keyring(tb testing.TB, keys ...seal.Key) *seal.Keyring {
	tb.Helper()
	r, err := seal.NewKeyring(keys...)
	require.NoError(tb, err)
	return r
}

func openWith(tb testing.TB, path string, cfg *sqlite.Config) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(path, cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	require.NoError(tb, s.Migrate(context.Background()))
	return s
}

// TestSealedAtRest writes an endpoint with every credential to a sealing
// store, checkpoints, and reads the database file's bytes: no secret is in
// them, and the store reads the endpoint back whole.
func TestSealedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sealed.db")
	s := openWith(t, path, &sqlite.Config{Keys: testKeys(t)})
	ep, secrets := storetest.CredentialedEndpoint(t)
	want := ep.Clone()
	require.NoError(t, s.CreateEndpoint(ctx, ep))
	require.Equal(t, want.Secrets[0].Key, ep.Secrets[0].Key, "the argument keeps its plaintext")
	ep.OAuth2.Scopes = []string{"hooks", "more"}
	require.NoError(t, s.UpdateEndpoint(ctx, ep))

	got, err := s.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, want.Secrets[0].Key, got.Secrets[0].Key)
	require.Equal(t, want.OAuth2.ClientSecret, got.OAuth2.ClientSecret)
	require.Equal(t, want.TLS, got.TLS)

	_, err = s.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	var dump []byte
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err == nil {
			dump = append(dump, b...)
		}
	}
	require.NotEmpty(t, dump)
	require.Contains(t, string(dump), "auth.example.com", "the dump holds the endpoint")
	require.Contains(t, string(dump), seal.Prefix+"test-1:")
	for _, secret := range secrets {
		require.NotContains(t, string(dump), secret)
	}
}

// TestSealedWrongKey checks that a store given another key, or none, fails
// to read sealed credentials with an errors.Is-able error, and that the
// zero Config refuses to write credentials at all.
func TestSealedWrongKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sealed.db")
	s := openWith(t, path, &sqlite.Config{Keys: testKeys(t)})
	ep, _ := storetest.CredentialedEndpoint(t)
	require.NoError(t, s.CreateEndpoint(ctx, ep))

	wrong := openWith(t, path, &sqlite.Config{Keys: keyring(t, seal.Key{ID: "test-1", Secret: bytes.Repeat([]byte{2}, seal.KeySize)})})
	_, err := wrong.GetEndpoint(ctx, ep.ID)
	require.ErrorIs(t, err, seal.ErrWrongKey)
	_, _, err = wrong.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true})
	require.ErrorIs(t, err, seal.ErrWrongKey)

	other := openWith(t, path, &sqlite.Config{Keys: keyring(t, seal.Key{ID: "test-2", Secret: bytes.Repeat([]byte{1}, seal.KeySize)})})
	_, err = other.GetEndpoint(ctx, ep.ID)
	require.ErrorIs(t, err, seal.ErrUnknownKey)

	none := openWith(t, path, nil)
	_, err = none.GetEndpoint(ctx, ep.ID)
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	fresh, _ := storetest.CredentialedEndpoint(t)
	err = none.CreateEndpoint(ctx, fresh)
	require.ErrorIs(t, err, seal.ErrNoPolicy)
	require.Contains(t, err.Error(), "plaintext")
	require.Contains(t, err.Error(), "sqlite.Config.Keys")
	require.Contains(t, err.Error(), "sqlite.Config.PlaintextSecrets")
	require.Contains(t, err.Error(), "seal.NewKey")
}

// TestReencrypt rotates: endpoints written in plaintext and under an old
// key are all sealed under the new first key by Reencrypt, after which the
// old key is no longer needed.
func TestReencrypt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rotate.db")
	k1 := seal.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, seal.KeySize)}
	k2 := seal.Key{ID: "k2", Secret: bytes.Repeat([]byte{2}, seal.KeySize)}

	plain := openWith(t, path, plaintext)
	a, _ := storetest.CredentialedEndpoint(t)
	require.NoError(t, plain.CreateEndpoint(ctx, a))
	old := openWith(t, path, &sqlite.Config{Keys: keyring(t, k1)})
	b, _ := storetest.CredentialedEndpoint(t)
	require.NoError(t, old.CreateEndpoint(ctx, b))

	_, err := old.Reencrypt(ctx)
	require.NoError(t, err)
	rotated := openWith(t, path, &sqlite.Config{Keys: keyring(t, k2, k1)})
	n, err := rotated.Reencrypt(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = rotated.Reencrypt(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to rewrite")

	only2 := openWith(t, path, &sqlite.Config{Keys: keyring(t, k2)})
	for _, ep := range []*store.Endpoint{a, b} {
		got, err := only2.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, ep.Secrets[0].Key, got.Secrets[0].Key)
		require.Equal(t, ep.OAuth2.ClientSecret, got.OAuth2.ClientSecret)
		require.Equal(t, ep.TLS.KeyPEM, got.TLS.KeyPEM)
	}
	_, err = openWith(t, path, plaintext).Reencrypt(ctx)
	require.ErrorIs(t, err, seal.ErrNoPolicy)
}
