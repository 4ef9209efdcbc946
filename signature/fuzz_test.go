package signature_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/signature"
)

// FuzzVerify checks that verification never panics, that it accepts only an
// exact, independently computed signature entry for the very id, timestamp
// and body given, and that it accepts what the Signer produces whenever the
// headers are valid and fresh.
func FuzzVerify(f *testing.F) {
	edPriv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	key, err := signature.ParsePrivateKey("whsk_" + base64.StdEncoding.EncodeToString(edPriv))
	require.NoError(f, err)
	sec := mustSecret(f, vecSecret)
	signer := newSigner(f, []signature.Secret{sec}, key)
	verifier := newVerifier(f, []signature.Secret{sec}, []signature.PublicKey{key.Public()}, vecUnix)

	v1a := func(id, ts string, body []byte) string {
		return "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(edPriv, append([]byte(id+"."+ts+"."), body...)))
	}

	f.Add(vecID, vecTS, []byte(vecBody), vecSig)
	f.Add(vecID, vecTS, []byte(vecBody), v1a(vecID, vecTS, []byte(vecBody)))
	f.Add(vecID, vecTS, []byte(vecBody), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=")
	f.Add(vecID, vecTS, []byte(vecBody), "v2,x "+vecSig+" v1a,AAAA")
	f.Add(vecID, "+1614265330", []byte(vecBody), vecSig)
	f.Add(vecID, "01614265330", []byte(vecBody), vecSig)
	f.Add(vecID, "1614265630", []byte(vecBody), vecSig)
	f.Add(vecID, "1614265631", []byte(vecBody), vecSig)
	f.Add("msg.1", vecTS, []byte{}, "")
	f.Add("", "", []byte(nil), "v1,")
	f.Add(vecID, vecTS, []byte("\x00\xff"), strings.Repeat("v1, ", 40))
	f.Add("a", "99999999999999999999", []byte("{}"), "v1a,"+strings.Repeat("A", 88))

	f.Fuzz(func(t *testing.T, id, ts string, body []byte, sig string) {
		err := verifier.VerifyValues(id, ts, sig, body)
		herr := verifier.Verify(http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}, body)
		require.Equal(t, sentinel(err), sentinel(herr), "Verify and VerifyValues agree")

		unix, tsErr := strconv.ParseInt(ts, 10, 64)
		canonical := tsErr == nil && unix >= 0 && strconv.FormatInt(unix, 10) == ts
		fresh := canonical && unix >= vecUnix-300 && unix <= vecUnix+300
		validID := signature.ValidateID(id) == nil

		if err == nil {
			require.True(t, validID && fresh, "accepted id %q ts %q", id, ts)
			trueV1 := rawV1(t, vecSecret, id, ts, body)
			trueV1a := v1a(id, ts, body)
			found := false
			examined := 0
			for _, e := range strings.Split(sig, " ") {
				if e == "" || examined == signature.MaxSignatures {
					continue
				}
				examined++
				if e == trueV1 || e == trueV1a {
					found = true
				}
			}
			require.True(t, found, "accepted %q without the true signature", sig)
		} else {
			require.NotEqual(t, "", sentinel(err), "unexpected error %v", err)
		}

		if validID && fresh {
			require.NoError(t, verifier.VerifyValues(id, ts, signer.Sign(id, time.Unix(unix, 0), body), body))
		}
	})
}

// sentinel names the package sentinel err matches, or "".
func sentinel(err error) string {
	for _, s := range []error{signature.ErrMissingHeader, signature.ErrMalformedHeader, signature.ErrNoMatch,
		signature.ErrTimestampTooOld, signature.ErrTimestampTooNew} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err == nil {
		return "nil"
	}
	return ""
}
