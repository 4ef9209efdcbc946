package signature_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/signature"
)

func TestParseSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA5}, n)) }
	valid := []struct{ in, canonical string }{
		{vecSecret, vecSecret},
		{"whsec_" + b64(24), "whsec_" + b64(24)},
		{"whsec_" + b64(25), "whsec_" + b64(25)},                         // padded
		{"whsec_" + strings.TrimRight(b64(25), "="), "whsec_" + b64(25)}, // unpadded accepted
		{"whsec_" + b64(32), "whsec_" + b64(32)},
		{"whsec_" + b64(64), "whsec_" + b64(64)},
	}
	for _, tc := range valid {
		sec, err := signature.ParseSecret(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.canonical, sec.String())
		again, err := signature.ParseSecret(sec.String())
		require.NoError(t, err)
		require.True(t, again.Equal(sec))
	}

	invalid := map[string]string{
		"empty":             "",
		"no prefix":         "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"upper prefix":      "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"prefix only":       "whsec_",
		"too short":         "whsec_" + b64(23),
		"too long":          "whsec_" + b64(65),
		"bad base64":        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",
		"url alphabet":      "whsec_" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 10))),
		"newline inside":    "whsec_MfKQ9r8GKYqrTwjU\nPD8ILPZIo2LaLaSw",
		"trailing newline":  vecSecret + "\n",
		"leading space":     " " + vecSecret,
		"private key":       "whsk_" + b64(64),
		"public key":        "whpk_" + b64(32),
		"non-canonical pad": "whsec_" + b64(25)[:len(b64(25))-2] + "B=", // stray trailing bits
	}
	for name, in := range invalid {
		_, err := signature.ParseSecret(in)
		require.ErrorIs(t, err, signature.ErrInvalidSecret, name)
		require.True(t, strings.HasPrefix(err.Error(), "signature: invalid secret"), err.Error())
		if len(in) > 12 {
			require.NotContains(t, err.Error(), in[6:], "errors never echo the input")
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := newSecret(t), newSecret(t)
	require.False(t, a.Equal(b))
	require.True(t, strings.HasPrefix(a.String(), "whsec_"))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a.String(), "whsec_"))
	require.NoError(t, err)
	require.Len(t, raw, signature.DefaultSecretLength)
	parsed, err := signature.ParseSecret(a.String())
	require.NoError(t, err)
	require.True(t, parsed.Equal(a))
	require.True(t, signature.Secret{}.Equal(signature.Secret{}))
	require.False(t, signature.Secret{}.Equal(a))
	require.Empty(t, signature.Secret{}.String())
}

func TestParseKeys(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	privText := "whsk_" + base64.StdEncoding.EncodeToString(priv)
	pubText := "whpk_" + base64.StdEncoding.EncodeToString(pub)

	k, err := signature.ParsePrivateKey(privText)
	require.NoError(t, err)
	require.Equal(t, privText, k.String())
	require.Equal(t, pubText, k.Public().String())
	p, err := signature.ParsePublicKey(pubText)
	require.NoError(t, err)
	require.True(t, p.Equal(k.Public()))
	require.Equal(t, pubText, fmt.Sprint(p), "public keys print in full")

	gen := newKey(t)
	round, err := signature.ParsePrivateKey(gen.String())
	require.NoError(t, err)
	require.True(t, round.Public().Equal(gen.Public()))

	mismatched := append([]byte(nil), priv...)
	mismatched[40] ^= 1
	badPriv := map[string]string{
		"empty":         "",
		"no prefix":     base64.StdEncoding.EncodeToString(priv),
		"secret":        vecSecret,
		"public":        pubText,
		"seed only":     "whsk_" + base64.StdEncoding.EncodeToString(priv.Seed()),
		"bad base64":    "whsk_???",
		"mismatched":    "whsk_" + base64.StdEncoding.EncodeToString(mismatched),
		"too long":      "whsk_" + base64.StdEncoding.EncodeToString(append(priv, 0)),
		"prefix only":   "whsk_",
		"trailing junk": privText + "\n",
	}
	for name, in := range badPriv {
		_, err := signature.ParsePrivateKey(in)
		require.ErrorIs(t, err, signature.ErrInvalidKey, name)
	}
	badPub := map[string]string{
		"empty":      "",
		"no prefix":  base64.StdEncoding.EncodeToString(pub),
		"private":    privText,
		"short":      "whpk_" + base64.StdEncoding.EncodeToString(pub[:31]),
		"bad base64": "whpk_!!!!",
	}
	for name, in := range badPub {
		_, err := signature.ParsePublicKey(in)
		require.ErrorIs(t, err, signature.ErrInvalidKey, name)
	}
	require.Empty(t, signature.PrivateKey{}.String())
	require.Empty(t, signature.PrivateKey{}.Public().String())
}

