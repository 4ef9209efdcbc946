package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/webhookkit/webhookkit/store"
)

// ErrTxDone is returned by the methods of a [Tx] after Commit or Rollback.
var ErrTxDone = errors.New("memory: transaction already committed or rolled back")

// Tx is a transaction on a memory store, so code that publishes in its own
// transaction (a sender's PublishTx) can be tested without a database. It
// implements [store.Tx]: ListEndpoints reads the store as it is, and
// Enqueue stages its deliveries, which only [Tx.Commit] makes visible (and
// [Tx.Rollback], or forgetting the Tx, drops). Staged enqueues are checked
// when they are made, against the store and the enqueues staged before them,
// and again at Commit, which applies all of them or none.
//
// A Tx is safe for concurrent use, though like a database transaction it is
// normally used by one goroutine. It holds no lock between calls: other
// writers go on while it is open.
type Tx struct {
	s *Store

	mu     sync.Mutex
	done   bool
	staged []staged
}

// Begin starts a transaction. It never fails and holds nothing until
// Commit, so an abandoned Tx costs only its memory.
func (s *Store) Begin() *Tx { return &Tx{s: s} }

// GetEndpoint implements [store.Tx]: it is [Store.GetEndpoint].
func (tx *Tx) GetEndpoint(ctx context.Context, id string) (*store.Endpoint, error) {
	if err := tx.check(); err != nil {
		return nil, err
	}
	return tx.s.GetEndpoint(ctx, id)
}

// ListEndpoints implements [store.Tx]: it is [Store.ListEndpoints].
func (tx *Tx) ListEndpoints(ctx context.Context, f store.EndpointFilter) ([]*store.Endpoint, string, error) {
	if err := tx.check(); err != nil {
		return nil, "", err
	}
	return tx.s.ListEndpoints(ctx, f)
}

// Enqueue implements [store.Tx]: it stages an [Store.Enqueue] for Commit and
// returns how many deliveries it will create, with the errors Store.Enqueue
// would return now. A refused Enqueue stages nothing and leaves the Tx
// usable.
func (tx *Tx) Enqueue(_ context.Context, req store.EnqueueRequest) (int, error) {
	e, err := prepareEnqueue(req)
	if err != nil {
		return 0, err
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.done {
		return 0, ErrTxDone
	}
	s := tx.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkEnqueue(e); err != nil {
		return 0, err
	}
	n := 0
	for i, t := range e.targets {
		if rec := s.events[e.ev.ID]; rec != nil && rec.ds[t.EndpointID] != nil {
			continue
		}
		if tx.stagedPair(e.ev.ID, t.EndpointID, e.targets[:i]) {
			continue
		}
		n++
	}
	for _, p := range tx.staged {
		if p.ev.ID == e.ev.ID && !sameContent(p.ev, e.ev) {
			return 0, fmt.Errorf("memory: event %s was enqueued in this transaction with a different type, mode or data: %w", e.ev.ID, store.ErrConflict)
		}
	}
	tx.staged = append(tx.staged, e)
	return n, nil
}

// stagedPair reports whether (event id, endpoint id) is already staged, or
// among earlier targets of the same enqueue.
func (tx *Tx) stagedPair(eventID, endpointID string, earlier []store.Target) bool {
	for _, t := range earlier {
		if t.EndpointID == endpointID {
			return true
		}
	}
	for _, p := range tx.staged {
		if p.ev.ID != eventID {
			continue
		}
		for _, t := range p.targets {
			if t.EndpointID == endpointID {
				return true
			}
		}
	}
	return false
}

// Commit applies the staged enqueues, all or none: if one is refused now
// (its endpoint was deleted since, or another writer stored its event id
// with other content), nothing is applied and the error is returned. After
// Commit, whatever it returned, the Tx is done. A commit that created
// deliveries notifies the store's subscribers (see [Store.Subscribe]).
func (tx *Tx) Commit() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.done {
		return ErrTxDone
	}
	tx.done = true
	if len(tx.staged) == 0 {
		return nil
	}
	s := tx.s
	created := 0
	err := func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range tx.staged {
			if err := s.checkEnqueue(e); err != nil {
				return fmt.Errorf("memory: commit: %w", err)
			}
		}
		for _, e := range tx.staged {
			n, err := s.enqueueLocked(e, nil)
			if err != nil {
				// Unreachable: every enqueue was checked under this lock,
				// and one staged enqueue cannot make a later one conflict
				// (Enqueue refused that when staging).
				return fmt.Errorf("memory: commit: %w", err)
			}
			created += n
		}
		return nil
	}()
	tx.staged = nil
	if created > 0 {
		s.notify()
	}
	return err
}

// Rollback drops the staged enqueues. After Commit it returns ErrTxDone and
// changes nothing, so `defer tx.Rollback()` is safe.
func (tx *Tx) Rollback() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.done {
		return ErrTxDone
	}
	tx.done = true
	tx.staged = nil
	return nil
}

func (tx *Tx) check() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.done {
		return ErrTxDone
	}
	return nil
}

var _ store.Tx = (*Tx)(nil)
