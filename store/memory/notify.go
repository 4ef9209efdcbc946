package memory

import (
	"context"
	"sync"

	"github.com/webhookkit/webhookkit/store"
)

// subscribers are the channels of [Store.Subscribe], each with a buffer of
// one.
type subscribers struct {
	mu  sync.Mutex
	chs map[chan struct{}]struct{}
}

// Subscribe implements [store.Notifier]: the channel receives a value,
// coalesced, after every write that may make deliveries due (an Enqueue or
// a [Tx.Commit] that created deliveries, a Requeue or RequeueFailed that
// requeued some, an endpoint enabled), and once at once, since listening
// has begun. It is closed when ctx ends. A sender started on the store
// subscribes, so publishing in a [Tx] wakes it when the Tx commits.
func (s *Store) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan struct{}, 1)
	ch <- struct{}{}
	s.subs.mu.Lock()
	if s.subs.chs == nil {
		s.subs.chs = make(map[chan struct{}]struct{})
	}
	s.subs.chs[ch] = struct{}{}
	s.subs.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.subs.mu.Lock()
		delete(s.subs.chs, ch)
		s.subs.mu.Unlock()
		close(ch)
	})
	return ch, nil
}

// notify wakes every subscriber without blocking. It takes only the
// subscribers' lock, so it may be called with s.mu held.
func (s *Store) notify() {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	for ch := range s.subs.chs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

var _ store.Notifier = (*Store)(nil)
