package receiver

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/webhookkit/webhookkit/retry"
)

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
	if r.cfg.Hooks.OnAccepted != nil {
		j.hooked.Lock() // wait for the request's Hooks.OnAccepted to return
		j.hooked.Unlock()
	}
	j.attempt++
	if j.first.IsZero() {
		j.first = r.now()
	}
	t0 := time.Now()
	err := r.call(j)
	info := CallbackInfo{Event: j.ev, Key: j.key, Number: j.attempt, Err: err, Duration: time.Since(t0)}
	r.stats.callbacks.Add(1)

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
	if h := r.cfg.Hooks.OnCallback; h != nil {
		r.safely("Hooks.OnCallback", j.ev.ID, func() { h(r.base, info) })
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
		if h := r.cfg.Hooks.OnDropped; h != nil {
			r.safely("Hooks.OnDropped", j.ev.ID, func() { h(r.base, j.ev) })
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

// call runs the handler once for j on a context of its own; a panic is an
// error.
func (r *Receiver) call(j *job) (err error) {
	ev := j.ev
	// The first attempt's context is part of the job (one allocation less
	// per event); a retry gets a new one, since a callback may keep its
	// context after it returned.
	ctx := &j.ctx
	if j.attempt > 1 {
		ctx = new(callCtx)
	}
	ctx.init(r.base, time.Now().Add(r.cfg.CallbackTimeout))
	ctx.job = j
	defer ctx.end()
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
