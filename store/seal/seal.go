// Package seal encrypts endpoint credentials at rest, for the SQL stores
// (store/sqlite, store/postgres): endpoint signing keys, OAuth2 client
// secrets and TLS private keys are sealed with AES-256-GCM under a
// key-encryption key the application supplies, and opened as they are read.
//
// # Keys and rotation
//
// A [Keyring] holds one or more 32-byte keys, each with an id. The first
// seals; every one opens. Each sealed value records the id of the key that
// sealed it, so a key can be rotated: put the new key first and keep the old
// ones until the store's re-encryption pass (Reencrypt on the SQL stores)
// has sealed every value under the new one; then drop them.
//
// A sealed value is text: "wkseal1:" + key id + ":" + base64url(nonce ||
// ciphertext), sealed with additional data that binds it to its endpoint and
// field, so a sealed value copied into another endpoint's row does not open.
//
// # Policy
//
// [Policy] is what a store does with credentials: seal them under a Keyring,
// or keep them in plaintext when the application chose so explicitly. A
// Policy with neither refuses to write credentials ([ErrNoPolicy]). Values
// written in plaintext before encryption was turned on are read as they
// are, and sealed by the next write or re-encryption pass.
//
// Everything here uses the standard library only, and is safe for concurrent
// use.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the size of a key-encryption key: 32 bytes, AES-256.
const KeySize = 32

// Prefix begins every sealed value.
const Prefix = "wkseal1:"

var (
	// ErrWrongKey is returned, wrapped, when a sealed value does not open
	// under the key its id names: another key was given that id, or the
	// value was altered or moved to another endpoint or field.
	ErrWrongKey = errors.New("seal: wrong key or altered value")
	// ErrUnknownKey is returned, wrapped, when a sealed value names a key
	// id the Keyring does not hold (a key dropped too early), and when a
	// store without a Keyring reads a sealed value.
	ErrUnknownKey = errors.New("seal: the key that sealed this value is not configured")
	// ErrNoPolicy is returned, wrapped, when a store that neither seals
	// nor was told to keep plaintext is asked to write a credential. The
	// SQL drivers' wrapping error names their Config fields that fix it:
	// Keys (a Keyring, from [ParseKeyring] of keys [NewKey] made) or
	// PlaintextSecrets.
	ErrNoPolicy = errors.New("seal: no key-encryption key configured and plaintext secrets not allowed")
	// ErrInvalidKey is returned by [NewKeyring] for a key that is not
	// KeySize bytes, an empty or repeated id, or no key at all.
	ErrInvalidKey = errors.New("seal: invalid key")
)

// Key is a key-encryption key and its id. The id is stored beside every
// value the key seals, so it must be stable and not secret ("2026-01",
// "kek-3"): 1 to 64 bytes of letters, digits, '-', '_' and '.'.
type Key struct {
	ID     string
	Secret []byte
}

// String keeps the key out of formatted output.
func (k Key) String() string { return "seal.Key{ID: " + k.ID + ", Secret: (redacted)}" }

// GoString keeps the key out of %#v output.
func (k Key) GoString() string { return k.String() }

// LogValue keeps the key out of logs.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Keyring holds the key-encryption keys: the first seals, all open. Create
// one with [NewKeyring]; it is immutable and safe for concurrent use.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// NewKeyring returns a Keyring whose first key seals and whose keys all
// open. The key bytes are copied. It returns an error wrapping
// [ErrInvalidKey] for no key, a key that is not [KeySize] bytes, or an id
// that is empty, malformed or repeated.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: NewKeyring needs at least one key", ErrInvalidKey)
	}
	r := &Keyring{primary: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if !validID(k.ID) {
			return nil, fmt.Errorf("%w: keys[%d]: an id is 1 to 64 letters, digits, '-', '_' or '.'", ErrInvalidKey, i)
		}
		if _, dup := r.aeads[k.ID]; dup {
			return nil, fmt.Errorf("%w: keys[%d]: id %q repeated", ErrInvalidKey, i, k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("%w: key %q is %d bytes, want %d", ErrInvalidKey, k.ID, len(k.Secret), KeySize)
		}
		block, err := aes.NewCipher(append([]byte(nil), k.Secret...))
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		r.aeads[k.ID] = aead
	}
	return r, nil
}

// String describes the Keyring without its keys.
func (r *Keyring) String() string { return "seal.Keyring{primary: " + r.primary + "}" }

// LogValue keeps the keys out of logs.
func (r *Keyring) LogValue() slog.Value { return slog.StringValue(r.String()) }

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Primary returns the id of the key that seals.
func (r *Keyring) Primary() string { return r.primary }

