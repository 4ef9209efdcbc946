package receiver

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// maxReasonLen caps the failure text stored with a dead inbox entry.
const maxReasonLen = 1 << 10

// storeCtx returns a context for the receiver's own inbox calls: bounded,
// and not cancelled by Close, so that outcomes reached are recorded.
func (r *Receiver) storeCtx() (context.Context, context.CancelFunc) {
	if r.owned {
		return r.storeBase, func() {} // the in-memory inbox never blocks
	}
	return context.WithTimeout(r.storeBase, storeTimeout)
}

// markHandled records j handled. With a batching inbox it hands the record
// to the marker, which writes it with others, and j's key leaves the
// in-flight set (see finish) only once it is written. Otherwise it writes
// it now, trying again after a failure as the marker does (see
// markBudget).
func (r *Receiver) markHandled(j *job) {
	if r.batcher != nil {
		j.marking = true
		r.markHandledBatched(j.key)
		return
	}
	j.marked[0] = j.key
	r.writeMarks(j.marked[:], r.markOne)
}

// markOne is one MarkHandled of keys[0].
func (r *Receiver) markOne(ctx context.Context, keys []string, at time.Time) error {
	return r.inbox.MarkHandled(ctx, keys[0], at)
}

// kill dead-letters j: MarkDead, then Hooks.OnDead.
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
	h := r.cfg.Hooks.OnDead
	if h == nil {
		return
	}
	ctx, cancel = context.WithTimeout(WithDelivery(r.base, j.delivery()), r.cfg.CallbackTimeout)
	defer cancel()
	r.safely("Hooks.OnDead", j.ev.ID, func() { h(ctx, j.ev, cause) })
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

// finish ends j's life in this receiver. Its key leaves the in-flight set
// now, or, with its mark-handled record waiting for the marker, once that
// is written.
func (r *Receiver) finish(j *job) {
	if !j.marking {
		r.forget(j.key)
	}
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
