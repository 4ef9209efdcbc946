package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store/seal"
)

// TestSecretStoreKey checks that "secret --store-key" prints one line that
// seal.ParseKeyring reads (the form of $WEBHOOK_STORE_KEYS), with the id
// given or today's date, a new key each time, and that its flag mistakes
// are usage errors.
func TestSecretStoreKey(t *testing.T) {
	t.Parallel()
	r := cli(t, "", "secret", "--store-key", "--key-id", "kek-1")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `^kek-1=[A-Za-z0-9+/]{43}=\n$`, r.stdout)
	require.Contains(t, r.stderr, storeKeysEnv)
	ring, err := seal.ParseKeyring(strings.TrimSpace(r.stdout))
	require.NoError(t, err)
	require.Equal(t, "kek-1", ring.Primary())

	d := cli(t, "", "secret", "--store-key")
	require.Equal(t, 0, d.code, d.stderr)
	require.Regexp(t, `^\d{4}-\d{2}-\d{2}\.[0-9a-f]{6}=[A-Za-z0-9+/]{43}=\n$`, d.stdout)
	_, a, _ := strings.Cut(r.stdout, "=")
	_, b, _ := strings.Cut(d.stdout, "=")
	require.NotEqual(t, a, b, "two keys must differ")

	// Two keys made the same day make a keyring: their ids differ.
	d2 := cli(t, "", "secret", "--store-key")
	require.Equal(t, 0, d2.code, d2.stderr)
	_, err = seal.ParseKeyring(strings.TrimSpace(d2.stdout) + "," + strings.TrimSpace(d.stdout))
	require.NoError(t, err, "default ids of the same day must not collide")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"secret", "--store-key", "--asymmetric"}, "exclude each other"},
		{[]string{"secret", "--key-id", "k"}, "--key-id needs --store-key"},
		{[]string{"secret", "--store-key", "--key-id", "a b"}, `--key-id "a b"`},
	} {
		u := cli(t, "", tc.args...)
		require.Equal(t, exitUsage, u.code, tc.args)
		require.Contains(t, u.stderr, tc.want, tc.args)
		require.Empty(t, u.stdout, tc.args)
	}
}

// TestStoreKeysRepeatedID checks that a keyring with one id twice (two
// keys made with the same --key-id) is refused with a message pointing to
// --key-id, not to the command that made the clash.
func TestStoreKeysRepeatedID(t *testing.T) {
	t.Parallel()
	_, a := storeKey("2026-12-06", 1)
	_, b := storeKey("2026-12-06", 2)
	r := cliEnv(t, []string{storeKeysEnv + "=" + a + "," + b}, "", "dashboard", "--addr", "127.0.0.1:0", "--store", "sqlite:"+t.TempDir()+"/x.db")
	require.Equal(t, exitUsage, r.code, r.stderr)
	require.Contains(t, r.stderr, `id "2026-12-06" repeated (each key needs an id of its own: 'webhook secret --store-key --key-id ID' prints a key with the id you give)`)
}
