package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

// maxReasonLen caps the failure text stored with a dead inbox entry.
const maxReasonLen = 1 << 10

// worker runs jobs until stop is closed: retries that became ready first,
// then the queue.
func (r *Receiver) worker() {
	defer r.wg.Done()
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		j := r.popReady()
		if j == nil {
			select {
			case <-r.stop:
				return
			case j = <-r.queue:
				r.slots.Add(-1)
			case <-r.wake:
				continue
			}
		}
		r.run(j)
	}
}

func (r *Receiver) popReady() *job {
	r.sched.Lock()
	defer r.sched.Unlock()
	if len(r.sched.ready) == 0 {
		return nil
	}
	j := r.sched.ready[0]
	r.sched.ready[0] = nil
	r.sched.ready = r.sched.ready[1:]
	return j
}

// run makes one callback attempt and settles its outcome.
func (r *Receiver) run(j *job) {
	if r.cfg.Hooks.Accepted != nil {
		j.hooked.Lock() // wait for the request's Hooks.Accepted to return
		j.hooked.Unlock()
	}
	j.attempt++
	if j.first.IsZero() {
		j.first = r.now()
	}
	t0 := time.Now()
	err := r.call(j.ev)
	info := AttemptInfo{Event: j.ev, Key: j.key, Attempt: j.attempt, Err: err, Duration: time.Since(t0)}
	r.stats.attempts.Add(1)

	var now time.Time // when a retry was decided
	switch {
	case err == nil:
		info.Result = ResultHandled
	case errors.Is(err, ErrNoRoute):
		info.Result = ResultDropped
	case r.base.Err() != nil:
		// Cut short by Close or a Shutdown deadline: not the event's fault.
		info.Result = ResultInterrupted
	default:
		now = r.now()
		if !retry.IsPermanent(err) {
			if d, ok := r.cfg.Retry.Next(retry.Failure{Number: j.attempt, Err: err, Age: now.Sub(j.first), Time: now}); ok {
				info.Result, info.Retry = ResultRetry, max(d, 0)
			}
		}
		if info.Result == "" {
			info.Result, info.Retry = ResultDead, 0
		}
	}
	if h := r.cfg.Hooks.Attempt; h != nil {
		r.safely("Hooks.Attempt", j.ev.ID, func() { h(info) })
	}

	switch info.Result {
	case ResultHandled:
		r.markHandled(j)
		r.stats.handled.Add(1)
		r.finish(j)
	case ResultDropped:
		r.log.LogAttrs(r.base, slog.LevelDebug, "receiver: no handler for event type; dropped",
			slog.String("event_id", j.ev.ID), slog.String("event_type", j.ev.Type))
		r.markHandled(j)
		r.stats.dropped.Add(1)
		if h := r.cfg.Hooks.Dropped; h != nil {
			r.safely("Hooks.Dropped", j.ev.ID, func() { h(j.ev) })
		}
		r.finish(j)
	case ResultInterrupted:
		r.abandon(j)
	case ResultRetry:
		r.log.LogAttrs(r.base, slog.LevelWarn, "receiver: callback failed; will retry",
			slog.String("event_id", j.ev.ID), slog.String("event_type", j.ev.Type),
			slog.Int("attempt", j.attempt), slog.Duration("retry_in", info.Retry), slog.Any("error", err))
		r.stats.retries.Add(1)
		r.schedule(j, info.Retry, now)
	case ResultDead:
		r.kill(j, err)
	}
}

// call runs the handler once on its own context; a panic is an error.
func (r *Receiver) call(ev event.Event) (err error) {
	ctx, cancel := context.WithTimeout(r.base, r.cfg.CallbackTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			r.log.LogAttrs(r.base, slog.LevelError, "receiver: callback panicked",
				slog.String("event_id", ev.ID), slog.String("event_type", ev.Type),
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("receiver: callback panicked: %v", p)
		}
	}()
	return r.h.HandleEvent(ctx, ev)
}

