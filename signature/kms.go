package signature

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// KeyRefPrefix begins the text form of a reference to an Ed25519 private
// key held in a KMS or HSM: "whkms_" and the key's name in that service
// (see [ParseKeyRef]). The reference is not secret; the key never leaves
// the service, which signs through a [KMS].
const KeyRefPrefix = "whkms_"

// MaxKeyRefLength is the longest key name a reference may carry.
const MaxKeyRefLength = 512

// KMS signs with Ed25519 private keys it holds, so that a producer's v1a
// keys can stay in a key management service or hardware security module:
// the producer passes the content to sign (id + "." + timestamp + "." +
// body) and the service returns the signature. Implementations must be safe
// for concurrent use; the content slice must not be retained.
type KMS interface {
	// SignEd25519 returns the 64-byte Ed25519 signature of content under
	// the key named name (the text after [KeyRefPrefix]), or an error,
	// which fails the signing.
	SignEd25519(ctx context.Context, name string, content []byte) ([]byte, error)
}

// ParseKeyRef parses the text form of a KMS key reference, "whkms_" and a
// name of 1 to [MaxKeyRefLength] bytes of visible ASCII, and returns the
// name. Anything else is an error wrapping [ErrInvalidKey].
func ParseKeyRef(s string) (string, error) {
	name, ok := strings.CutPrefix(s, KeyRefPrefix)
	if !ok {
		return "", fmt.Errorf("%w: want %q and a key name", ErrInvalidKey, KeyRefPrefix)
	}
	if name == "" || len(name) > MaxKeyRefLength {
		return "", fmt.Errorf("%w: a key reference names a key of 1 to %d bytes", ErrInvalidKey, MaxKeyRefLength)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x21 || c > 0x7e {
			return "", fmt.Errorf("%w: a key reference's name is visible ASCII (byte %d is not)", ErrInvalidKey, i)
		}
	}
	return name, nil
}

// AppendSignKMS appends one v1a entry per key name in names, each signed by
// kms, to dst, separated by spaces (and from what dst holds already), and
// returns the extended slice: with dst holding [Signer.AppendSign]'s output
// for the same message, the result is the whole webhook-signature value.
// The content passed to kms is id + "." + the decimal Unix seconds of ts +
// "." + body, as for every signature of this package.
//
// It returns dst unchanged and an error wrapping kms's error (naming the
// key), or [ErrInvalidKey] when kms returns something that is not an
// Ed25519 signature.
func AppendSignKMS(ctx context.Context, dst []byte, kms KMS, names []string, id string, ts time.Time, body []byte) ([]byte, error) {
	if len(names) == 0 {
		return dst, nil
	}
	if kms == nil {
		return dst, fmt.Errorf("%w: signing with a KMS key needs a KMS", ErrNoKeys)
	}
	content := appendPrefixUnix(make([]byte, 0, len(id)+22+len(body)), id, ts.Unix())
	content = append(content, body...)
	out := dst
	for _, name := range names {
		sig, err := kms.SignEd25519(ctx, name, content)
		if err != nil {
			return dst, fmt.Errorf("signature: KMS key %q: %w", name, err)
		}
		if len(sig) != ed25519.SignatureSize {
			return dst, fmt.Errorf("%w: KMS key %q returned %d bytes, not an Ed25519 signature", ErrInvalidKey, name, len(sig))
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, versionEd25519+","...)
		out = base64.StdEncoding.AppendEncode(out, sig)
	}
	return out, nil
}
