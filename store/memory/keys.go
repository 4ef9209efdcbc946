package memory

import (
	"slices"

	"github.com/webhookkit/webhookkit/store"
)

// chainKey names one ordering key of one endpoint.
type chainKey struct {
	endpoint, key string
}

// chain is one ordering key's blocking deliveries (unfinished, or failed
// holding the key) in enqueue order, and the one of them that is leased,
// if any. Only a chain's head is ever scheduled, and only while no other
// member is leased, so a key's deliveries are leased one at a time, in
// order.
type chain struct {
	ds     []*delivery
	leased *delivery
}

// chainOf returns d's chain, creating it when create is set; nil for a
// delivery without an ordering key.
func (s *Store) chainOf(d *delivery, create bool) *chain {
	if d.OrderingKey == "" {
		return nil
	}
	k := chainKey{d.EndpointID, d.OrderingKey}
	c := s.chains[k]
	if c == nil && create {
		c = new(chain)
		s.chains[k] = c
	}
	return c
}

// position returns where d is, or belongs, in c.ds (ordered by seq).
func (c *chain) position(d *delivery) (int, bool) {
	return slices.BinarySearchFunc(c.ds, d.seq, func(e *delivery, seq uint64) int {
		switch {
		case e.seq < seq:
			return -1
		case e.seq > seq:
			return 1
		}
		return 0
	})
}

// joinKey adds d to its chain (a new or requeued delivery); the caller
// then makes it due, which schedules it only if it may go.
func (s *Store) joinKey(d *delivery) {
	c := s.chainOf(d, true)
	if c == nil {
		return
	}
	i, found := c.position(d)
	if found {
		return
	}
	c.ds = slices.Insert(c.ds, i, d)
	// A requeued delivery that is now the head overtakes a head that is
	// scheduled but not leased.
	if i == 0 && len(c.ds) > 1 && c.ds[1].State == store.StatePending {
		s.unschedule(c.ds[1])
	}
}

// keyBlocked reports whether d, pending, must wait for its key: it is not
// its chain's head, or another delivery of its key is leased.
func (s *Store) keyBlocked(d *delivery) bool {
	c := s.chainOf(d, false)
	if c == nil {
		return false
	}
	return (c.leased != nil && c.leased != d) || len(c.ds) == 0 || c.ds[0] != d
}

// keyLeased records that d, which has an ordering key, was leased.
func (s *Store) keyLeased(d *delivery) {
	if c := s.chainOf(d, false); c != nil {
		c.leased = d
	}
}

// keyMoved updates d's chain after d was settled, finished or removed:
// d leaves the chain when it no longer blocks the key (gone, succeeded, or
// failed without holding it), its lease is forgotten, and the head is
// scheduled if it may go now.
func (s *Store) keyMoved(d *delivery, gone bool) {
	c := s.chainOf(d, false)
	if c == nil {
		return
	}
	if c.leased == d && (gone || d.State != store.StateLeased) {
		c.leased = nil
	}
	if gone || d.State == store.StateSucceeded || (d.State == store.StateFailed && !d.HoldsKey) {
		if i, found := c.position(d); found {
			c.ds = slices.Delete(c.ds, i, i+1)
		}
	}
	if len(c.ds) == 0 {
		delete(s.chains, chainKey{d.EndpointID, d.OrderingKey})
		return
	}
	if h := c.ds[0]; h.State == store.StatePending && h.grp == nil && !s.keyBlocked(h) {
		s.schedule(h)
	}
}
