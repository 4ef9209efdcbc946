package memory

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/store"
)

// AddAttempt implements [store.Attempts]. An ID already stored is
// [store.ErrConflict]. When the log holds more than [Config].MaxAttempts, the
// attempts that started earliest are evicted.
func (s *Store) AddAttempt(_ context.Context, a *store.Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.ID == "" {
		a.ID = uuid.NewString()
	} else if s.attempts[a.ID] != nil {
		return fmt.Errorf("memory: attempt %q exists: %w", a.ID, store.ErrConflict)
	}
	c := a.Clone()
	s.attempts[c.ID] = c
	heap.Push(&s.attemptAge, c)
	for len(s.attempts) > s.cfg.MaxAttempts {
		old := heap.Pop(&s.attemptAge).(*store.Attempt)
		delete(s.attempts, old.ID)
		s.attemptsEvicted++
		s.logEviction("attempts", s.attemptsEvicted, s.cfg.MaxAttempts)
	}
	return nil
}

// GetAttempt implements [store.Attempts].
func (s *Store) GetAttempt(_ context.Context, id string) (*store.Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.attempts[id]
	if a == nil {
		return nil, notFound("attempt", id)
	}
	return a.Clone(), nil
}

// ListAttempts implements [store.Attempts]. It scans the whole log (at most
// [Config].MaxAttempts) and sorts the matches. A bad cursor is
// [store.ErrInvalid].
func (s *Store) ListAttempts(_ context.Context, f store.AttemptFilter) ([]*store.Attempt, string, error) {
	after, err := decodeTimeCursor(f.Page.Cursor)
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	var matches []*store.Attempt
	for _, a := range s.attempts {
		if (f.AllTenants || a.Tenant == f.Tenant) &&
			(f.EndpointID == "" || a.EndpointID == f.EndpointID) &&
			(f.EventID == "" || a.EventID == f.EventID) &&
			(f.DeliveryID == "" || a.DeliveryID == f.DeliveryID) &&
			(f.Since.IsZero() || !a.At.Before(f.Since)) &&
			(f.Until.IsZero() || a.At.Before(f.Until)) &&
			(after == nil || after.before(a.At, a.ID)) {
			matches = append(matches, a)
		}
	}
	slices.SortFunc(matches, func(a, b *store.Attempt) int { return newestFirst(a.At, a.ID, b.At, b.ID) })
	size := f.Page.Size()
	next := ""
	if len(matches) > size {
		matches = matches[:size]
		next = encodeTimeCursor(matches[size-1].At, matches[size-1].ID)
	}
	out := make([]*store.Attempt, len(matches))
	for i, a := range matches {
		out[i] = a.Clone()
	}
	s.mu.Unlock()
	return out, next, nil
}

// PruneAttempts implements [store.Attempts] in O(k log n) for k pruned.
func (s *Store) PruneAttempts(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for s.attemptAge.Len() > 0 && s.attemptAge.items[0].At.Before(before) {
		old := heap.Pop(&s.attemptAge).(*store.Attempt)
		delete(s.attempts, old.ID)
		n++
	}
	return n, nil
}
