package signature

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Signer produces webhook-signature header values. It signs with every secret
// and key it holds, so that during a rotation overlap consumers holding either
// the old or the new secret can verify.
//
// A Signer is immutable after construction and safe for concurrent use. The
// zero Signer is not usable; create one with [NewSigner].
type Signer struct {
	secrets []*macKey
	keys    []PrivateKey // func-backed, so fmt of a Signer shows no key
	msgs    msgPool
	sigLen  int // length of a full header value
}

// NewSigner returns a Signer that signs with each of secrets (v1, HMAC-SHA256)
// and each of keys (v1a, Ed25519), in that order. The slice is not retained.
//
// It returns an error wrapping [ErrNoKeys] when given neither secrets nor keys,
// [ErrInvalidSecret] or [ErrInvalidKey] for a zero Secret or PrivateKey, and an
// error when given more than [MaxSignatures] in total.
func NewSigner(secrets []Secret, keys ...PrivateKey) (*Signer, error) {
	n := len(secrets) + len(keys)
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: NewSigner needs at least one secret or private key", ErrNoKeys)
	case n > MaxSignatures:
		return nil, fmt.Errorf("signature: NewSigner given %d secrets and keys, at most %d allowed", n, MaxSignatures)
	}
	s := &Signer{}
	for i, sec := range secrets {
		if !sec.valid() {
			return nil, fmt.Errorf("%w: secrets[%d] is the zero Secret", ErrInvalidSecret, i)
		}
		s.secrets = append(s.secrets, newMacKey(sec.key()))
		s.sigLen += len(versionHMAC) + 1 + hmacB64Len + 1
	}
	for i, k := range keys {
		if !k.valid() {
			return nil, fmt.Errorf("%w: keys[%d] is the zero PrivateKey", ErrInvalidKey, i)
		}
		s.keys = append(s.keys, k)
		s.sigLen += len(versionEd25519) + 1 + ed25519B64Len + 1
	}
	s.sigLen-- // no trailing space
	return s, nil
}

// Sign returns the webhook-signature header value for a message: one
// space-separated entry per secret ("v1,<base64>") and per private key
// ("v1a,<base64>"), computed over id + "." + the decimal Unix seconds of ts +
// "." + body.
//
// Sign does not validate id (see [ValidateID]); ts must not be before 1970,
// since verifiers accept only non-negative timestamps. The same ts, formatted
// with strconv.FormatInt(ts.Unix(), 10), must be sent as webhook-timestamp;
// [Signer.SignHeader] does both.
func (s *Signer) Sign(id string, ts time.Time, body []byte) string {
	var arr [256]byte
	return string(s.AppendSign(arr[:0], id, ts, body))
}

// AppendSign appends the header value that [Signer.Sign] returns to dst and
// returns the extended slice. With a dst of sufficient capacity and only v1
// secrets it does not allocate; each v1a key costs one small allocation.
func (s *Signer) AppendSign(dst []byte, id string, ts time.Time, body []byte) []byte {
	unix := ts.Unix()
	first := true
	for _, mk := range s.secrets {
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		st := mk.get()
		st.buf = appendPrefixUnix(st.buf[:0], id, unix)
		sum := st.sumOver(body)
		dst = append(dst, versionHMAC+","...)
		dst = base64.StdEncoding.AppendEncode(dst, sum)
		mk.put(st)
	}
	if len(s.keys) > 0 {
		msg := s.msgs.get(len(id) + 22 + len(body))
		*msg = appendPrefixUnix((*msg)[:0], id, unix)
		*msg = append(*msg, body...)
		for _, k := range s.keys {
			if !first {
				dst = append(dst, ' ')
			}
			first = false
			dst = append(dst, versionEd25519+","...)
			dst = base64.StdEncoding.AppendEncode(dst, ed25519.Sign(k.key(), *msg))
		}
		s.msgs.put(msg)
	}
	return dst
}

// SignHeader signs the message and sets the three Standard Webhooks headers on
// h with [http.Header.Set], which stores them under their canonical names
// (Webhook-Id, Webhook-Timestamp, Webhook-Signature); HTTP header names are
// case-insensitive, so receivers see the names the specification lists.
// Existing values of those headers are replaced.
func (s *Signer) SignHeader(h http.Header, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, s.Sign(id, ts, body))
}
