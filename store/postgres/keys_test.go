package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/seal"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// reopen returns a storetest.Reopen over a fresh schema: each call opens
// a store of it anew with the given keys, or in plaintext without.
func reopen(tb testing.TB) storetest.Reopen {
	pool := newPool(tb)
	schema := randomSchema(tb)
	return func(tb testing.TB, keys *seal.Keyring) storetest.KeyCheckStore {
		tb.Helper()
		return storeIn(tb, pool, schema, postgres.Config{Keys: keys, PlaintextSecrets: keys == nil})
	}
}

// TestKeyCheck runs the key-check conformance cases on PostgreSQL schemas.
func TestKeyCheck(t *testing.T) {
	storetest.RunKeyCheck(t, reopen)
}

// TestStartChecksKeys seals an endpoint's credentials under k1 in a
// schema, and opens the schema with other keys in a new pool: a sender's
// Start fails at once, naming k1 and postgres.Config.Keys, with k2 alone,
// with no keys and with another key given the id k1, and starts with k1
// and k2. A receiver using the schema only as its inbox starts whatever
// the keys.
func TestStartChecksKeys(t *testing.T) {
	ctx := context.Background()
	schema := randomSchema(t)
	k1 := seal.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, seal.KeySize)}
	k2 := seal.Key{ID: "k2", Secret: bytes.Repeat([]byte{2}, seal.KeySize)}
	wrong1 := seal.Key{ID: "k1", Secret: bytes.Repeat([]byte{3}, seal.KeySize)}

	first := storeIn(t, newPool(t), schema, postgres.Config{Keys: keyring(t, k1)})
	ep, _ := storetest.CredentialedEndpoint(t)
	require.NoError(t, first.CreateEndpoint(ctx, ep))

	start := func(t *testing.T, cfg postgres.Config) error {
		t.Helper()
		cfg.Schema, cfg.Logger = schema, quiet
		s, err := postgres.New(newPool(t), &cfg)
		require.NoError(t, err)
		snd, err := sender.New(s, &sender.Config{Logger: quiet})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, snd.Close()) })

		rcv, err := receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error { return nil }),
			&receiver.Config{Keys: []receiver.Key{{Text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, Inbox: s, Logger: quiet})
		require.NoError(t, err)
		require.NoError(t, rcv.Start(ctx), "an inbox needs no endpoint keys")
		require.NoError(t, rcv.Close())
		return snd.Start(ctx)
	}
	for _, c := range []struct {
		name string
		cfg  postgres.Config
	}{
		{"OtherKey", postgres.Config{Keys: keyring(t, k2)}},
		{"NoKeys", postgres.Config{PlaintextSecrets: true}},
		{"NoPolicy", postgres.Config{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := start(t, c.cfg)
			require.ErrorIs(t, err, seal.ErrUnknownKey)
			require.EqualError(t, err, `sender: start: postgres: the store holds values sealed under key id "k1", `+
				`which postgres.Config.Keys does not hold`)
		})
	}
	t.Run("WrongSecret", func(t *testing.T) {
		err := start(t, postgres.Config{Keys: keyring(t, wrong1, k2)})
		require.ErrorIs(t, err, seal.ErrWrongKey)
		require.Contains(t, err.Error(), `"k1"`)
		require.Contains(t, err.Error(), "postgres.Config.Keys")
	})
	t.Run("BothKeys", func(t *testing.T) {
		require.NoError(t, start(t, postgres.Config{Keys: keyring(t, k1, k2)}))
	})
	t.Run("RotatedFirst", func(t *testing.T) {
		require.NoError(t, start(t, postgres.Config{Keys: keyring(t, k2, k1)}))
	})
}

// BenchmarkCheckKeys measures, on 10,000 endpoints, CheckKeys (the
// distinct key-id sets read by skipping through the seal_keys index, and
// one endpoint opened per set) and, for comparison, what it would cost
// without the seal_keys column: the key ids extracted from every
// endpoint's secrets JSON (not yet those of OAuth2 and TLS).
func BenchmarkCheckKeys(b *testing.B) {
	ctx := context.Background()
	pool := newPool(b)
	schema := randomSchema(b)
	open := func(tb testing.TB, keys *seal.Keyring) storetest.KeyCheckStore {
		tb.Helper()
		return storeIn(tb, pool, schema, postgres.Config{Keys: keys, PlaintextSecrets: keys == nil})
	}
	keys := storetest.FillSealed(b, open, 10_000)
	_, err := pool.Exec(ctx, `ANALYZE `+pgx.Identifier{schema, "endpoints"}.Sanitize())
	require.NoError(b, err)
	s := open(b, keys)
	b.Run("CheckKeys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.CheckKeys(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full-scan", func(b *testing.B) {
		for b.Loop() {
			rows, err := pool.Query(ctx, `SELECT DISTINCT split_part(x->>'key', ':', 2)
FROM `+pgx.Identifier{schema, "endpoints"}.Sanitize()+` e, jsonb_array_elements(e.secrets) x WHERE x->>'key' LIKE 'wkseal1:%'`)
			require.NoError(b, err)
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(b, err)
			require.Len(b, ids, 2)
		}
	})
}

// TestCheckKeysPlan checks that CheckKeys reads the key-id sets in use by
// seeking through the seal_keys index, never scanning the endpoints table.
// (The read of one endpoint per set is left to the planner: with LIMIT 1
// and a set most rows share, a scan that stops at the first row is the
// cheaper plan.)
func TestCheckKeysPlan(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := newPool(t)
	schema := randomSchema(t)
	open := func(tb testing.TB, keys *seal.Keyring) storetest.KeyCheckStore {
		tb.Helper()
		return storeIn(tb, pool, schema, postgres.Config{Keys: keys, PlaintextSecrets: keys == nil})
	}
	storetest.FillSealed(t, open, 2_000)
	_, err := pool.Exec(ctx, `ANALYZE `+pgx.Identifier{schema, "endpoints"}.Sanitize())
	require.NoError(t, err)
	s := open(t, nil).(*postgres.Store)
	rows, err := pool.Query(ctx, "EXPLAIN (COSTS OFF) "+postgres.KeysInUseStatement(s))
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	plan := strings.Join(lines, "\n")
	require.Contains(t, plan, "Index Only Scan using endpoints_seal_keys_idx", plan)
	require.NotContains(t, plan, "Seq Scan", plan)
}
