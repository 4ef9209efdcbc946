package signature_test

// Helpers for the interop tests and benchmarks against the reference
// library, as in the signature package's own test helpers (which this
// module cannot import).

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/signature"
)

func mustSecret(tb testing.TB, s string) signature.Secret {
	tb.Helper()
	sec, err := signature.ParseSecret(s)
	require.NoError(tb, err)
	return sec
}

func newSecret(tb testing.TB) signature.Secret {
	tb.Helper()
	sec, err := signature.NewSecret()
	require.NoError(tb, err)
	return sec
}

func newKey(tb testing.TB) signature.PrivateKey {
	tb.Helper()
	k, err := signature.GenerateKey()
	require.NoError(tb, err)
	return k
}

func newSigner(tb testing.TB, secrets []signature.Secret, keys ...signature.PrivateKey) *signature.Signer {
	tb.Helper()
	s, err := signature.NewSigner(secrets, keys...)
	require.NoError(tb, err)
	return s
}

func newVerifier(tb testing.TB, secrets []signature.Secret, keys []signature.PublicKey, now int64) *signature.Verifier {
	tb.Helper()
	v, err := signature.NewVerifier(secrets, keys, &signature.VerifyOptions{Now: func() time.Time { return time.Unix(now, 0) }})
	require.NoError(tb, err)
	return v
}
