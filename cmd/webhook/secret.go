package main

import (
	"context"
	"fmt"

	"github.com/webhookkit/webhookkit/signature"
)

func runSecret(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "secret", "[--asymmetric]", `
Print a new random signing secret, "whsec_" followed by the base64 of 32
random bytes, and a newline, on stdout.

With --asymmetric, print a new Ed25519 key pair instead, as two lines on
stdout: first the private key (whsk_..., the sender signs with it), then the
public key (whpk_..., receivers verify with it). A note saying which is which
goes to stderr.`, `
	$ webhook secret
	whsec_6Ub3rPN0xAbQ0a0iN5Y4Ge8IkXx3bEQk9yqvvUPNxEM=

	$ webhook secret --asymmetric > keys.txt
	$ sk=$(sed -n 1p keys.txt); pk=$(sed -n 2p keys.txt)`)
	asym := fs.Bool("asymmetric", false, "print an Ed25519 key pair (whsk_ then whpk_) instead of a whsec_ secret")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
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