// TestParseSigningKey checks that the keys that sign parse to the right
// kind and that a public key and malformed text are refused without echoing
// the input.
func TestParseSigningKey(t *testing.T) {
	key := newKey(t)
	sec, k, err := signature.ParseSigningKey(vecSecret)
	require.NoError(t, err)
	require.Equal(t, vecSecret, sec.String())
	require.Empty(t, k.String(), "a secret yields the zero private key")

	sec, k, err = signature.ParseSigningKey(key.String())
	require.NoError(t, err)
	require.Equal(t, key.String(), k.String())
	require.Empty(t, sec.String(), "a private key yields the zero secret")

	for name, tc := range map[string]struct {
		in   string
		want error
	}{
		"empty":           {"", signature.ErrInvalidSecret},
		"no prefix":       {"abc", signature.ErrInvalidSecret},
		"short secret":    {"whsec_abc", signature.ErrInvalidSecret},
		"public key":      {key.Public().String(), signature.ErrInvalidKey},
		"bad private key": {"whsk_" + base64.StdEncoding.EncodeToString(make([]byte, 32)), signature.ErrInvalidKey},
	} {
		sec, k, err := signature.ParseSigningKey(tc.in)
		require.ErrorIs(t, err, tc.want, name)
		require.Empty(t, sec.String()+k.String(), name)
		if len(tc.in) > 6 {
			require.NotContains(t, err.Error(), tc.in[5:], "%s: errors never echo the input", name)
		}
	}
	_, _, err = signature.ParseSigningKey(key.Public().String())
	require.ErrorContains(t, err, "cannot sign")
}

// TestRedaction checks that no default fmt, slog or JSON output reveals a
// secret or private key, directly or nested in a struct.
func TestRedaction(t *testing.T) {
	sec := mustSecret(t, vecSecret)
	key := newKey(t)
	secretTexts := []string{vecSecret, strings.TrimPrefix(vecSecret, "whsec_"), key.String(), strings.TrimPrefix(key.String(), "whsk_")[:20]}
	rawKey, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(vecSecret, "whsec_"))
	require.NoError(t, err)
	// fmt's renderings of the raw bytes: decimal list and hex.
	secretTexts = append(secretTexts, fmt.Sprint(rawKey[:6])[1:12], fmt.Sprintf("%x", rawKey[:8]))

	type exported struct {
		Secret signature.Secret
		Key    signature.PrivateKey
	}
	type unexported struct {
		secret signature.Secret
		key    signature.PrivateKey
	}
	signer := newSigner(t, []signature.Secret{sec}, key)
	verifier := newVerifier(t, []signature.Secret{sec}, nil, 0)
	values := []any{signer, verifier, sec, &sec, key, &key, exported{sec, key}, &exported{sec, key}, unexported{sec, key},
		&unexported{sec, key}, []signature.Secret{sec}, map[string]signature.PrivateKey{"k": key}}

	var outputs []string
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
		outputs = append(outputs, fmt.Sprint(v), fmt.Sprintln(v))
		if j, err := json.Marshal(v); err == nil {
			outputs = append(outputs, string(j))
		}
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("keys", "secret", sec, "key", key, "wrapped", exported{sec, key}, "hidden", unexported{sec, key},
			slog.Group("g", "secret", &sec), slog.Any("any", sec))
		l.With("secret", sec).Info("with")
	}
	outputs = append(outputs, logs.String(), fmt.Errorf("wrapped: %v", sec).Error())

	for _, out := range outputs {
		for _, s := range secretTexts {
			require.NotContains(t, out, s)
		}
	}
	require.Equal(t, "whsec_…(redacted)", fmt.Sprint(sec))
	require.Equal(t, "whsk_…(redacted)", fmt.Sprintf("%s", key))
	require.Equal(t, "signature.Secret{redacted}", fmt.Sprintf("%#v", sec))
	require.Contains(t, logs.String(), `"secret":"whsec_…(redacted)"`)
	require.Contains(t, logs.String(), `secret=whsec_…(redacted)`)
	require.Equal(t, "whsec_(zero)", fmt.Sprint(signature.Secret{}))
}
