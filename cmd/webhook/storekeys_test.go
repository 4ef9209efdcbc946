package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/postgres/pgtest"
	"github.com/webhookkit/webhookkit/store/seal"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// storeKey returns a key-encryption key of the given id made of the byte b,
// as seal.Key and in $WEBHOOK_STORE_KEYS's form.
func storeKey(id string, b byte) (seal.Key, string) {
	secret := bytes.Repeat([]byte{b}, seal.KeySize)
	return seal.Key{ID: id, Secret: secret}, id + "=" + base64.StdEncoding.EncodeToString(secret)
}

// sealedEndpoint is an endpoint with a signing secret, for a store that
// seals it.
func sealedEndpoint() *store.Endpoint {
	return &store.Endpoint{Tenant: "default", Mode: event.ModeTest, URL: "https://hooks.example.com/in",
		EventTypes: []string{"*"}, Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
}

// TestDashboardStoreKeys checks that webhook dashboard, read-only or not,
// exits 1 at once, naming the key id and $WEBHOOK_STORE_KEYS, on a SQLite
// store whose endpoint secrets are sealed under a key $WEBHOOK_STORE_KEYS
// lacks (or when it is unset), or under an id it gives another key; that it
// serves the endpoints with the right keys; and that logs, which reads no
// endpoint, and listen, which uses the store as an inbox, need no keys.
func TestDashboardStoreKeys(t *testing.T) {
	t.Parallel()
	k1, k1Text := storeKey("k1", 1)
	_, k2Text := storeKey("k2", 2)
	_, wrongText := storeKey("k1", 3)
	path := filepath.Join(t.TempDir(), "sealed.db")
	ring, err := seal.NewKeyring(k1)
	require.NoError(t, err)
	st, err := sqlite.Open(path, &sqlite.Config{Keys: ring})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	ep := sealedEndpoint()
	require.NoError(t, st.CreateEndpoint(context.Background(), ep))
	require.NoError(t, st.Close())
	dsn := "sqlite:" + path

	const unknown = `webhook dashboard: the store holds values sealed under key id "k1", which $WEBHOOK_STORE_KEYS does not hold`
	for _, c := range []struct {
		name, keys, want string
	}{
		{"other key", k2Text, unknown},
		{"unset", "", unknown},
		{"wrong key under k1", wrongText + "," + k2Text,
			`webhook dashboard: the key in $WEBHOOK_STORE_KEYS under key id "k1" did not seal the values the store holds`},
	} {
		for _, args := range [][]string{
			{"dashboard", "--addr", "127.0.0.1:0", "--store", dsn},
			{"dashboard", "--read-only", "--addr", "127.0.0.1:0", "--store", dsn},
		} {
			r := cliEnv(t, []string{storeKeysEnv + "=" + c.keys}, "", args...)
			require.Equal(t, 1, r.code, "%s %v: %s", c.name, args, r.stderr)
			require.Contains(t, r.stderr, c.want, "%s %v", c.name, args)
			require.NotContains(t, r.stderr, base64.StdEncoding.EncodeToString(k1.Secret), "no key material")
			require.NotContains(t, r.stderr, "open http://", "%s %v: it did not start", c.name, args)
		}
	}

	r := cliEnv(t, []string{storeKeysEnv + "=" + k2Text}, "", "logs", "--store", dsn)
	require.Equal(t, 0, r.code, "logs reads no endpoint: %s", r.stderr)
	l := startBackgroundEnv(t, []string{storeKeysEnv + "="}, listeningRe, "listen", "--addr", "127.0.0.1:0",
		"--secret", vecSecret, "--store", dsn)
	l.stop(t, os.Interrupt)

	d := startBackgroundEnv(t, []string{storeKeysEnv + "=" + k2Text + "," + k1Text}, dashboardRe,
		"dashboard", "--store", dsn, "--addr", "127.0.0.1:0")
	code, body := apiCaller(t, d.url)(http.MethodGet, "/api/endpoints", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, ep.ID)
	d.stop(t, os.Interrupt)
}

// TestDashboardStoreKeysPostgres checks that webhook dashboard exits 1,
// naming the key id and $WEBHOOK_STORE_KEYS, on a PostgreSQL schema whose
// endpoint secrets are sealed under a key $WEBHOOK_STORE_KEYS lacks.
func TestDashboardStoreKeysPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t, dsn, "cli_keys_")
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	k1, _ := storeKey("k1", 1)
	_, k2Text := storeKey("k2", 2)
	ring, err := seal.NewKeyring(k1)
	require.NoError(t, err)
	st, err := postgres.New(pool, &postgres.Config{Schema: schema, Keys: ring, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	require.NoError(t, st.CreateEndpoint(ctx, sealedEndpoint()))

	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	for _, keys := range []string{k2Text, ""} {
		r := cliEnv(t, []string{storeKeysEnv + "=" + keys}, "", "dashboard", "--addr", "127.0.0.1:0", "--store", u.String())
		require.Equal(t, 1, r.code, r.stderr)
		require.Contains(t, r.stderr,
			`webhook dashboard: the store holds values sealed under key id "k1", which $WEBHOOK_STORE_KEYS does not hold`)
	}
}

// TestDashboardPlaintextWarning checks that the dashboard warns once at
// start, naming $WEBHOOK_STORE_KEYS, when it will store endpoint secrets in
// plaintext in a durable store, and only then.
func TestDashboardPlaintextWarning(t *testing.T) {
	t.Parallel()
	const warning = "webhook dashboard: warning: $WEBHOOK_STORE_KEYS is unset, so endpoint secrets and credentials are stored in plaintext in sqlite "
	path := filepath.Join(t.TempDir(), "plain.db")
	_, keyText := storeKey("k1", 1)
	for _, c := range []struct {
		name string
		keys string
		args []string
		warn bool
	}{
		{"sqlite, keys unset", "", []string{"--store", "sqlite:" + path}, true},
		{"read-only", "", []string{"--store", "sqlite:" + path, "--read-only"}, false},
		{"memory", "", nil, false},
		{"sqlite, keys set", keyText, []string{"--store", "sqlite:" + path}, false},
	} {
		d := startBackgroundEnv(t, []string{storeKeysEnv + "=" + c.keys}, dashboardRe,
			append([]string{"dashboard", "--addr", "127.0.0.1:0"}, c.args...)...)
		d.stop(t, os.Interrupt)
		if c.warn {
			require.Equal(t, 1, strings.Count(d.stderr.String(), warning+path+"; to seal them, set it first: export WEBHOOK_STORE_KEYS=$(webhook secret --store-key)\n"), "%s:\n%s", c.name, d.stderr.String())
		} else {
			require.NotContains(t, d.stderr.String(), "plaintext", c.name)
		}
	}
}
