package main

import (
	"strings"

	"github.com/webhookkit/webhookkit/signature"
)

// parseSigningKeys parses whsec_ secrets and whsk_ private keys, the keys
// that sign. A bad key is a usage error that names the position, never the
// key text.
func parseSigningKeys(texts []string) ([]signature.Secret, []signature.PrivateKey, error) {
	var secrets []signature.Secret
	var keys []signature.PrivateKey
	for i, t := range texts {
		switch {
		case strings.HasPrefix(t, signature.PrivateKeyPrefix):
			k, err := signature.ParsePrivateKey(t)
			if err != nil {
				return nil, nil, usagef("--secret #%d: %v", i+1, err)
			}
			keys = append(keys, k)
		case strings.HasPrefix(t, signature.PublicKeyPrefix):
			return nil, nil, usagef("--secret #%d: a public key (whpk_) cannot sign; use its private key (whsk_)", i+1)
		default:
			s, err := signature.ParseSecret(t)
			if err != nil {
				return nil, nil, usagef("--secret #%d: %v (want whsec_... or whsk_...)", i+1, err)
			}
			secrets = append(secrets, s)
		}
	}
	return secrets, keys, nil
}

// parseVerifyingKeys parses whsec_ secrets and whpk_ public keys, the keys
// that verify. A private key is refused as the receiver refuses it: it
// belongs to the sender.
func parseVerifyingKeys(texts []string) ([]signature.Secret, []signature.PublicKey, error) {
	var secrets []signature.Secret
	var keys []signature.PublicKey
	for i, t := range texts {
		switch {
		case strings.HasPrefix(t, signature.PublicKeyPrefix):
			k, err := signature.ParsePublicKey(t)
			if err != nil {
				return nil, nil, usagef("--secret #%d: %v", i+1, err)
			}
			keys = append(keys, k)
		case strings.HasPrefix(t, signature.PrivateKeyPrefix):
			return nil, nil, usagef("--secret #%d: verify with the public key (whpk_), not the private key (whsk_)", i+1)
		default:
			s, err := signature.ParseSecret(t)
			if err != nil {
				return nil, nil, usagef("--secret #%d: %v (want whsec_... or whpk_...)", i+1, err)
			}
			secrets = append(secrets, s)
		}
	}
	return secrets, keys, nil
}
