package receiver

import (
	"context"
	"fmt"
	"strings"

	"github.com/webhookkit/webhookkit/store"
)

// Lifecycle states.
const (
	stateNew int32 = iota
	stateRunning
	stateDraining
	stateClosed
)

// Start starts the workers and the background maintenance (pruning the
// inbox and, with a durable inbox, re-driving events whose lease ended
// every [Config].RecoveryInterval), and the receiver starts accepting
// events. With a durable inbox, Start first re-drives the events whose
// lease ended (a crash's leftovers, up to [MaxRecoveryBatch] and half the
// queue's free room, as every pass): it returns once they are queued, or
// once leasing them failed (logged; the next pass tries again), within the
// store timeout.
//
// The receiver runs until [Receiver.Shutdown] or [Receiver.Close], or
// until ctx is cancelled, which stops it as Close does: a drain under way
// is cut short. Shutdown or Close, called then or later, waits for that
// stop to finish and returns nil. Callbacks and hooks run on contexts
// that carry ctx's values; they are cancelled when the receiver closes,
// whatever ended it.
//
// When the inbox is a [store.SchemaChecker] (the SQL drivers), Start
// first checks that its schema exists, within the store timeout, and
// returns that check's error, starting nothing, when it fails: an error
// wrapping [store.ErrNotMigrated] means the store's Migrate was never
// called.
//
// It returns ctx's error if ctx is already done, [ErrStarted] if the
// receiver is already started, and [ErrClosed] after Shutdown or Close.
func (r *Receiver) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c, ok := r.inbox.(store.SchemaChecker); ok && r.state.Load() == stateNew {
		cctx, cancel := context.WithTimeout(ctx, storeTimeout)
		err := c.CheckSchema(cctx)
		cancel()
		if err != nil {
			return fmt.Errorf("receiver: start: %w", err)
		}
	}
	r.mu.Lock()
	switch r.state.Load() {
	case stateRunning:
		r.mu.Unlock()
		return ErrStarted
	case stateDraining, stateClosed:
		r.mu.Unlock()
		return ErrClosed
	}
	r.storeBase = context.WithoutCancel(ctx)
	r.base, r.cancel = context.WithCancel(r.storeBase)
	r.wg.Add(r.cfg.Workers + 1)
	for range r.cfg.Workers {
		go r.worker()
	}
	go r.maintain()
	if r.batcher != nil {
		r.startMarker()
	}
	r.state.Store(stateRunning)
	// Runs Close in a goroutine of its own once ctx ends; Close waits for
	// r.mu, held here until the receiver is running.
	r.unwatch = context.AfterFunc(ctx, func() { _ = r.Close() })
	r.mu.Unlock()
	if r.recovery != nil {
		// The first pass, before Start returns: what a crash left claimed
		// is queued before new requests compete for the queue.
		r.recoverClaimed()
	}
	return nil
}

