package sender

import (
	"crypto/rand"
	"sync"

	"github.com/google/uuid"
)

// idSource makes random (version 4) UUIDs for attempt ids from a buffer
// filled from crypto/rand 64 ids at a time, rather than one read of the
// system's random source per id. The ids are as unpredictable; they are
// not secrets. It is safe for concurrent use.
type idSource struct {
	mu  sync.Mutex
	buf [64 * 16]byte
	off int // next unused byte of buf; len(buf): refill
}

func newIDSource() *idSource { return &idSource{off: 64 * 16} }

// newString returns a new random UUID in its textual form.
func (g *idSource) newString() string {
	var u uuid.UUID
	g.mu.Lock()
	if g.off == len(g.buf) {
		rand.Read(g.buf[:]) // never fails: it crashes the program instead
		g.off = 0
	}
	copy(u[:], g.buf[g.off:])
	g.off += len(u)
	g.mu.Unlock()
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.String()
}
