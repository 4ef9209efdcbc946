package receiver

import (
	"context"
	"log/slog"
	"time"
)

// maintain prunes the inbox and, with a durable inbox, re-drives claimed
// events whose lease ended, until Shutdown or Close begins.
func (r *Receiver) maintain() {
	defer r.wg.Done()
	var recoverC, pruneC <-chan time.Time
	if r.recovery != nil {
		// Start ran the first pass.
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
// no more than half the queue's free slots (at least one) and
// [MaxRecoveryBatch]. It reserves the slots before leasing, so that every
// entry leased (which costs it an attempt) finds its place; requests see
// them taken until LeaseClaimed returns, and find the other half free.
func (r *Receiver) recoverClaimed() {
	room := int64(cap(r.queue)) - r.slots.Load()
	free := r.takeSlots(min(MaxRecoveryBatch, max(1, room/2)))
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
		j, err := r.redrive(e)
		if err != nil {
			// It was verified and parsed before it was stored; the store
			// lost or changed it, or its source is no longer configured.
			// Nothing here will fix that: an operator may replay it.
			r.log.LogAttrs(ctx, slog.LevelError, "receiver: stored event cannot be re-driven; marking it dead",
				slog.String("key", e.Key), slog.Any("error", err))
			sctx, scancel := r.storeCtx()
			if err := r.inbox.MarkDead(sctx, e.Key, r.now(), err.Error()); err != nil {
				r.log.LogAttrs(ctx, slog.LevelError, "receiver: marking event dead failed",
					slog.String("key", e.Key), slog.Any("error", err))
			}
			scancel()
			continue
		}
		// Attempts counts leases, this one included: the next attempt's
		// number, so a crash loop still reaches the policy's attempt limit.
		prior := max(e.Attempts-1, 0)
		j.attempt = prior
		ev := j.ev
		if !r.requeue(j) {
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
