package signature_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/signature"
)

func ExampleSigner_Sign() {
	secret, err := signature.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}
	signer, err := signature.NewSigner([]signature.Secret{secret})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(signer.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExampleVerifier_Verify() {
	secret, err := signature.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}
	// A fixed clock so the example is reproducible; production code leaves
	// Now nil to use time.Now.
	verifier, err := signature.NewVerifier([]signature.Secret{secret}, nil, &signature.VerifyOptions{
		Now: func() time.Time { return time.Unix(1614265330, 0) },
	})
	if err != nil {
		log.Fatal(err)
	}

	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	body := []byte(`{"test": 2432232314}`)

	fmt.Println("authentic:", verifier.Verify(h, body) == nil)

	err = verifier.Verify(h, []byte(`{"test": 1}`))
	fmt.Println("tampered:", errors.Is(err, signature.ErrNoMatch))

	h.Set("webhook-timestamp", "1614264000") // 22 minutes earlier
	err = verifier.Verify(h, body)
	fmt.Println("replayed:", errors.Is(err, signature.ErrTimestampTooOld))
	// Output:
	// authentic: true
	// tampered: true
	// replayed: true
}

func ExampleNewSecret() {
	secret, err := signature.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	// String reveals the key: store it, show it to the endpoint's owner once.
	text := secret.String()
	fmt.Println(strings.HasPrefix(text, "whsec_"), len(text))

	// Everything else prints it redacted.
	fmt.Println(secret)
	fmt.Printf("%+v\n", struct{ Secret signature.Secret }{secret})
	// Output:
	// true 50
	// whsec_…(redacted)
	// {Secret:whsec_…(redacted)}
}

func ExampleGenerateKey() {
	key, err := signature.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	signer, err := signature.NewSigner(nil, key)
	if err != nil {
		log.Fatal(err)
	}
	// The consumer needs only the public key ("whpk_...").
	public, err := signature.ParsePublicKey(key.Public().String())
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := signature.NewVerifier(nil, []signature.PublicKey{public}, nil)
	if err != nil {
		log.Fatal(err)
	}

	h := http.Header{}
	body := []byte(`{"type":"ping"}`)
	signer.SignHeader(h, "msg_1", time.Now(), body)
	fmt.Println(strings.HasPrefix(h.Get("webhook-signature"), "v1a,"), verifier.Verify(h, body))
	// Output: true <nil>
}

func ExampleVerifier_VerifyRequest() {
	secret, err := signature.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	signer, err := signature.NewSigner([]signature.Secret{secret})
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := signature.NewVerifier([]signature.Secret{secret}, nil, nil)
	if err != nil {
		log.Fatal(err)
	}

	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := verifier.VerifyRequest(r, 64<<10)
		switch {
		case errors.Is(err, signature.ErrMissingHeader), errors.Is(err, signature.ErrMalformedHeader):
			http.Error(w, "bad webhook headers", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Printf("verified %s\n", body)
	}

	body := `{"type":"ping"}`
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/hook", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	signer.SignHeader(req.Header, "msg_1", time.Now(), []byte(body))
	handler(nil, req)
	// Output: verified {"type":"ping"}
}
