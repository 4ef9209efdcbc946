package signature_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/signature"
)

// The Standard Webhooks test vector: the signature the specification's
// reference libraries compute for this secret, id, timestamp and body.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = "1614265330"
	vecUnix   = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func fixedClock(unix int64) func() time.Time {
	return func() time.Time { return time.Unix(unix, 0) }
}

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
	v, err := signature.NewVerifier(secrets, keys, &signature.VerifyOptions{Now: fixedClock(now)})
	require.NoError(tb, err)
	return v
}

// headers builds canonical request headers.
func headers(id, ts, sig string) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, ts)
	h.Set(signature.HeaderSignature, sig)
	return h
}

// rawV1 computes a v1 entry independently of the package, straight from
// crypto/hmac, for the given whsec_ text.
func rawV1(tb testing.TB, secret, id, ts string, body []byte) string {
	tb.Helper()
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	require.NoError(tb, err)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
