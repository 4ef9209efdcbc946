package receiver

import (
	"context"
	"log/slog"
)

// reserve admits a request's event: while the receiver is running, it
// takes a queue slot and counts the event pending. It returns the reason
// to refuse the request otherwise.
func (r *Receiver) reserve() (Reason, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.state.Load() != stateRunning {
		return ReasonUnavailable, false
	}
	if r.takeSlots(1) == 0 {
		return ReasonQueueFull, false
	}
	r.pending.Add(1)
	return "", true
}

// unreserve undoes reserve for an event that was not claimed.
func (r *Receiver) unreserve() {
	r.slots.Add(-1)
	r.unpend()
}

// takeSlots takes up to n free queue slots and returns how many it took.
func (r *Receiver) takeSlots(n int64) int64 {
	for {
		used := r.slots.Load()
		k := min(n, int64(cap(r.queue))-used)
		if k <= 0 {
			return 0
		}
		if r.slots.CompareAndSwap(used, used+k) {
			return k
		}
	}
}

// push queues j, pending already, into the slot reserved for it, unless the
// receiver is closed (its queue drained or about to be).
func (r *Receiver) push(j *job) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.state.Load() == stateClosed {
		return false
	}
	r.queueLocked(j)
	return true
}

// queueLocked puts j in the queue, in a slot reserved for it, and marks
// it held by this process for a durable receiver. r.mu must be held for
// reading, with the receiver not closed.
func (r *Receiver) queueLocked(j *job) {
	if r.recovery != nil {
		r.sched.Lock()
		r.sched.inflight[j.key] = struct{}{}
		r.sched.Unlock()
	}
	r.queue <- j // never blocks: len(queue) <= slots <= cap(queue)
}

// release forgets a claim whose event was not queued, so a retry of it is
// accepted later.
func (r *Receiver) release(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := r.inbox.ReleaseClaim(ctx, key); err != nil {
		// The sender retries; until the claim expires it will be answered
		// as a duplicate. Nothing else can be done here.
		r.log.LogAttrs(ctx, slog.LevelError, "receiver: releasing claim failed; retries of this event will be taken for duplicates",
			slog.String("key", key), slog.Any("error", err))
	}
}

// forget removes key from the in-flight set of a durable receiver.
func (r *Receiver) forget(key string) {
	if r.recovery == nil {
		return
	}
	r.sched.Lock()
	delete(r.sched.inflight, key)
	r.sched.Unlock()
}
