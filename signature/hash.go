package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// prefixCap is the capacity of a pooled prefix buffer: the longest valid
// webhook-id, the longest int64 and two dots, rounded up.
const prefixCap = 320

// maxPooledMessage is the largest v1a message buffer returned to a pool;
// larger ones are left to the garbage collector.
const maxPooledMessage = 1<<20 + prefixCap

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
