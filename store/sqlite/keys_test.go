package sqlite_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store/seal"
	"github.com/webhookkit/webhookkit/store/sqlite"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// reopen returns a storetest.Reopen over a fresh SQLite file: each call
// opens (and migrates) the file anew with the given keys, or in plaintext
// without.
func reopen(tb testing.TB) storetest.Reopen {
	path := filepath.Join(tb.TempDir(), "keys.db")
	return func(tb testing.TB, keys *seal.Keyring) storetest.KeyCheckStore {
		tb.Helper()
		return openWith(tb, path, &sqlite.Config{Keys: keys, PlaintextSecrets: keys == nil})
	}
}

// TestKeyCheck runs the key-check conformance cases on SQLite files.
func TestKeyCheck(t *testing.T) {
	storetest.RunKeyCheck(t, reopen)
}

// TestStartChecksKeys seals an endpoint's credentials under k1 in a SQLite
// file, closes it, and reopens it with other keys: a sender's Start fails
// at once, naming k1 and sqlite.Config.Keys, with k2 alone, with no keys
// and with another key given the id k1, and starts with k1 and k2. A
// receiver using the file only as its inbox starts whatever the keys.
func TestStartChecksKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sealed.db")
	k1 := seal.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, seal.KeySize)}
	k2 := seal.Key{ID: "k2", Secret: bytes.Repeat([]byte{2}, seal.KeySize)}
	wrong1 := seal.Key{ID: "k1", Secret: bytes.Repeat([]byte{3}, seal.KeySize)}

	first, err := sqlite.Open(path, &sqlite.Config{Keys: keyring(t, k1)})
	require.NoError(t, err)
	require.NoError(t, first.Migrate(ctx))
	ep, _ := storetest.CredentialedEndpoint(t)
	require.NoError(t, first.CreateEndpoint(ctx, ep))
	require.NoError(t, first.Close())

	start := func(t *testing.T, cfg *sqlite.Config) error {
		t.Helper()
		s, err := sqlite.Open(path, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		snd, err := sender.New(s, &sender.Config{Logger: quietLog})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, snd.Close()) })

		rcv, err := receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error { return nil }),
			&receiver.Config{Keys: []receiver.Key{{Text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, Inbox: s, Logger: quietLog})
		require.NoError(t, err)
		require.NoError(t, rcv.Start(ctx), "an inbox needs no endpoint keys")
		require.NoError(t, rcv.Close())
		return snd.Start(ctx)
	}
	for _, c := range []struct {
		name string
		cfg  *sqlite.Config
	}{
		{"OtherKey", &sqlite.Config{Keys: keyring(t, k2)}},
		{"NoKeys", &sqlite.Config{PlaintextSecrets: true}},
		{"NoPolicy", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := start(t, c.cfg)
			require.ErrorIs(t, err, seal.ErrUnknownKey)
			require.EqualError(t, err, `sender: start: sqlite: the store holds values sealed under key id "k1", `+
				`which sqlite.Config.Keys does not hold`)
		})
	}
	t.Run("WrongSecret", func(t *testing.T) {
		err := start(t, &sqlite.Config{Keys: keyring(t, wrong1, k2)})
		require.ErrorIs(t, err, seal.ErrWrongKey)
		require.Contains(t, err.Error(), `"k1"`)
		require.Contains(t, err.Error(), "sqlite.Config.Keys")
	})
	t.Run("BothKeys", func(t *testing.T) {
		require.NoError(t, start(t, &sqlite.Config{Keys: keyring(t, k1, k2)}))
	})
	t.Run("RotatedFirst", func(t *testing.T) {
		require.NoError(t, start(t, &sqlite.Config{Keys: keyring(t, k2, k1)}))
	})
}

// BenchmarkCheckKeys measures, on 10,000 endpoints, CheckKeys (the
// distinct key-id sets read by skipping through the seal_keys index, and
// one endpoint opened per set) and, for comparison, what it would cost
// without the seal_keys column: the key ids extracted from every
// endpoint's secrets JSON (not yet those of OAuth2 and TLS).
func BenchmarkCheckKeys(b *testing.B) {
	ctx := context.Background()
	open := reopen(b)
	keys := storetest.FillSealed(b, open, 10_000)
	s := open(b, keys).(*sqlite.Store)
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
			rows, err := s.DB().QueryContext(ctx, `SELECT DISTINCT substr(j.value->>'key', 9, instr(substr(j.value->>'key', 9), ':') - 1)
FROM webhookkit_endpoints e, json_each(e.secrets) j WHERE j.value->>'key' LIKE 'wkseal1:%'`)
			require.NoError(b, err)
			var ids []string
			for rows.Next() {
				var id string
				require.NoError(b, rows.Scan(&id))
				ids = append(ids, id)
			}
			require.NoError(b, rows.Err())
			require.Len(b, ids, 2)
		}
	})
}

// TestCheckKeysPlan checks that CheckKeys reads the key ids in use from
// the seal_keys index, seeking once per distinct value, and one endpoint
// per value from it too, never scanning the endpoints table.
func TestCheckKeysPlan(t *testing.T) {
	s, _ := open(t)
	for _, q := range []string{sqlite.KeysInUseSQL,
		`SELECT id FROM webhookkit_endpoints WHERE seal_keys = 'k1' LIMIT 1`} {
		plan := queryPlan(t, s, q)
		t.Logf("%s\n%s", q, plan)
		require.Regexp(t, `SEARCH webhookkit_endpoints USING (COVERING )?INDEX webhookkit_endpoints_seal_keys`, plan)
		require.NotRegexp(t, `(?m)SCAN webhookkit_endpoints\b`, plan)
	}
}
