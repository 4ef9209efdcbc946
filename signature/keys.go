package signature

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Key text prefixes, as the Standard Webhooks specification defines them.
const (
	SecretPrefix     = "whsec_" // symmetric HMAC-SHA256 secret (v1)
	PrivateKeyPrefix = "whsk_"  // Ed25519 private key (v1a)
	PublicKeyPrefix  = "whpk_"  // Ed25519 public key (v1a)
)

// Bounds on the decoded length of a symmetric secret, in bytes.
const (
	MinSecretLength     = 24 // 192 bits, the specification's minimum
	MaxSecretLength     = 64 // 512 bits, the specification's maximum
	DefaultSecretLength = 32 // what NewSecret generates
)

// redactedSecret and redactedPrivateKey are what fmt and slog print instead
// of a key.
const (
	redactedSecret     = SecretPrefix + "…(redacted)"
	redactedPrivateKey = PrivateKeyPrefix + "…(redacted)"
)

// Secret is a symmetric signing secret for v1 (HMAC-SHA256) signatures. Its
// text form is "whsec_" followed by the standard base64 encoding of 24 to 64
// random bytes.
//
// # Redaction
//
// A Secret never appears in default output: it implements [fmt.Formatter], so
// every fmt verb (%v, %+v, %#v, %s, %q, %x, ...) prints "whsec_…(redacted)",
// and [slog.LogValuer], so every slog handler logs the same. The key bytes sit
// behind a func value, so even where fmt cannot call Format (a Secret in an
// unexported struct field, or a verb fmt finds bad) it prints an address, not
// the key. Secret implements neither [encoding.TextMarshaler]
// nor [json.Marshaler]; encoding/json renders it as {}.
//
// Only [Secret.String] returns the key text, because a producer must store it
// and show it to the endpoint's owner once. Call it only for that purpose.
//
// The zero Secret is invalid: [NewSigner] and [NewVerifier] reject it with
// [ErrInvalidSecret]. A Secret is immutable and safe for concurrent use; copies
// share the same key.
type Secret struct {
	// key returns the key bytes (shared; never modified). A func rather than
	// a slice or pointer because fmt prints a func as an address even where
	// it cannot call Format (unexported fields, bad verbs).
	key func() []byte
}

func newSecretValue(key []byte) Secret {
	return Secret{key: func() []byte { return key }}
}

// NewSecret returns a fresh Secret of [DefaultSecretLength] bytes read from
// crypto/rand. It returns an error only if the system's random source fails.
func NewSecret() (Secret, error) {
	key := make([]byte, DefaultSecretLength)
	if _, err := rand.Read(key); err != nil {
		return Secret{}, fmt.Errorf("signature: generating secret: %w", err)
	}
	return newSecretValue(key), nil
}

// ParseSecret parses the text form "whsec_<base64>" of a Secret. The base64
// may be padded or unpadded standard encoding; it must decode to between
// [MinSecretLength] and [MaxSecretLength] bytes. Surrounding white space is
// not trimmed.
//
// On failure it returns an error wrapping [ErrInvalidSecret] that says what is
// wrong without repeating the input.
func ParseSecret(s string) (Secret, error) {
	rest, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		switch {
		case strings.HasPrefix(s, PrivateKeyPrefix), strings.HasPrefix(s, PublicKeyPrefix):
			return Secret{}, fmt.Errorf("%w: this is an Ed25519 key (whsk_/whpk_), not a whsec_ secret", ErrInvalidSecret)
		case s == "":
			return Secret{}, fmt.Errorf("%w: empty", ErrInvalidSecret)
		}
		return Secret{}, fmt.Errorf("%w: missing %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	key, err := decodeKeyText(rest)
	if err != nil {
		return Secret{}, fmt.Errorf("%w: base64 after %q is invalid", ErrInvalidSecret, SecretPrefix)
	}
	if len(key) < MinSecretLength || len(key) > MaxSecretLength {
		return Secret{}, fmt.Errorf("%w: decodes to %d bytes, want %d to %d", ErrInvalidSecret, len(key), MinSecretLength, MaxSecretLength)
	}
	return newSecretValue(key), nil
}

// String returns the full secret text, "whsec_" followed by the padded
// standard base64 encoding of the key. This is the one accessor that reveals
// the key: use it to store the secret or show it to its owner, never to log
// it. fmt and slog do not call it (see the type's doc). The zero Secret
// returns "".
func (s Secret) String() string {
	if s.key == nil {
		return ""
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(s.key())
}

// Format implements [fmt.Formatter]: every verb prints "whsec_…(redacted)"
// (%#v prints "signature.Secret{redacted}"), so the key cannot leak through
// fmt, log or error messages.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, "signature.Secret{redacted}")
	case s.key == nil:
		_, _ = io.WriteString(f, SecretPrefix+"(zero)")
	default:
		_, _ = io.WriteString(f, redactedSecret)
	}
}

