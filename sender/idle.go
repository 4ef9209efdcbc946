package sender

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// idlePollInterval is how often WaitIdle asks the store for the backlog
// between the settles of this sender's own deliveries, which wake it at
// once: it sees deliveries settled by other senders, and due times passing,
// this late.
const idlePollInterval = 50 * time.Millisecond

// idle counts this sender's deliveries in flight (from the attempt to the
// last hook) and wakes the WaitIdle calls when one ends. It is safe for
// concurrent use; its zero value is ready.
type idle struct {
	mu    sync.Mutex
	busy  int
	ended chan struct{} // closed when a delivery ends; nil until a waiter asks
}

func (w *idle) begin() {
	w.mu.Lock()
	w.busy++
	w.mu.Unlock()
}

func (w *idle) end() {
	w.mu.Lock()
	w.busy--
	if w.ended != nil {
		close(w.ended)
		w.ended = nil
	}
	w.mu.Unlock()
}

// quiet reports whether no delivery is in flight and none has ended since
// watch returned ended.
func (w *idle) quiet(ended <-chan struct{}) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-ended:
		return false
	default:
		return w.busy == 0
	}
}

// watch returns how many deliveries are in flight and a channel closed
// when one of them, or one begun later, ends.
func (w *idle) watch() (int, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended == nil {
		w.ended = make(chan struct{})
	}
	return w.busy, w.ended
}

// Backlog counts the unfinished deliveries of the sender's mode, by the
// sender's clock (Config.Now): due, scheduled for later, leased and paused
// (see [store.Backlog]). It counts what is in the store, whichever sender
// enqueued or holds it. It returns [ErrClosed] after Close, and the store's
// error, wrapped.
func (s *Sender) Backlog(ctx context.Context) (store.Backlog, error) {
	if s.isClosed() {
		return store.Backlog{}, ErrClosed
	}
	b, err := s.st.Backlog(ctx, s.cfg.Mode, s.now())
	if err != nil {
		return store.Backlog{}, fmt.Errorf("sender: backlog: %w", err)
	}
	return b, nil
}

// WaitIdle waits until everything due is delivered or given up: no
// delivery of the sender's mode is due or leased (by [Sender.Backlog], at
// the sender's clock's time), and no attempt of this sender is in flight,
// its logging, settling, health and hooks included. Deliveries scheduled
// for later (retries, deliveries published with PublishOptions, deliveries
// an endpoint's rate limit put off) and paused ones do not count: WaitIdle
// returns while they wait. A lease held by a sender that died counts until
// it expires and the delivery is taken again.
//
// It asks the store at a short interval and again each time one of this
// sender's deliveries is settled. It works whether or not the sender is
// started: without Start, something else must deliver (ProcessDue, another
// sender), or WaitIdle waits until ctx ends. It is meant for tests
// (publish, wait, assert) and for draining before Shutdown. It returns nil
// when idle, ctx's error when ctx ends first, [ErrClosed] when the sender
// is or gets closed, or the store's error. Safe for concurrent use.
func (s *Sender) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(idlePollInterval)
	defer t.Stop()
	poll := true // ask the store: at first, and at each tick
	for {
		busy, ended := s.idle.watch()
		if busy == 0 || poll {
			b, err := s.Backlog(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			// Idle, unless a delivery leased and settled (and so out of
			// the backlog) since watch is still in flight or ended.
			if busy == 0 && b.Due == 0 && b.Leased == 0 && s.idle.quiet(ended) {
				return nil
			}
		}
		select {
		case <-ended:
			poll = false // a settle: the store is asked once none is in flight
		case <-t.C:
			poll = true
		case <-s.stop:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
