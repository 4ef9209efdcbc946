package signature_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/webhookkit/webhookkit/signature"
)

// fakeKMS stands in for a key management service: it holds Ed25519 keys by
// name and signs what it is given. The private keys never leave it.
type fakeKMS struct{ keys map[string]ed25519.PrivateKey }

func (k *fakeKMS) SignEd25519(_ context.Context, name string, content []byte) ([]byte, error) {
	key, ok := k.keys[name]
	if !ok {
		return nil, fmt.Errorf("no key %q", name)
	}
	return ed25519.Sign(key, content), nil
}

// A v1a key that stays in a KMS: the producer passes the content to sign
// and puts the signature the KMS returns in webhook-signature. Receivers
// verify with the key's public half, as for any v1a key. (A sender whose
// endpoint has the secret "whkms_webhooks-2026" does the same, given
// sender.Config.KMS.)
func ExampleAppendSignKMS() {
	seed := make([]byte, ed25519.SeedSize) // a real KMS generates its own
	priv := ed25519.NewKeyFromSeed(seed)
	kms := &fakeKMS{keys: map[string]ed25519.PrivateKey{"webhooks-2026": priv}}

	name, err := signature.ParseKeyRef("whkms_webhooks-2026")
	if err != nil {
		log.Fatal(err)
	}
	id, ts, body := "msg_2Lxa3", time.Unix(1767225600, 0), []byte(`{"type":"ping"}`)
	sig, err := signature.AppendSignKMS(context.Background(), nil, kms, []string{name}, id, ts, body)
	if err != nil {
		log.Fatal(err)
	}

	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(signature.HeaderSignature, string(sig))

	pub, err := signature.ParsePublicKey(signature.PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)))
	if err != nil {
		log.Fatal(err)
	}
	v, err := signature.NewVerifier(nil, []signature.PublicKey{pub}, &signature.VerifyOptions{Now: func() time.Time { return ts }})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signature:", string(sig[:4]))
	fmt.Println("verified:", v.Verify(h, body) == nil)
	// Output:
	// signature: v1a,
	// verified: true
}