// LogValue implements [slog.LogValuer]; it returns "whsec_…(redacted)".
func (s Secret) LogValue() slog.Value {
	if s.key == nil {
		return slog.StringValue(SecretPrefix + "(zero)")
	}
	return slog.StringValue(redactedSecret)
}

// Equal reports in constant time whether s and other hold the same key. Two
// zero Secrets are equal.
func (s Secret) Equal(other Secret) bool {
	if s.key == nil || other.key == nil {
		return s.key == nil && other.key == nil
	}
	return subtle.ConstantTimeCompare(s.key(), other.key()) == 1
}

func (s Secret) valid() bool {
	return s.key != nil && len(s.key()) >= MinSecretLength && len(s.key()) <= MaxSecretLength
}

// PrivateKey is an Ed25519 private key for v1a signatures. Its text form is
// "whsk_" followed by the standard base64 encoding of the 64-byte
// [ed25519.PrivateKey] (seed, then public key).
//
// PrivateKey follows the same redaction rules as [Secret]: fmt and slog print
// "whsk_…(redacted)"; only [PrivateKey.String] returns the key text.
//
// The zero PrivateKey is invalid: [NewSigner] rejects it with [ErrInvalidKey].
// A PrivateKey is immutable and safe for concurrent use.
type PrivateKey struct {
	key func() ed25519.PrivateKey // see Secret.key
}

func newPrivateKeyValue(key ed25519.PrivateKey) PrivateKey {
	return PrivateKey{key: func() ed25519.PrivateKey { return key }}
}

// GenerateKey returns a fresh Ed25519 private key from crypto/rand. It returns
// an error only if the system's random source fails.
func GenerateKey() (PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("signature: generating key: %w", err)
	}
	return newPrivateKeyValue(key), nil
}

// ParsePrivateKey parses the text form "whsk_<base64>" of an Ed25519 private
// key. The base64 must decode to 64 bytes whose second half is the public key
// derived from the first half (the seed). On failure it returns an error
// wrapping [ErrInvalidKey] that does not repeat the input.
func ParsePrivateKey(s string) (PrivateKey, error) {
	rest, ok := strings.CutPrefix(s, PrivateKeyPrefix)
	if !ok {
		if strings.HasPrefix(s, SecretPrefix) || strings.HasPrefix(s, PublicKeyPrefix) {
			return PrivateKey{}, fmt.Errorf("%w: not a whsk_ private key", ErrInvalidKey)
		}
		return PrivateKey{}, fmt.Errorf("%w: missing %q prefix", ErrInvalidKey, PrivateKeyPrefix)
	}
	raw, err := decodeKeyText(rest)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("%w: base64 after %q is invalid", ErrInvalidKey, PrivateKeyPrefix)
	}
	if len(raw) != ed25519.PrivateKeySize {
		return PrivateKey{}, fmt.Errorf("%w: private key decodes to %d bytes, want %d", ErrInvalidKey, len(raw), ed25519.PrivateKeySize)
	}
	derived := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
	if subtle.ConstantTimeCompare(derived[ed25519.SeedSize:], raw[ed25519.SeedSize:]) != 1 {
		return PrivateKey{}, fmt.Errorf("%w: public half does not match the seed", ErrInvalidKey)
	}
	return newPrivateKeyValue(derived), nil
}

// Public returns the public key of k, for handing to consumers. The zero
// PrivateKey returns the zero PublicKey.
func (k PrivateKey) Public() PublicKey {
	if k.key == nil {
		return PublicKey{}
	}
	pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
	copy(pub, k.key()[ed25519.SeedSize:])
	return PublicKey{key: pub}
}

// String returns the full private key text "whsk_<base64>". Like
// [Secret.String] it is the one accessor that reveals the key; fmt and slog
// never call it. The zero PrivateKey returns "".
func (k PrivateKey) String() string {
	if k.key == nil {
		return ""
	}
	return PrivateKeyPrefix + base64.StdEncoding.EncodeToString(k.key())
}

