package receiver

import (
	"context"
	"errors"
	"fmt"
)

// Lifecycle states.
const (
	stateNew int32 = iota
	stateRunning
	stateDraining
	stateClosed
)

// Start starts the workers and the background maintenance (pruning the
// inbox and, with a durable inbox, re-driving events whose lease ended,
// at once and every [Config].RecoveryInterval), and the receiver starts
// accepting events. The receiver runs until [Receiver.Shutdown] or
// [Receiver.Close], not until ctx ends; callbacks run on contexts that keep
// ctx's values but not its cancellation.
//
// It returns ctx's error if ctx is already done, [ErrClosed] after Shutdown
// or Close, and an error if the receiver was already started.
func (r *Receiver) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state.Load() {
	case stateRunning:
		return errors.New("receiver: already started")
	case stateDraining, stateClosed:
		return ErrClosed
	}
	r.storeBase = context.WithoutCancel(ctx)
	r.base, r.cancel = context.WithCancel(r.storeBase)
	r.wg.Add(r.cfg.Workers + 1)
	for range r.cfg.Workers {
		go r.worker()
	}
	go r.maintain()
	r.state.Store(stateRunning)
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
// [ErrClosed] when ctx had not ended (Close cut the drain short, or retries
// were left waiting for RunRetries). Those
// events stay claimed in a durable inbox and are re-driven by the next
// receiver; with a non-durable inbox their claims are released so the
// sender (or a manual resend) can deliver them again. Shutdown returns
// [ErrClosed] when the receiver is already shut down or closed; a receiver
// never started is just closed.
func (r *Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	prev := r.state.Load()
	if prev == stateDraining || prev == stateClosed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.state.Store(stateDraining)
	close(r.quit)
	r.mu.Unlock()

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
	if left == 0 {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil {
		return fmt.Errorf("receiver: shutdown: %d events left unhandled: %w", left, cause)
	}
	if waiting {
		return fmt.Errorf("receiver: shutdown: %d events left unhandled (waiting for RunRetries): %w", left, ErrClosed)
	}
	return fmt.Errorf("receiver: shutdown: %d events left unhandled: %w", left, ErrClosed)
}

// Close stops the receiver immediately: it stops accepting events, cancels
// running callbacks and waits for them to return, and leaves queued events
// and pending retries unhandled (kept claimed in a durable inbox for the
// next receiver to re-drive, released in a non-durable one). A callback
// that ignores its context delays Close until it returns. Called during a
// [Receiver.Shutdown], Close cuts the drain short. It returns [ErrClosed] if
// the receiver was already closed or shut down.
func (r *Receiver) Close() error {
	r.mu.Lock()
	prev := r.state.Load()
	if prev == stateClosed {
		r.mu.Unlock()
		return ErrClosed
	}
	if prev != stateDraining {
		close(r.quit)
	}
	r.state.Store(stateClosed)
	r.mu.Unlock()
	r.closeNow()
	return nil
}

// closeNow stops the workers and timers and abandons whatever was not
// handled, once, returning how many events that was.
func (r *Receiver) closeNow() int {
	r.closeOnce.Do(func() { r.left = r.stopAll() })
	return r.left
}

func (r *Receiver) stopAll() int {
	r.mu.Lock()
	r.state.Store(stateClosed)
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
	return int(r.stats.interrupted.Load() - before)
}
