package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store/seal"
)

func runSecret(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "secret", "[--asymmetric | --store-key [--key-id ID]]", `
Print a new random signing secret, "whsec_" followed by the base64 of 32
random bytes, and a newline, on stdout.

With --asymmetric, print a new Ed25519 key pair instead, as two lines on
stdout: first the private key (whsk_..., the sender signs with it), then the
public key (whpk_..., receivers verify with it). A note saying which is which
goes to stderr.

With --store-key, print a new key-encryption key for a SQL store instead,
"ID=" followed by the base64 of 32 random bytes (seal.NewKey's form), for
$`+storeKeysEnv+`: with it set, --store sqlite:PATH and postgres://...
encrypt endpoint secrets at rest (without it this tool keeps them in
plaintext). The id, stored beside every value the key seals, is --key-id,
by default today's date (UTC) and 6 random hex digits, such as
2026-12-06.3fa9c1, so that keys made the same day have ids of their own.
To rotate, put the new key first and keep the old ones after it,
comma-separated.`, `
	$ webhook secret
	whsec_6Ub3rPN0xAbQ0a0iN5Y4Ge8IkXx3bEQk9yqvvUPNxEM=

	$ webhook secret --asymmetric > keys.txt
	$ sk=$(sed -n 1p keys.txt); pk=$(sed -n 2p keys.txt)

	$ export `+storeKeysEnv+`=$(webhook secret --store-key)
	$ webhook dashboard --store sqlite:webhooks.db`)
	asym := fs.Bool("asymmetric", false, "print an Ed25519 key pair (whsk_ then whpk_) instead of a whsec_ secret")
	storeKey := fs.Bool("store-key", false, "print a key-encryption key (ID=base64) for $"+storeKeysEnv+" instead of a whsec_ secret")
	keyID := fs.String("key-id", "", "with --store-key, the key's id (default: today's date, UTC, and a random suffix, as 2006-01-02.3fa9c1)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
		return err
	}
	switch {
	case *asym && *storeKey:
		return usagef("--asymmetric and --store-key exclude each other")
	case *keyID != "" && !*storeKey:
		return usagef("--key-id needs --store-key")
	case *storeKey:
		id := *keyID
		if id == "" {
			var err error
			if id, err = defaultKeyID(time.Now()); err != nil {
				return err
			}
		}
		line, err := seal.NewKey(id)
		if errors.Is(err, seal.ErrInvalidKey) {
			return usagef("--key-id %q: an id is 1 to 64 letters, digits, '-', '_' or '.'", id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "a key-encryption key for $%s (keep it secret; put it first to seal with it)\n", storeKeysEnv)
		_, err = fmt.Fprintln(e.stdout, line)
		return err
	}
	if *asym {
		k, err := signature.GenerateKey()
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "line 1: private key (whsk_, keep it secret, sign with it); line 2: public key (whpk_, give it to receivers)")
		_, err = fmt.Fprintf(e.stdout, "%s\n%s\n", k.String(), k.Public().String())
		return err
	}
	s, err := signature.NewSecret()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, s.String())
	return err
}

// defaultKeyID is the id of a key-encryption key made at now without
// --key-id: the UTC date and 6 random hex digits (2006-01-02.3fa9c1), so
// that two keys made the same day do not share an id, which
// seal.ParseKeyring refuses.
func defaultKeyID(now time.Time) (string, error) {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return now.UTC().Format(time.DateOnly) + "." + hex.EncodeToString(b), nil
}