// schedule makes j ready again after delay; with ManualRetries, it leaves
// j waiting for RunRetries, due at now+delay.
func (r *Receiver) schedule(j *job, delay time.Duration, now time.Time) {
	if r.cfg.ManualRetries {
		r.park(j, now.Add(delay))
		return
	}
	r.sched.Lock()
	defer r.sched.Unlock()
	if delay <= 0 {
		r.sched.ready = append(r.sched.ready, j)
		r.signal()
		return
	}
	r.timers.Add(1)
	r.sched.timers[j] = time.AfterFunc(delay, func() { r.fire(j) })
}

// fire moves j from the timers to the ready list.
func (r *Receiver) fire(j *job) {
	defer r.timers.Done()
	r.sched.Lock()
	if r.sched.closed {
		r.sched.Unlock()
		r.abandon(j)
		return
	}
	delete(r.sched.timers, j)
	r.sched.ready = append(r.sched.ready, j)
	r.signal()
	r.sched.Unlock()
}

// signal wakes one idle worker, if any is waiting.
func (r *Receiver) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// storeCtx returns a context for the receiver's own inbox calls: bounded,
// and not cancelled by Close, so that outcomes reached are recorded.
func (r *Receiver) storeCtx() (context.Context, context.CancelFunc) {
	if r.owned {
		return r.storeBase, func() {} // the in-memory inbox never blocks
	}
	return context.WithTimeout(r.storeBase, storeTimeout)
}

func (r *Receiver) markHandled(j *job) {
	ctx, cancel := r.storeCtx()
	defer cancel()
	if err := r.inbox.MarkHandled(ctx, j.key, r.now()); err != nil {
		level := slog.LevelError
		if errors.Is(err, store.ErrNotFound) {
			level = slog.LevelDebug // the inbox forgot the key (evicted or pruned)
		}
		r.log.LogAttrs(ctx, level, "receiver: marking event handled failed",
			slog.String("event_id", j.ev.ID), slog.String("key", j.key), slog.Any("error", err))
	}
}

// kill dead-letters j: MarkDead, then the OnDead hook.
func (r *Receiver) kill(j *job, cause error) {
	defer r.finish(j)
	r.stats.dead.Add(1)
	reason := cause.Error()
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen]
	}
	r.log.LogAttrs(r.base, slog.LevelError, "receiver: event dead-lettered",
		slog.String("event_id", j.ev.ID), slog.String("event_type", j.ev.Type),
		slog.Int("attempt", j.attempt), slog.Any("error", cause))
	ctx, cancel := r.storeCtx()
	err := r.inbox.MarkDead(ctx, j.key, r.now(), reason)
	cancel()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		r.log.LogAttrs(r.base, slog.LevelError, "receiver: marking event dead failed",
			slog.String("event_id", j.ev.ID), slog.String("key", j.key), slog.Any("error", err))
	}
	if r.cfg.OnDead == nil {
		return
	}
	ctx, cancel = context.WithTimeout(r.base, r.cfg.CallbackTimeout)
	defer cancel()
	r.safely("OnDead", j.ev.ID, func() { r.cfg.OnDead(ctx, j.ev, cause) })
}

// safely runs a user hook on a worker, turning a panic into a log entry.
func (r *Receiver) safely(name, eventID string, fn func()) {
	defer func() {
		if p := recover(); p != nil {
			r.log.LogAttrs(r.base, slog.LevelError, "receiver: "+name+" panicked",
				slog.String("event_id", eventID), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		}
	}()
	fn()
}

// abandon gives up on j without an outcome (Close, Shutdown deadline): a
// durable inbox keeps it claimed for re-drive; other inboxes release it so
// the event can be delivered again.
func (r *Receiver) abandon(j *job) {
	r.stats.interrupted.Add(1)
	if r.recovery == nil {
		r.release(r.base, j.key)
	}
	r.finish(j)
}

// finish ends j's life in this receiver.
func (r *Receiver) finish(j *job) {
	r.forget(j.key)
	r.unpend()
}

// unpend counts one pending event less and wakes whoever waits for that:
// Shutdown when none is left; with ManualRetries, the waiters of waitQuiet.
func (r *Receiver) unpend() {
	n := r.pending.Add(-1)
	if r.cfg.ManualRetries {
		r.sched.Lock()
		r.wakeQuietLocked()
		r.sched.Unlock()
		return
	}
	if n == 0 {
		select {
		case r.drained <- struct{}{}:
		default:
		}
	}
}

// maintain prunes the inbox and, with a durable inbox, re-drives claimed
// events whose lease ended, until Shutdown or Close begins.
func (r *Receiver) maintain() {
	defer r.wg.Done()
	var recoverC, pruneC <-chan time.Time
	if r.recovery != nil {
		r.recoverClaimed()
		t := time.NewTicker(r.cfg.RecoveryInterval)
		defer t.Stop()
		recoverC = t.C
	}
	if r.cfg.PruneInterval > 0 {
		t := time.NewTicker(r.cfg.PruneInterval)
		defer t.Stop()
		pruneC = t.C
	}
	for {
		select {
		case <-r.quit:
			return
		case <-recoverC:
			r.recoverClaimed()
		case <-pruneC:
			r.prune()
		}
	}
}

func (r *Receiver) prune() {
	ctx, cancel := context.WithTimeout(r.base, storeTimeout)
	defer cancel()
	n, err := r.inbox.PruneInbox(ctx, r.now())
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "receiver: pruning inbox failed", slog.Any("error", err))
		return
	}
	r.log.LogAttrs(ctx, slog.LevelDebug, "receiver: pruned inbox", slog.Int("entries", n))
}

