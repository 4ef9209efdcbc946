package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"math"
	"strconv"
	"sync"
)

// prefixCap is the capacity of a pooled prefix buffer: the longest valid
// webhook-id, the longest int64 and two dots, rounded up.
const prefixCap = 320

// maxPooledMessage is the largest v1a message buffer returned to a pool;
// larger ones are left to the garbage collector.
const maxPooledMessage = 1<<20 + prefixCap

// ValidateID reports whether id is acceptable as a webhook-id: 1 to
// [MaxIDLength] bytes of visible ASCII (0x21 to 0x7E) other than '.'. The dot
// is excluded because it separates the parts of the signed content.
// On failure it returns an error wrapping [ErrMalformedHeader] (or
// [ErrMissingHeader] for the empty string).
//
// A [Signer] does not validate the ids it signs; a producer should call
// ValidateID before sending, because every verifier in this package rejects
// an invalid id.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: %s is empty", ErrMissingHeader, HeaderID)
	}
	if len(id) > MaxIDLength {
		return fmt.Errorf("%w: %s is %d bytes, at most %d allowed", ErrMalformedHeader, HeaderID, len(id), MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e || c == '.' {
			return fmt.Errorf("%w: %s has a disallowed byte at offset %d", ErrMalformedHeader, HeaderID, i)
		}
	}
	return nil
}

// parseTimestamp parses a canonical non-negative decimal int64: digits only,
// no sign, no leading zeros (except "0" itself), no white space.
func parseTimestamp(s string) (int64, bool) {
	if s == "" || len(s) > 19 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := int64(s[i]) - '0'
		if d < 0 || d > 9 {
			return 0, false
		}
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// appendPrefix appends "id.timestamp." to dst.
func appendPrefix(dst []byte, id, timestamp string) []byte {
	dst = append(dst, id...)
	dst = append(dst, '.')
	dst = append(dst, timestamp...)
	return append(dst, '.')
}

// appendPrefixUnix appends "id.<unix seconds>." to dst.
func appendPrefixUnix(dst []byte, id string, unix int64) []byte {
	dst = append(dst, id...)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, unix, 10)
	return append(dst, '.')
}

// macKey is one HMAC-SHA256 key with a pool of keyed hashes, so that neither
// signing nor verifying allocates a hash or re-derives the key pads.
type macKey struct {
	pool sync.Pool // of *macState
}

// macState is a pooled keyed hash with its scratch buffers.
type macState struct {
	h   hash.Hash
	buf []byte // the "id.timestamp." prefix
	sum [sha256.Size]byte
}

func newMacKey(key []byte) *macKey {
	key = append([]byte(nil), key...)
	mk := &macKey{}
	mk.pool.New = func() any {
		return &macState{h: hmac.New(sha256.New, key), buf: make([]byte, 0, prefixCap)}
	}
	return mk
}

// get takes a keyed hash from the pool; release it with put.
func (mk *macKey) get() *macState {
	return mk.pool.Get().(*macState)
}

func (mk *macKey) put(st *macState) {
	if cap(st.buf) > prefixCap*4 {
		st.buf = make([]byte, 0, prefixCap)
	}
	mk.pool.Put(st)
}

// sumOver hashes st.buf followed by body and returns the MAC, which aliases st.
func (st *macState) sumOver(body []byte) []byte {
	st.h.Reset()
	st.h.Write(st.buf)
	st.h.Write(body)
	return st.h.Sum(st.sum[:0])
}

// msgPool pools the contiguous "id.timestamp.body" buffers that Ed25519 needs.
type msgPool struct {
	pool sync.Pool // of *[]byte
}

func (p *msgPool) get(size int) *[]byte {
	if v, ok := p.pool.Get().(*[]byte); ok && cap(*v) >= size {
		return v
	}
	b := make([]byte, 0, size)
	return &b
}

func (p *msgPool) put(b *[]byte) {
	if cap(*b) > maxPooledMessage {
		return
	}
	*b = (*b)[:0]
	p.pool.Put(b)
}
