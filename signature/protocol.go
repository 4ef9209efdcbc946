package signature

import "time"

// Header names, lower-case as the Standard Webhooks specification writes them.
// HTTP header names are case-insensitive; [http.Header] stores them in
// canonical form (Webhook-Id, Webhook-Timestamp, Webhook-Signature), and HTTP/2
// sends them lower-case.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Protocol bounds.
const (
	// DefaultTolerance is how far a webhook-timestamp may lie in the past or
	// the future before a Verifier rejects it.
	DefaultTolerance = 5 * time.Minute

	// MaxIDLength is the longest accepted webhook-id, in bytes.
	MaxIDLength = 256

	// MaxSignatures is the number of webhook-signature entries a Verifier
	// examines; later entries are ignored. It is also the most secrets and
	// keys a Signer may hold, so that every signature it produces is examined.
	MaxSignatures = 32

	// MaxAsymmetricSignatures is the number of v1a entries (among the first
	// MaxSignatures) a Verifier checks against its public keys; later v1a
	// entries do not match. Ed25519 hashes the whole body once per entry and
	// key, so this bounds the work an unauthenticated request can cause.
	MaxAsymmetricSignatures = 8
)

// Version identifiers of signature entries.
const (
	versionHMAC    = "v1"
	versionEd25519 = "v1a"
)

// Encoded sizes of signature entries' base64 parts (padded standard base64
// of 32 and 64 bytes), and their decoded sizes.
const (
	hmacB64Len    = 44
	ed25519B64Len = 88
	hmacSize      = 32
)