// recoverClaimed leases claimed entries whose lease ended and queues them,
// no more than the queue has free slots for. It reserves the slots before
// leasing, so that every entry leased (which costs it an attempt) finds its
// place; requests see them taken until LeaseClaimed returns.
func (r *Receiver) recoverClaimed() {
	free := r.takeSlots(MaxRecoveryBatch)
	if free == 0 {
		return
	}
	defer func() { r.slots.Add(-free) }() // the slots left unused
	limit := int(free)
	// Snapshot what this process holds before leasing: a job that finishes
	// (and leaves inflight) while LeaseClaimed runs may still come back from
	// it as claimed, and must not be queued a second time here.
	r.sched.Lock()
	heldBefore := make(map[string]struct{}, len(r.sched.inflight))
	for k := range r.sched.inflight {
		heldBefore[k] = struct{}{}
	}
	r.sched.Unlock()
	ctx, cancel := context.WithTimeout(r.base, storeTimeout)
	defer cancel()
	entries, err := r.recovery.LeaseClaimed(ctx, r.now(), r.cfg.Lease, limit)
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "receiver: leasing claimed inbox entries failed", slog.Any("error", err))
		return
	}
	for _, e := range entries {
		r.sched.Lock()
		_, held := r.sched.inflight[e.Key]
		r.sched.Unlock()
		if _, before := heldBefore[e.Key]; held || before {
			continue // queued or running here, now or when the lease was taken
		}
		ev, err := event.Decode(e.Body)
		if err != nil {
			// It was verified and decoded before it was stored; the store
			// lost or changed it. Nothing will fix that.
			r.log.LogAttrs(ctx, slog.LevelError, "receiver: stored event does not decode; marking it dead",
				slog.String("key", e.Key), slog.Any("error", err))
			sctx, scancel := r.storeCtx()
			if err := r.inbox.MarkDead(sctx, e.Key, r.now(), "receiver: stored body does not decode: "+err.Error()); err != nil {
				r.log.LogAttrs(ctx, slog.LevelError, "receiver: marking event dead failed",
					slog.String("key", e.Key), slog.Any("error", err))
			}
			scancel()
			continue
		}
		// Attempts counts leases, this one included: the next attempt's
		// number, so a crash loop still reaches the policy's attempt limit.
		prior := max(e.Attempts-1, 0)
		if !r.requeue(&job{ev: ev, key: e.Key, attempt: prior}) {
			return // closing: the lease runs out and a later receiver retries
		}
		free--
		r.stats.recovered.Add(1)
		r.log.LogAttrs(ctx, slog.LevelInfo, "receiver: re-driving accepted event",
			slog.String("event_id", ev.ID), slog.String("event_type", ev.Type), slog.Int("attempt", prior+1))
	}
}

// requeue queues a recovered job into a slot reserved for it, unless the
// receiver stopped running (recovered events are not taken while Shutdown
// drains).
func (r *Receiver) requeue(j *job) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.state.Load() != stateRunning {
		return false
	}
	r.pending.Add(1)
	r.queueLocked(j)
	return true
}
