// Package bodyread reads HTTP bodies of bounded size without trusting their
// declared length: the receiver's request bodies, the signature package's
// VerifyRequest and the sender's response bodies all read through it.
//
// A Content-Length says how much a peer promises to send, not what it
// sends. Allocating it in advance lets a client that declares a large body
// and trickles a few bytes (or none) pin that much memory per connection.
// Here a declared length sizes the first allocation only up to
// initialBuffer; a larger body grows the buffer as its bytes arrive.
//
// The package has no state; its functions are safe for concurrent use on
// distinct readers and buffers.
package bodyread

import (
	"io"
	"math"
	"net/http"
	"slices"
)

const (
	// initialBuffer caps the room allocated before any byte arrives,
	// whatever length the body declares.
	initialBuffer = 64 << 10

	// minRead is the room made for a body of unknown length when the
	// buffer has less.
	minRead = 512
)

// Append reads r into dst until r reports io.EOF or n bytes were appended,
// whichever comes first, and returns the extended slice. It never reads
// beyond those n bytes, so a caller that must tell "exactly the limit" from
// "more" asks for the limit plus one byte, and the rest of r is still there
// to drain or discard.
//
// sizeHint is the length the body declares (a Content-Length), or -1 when
// unknown. It sizes the room made in dst before reading, but never beyond
// initialBuffer nor n: a body of the declared length then fits, with room
// to see io.EOF, without growing, up to that size.
//
// At io.EOF it returns a nil error, as [io.ReadAll] does. A failed read
// returns the bytes appended so far with the reader's error, so a caller
// may keep the grown buffer for reuse. n <= 0 reads nothing.
func Append(dst []byte, r io.Reader, n, sizeHint int64) ([]byte, error) {
	if n <= 0 {
		return dst, nil
	}
	want := int64(minRead)
	if sizeHint >= 0 {
		want = min(sizeHint, initialBuffer-1) + 1
	}
	want = min(want, n, initialBuffer)
	if free := int64(cap(dst) - len(dst)); free < want {
		dst = slices.Grow(dst, int(want))
	}
	end := int64(len(dst)) + n
	if end < n { // overflow: n is near math.MaxInt64, in effect no bound
		end = math.MaxInt64
	}
	for int64(len(dst)) < end {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)] // let append pick the growth
		}
		top := int64(cap(dst))
		if top > end {
			top = end
		}
		m, err := r.Read(dst[len(dst):top])
		dst = dst[:len(dst)+m]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// AppendAll reads all of r into dst, as [Append] does, and fails with an
// [*http.MaxBytesError] for limit once more than limit bytes arrive (it
// reads at most limit+1 of them). On any error it returns what was
// appended so far with the error, for the caller to reuse the buffer or
// drop it.
func AppendAll(dst []byte, r io.Reader, limit, sizeHint int64) ([]byte, error) {
	start := len(dst)
	n := limit + 1
	if n < limit { // limit is math.MaxInt64
		n = limit
	}
	dst, err := Append(dst, r, n, sizeHint)
	if err == nil && int64(len(dst)-start) > limit {
		err = &http.MaxBytesError{Limit: limit}
	}
	return dst, err
}