// Seal encrypts plaintext under the primary key, bound to context (the
// additional data: which endpoint and field the value belongs to), and
// returns its text form. It fails only if the system's random source does.
func (r *Keyring) Seal(plaintext, context string) (string, error) {
	aead := r.aeads[r.primary]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	buf = aead.Seal(buf, buf, []byte(plaintext), []byte(context))
	return Prefix + r.primary + ":" + base64.RawURLEncoding.EncodeToString(buf), nil
}

// Open decrypts a sealed value with the key its id names and the context
// it was sealed with. It returns an error wrapping [ErrUnknownKey] when the
// Keyring lacks that key, [ErrWrongKey] when the value does not open, and
// an error for text that is not a sealed value. Errors never hold the value.
func (r *Keyring) Open(sealed, context string) (string, error) {
	id, raw, err := split(sealed)
	if err != nil {
		return "", err
	}
	aead, ok := r.aeads[id]
	if !ok {
		return "", fmt.Errorf("%w: key id %q", ErrUnknownKey, id)
	}
	if len(raw) < aead.NonceSize() {
		return "", fmt.Errorf("%w: key id %q: value too short", ErrWrongKey, id)
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(context))
	if err != nil {
		return "", fmt.Errorf("%w: key id %q", ErrWrongKey, id)
	}
	return string(pt), nil
}

// Current reports whether value is sealed under the primary key: a
// re-encryption pass leaves such values alone.
func (r *Keyring) Current(value string) bool {
	id, ok := KeyID(value)
	return ok && id == r.primary
}

// IsSealed reports whether value has the form of a sealed value.
func IsSealed(value string) bool { return strings.HasPrefix(value, Prefix) }

// KeyID returns the id of the key that sealed value, and false when value
// is not sealed.
func KeyID(value string) (string, bool) {
	rest, ok := strings.CutPrefix(value, Prefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	return id, ok
}

func split(sealed string) (string, []byte, error) {
	rest, ok := strings.CutPrefix(sealed, Prefix)
	if !ok {
		return "", nil, errors.New("seal: not a sealed value")
	}
	id, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return "", nil, errors.New("seal: malformed sealed value")
	}
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return "", nil, fmt.Errorf("%w: key id %q: malformed value", ErrWrongKey, id)
	}
	return id, raw, nil
}

// ParseKeyring parses keys written as text, for configuration from an
// environment variable or a secret file: comma-separated "id=base64" pairs
// (standard base64 of 32 bytes, padded or not), the sealing key first, as
// in "2026-02=q83v...,2026-01=3q2+..."; [NewKey] writes one. Spaces around
// the items are ignored.
//
// Errors wrap [ErrInvalidKey] and never repeat key material (an id is not
// secret and may be named): empty text is "seal: invalid key: no keys:
// want id=base64[,id=base64...]", and an item that is not of that form
// says which item, counting from 1, and what the form is.
func ParseKeyring(text string) (*Keyring, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%w: no keys: want id=base64[,id=base64...], such as %s (seal.NewKey makes one)",
			ErrInvalidKey, exampleKey)
	}
	items := strings.Split(text, ",")
	keys := make([]Key, 0, len(items))
	for i, item := range items {
		item = strings.TrimSpace(item)
		id, b64, ok := strings.Cut(item, "=")
		switch {
		case item == "":
			return nil, fmt.Errorf("%w: item %d of %d is empty: want id=base64[,id=base64...]", ErrInvalidKey, i+1, len(items))
		case !ok || id == "":
			return nil, fmt.Errorf("%w: item %d of %d: want id=base64, such as %s", ErrInvalidKey, i+1, len(items), exampleKey)
		case !validID(id):
			return nil, fmt.Errorf("%w: item %d of %d: an id is 1 to 64 letters, digits, '-', '_' or '.', as in %s",
				ErrInvalidKey, i+1, len(items), exampleKey)
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(b64)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: not standard base64 (want %d random bytes in base64, as seal.NewKey writes)",
				ErrInvalidKey, id, KeySize)
		}
		keys = append(keys, Key{ID: id, Secret: b})
	}
	return NewKeyring(keys...)
}

// exampleKey shows the form of a key in error messages.
const exampleKey = "2026-01=<base64 of 32 random bytes>"

// NewKey returns a new key-encryption key with the given id, 32 bytes
// from crypto/rand, in the text form [ParseKeyring] reads: id + "=" +
// standard base64, as in "2026-01=q83v...=". Put it first in the keyring's
// text (an environment variable, a secret file) to seal with it; the id
// is stored beside every value it seals, so give each key its own id (a
// date, say). It returns an error wrapping [ErrInvalidKey] for an id that
// is not 1 to 64 letters, digits, '-', '_' or '.', or the random
// source's error. It is safe for concurrent use.
func NewKey(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("%w: id %q: an id is 1 to 64 letters, digits, '-', '_' or '.'", ErrInvalidKey, id)
	}
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("seal: new key: %w", err)
	}
	return id + "=" + base64.StdEncoding.EncodeToString(b), nil
}
