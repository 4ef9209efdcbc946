package signature

import "errors"

// Sentinel errors. Every error returned by this package matches exactly one of
// them with [errors.Is]; most are wrapped once with detail (which header, which
// field), so compare with errors.Is rather than ==.
//
// A receiver maps them to HTTP status codes as follows: [ErrMissingHeader] and
// [ErrMalformedHeader] are client errors (400); [ErrTimestampTooOld],
// [ErrTimestampTooNew] and [ErrNoMatch] are authentication failures (401).
var (
	// ErrMissingHeader reports that webhook-id, webhook-timestamp or
	// webhook-signature is absent or empty.
	ErrMissingHeader = errors.New("signature: missing header")

	// ErrMalformedHeader reports a header that is present but unusable: a
	// repeated header, a webhook-id outside the allowed alphabet or length, or a
	// webhook-timestamp that is not a canonical decimal Unix time.
	ErrMalformedHeader = errors.New("signature: malformed header")

	// ErrNoMatch reports that no entry of the webhook-signature header matches
	// any configured secret or public key. Entries with unknown versions, bad
	// base64 or the wrong length, and v1a entries when no public key is
	// configured, simply do not match. It is returned unwrapped.
	ErrNoMatch = errors.New("signature: no matching signature")

	// ErrTimestampTooOld reports a webhook-timestamp further in the past than
	// the verifier's tolerance.
	ErrTimestampTooOld = errors.New("signature: timestamp too old")

	// ErrTimestampTooNew reports a webhook-timestamp further in the future than
	// the verifier's tolerance.
	ErrTimestampTooNew = errors.New("signature: timestamp too new")

	// ErrInvalidSecret reports a symmetric secret that is not "whsec_"
	// followed by the base64 encoding of 24 to 64 bytes, or a zero Secret.
	ErrInvalidSecret = errors.New("signature: invalid secret")

	// ErrInvalidKey reports an Ed25519 key that is not "whsk_" (private) or
	// "whpk_" (public) followed by the base64 encoding of a key of the right
	// size, or a zero PrivateKey or PublicKey.
	ErrInvalidKey = errors.New("signature: invalid key")

	// ErrNoKeys reports a Signer or Verifier constructed without any secret or
	// key. There is no unsigned or unverified mode: construction fails closed.
	ErrNoKeys = errors.New("signature: no secrets or keys")
)
