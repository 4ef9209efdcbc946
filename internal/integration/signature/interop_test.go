package signature_test

import (
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/signature"
)

// TestInteropReference proves wire compatibility with the Standard Webhooks
// reference Go library: each side verifies what the other signs, over random
// secrets (every allowed length), ids (every allowed byte) and bodies.
func TestInteropReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const idAlphabet = "!\"#$%&'()*+,-/0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	for i := range 300 {
		key := make([]byte, signature.MinSecretLength+rng.IntN(signature.MaxSecretLength-signature.MinSecretLength+1))
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		text := "whsec_" + base64.StdEncoding.EncodeToString(key)
		sec := mustSecret(t, text)
		id := make([]byte, 1+rng.IntN(signature.MaxIDLength))
		for j := range id {
			id[j] = idAlphabet[rng.IntN(len(idAlphabet))]
		}
		body := make([]byte, rng.IntN(4096))
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		// The reference library checks against the real clock.
		now := time.Unix(time.Now().Unix(), 0)
		ts := strconv.FormatInt(now.Unix(), 10)

		ref, err := standardwebhooks.NewWebhook(text)
		require.NoError(t, err)

		// Reference signs, we verify.
		refSig, err := ref.Sign(string(id), now, body)
		require.NoError(t, err)
		v := newVerifier(t, []signature.Secret{newSecret(t), sec}, nil, now.Unix())
		refHeader := http.Header{}
		refHeader.Set(standardwebhooks.HeaderWebhookID, string(id))
		refHeader.Set(standardwebhooks.HeaderWebhookTimestamp, ts)
		refHeader.Set(standardwebhooks.HeaderWebhookSignature, refSig)
		require.NoError(t, v.Verify(refHeader, body), "case %d", i)

		// We sign (rotation: the reference's secret is one of several, in a
		// random position), the reference verifies our headers.
		secrets := []signature.Secret{newSecret(t), newSecret(t)}
		secrets = append(secrets[:i%3], append([]signature.Secret{sec}, secrets[i%3:]...)...)
		h := http.Header{}
		newSigner(t, secrets).SignHeader(h, string(id), now, body)
		require.NoError(t, ref.Verify(body, h), "case %d", i)

		// Identical entries for the same secret.
		require.Equal(t, refSig, newSigner(t, []signature.Secret{sec}).Sign(string(id), now, body))

		// Neither accepts a tampered body from the other.
		if len(body) > 0 {
			tampered := append([]byte(nil), body...)
			tampered[rng.IntN(len(tampered))] ^= 1 << rng.IntN(8)
			require.ErrorIs(t, v.Verify(refHeader, tampered), signature.ErrNoMatch)
			require.Error(t, ref.Verify(tampered, h))
		}
	}
}