// Format implements [fmt.Formatter]: every verb prints "whsk_…(redacted)"
// (%#v prints "signature.PrivateKey{redacted}").
func (k PrivateKey) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, "signature.PrivateKey{redacted}")
	case k.key == nil:
		_, _ = io.WriteString(f, PrivateKeyPrefix+"(zero)")
	default:
		_, _ = io.WriteString(f, redactedPrivateKey)
	}
}

// LogValue implements [slog.LogValuer]; it returns "whsk_…(redacted)".
func (k PrivateKey) LogValue() slog.Value {
	if k.key == nil {
		return slog.StringValue(PrivateKeyPrefix + "(zero)")
	}
	return slog.StringValue(redactedPrivateKey)
}

func (k PrivateKey) valid() bool {
	return k.key != nil && len(k.key()) == ed25519.PrivateKeySize
}

// PublicKey is an Ed25519 public key for verifying v1a signatures. Its text
// form is "whpk_" followed by the standard base64 encoding of the 32-byte key.
// It is not secret: fmt prints its text form.
//
// The zero PublicKey is invalid: [NewVerifier] rejects it with
// [ErrInvalidKey]. A PublicKey is immutable and safe for concurrent use.
type PublicKey struct {
	key ed25519.PublicKey
}

// ParsePublicKey parses the text form "whpk_<base64>" of an Ed25519 public
// key. The base64 must decode to 32 bytes. On failure it returns an error
// wrapping [ErrInvalidKey].
func ParsePublicKey(s string) (PublicKey, error) {
	rest, ok := strings.CutPrefix(s, PublicKeyPrefix)
	if !ok {
		if strings.HasPrefix(s, SecretPrefix) || strings.HasPrefix(s, PrivateKeyPrefix) {
			return PublicKey{}, fmt.Errorf("%w: not a whpk_ public key", ErrInvalidKey)
		}
		return PublicKey{}, fmt.Errorf("%w: missing %q prefix", ErrInvalidKey, PublicKeyPrefix)
	}
	raw, err := decodeKeyText(rest)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: base64 after %q is invalid", ErrInvalidKey, PublicKeyPrefix)
	}
	if len(raw) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("%w: public key decodes to %d bytes, want %d", ErrInvalidKey, len(raw), ed25519.PublicKeySize)
	}
	return PublicKey{key: ed25519.PublicKey(raw)}, nil
}

// String returns the text form "whpk_<base64>". The zero PublicKey returns "".
func (k PublicKey) String() string {
	if k.key == nil {
		return ""
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(k.key)
}

// Equal reports whether k and other are the same public key.
func (k PublicKey) Equal(other PublicKey) bool {
	return k.key.Equal(other.key)
}

func (k PublicKey) valid() bool {
	return len(k.key) == ed25519.PublicKeySize
}

// ParseSigningKey parses the text of a key that signs: a "whsec_" [Secret]
// (v1 signatures) or a "whsk_" [PrivateKey] (v1a). On success exactly one of
// the two results is non-zero. A "whpk_" [PublicKey] is refused: it verifies
// and cannot sign. Use it where a producer accepts keys to sign with, such
// as an endpoint's secrets.
//
// On failure it returns an error wrapping [ErrInvalidKey] (a whsk_ or whpk_
// key) or [ErrInvalidSecret] (anything else) that says what is wrong without
// repeating the input.
func ParseSigningKey(s string) (Secret, PrivateKey, error) {
	switch {
	case strings.HasPrefix(s, PrivateKeyPrefix):
		k, err := ParsePrivateKey(s)
		return Secret{}, k, err
	case strings.HasPrefix(s, PublicKeyPrefix):
		return Secret{}, PrivateKey{}, fmt.Errorf("%w: a public key (%s) verifies and cannot sign; use its private key (%s)", ErrInvalidKey, PublicKeyPrefix, PrivateKeyPrefix)
	case s != "" && !strings.HasPrefix(s, SecretPrefix):
		return Secret{}, PrivateKey{}, fmt.Errorf("%w: want %q and base64 (a secret) or %q and base64 (an Ed25519 private key)", ErrInvalidSecret, SecretPrefix, PrivateKeyPrefix)
	}
	sec, err := ParseSecret(s)
	return sec, PrivateKey{}, err
}

// decodeKeyText decodes the base64 part of a key's text form: standard
// alphabet, padded or unpadded, with canonical trailing bits. Line breaks
// (which encoding/base64 would silently skip) are rejected.
func decodeKeyText(s string) ([]byte, error) {
	if s == "" {
		return nil, base64.CorruptInputError(0)
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return nil, base64.CorruptInputError(i)
	}
	if len(s)%4 == 0 {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}
