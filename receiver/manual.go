package receiver

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// RunRetries runs the callback retries that are due, on the caller's
// goroutine, for a receiver with [Config].ManualRetries: it lets a test
// driven by a fake clock say "the callback failed; one second later it is
// retried" without sleeping.
//
// It first waits until no accepted event is queued or in a callback on a
// worker, so that the outcome of every attempt under way is settled (an
// event whose first attempt fails is then waiting for its retry). Then it
// runs, one at a time, every waiting retry whose due time (the Now of the
// failed attempt plus the delay Retry chose) is not after Now, earliest
// first, and records each outcome before the next: handled, dead-lettered
// (with [Hooks].OnDead), or waiting again for a later retry; with an inbox
// that batches its records (see "Group commit" in the package
// documentation), the mark-handled records are written before RunRetries
// returns. A retry
// scheduled again with no delay is due at once and runs again in the same
// call. It returns the number of callback attempts made; with nothing due,
// it returns 0 once the receiver is settled.
//
// A test therefore calls RunRetries (or otherwise waits for the first
// attempt to end) before moving the clock past a retry's delay, and again
// after: the first attempt's failure reads Now when the worker settles it,
// and a clock moved before that would postpone the retry.
//
// It returns 0 and nil before [Receiver.Start] (nothing can be pending);
// an error wrapping [ErrInvalidConfig] without ManualRetries; [ErrClosed]
// once Shutdown or Close has begun, then without starting another attempt;
// and ctx's error if ctx ends while it waits or between attempts. A
// callback runs on its own context, as on a worker, not on ctx. RunRetries
// is safe for concurrent use; concurrent calls share out the due retries.
// It must not be called from a callback or hook of the same receiver, which
// it would wait for.
func (r *Receiver) RunRetries(ctx context.Context) (int, error) {
	if !r.cfg.ManualRetries {
		return 0, fmt.Errorf("%w: RunRetries needs ManualRetries", ErrInvalidConfig)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.RLock()
	switch r.state.Load() {
	case stateNew:
		r.mu.RUnlock()
		return 0, nil
	case stateDraining, stateClosed:
		r.mu.RUnlock()
		return 0, ErrClosed
	}
	// Under the read lock, so that stopAll (which sets stateClosed under
	// the write lock, then waits for runners) never races this Add.
	r.runners.Add(1)
	r.mu.RUnlock()
	defer r.runners.Done()

	if err := r.waitQuiet(ctx); err != nil {
		return 0, err
	}
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if r.state.Load() != stateRunning {
			return n, ErrClosed
		}
		j := r.takeDue(r.now())
		if j == nil {
			// The outcomes are recorded: with a batching inbox, once the
			// marker has written them.
			return n, r.waitMarks(ctx)
		}
		r.run(j)
		n++
	}
}

// park leaves j waiting for RunRetries, due at due.
func (r *Receiver) park(j *job, due time.Time) {
	r.sched.Lock()
	if r.sched.closed {
		r.sched.Unlock()
		r.abandon(j)
		return
	}
	j.due = due
	r.sched.waiting = append(r.sched.waiting, j)
	r.wakeQuietLocked()
	r.sched.Unlock()
}

// takeDue removes and returns the waiting retry due earliest, if it is due
// at now (the first scheduled among equals); nil if none is.
func (r *Receiver) takeDue(now time.Time) *job {
	r.sched.Lock()
	defer r.sched.Unlock()
	best := -1
	for i, j := range r.sched.waiting {
		if !j.due.After(now) && (best < 0 || j.due.Before(r.sched.waiting[best].due)) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	j := r.sched.waiting[best]
	r.sched.waiting = slices.Delete(r.sched.waiting, best, best+1)
	return j
}

// quietLocked reports whether every pending event waits for RunRetries:
// none is queued, running or about to be. r.sched must be held.
//
// The condition becomes true only when pending drops (unpend) or a retry
// starts waiting (park), and both wake the waiters under r.sched, so a
// waiter that saw it false under r.sched cannot miss the change.
func (r *Receiver) quietLocked() bool {
	return r.pending.Load() == int64(len(r.sched.waiting))
}

// wakeQuietLocked wakes the waiters of waitQuiet if the receiver is quiet.
// r.sched must be held.
func (r *Receiver) wakeQuietLocked() {
	if r.quietLocked() {
		close(r.sched.quiet)
		r.sched.quiet = make(chan struct{})
	}
}

// waitQuiet waits until every pending event waits for RunRetries. It
// returns ErrClosed if the workers stop first and ctx's error if ctx ends
// first. Only used with ManualRetries.
func (r *Receiver) waitQuiet(ctx context.Context) error {
	for {
		r.sched.Lock()
		quiet, ch := r.quietLocked(), r.sched.quiet
		r.sched.Unlock()
		if quiet {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-r.stop:
			return ErrClosed
		}
	}
}