// Shutdown gracefully stops the receiver: it stops accepting events at once
// (requests are answered 503 with Retry-After), then waits until every
// accepted event is handled or dead-lettered, including events waiting for
// a retry, or until ctx ends. Then it stops the workers: running callbacks
// get their context cancelled and Shutdown waits for them to return.
//
// With [Config].ManualRetries, Shutdown waits for the queue and the running
// callbacks (a [Receiver.RunRetries] call included), but not for retries,
// which nothing would run: events waiting for a retry are left unhandled at
// once, as at a deadline. Call RunRetries until nothing is pending first to
// drain them.
//
// It returns nil when everything was handled, and otherwise an error that
// says how many events were left unhandled and wraps ctx's error, or
// [ErrClosed] when ctx had not ended (Close, or the end of Start's
// context, cut the drain short, or retries were left waiting for
// RunRetries). Those events stay claimed in a durable inbox and are
// re-driven by the next receiver; with a non-durable inbox their claims
// are released so the sender (or a manual resend) can deliver them again.
// Events whose callback succeeded but whose mark-handled record was still
// failing when ctx ended count too (see [Stats].MarksGivenUp): they stay
// claimed, and a durable inbox re-drives them, so their callbacks may run
// again. A receiver never started is just closed.
//
// Called again, or after Close, Shutdown waits until the stop under way
// has finished and returns nil, or ctx's error if ctx ends first (the
// stop goes on); the first call reports the events left.
func (r *Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	prev := r.state.Load()
	if prev == stateDraining || prev == stateClosed {
		r.mu.Unlock()
		select {
		case <-r.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.state.Store(stateDraining)
	close(r.quit)
	r.mu.Unlock()
	givenUp := r.stats.marksGivenUp.Load()
	// Failing mark-handled records are tried until ctx ends.
	defer context.AfterFunc(ctx, r.giveUpNow)()

	waiting := false // the drain ended with only manual retries left
	switch {
	case prev != stateRunning:
	case r.cfg.ManualRetries:
		waiting = r.waitQuiet(ctx) == nil
	default:
		for r.pending.Load() > 0 && ctx.Err() == nil {
			select {
			case <-r.drained:
			case <-ctx.Done():
			case <-r.stop: // Close was called meanwhile
			}
		}
	}
	left := r.closeNow()
	unmarked := r.stats.marksGivenUp.Load() - givenUp
	if left == 0 && unmarked == 0 {
		return nil
	}
	var parts []string
	if left > 0 {
		p := fmt.Sprintf("%d events left unhandled", left)
		if waiting {
			p += " (waiting for RunRetries)"
		}
		parts = append(parts, p)
	}
	if unmarked > 0 {
		parts = append(parts, fmt.Sprintf("%d events handled but not recorded as handled", unmarked))
	}
	what := strings.Join(parts, ", ")
	if cause := context.Cause(ctx); cause != nil {
		return fmt.Errorf("receiver: shutdown: %s: %w", what, cause)
	}
	return fmt.Errorf("receiver: shutdown: %s: %w", what, ErrClosed)
}

// Close stops the receiver immediately: it stops accepting events, cancels
// running callbacks and waits for them to return, and leaves queued events
// and pending retries unhandled (kept claimed in a durable inbox for the
// next receiver to re-drive, released in a non-durable one). A callback
// that ignores its context delays Close until it returns. Called during a
// [Receiver.Shutdown], Close cuts the drain short.
//
// Close returns nil, once the receiver has stopped: called again, after
// Shutdown, or after Start's context ended, it waits for the stop under
// way to finish.
func (r *Receiver) Close() error {
	r.mu.Lock()
	switch r.state.Load() {
	case stateClosed:
	case stateDraining:
		r.state.Store(stateClosed) // quit is closed already
	default:
		close(r.quit)
		r.state.Store(stateClosed)
	}
	r.mu.Unlock()
	r.giveUpNow() // failing mark-handled records get one last try
	r.closeNow()
	return nil
}

// closeNow stops the workers and timers and abandons whatever was not
// handled, once, returning how many events that was. Concurrent callers
// wait for the first.
func (r *Receiver) closeNow() int {
	r.closeOnce.Do(func() {
		r.left = r.stopAll()
		close(r.stopped)
	})
	return r.left
}

func (r *Receiver) stopAll() int {
	r.mu.Lock()
	r.state.Store(stateClosed)
	if r.unwatch != nil {
		r.unwatch() // false if Start's context ended: Close is on its way
	}
	r.mu.Unlock()
	before := r.stats.interrupted.Load()
	if r.cancel != nil {
		r.cancel()
	}
	close(r.stop)
	r.wg.Wait()
	r.runners.Wait()

	r.sched.Lock()
	r.sched.closed = true
	left := append(r.sched.ready, r.sched.waiting...)
	r.sched.ready, r.sched.waiting = nil, nil
	for j, t := range r.sched.timers {
		if t.Stop() {
			left = append(left, j)
			r.timers.Done()
		}
		// A timer that already fired appends to ready, sees closed and
		// abandons its job itself.
		delete(r.sched.timers, j)
	}
	r.sched.Unlock()
	r.timers.Wait()
	for {
		select {
		case j := <-r.queue:
			left = append(left, j)
			continue
		default:
		}
		break
	}
	for _, j := range left {
		r.abandon(j)
	}
	// No worker runs any more: write the waiting mark-handled records.
	r.stopMarker()
	return int(r.stats.interrupted.Load() - before)
}
