package memory

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/store"
)

// attempt is a stored attempt. Nothing changes it once stored, so readers
// copy it after letting go of the lock.
type attempt struct {
	store.Attempt
	size int // as Config.MaxAttemptBytes counts it
}

func (a *attempt) key() key { return keyOf(a.At, a.ID) }

// attemptIndex is the attempts of one delivery, endpoint or event.
type attemptIndex = map[string]*sortedList[*attempt]

// copyAttempt returns a deep copy of a made with one allocation for both
// bodies; an empty body stays nil, as [store.Attempt.Clone] leaves it.
func copyAttempt(a *store.Attempt) *attempt {
	c := &attempt{Attempt: *a}
	c.RequestHeaders = a.RequestHeaders.Clone()
	c.ResponseHeaders = a.ResponseHeaders.Clone()
	c.RequestBody, c.ResponseBody = nil, nil
	if n := len(a.RequestBody) + len(a.ResponseBody); n > 0 {
		buf := make([]byte, n)
		m := copy(buf, a.RequestBody)
		copy(buf[m:], a.ResponseBody)
		if m > 0 {
			c.RequestBody = buf[:m:m]
		}
		if m < n {
			c.ResponseBody = buf[m:n:n]
		}
	}
	c.size = attemptSize(a)
	return c
}

