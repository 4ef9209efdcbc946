// Package signature signs and verifies webhooks as the Standard Webhooks
// specification (https://www.standardwebhooks.com, version 1.0.0) defines,
// wire-compatible with its reference libraries.
//
// # Wire format
//
// A signed webhook carries three headers:
//
//	webhook-id:        msg_p5jXN8AQM9LWM0D4loKWxJek
//	webhook-timestamp: 1614265330
//	webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
//
// The signed content is the id, the timestamp and the body joined by dots,
// exactly as sent: id + "." + timestamp + "." + body. A v1 entry is the
// standard base64 of HMAC-SHA256 of that content under a symmetric secret; a
// v1a entry is the base64 of its Ed25519 signature. webhook-signature holds
// several space-separated entries, so a message can be signed with an old and
// a new secret during a rotation.
//
// # Keys
//
// Keys have self-describing text forms: [Secret] is "whsec_" + base64 of 24
// to 64 random bytes, [PrivateKey] is "whsk_" + base64 of the 64-byte Ed25519
// private key, [PublicKey] is "whpk_" + base64 of the 32-byte public key. The
// Parse functions reject anything else with [ErrInvalidSecret] or
// [ErrInvalidKey], without echoing the input; [ParseSigningKey] takes either
// key that signs (whsec_ or whsk_) and refuses a public key. [NewSecret] and
// [GenerateKey] create fresh ones.
//
// Secrets and private keys redact themselves: fmt (every verb, also nested in
// structs) and log/slog print "whsec_…(redacted)" or "whsk_…(redacted)", and
// encoding/json renders {}. Their String method alone returns the key text,
// because a producer must store it and show it once.
//
// # Signing
//
// A [Signer] holds secrets and private keys and adds one entry per key.
// [Signer.SignHeader] sets the three headers on an [net/http.Header];
// [Signer.AppendSign] is an allocation-free variant of [Signer.Sign] for hot
// paths.
//
// # Verifying
//
// A [Verifier] holds secrets and public keys and refuses to be constructed
// without any ([ErrNoKeys]): there is no unverified mode. It accepts a message
// when any of the first [MaxSignatures] entries matches any key, comparing
// HMACs in constant time and computing each secret's HMAC once per message.
// It checks, in this order:
//
//  1. each header present, non-empty and not repeated ([ErrMissingHeader],
//     [ErrMalformedHeader]);
//  2. webhook-id is 1 to [MaxIDLength] bytes of visible ASCII without '.'
//     ([ValidateID]);
//  3. webhook-timestamp is canonical decimal Unix seconds: digits only, no
//     sign, no leading zeros, within int64 ([ErrMalformedHeader]); the MAC is
//     computed over the header text as received, never a re-formatted value;
//  4. the timestamp is within the tolerance ([DefaultTolerance], inclusive)
//     of the clock, both ways ([ErrTimestampTooOld], [ErrTimestampTooNew]);
//  5. some entry matches ([ErrNoMatch]). Entries with an unknown version, bad
//     or non-canonical base64, the wrong length, or v1a when no public key is
//     configured do not match; they are not errors of their own.
//
// A receiver answers errors of steps 1 to 3 ([ErrMissingHeader],
// [ErrMalformedHeader]) with 400 and those of steps 4 and 5 with 401.
//
// [Verifier.Verify] works on an [net/http.Header] and a body the caller has
// already read; [Verifier.VerifyValues] on raw header values;
// [Verifier.VerifyRequest] reads a request body under a size limit and puts a
// fresh reader back in its place.
//
// # Bounds and cost
//
// At most [MaxSignatures] entries are examined and at most
// [MaxAsymmetricSignatures] v1a entries are checked, since each costs a pass
// of SHA-512 over the body. Verifying a v1 signature allocates nothing in the
// steady state: keyed hashes are pooled per secret and candidate signatures
// are decoded into stack buffers. At 16 KiB and above it runs within a few
// percent of a bare crypto/hmac computation over the same bytes (see the
// benchmarks in bench_test.go).
//
// # Concurrency
//
// Signer, Verifier and all key types are immutable after construction and
// safe for concurrent use.
package signature
