package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

// settleTimeout is how long the store calls that record an attempt's
// outcome (or release a leased delivery) may still run once the delivery's
// context has been cancelled: they are not cancelled with it, so a shutdown
// does not leave an attempt made but unrecorded.
const settleTimeout = 10 * time.Second

// deliver makes one attempt of a leased delivery and settles it: the
// attempt is logged, the delivery completed, retried or given up, and the
// endpoint's health recorded. It reports whether an attempt was made and
// counted. ctx bounds the attempt; sctx, from [settleContext], the store
// calls. ep is the endpoint admitted by limits.admit, whose slot it gives
// back. The delivery counts as in flight for [Sender.WaitIdle] until
// everything, hooks included, is done.
func (s *Sender) deliver(ctx, sctx context.Context, d *store.Delivery, ep *store.Endpoint) bool {
	s.idle.begin()
	defer s.idle.end()
	defer func() { s.per.done(ep.ID, s.now()) }()
	ref := d.Ref()

	if ep.Disabled {
		// Disabled after the lease: Retry lets a store that holds the
		// endpoints pause the delivery until the endpoint is enabled.
		s.settle(sctx, d, "retry", s.st.Retry(sctx, ref, s.now(), "endpoint disabled"))
		return false
	}

	res := s.attempt(ctx, ep, &d.Event, d.Attempts)
	now := s.now()
	if res.interrupted {
		res.free(s)
		s.settle(sctx, d, "release", s.st.Release(sctx, ref, now))
		return false
	}
	a := res.a
	a.DeliveryID = d.ID
	s.logAttempt(sctx, a)
	res.free(s)

	lastErr := a.Error
	switch res.class {
	case retry.ClassSuccess:
		s.settle(sctx, d, "complete", s.st.Complete(sctx, ref, now))
		s.eps.recordResult(sctx, ep, res.class, now)
		return true
	case retry.ClassGone:
		// Disable first, so deliveries queued behind this one see it.
		s.eps.recordResult(sctx, ep, res.class, now)
		s.giveUp(sctx, d, now, "410 Gone")
		return true
	case retry.ClassPermanent:
		s.giveUp(sctx, d, now, "permanent failure: "+lastErr)
		s.eps.recordResult(sctx, ep, res.class, now)
		return true
	}
	delay, ok := s.cfg.Retry.Next(retry.Failure{
		Number:     d.Attempts,
		StatusCode: a.StatusCode,
		Header:     res.header,
		Err:        res.err,
		Age:        now.Sub(d.FirstAttemptAt),
		Time:       now,
	})
	if ok {
		s.settle(sctx, d, "retry", s.st.Retry(sctx, ref, now.Add(delay), lastErr))
	} else {
		s.giveUp(sctx, d, now, fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, lastErr))
	}
	s.eps.recordResult(sctx, ep, res.class, now)
	return true
}

// giveUp fails the delivery and calls OnDeliveryExhausted.
func (s *Sender) giveUp(ctx context.Context, d *store.Delivery, now time.Time, reason string) {
	err := s.st.Fail(ctx, d.Ref(), now, reason)
	s.settle(ctx, d, "fail", err)
	if err != nil {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "sender: delivery given up", attrs(d, slog.String("reason", reason))...)
	if h := s.cfg.Hooks.OnDeliveryExhausted; h != nil {
		c := d.Clone()
		c.State, c.FinishedAt, c.LastError, c.LeaseToken = store.StateFailed, now, reason, ""
		s.safeHook(ctx, "OnDeliveryExhausted", func() { h(ctx, c, reason) })
	}
}

// settle logs a failed settlement; a lost lease means another worker took
// the delivery after this lease expired (the attempt may be duplicated).
func (s *Sender) settle(ctx context.Context, d *store.Delivery, op string, err error) {
	switch {
	case err == nil:
	case errors.Is(err, store.ErrLeaseLost):
		s.log.LogAttrs(ctx, slog.LevelWarn, "sender: lease lost before "+op+"; the delivery was taken by another worker", attrs(d)...)
	default:
		s.log.LogAttrs(ctx, slog.LevelError, "sender: "+op+" failed", attrs(d, slog.Any("error", err))...)
	}
}

// release gives a leased delivery back, due at next, without counting it.
// sctx is from [settleContext].
func (s *Sender) release(sctx context.Context, d *store.Delivery, next time.Time) {
	s.settle(sctx, d, "release", s.st.Release(sctx, d.Ref(), next))
}

// settleContext returns a context for the store calls that settle
// deliveries made under ctx: it carries ctx's values and is cancelled
// [settleTimeout] after ctx ends (or by the returned function), so a
// settlement in progress at shutdown can finish. One serves many
// deliveries: the dispatcher's workers share one, not a timer each.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var (
		mu    sync.Mutex
		timer *time.Timer
		done  bool
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			timer = time.AfterFunc(settleTimeout, cancel)
		}
	})
	return sctx, func() {
		stop()
		mu.Lock()
		done = true
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// logAttempt stores the attempt and calls OnAttempt.
func (s *Sender) logAttempt(ctx context.Context, a *store.Attempt) {
	if a.ID == "" {
		a.ID = s.ids.newString() // here rather than under the store's lock
	}
	if err := s.st.AddAttempt(ctx, a); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sender: storing attempt failed",
			slog.String("event_id", a.EventID), slog.String("endpoint_id", a.EndpointID), slog.Any("error", err))
	}
	lvl := slog.LevelDebug
	if !a.Success {
		lvl = slog.LevelInfo
	}
	if s.log.Enabled(ctx, lvl) {
		s.log.LogAttrs(ctx, lvl, "sender: attempt",
			slog.String("event_id", a.EventID), slog.String("endpoint_id", a.EndpointID),
			slog.String("delivery_id", a.DeliveryID), slog.Int("attempt", a.Number),
			slog.Int("status", a.StatusCode), slog.Duration("duration", a.Duration),
			slog.String("error", a.Error))
	}
	if h := s.cfg.Hooks.OnAttempt; h != nil {
		c := a.Clone()
		s.safeHook(ctx, "OnAttempt", func() { h(ctx, c) })
	}
}

func attrs(d *store.Delivery, extra ...slog.Attr) []slog.Attr {
	return append([]slog.Attr{
		slog.String("event_id", d.Event.ID),
		slog.String("endpoint_id", d.EndpointID),
		slog.String("delivery_id", d.ID),
		slog.Int("attempt", d.Attempts),
	}, extra...)
}
