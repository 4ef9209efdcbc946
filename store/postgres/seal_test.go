package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/seal"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// testKeys is the Keyring the driver's tests seal with.
func testKeys(tb testing.TB) *seal.Keyring { return storetest.Keyring(tb, "test-1") }

// keyring returns a Keyring of keys.
func keyring(tb testing.TB, keys ...seal.Key) *seal.Keyring {
	tb.Helper()
	r, err := seal.NewKeyring(keys...)
	require.NoError(tb, err)
	return r
}

// storeIn returns a migrated store of schema on pool, configured by cfg.
func storeIn(tb testing.TB, pool *pgxpool.Pool, schema string, cfg postgres.Config) *postgres.Store {
	tb.Helper()
	cfg.Schema, cfg.Logger = schema, quiet
	s, err := postgres.New(pool, &cfg)
	require.NoError(tb, err)
	require.NoError(tb, s.Migrate(context.Background()))
	return s
}

// dump returns every column of every row of every table of schema, as
// text.
func dump(tb testing.TB, pool *pgxpool.Pool, schema string) string {
	tb.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	require.NoError(tb, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(tb, err)
	require.NotEmpty(tb, tables)
	var b strings.Builder
	for _, t := range tables {
		q := `SELECT t::text FROM ` + pgx.Identifier{schema, t}.Sanitize() + ` t`
		rows, err := pool.Query(ctx, q)
		require.NoError(tb, err)
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(tb, err)
		for _, s := range texts {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestSealedAtRest writes an endpoint with every credential to a sealing
// store and dumps every table of the schema: no secret is in it, and the
// store reads the endpoint back whole.
func TestSealedAtRest(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	schema := randomSchema(t)
	s := storeIn(t, pool, schema, postgres.Config{Keys: testKeys(t)})
	ep, secrets := storetest.CredentialedEndpoint(t)
	want := ep.Clone()
	require.NoError(t, s.CreateEndpoint(ctx, ep))
	require.Equal(t, want.Secrets[0].Key, ep.Secrets[0].Key, "the argument keeps its plaintext")
	ep.Description = "edited"
	require.NoError(t, s.UpdateEndpoint(ctx, ep))
	require.Equal(t, want.OAuth2.ClientSecret, ep.OAuth2.ClientSecret, "UpdateEndpoint refreshes ep opened")

	got, err := s.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, want.Secrets[0].Key, got.Secrets[0].Key)
	require.Equal(t, want.OAuth2, got.OAuth2)
	require.Equal(t, want.TLS, got.TLS)

	d := dump(t, pool, schema)
	require.Contains(t, d, "auth.example.com", "the dump holds the endpoint")
	require.Contains(t, d, seal.Prefix+"test-1:")
	for _, secret := range secrets {
		require.NotContains(t, d, secret)
	}
}

// TestSealedWrongKey checks that a store given another key, or none, fails
// to read sealed credentials with an errors.Is-able error, and that the
// zero Config refuses to write credentials at all.
func TestSealedWrongKey(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	schema := randomSchema(t)
	s := storeIn(t, pool, schema, postgres.Config{Keys: testKeys(t)})
	ep, _ := storetest.CredentialedEndpoint(t)
	require.NoError(t, s.CreateEndpoint(ctx, ep))

	wrong := storeIn(t, pool, schema, postgres.Config{Keys: keyring(t, seal.Key{ID: "test-1", Secret: bytes.Repeat([]byte{2}, seal.KeySize)})})
	_, err := wrong.GetEndpoint(ctx, ep.ID)
	require.ErrorIs(t, err, seal.ErrWrongKey)
	_, _, err = wrong.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true})
	require.ErrorIs(t, err, seal.ErrWrongKey)

	none := storeIn(t, pool, schema, postgres.Config{})
	_, err = none.GetEndpoint(ctx, ep.ID)
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	fresh, _ := storetest.CredentialedEndpoint(t)
	err = none.CreateEndpoint(ctx, fresh)
	require.ErrorIs(t, err, seal.ErrNoPolicy)
	require.Contains(t, err.Error(), "postgres.Config.Keys")
	require.Contains(t, err.Error(), "postgres.Config.PlaintextSecrets")
	require.Contains(t, err.Error(), "seal.NewKey")
}

// TestReencrypt rotates: endpoints written in plaintext and under an old
// key are all sealed under the new first key by Reencrypt, after which the
// old key is no longer needed.
func TestReencrypt(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	schema := randomSchema(t)
	k1 := seal.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, seal.KeySize)}
	k2 := seal.Key{ID: "k2", Secret: bytes.Repeat([]byte{2}, seal.KeySize)}

	a, _ := storetest.CredentialedEndpoint(t)
	require.NoError(t, storeIn(t, pool, schema, postgres.Config{PlaintextSecrets: true}).CreateEndpoint(ctx, a))
	b, _ := storetest.CredentialedEndpoint(t)
	require.NoError(t, storeIn(t, pool, schema, postgres.Config{Keys: keyring(t, k1)}).CreateEndpoint(ctx, b))

	rotated := storeIn(t, pool, schema, postgres.Config{Keys: keyring(t, k2, k1)})
	n, err := rotated.Reencrypt(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = rotated.Reencrypt(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to rewrite")

	only2 := storeIn(t, pool, schema, postgres.Config{Keys: keyring(t, k2)})
	for _, ep := range []*store.Endpoint{a, b} {
		got, err := only2.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, ep.Secrets[0].Key, got.Secrets[0].Key)
		require.Equal(t, ep.OAuth2.ClientSecret, got.OAuth2.ClientSecret)
		require.Equal(t, ep.TLS.KeyPEM, got.TLS.KeyPEM)
	}
	_, err = storeIn(t, pool, schema, postgres.Config{PlaintextSecrets: true}).Reencrypt(ctx)
	require.ErrorIs(t, err, seal.ErrNoPolicy)
}
