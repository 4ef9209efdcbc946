package signature

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// VerifyOptions configures a [Verifier]. The zero value (or a nil pointer)
// gives the defaults.
type VerifyOptions struct {
	// Tolerance is how far webhook-timestamp may lie in the past or in the
	// future of Now, inclusive. Zero means DefaultTolerance; negative is an
	// error.
	Tolerance time.Duration

	// Now returns the current time. Nil means time.Now. Tests inject a fixed
	// clock here.
	Now func() time.Time
}

// Verifier checks Standard Webhooks signatures. A message is accepted when its
// headers are well formed, its timestamp is within the tolerance, and any of
// the first [MaxSignatures] entries of webhook-signature matches any of the
// Verifier's secrets (v1) or public keys (v1a). v1 signatures are compared in
// constant time with [hmac.Equal]; the MAC is computed once per secret,
// whatever the number of entries.
//
// A Verifier is immutable after construction and safe for concurrent use. The
// zero Verifier is not usable; create one with [NewVerifier].
type Verifier struct {
	secrets   []*macKey
	keys      []ed25519.PublicKey
	tolerance time.Duration
	now       func() time.Time
	b64       *base64.Encoding // standard, padded, strict
	msgs      msgPool
}

// NewVerifier returns a Verifier accepting signatures by any of secrets (v1)
// and keys (v1a). The slices are not retained. opts may be nil.
//
// It fails closed: it returns an error wrapping [ErrNoKeys] when both secrets
// and keys are empty, [ErrInvalidSecret] or [ErrInvalidKey] for a zero Secret
// or PublicKey, and an error naming the field for a negative
// VerifyOptions.Tolerance.
func NewVerifier(secrets []Secret, keys []PublicKey, opts *VerifyOptions) (*Verifier, error) {
	if len(secrets) == 0 && len(keys) == 0 {
		return nil, fmt.Errorf("%w: NewVerifier needs at least one secret or public key", ErrNoKeys)
	}
	var o VerifyOptions
	if opts != nil {
		o = *opts
	}
	if o.Tolerance < 0 {
		return nil, fmt.Errorf("signature: VerifyOptions.Tolerance is negative (%v)", o.Tolerance)
	}
	if o.Tolerance == 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	v := &Verifier{
		tolerance: o.Tolerance,
		now:       o.Now,
		b64:       base64.StdEncoding.Strict(),
	}
	for i, sec := range secrets {
		if !sec.valid() {
			return nil, fmt.Errorf("%w: secrets[%d] is the zero Secret", ErrInvalidSecret, i)
		}
		v.secrets = append(v.secrets, newMacKey(sec.key()))
	}
	for i, k := range keys {
		if !k.valid() {
			return nil, fmt.Errorf("%w: keys[%d] is the zero PublicKey", ErrInvalidKey, i)
		}
		v.keys = append(v.keys, append(ed25519.PublicKey(nil), k.key...))
	}
	return v, nil
}

// Verify checks the signature of body against the webhook-id,
// webhook-timestamp and webhook-signature headers of h. Header names are
// matched case-insensitively, including keys not in canonical form; each
// header must occur exactly once. Verify reads nothing but h and body.
//
// It returns nil when the message is authentic and fresh. Otherwise, checked
// in this order, it returns an error wrapping [ErrMissingHeader] (a header
// absent or empty), [ErrMalformedHeader] (repeated, bad id, non-canonical
// timestamp), [ErrTimestampTooOld] or [ErrTimestampTooNew], or [ErrNoMatch].
func (v *Verifier) Verify(h http.Header, body []byte) error {
	var vals [3]string
	var counts [3]int
	for k, vs := range h {
		var i int
		switch len(k) {
		case len(HeaderID):
			if !strings.EqualFold(k, HeaderID) {
				continue
			}
			i = 0
		case len(HeaderTimestamp): // == len(HeaderSignature)
			switch {
			case strings.EqualFold(k, HeaderTimestamp):
				i = 1
			case strings.EqualFold(k, HeaderSignature):
				i = 2
			default:
				continue
			}
		default:
			continue
		}
		counts[i] += len(vs)
		if len(vs) > 0 {
			vals[i] = vs[0]
		}
	}
	for i, name := range [3]string{HeaderID, HeaderTimestamp, HeaderSignature} {
		if counts[i] > 1 {
			return fmt.Errorf("%w: %s appears %d times", ErrMalformedHeader, name, counts[i])
		}
	}
	return v.VerifyValues(vals[0], vals[1], vals[2], body)
}

// VerifyValues is [Verifier.Verify] for header values obtained some other way.
// The values are used exactly as given (no trimming): the signed content is
// id + "." + timestamp + "." + body over these very bytes.
//
// The id must pass [ValidateID]. The timestamp must be canonical decimal Unix
// seconds: digits only, no sign, no leading zeros, fitting an int64. The
// signatures value is a space-separated list of "version,base64" entries;
// entries with an unknown version, a missing comma, bad or non-canonical
// base64 or the wrong length, and v1a entries when the Verifier has no public
// key, do not match. Only the first [MaxSignatures] non-empty entries are
// examined. A signatures value containing no entry at all returns
// [ErrNoMatch].
//
// Errors are as for [Verifier.Verify]; an empty value is [ErrMissingHeader].
func (v *Verifier) VerifyValues(id, timestamp, signatures string, body []byte) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderID)
	case timestamp == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderTimestamp)
	case signatures == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderSignature)
	}
	if err := ValidateID(id); err != nil {
		return err
	}
	sec, ok := parseTimestamp(timestamp)
	if !ok {
		return fmt.Errorf("%w: %s is not a canonical decimal Unix time", ErrMalformedHeader, HeaderTimestamp)
	}
	if err := v.checkTime(sec); err != nil {
		return err
	}
	var c candidates // on the stack: decoding and matching allocate nothing
	v.decode(signatures, &c)
	if v.matchMAC(&c, id, timestamp, body) || v.matchEd25519(&c, id, timestamp, body) {
		return nil
	}
	return ErrNoMatch
}

// checkTime applies the tolerance to a timestamp of sec Unix seconds.
func (v *Verifier) checkTime(sec int64) error {
	now := v.now()
	nowSec := now.Unix()
	// Settle far-off timestamps with integer arithmetic, which cannot
	// overflow here (sec >= 0), before time.Unix could overflow.
	// sec-nowSec overflows only for a clock before 1970; nowSec-sec cannot.
	slack := int64(v.tolerance/time.Second) + 2
	switch {
	case nowSec < 0 && sec > math.MaxInt64+nowSec:
		return fmt.Errorf("%w: %s is far ahead, tolerance %v", ErrTimestampTooNew, HeaderTimestamp, v.tolerance)
	case sec-nowSec > slack:
		return fmt.Errorf("%w: %s is %ds ahead, tolerance %v", ErrTimestampTooNew, HeaderTimestamp, sec-nowSec, v.tolerance)
	case nowSec-sec > slack:
		return fmt.Errorf("%w: %s is %ds behind, tolerance %v", ErrTimestampTooOld, HeaderTimestamp, nowSec-sec, v.tolerance)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > v.tolerance {
		return fmt.Errorf("%w: %s is %v behind, tolerance %v", ErrTimestampTooOld, HeaderTimestamp, d, v.tolerance)
	}
	if d := ts.Sub(now); d > v.tolerance {
		return fmt.Errorf("%w: %s is %v ahead, tolerance %v", ErrTimestampTooNew, HeaderTimestamp, d, v.tolerance)
	}
	return nil
}
