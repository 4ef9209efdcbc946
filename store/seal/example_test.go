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

// NewKey makes a key-encryption key in the text form ParseKeyring reads,
// the form of $WEBHOOK_STORE_KEYS (the CLI prints one with
// "webhook secret --store-key"). Keep it in a secret manager; here it is
// parsed at once.
func ExampleNewKey() {
	line, err := seal.NewKey("2026-01") // "2026-01=" + base64 of 32 random bytes
	if err != nil {
		log.Fatal(err)
	}
	ring, err := seal.ParseKeyring(line) // in production: os.Getenv("WEBHOOK_STORE_KEYS")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sealing key:", ring.Primary())

	_, err = seal.ParseKeyring("")
	fmt.Println(err)
	// Output:
	// sealing key: 2026-01
	// seal: invalid key: no keys: want id=base64[,id=base64...], such as 2026-01=<base64 of 32 random bytes> (seal.NewKey makes one)
}
