package seal_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log"

	"github.com/webhookkit/webhookkit/store/seal"
)

// A Keyring seals with its first key and opens with any: rotate by putting a
// new key first, re-encrypting, then dropping the old one.
func ExampleKeyring() {
	kek := make([]byte, seal.KeySize) // in production: from a secret manager
	if _, err := rand.Read(kek); err != nil {
		log.Fatal(err)
	}
	ring, err := seal.NewKeyring(seal.Key{ID: "2026-01", Secret: kek})
	if err != nil {
		log.Fatal(err)
	}
	sealed, err := ring.Seal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "webhookkit/endpoint/ep_1/secrets")
	if err != nil {
		log.Fatal(err)
	}
	id, _ := seal.KeyID(sealed)
	fmt.Println("sealed under:", id)

	plain, err := ring.Open(sealed, "webhookkit/endpoint/ep_1/secrets")
	fmt.Println(plain, err)

	other, _ := seal.NewKeyring(seal.Key{ID: "2026-01", Secret: make([]byte, seal.KeySize)})
	_, err = other.Open(sealed, "webhookkit/endpoint/ep_1/secrets")
	fmt.Println("wrong key:", errors.Is(err, seal.ErrWrongKey))
	// Output:
	// sealed under: 2026-01
	// whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw <nil>
	// wrong key: true
}