// attemptSize is a's size as Config.MaxAttemptBytes counts it.
func attemptSize(a *store.Attempt) int {
	n := len(a.ID) + len(a.DeliveryID) + len(a.EndpointID) + len(a.Tenant) + len(a.EventID) +
		len(a.EventType) + len(a.Mode) + len(a.URL) + len(a.Error) + len(a.RequestBody) + len(a.ResponseBody) +
		len(a.Format)
	for _, h := range []http.Header{a.RequestHeaders, a.ResponseHeaders} {
		for k, vs := range h {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
	}
	return n
}

// AddAttempt implements [store.Attempts]. An ID already stored is
// [store.ErrConflict]. When the log holds more than [Config].MaxAttempts
// attempts or [Config].MaxAttemptBytes bytes, the attempts that started
// earliest are evicted until it is under both caps, but the last attempt
// left is never evicted (one attempt larger than MaxAttemptBytes stays
// until the next is added). The copy is made before the store's lock is
// taken.
func (s *Store) AddAttempt(_ context.Context, a *store.Attempt) error {
	if a.ID == "" {
		a.ID = uuid.NewString()
	}
	c := copyAttempt(a)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attempts[c.ID] != nil {
		return fmt.Errorf("memory: attempt %q exists: %w", c.ID, store.ErrConflict)
	}
	s.insertAttempt(c)
	return nil
}

// stageAttempt returns the copy of a to store, with an id of its own when
// a has none; a is not changed.
func stageAttempt(a *store.Attempt) *attempt {
	c := copyAttempt(a)
	if c.ID == "" {
		c.ID = uuid.NewString()
		c.size += len(c.ID)
	}
	return c
}

// insertAttempt stores c, whose id is not stored yet, in the log and its
// indexes, then evicts down to the caps. The caller holds s.mu.
func (s *Store) insertAttempt(c *attempt) {
	s.attempts[c.ID] = c
	k := c.key()
	s.attemptLog.insert(k, c)
	indexAttempt(s.attemptsByDelivery, c.DeliveryID, k, c)
	indexAttempt(s.attemptsByEndpoint, c.EndpointID, k, c)
	indexAttempt(s.attemptsByEvent, c.EventID, k, c)
	s.attemptBytes += c.size
	s.recordStats(&c.Attempt)
	for len(s.attempts) > 1 {
		what, limit := "attempts", s.cfg.MaxAttempts
		if len(s.attempts) <= s.cfg.MaxAttempts {
			if s.attemptBytes <= s.cfg.MaxAttemptBytes {
				break
			}
			what, limit = "attempt bytes", s.cfg.MaxAttemptBytes
		}
		old, _ := s.attemptLog.first()
		s.dropAttempt(old)
		s.attemptsEvicted++
		s.logEviction(what, s.attemptsEvicted, limit)
	}
}

func indexAttempt(ix attemptIndex, id string, k key, a *attempt) {
	if id == "" {
		return // an empty filter field does not filter: nothing to look up
	}
	if l := ix[id]; l != nil {
		l.insert(k, a)
		return
	}
	// A new id's list, its chunk list and first chunk in one allocation
	// (most deliveries and events have one attempt).
	nl := new(newAttemptList)
	nl.entries[0] = entry[*attempt]{k, a}
	nl.chunk[0] = nl.entries[:1:len(nl.entries)]
	nl.chunks, nl.n = nl.chunk[:], 1
	ix[id] = &nl.sortedList
}

// newAttemptList is a one-row list laid out in one allocation.
type newAttemptList struct {
	sortedList[*attempt]
	chunk   [1][]entry[*attempt]
	entries [1]entry[*attempt]
}

func unindexAttempt(ix attemptIndex, id string, k key) {
	if l := ix[id]; l != nil {
		l.remove(k)
		if l.Len() == 0 {
			delete(ix, id)
		}
	}
}

// dropAttempt forgets a and takes it out of every index.
func (s *Store) dropAttempt(a *attempt) {
	delete(s.attempts, a.ID)
	s.attemptBytes -= a.size
	k := a.key()
	s.attemptLog.remove(k)
	unindexAttempt(s.attemptsByDelivery, a.DeliveryID, k)
	unindexAttempt(s.attemptsByEndpoint, a.EndpointID, k)
	unindexAttempt(s.attemptsByEvent, a.EventID, k)
}

// GetAttempt implements [store.Attempts].
func (s *Store) GetAttempt(_ context.Context, id string) (*store.Attempt, error) {
	s.mu.RLock()
	a := s.attempts[id]
	s.mu.RUnlock()
	if a == nil {
		return nil, notFound("attempt", id)
	}
	return a.Clone(), nil
}

// ListAttempts implements [store.Attempts]. With DeliveryID, EndpointID or
// EventID set it walks the smallest of those indexes, newest first, from the
// cursor (and Until) on; otherwise it walks the whole log the same way. It
// stops once it has a page, so a page costs O(log n) plus the rows it skips
// over for the other filters (Tenant, Since, a second id). Because the
// cursor is the last row's (At, ID), pages stay exact while attempts are
// added or evicted between them: a row is never listed twice, and only rows
// added or evicted meanwhile may be missing. A bad cursor is
// [store.ErrInvalid].
func (s *Store) ListAttempts(_ context.Context, f store.AttemptFilter) ([]*store.Attempt, string, error) {
	after, err := decodeTimeCursor(f.Page.Cursor)
	if err != nil {
		return nil, "", err
	}
	bound := upperBound(after, f.Until)
	size := f.Page.Size()
	keep := func(a *attempt) bool {
		return (f.AllTenants || a.Tenant == f.Tenant) &&
			(f.EndpointID == "" || a.EndpointID == f.EndpointID) &&
			(f.EventID == "" || a.EventID == f.EventID) &&
			(f.DeliveryID == "" || a.DeliveryID == f.DeliveryID)
	}
	matches := make([]*attempt, 0, min(size+1, 64))

	s.mu.RLock()
	if l := s.attemptList(f); l != nil {
		l.descend(bound, func(a *attempt) bool {
			if !f.Since.IsZero() && a.At.Before(f.Since) {
				return false
			}
			if keep(a) {
				matches = append(matches, a)
			}
			return len(matches) <= size
		})
	}
	s.mu.RUnlock()

	next := ""
	if len(matches) > size {
		matches = matches[:size]
		next = encodeTimeCursor(matches[size-1].At, matches[size-1].ID)
	}
	out := make([]*store.Attempt, len(matches))
	for i, a := range matches {
		out[i] = a.Clone()
	}
	return out, next, nil
}

// attemptList returns the smallest index that holds every attempt f can
// match; nil when f names a delivery, endpoint or event without attempts.
func (s *Store) attemptList(f store.AttemptFilter) *sortedList[*attempt] {
	best := &s.attemptLog
	for _, c := range []struct {
		ix  attemptIndex
		key string
	}{{s.attemptsByDelivery, f.DeliveryID}, {s.attemptsByEvent, f.EventID}, {s.attemptsByEndpoint, f.EndpointID}} {
		if c.key == "" {
			continue
		}
		l := c.ix[c.key]
		if l == nil {
			return nil
		}
		if l.Len() < best.Len() {
			best = l
		}
	}
	return best
}

// upperBound combines a cursor and an Until bound into the one key a
// newest-first walk starts below; nil when there is neither. (until, "") is
// below every row at until, since ids are not empty.
func upperBound(after *timeCursor, until time.Time) *key {
	var b *key
	if !until.IsZero() {
		k := keyOf(until, "")
		b = &k
	}
	if after != nil {
		if k := keyOf(after.at, after.id); b == nil || k.cmp(*b) < 0 {
			b = &k
		}
	}
	return b
}

// PruneAttempts implements [store.Attempts] in O(k log n) for k pruned,
// and drops the hourly aggregates ([Store.AttemptStats]) of the hours that
// end at or before before.
func (s *Store) PruneAttempts(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for {
		a, ok := s.attemptLog.first()
		if !ok || !a.At.Before(before) {
			s.pruneStats(before)
			return n, nil
		}
		s.dropAttempt(a)
		n++
	}
}
