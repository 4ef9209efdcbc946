package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/internal/groupcommit"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

// settleTimeout is how long the store calls that record an attempt's
// outcome (or release a leased delivery) may still run once the delivery's
// context has been cancelled: they are not cancelled with it, so a shutdown
// does not leave an attempt made but unrecorded. It also bounds how long a
// batch that the store refuses is tried again.
const settleTimeout = 10 * time.Second

// Settling: what becomes of each leased delivery (succeeded, retried, given
// up or released), the attempt made and the endpoint's health are not
// written one by one. A worker hands the outcome over and goes on with its
// next delivery; the outcomes are written in batches, one Settle call (one
// transaction) each, with one health change per endpoint per batch.
//
// Batches need no goroutine of their own. A goroutine that hands over an
// outcome while no batch is being written becomes the writer: it takes the
// outcomes waiting (after Config.SettleLinger, if set, and after letting
// the goroutines ready to run go first, so that those about to hand an
// outcome over join the batch), up to
// Config.SettleBatchSize, writes them, runs the hooks, and goes on while
// more are waiting; then it steps down. Every other goroutine appends its
// outcome and returns at once, unless the queue is full: then it waits for
// room, which slows the attempts down to what the store can record.
//
// A delivery counts as in flight for WaitIdle, and its endpoint's pooled
// response buffer stays taken, until its batch is written and its hooks
// have run.

// outcome is one delivery's settlement waiting to be written, with what
// the hooks and the health bookkeeping need once it is.
type outcome struct {
	ctx context.Context // the hooks' context
	d   *store.Delivery
	set store.Settlement
	// ep is the endpoint attempted, nil when no attempt was made; the
	// attempt counts towards its health as a success or a failure, at
	// set.At.
	ep      *store.Endpoint
	success bool
	res     result          // the attempt's pooled buffers, freed once written
	wg      *sync.WaitGroup // done once written and hooked; may be nil
	// exhausted is the reason a delivery is given up with, for the log and
	// OnDeliveryExhausted; empty for the other outcomes.
	exhausted string
	// brk is the endpoint's breaker transition this attempt caused, to be
	// recorded with the batch; nil when none.
	brk *breakerChange
}

// settler is a sender's queue of outcomes waiting to be written.
type settler struct {
	mu      sync.Mutex
	room    sync.Cond // signalled when outcomes leave the queue
	queue   []*outcome
	writing bool // a goroutine is writing batches
	pool    sync.Pool
}

// newOutcome returns an outcome for d, counted in flight for WaitIdle (and
// in wg, when not nil) until it has been written.
func (s *Sender) newOutcome(ctx context.Context, d *store.Delivery, wg *sync.WaitGroup) *outcome {
	s.idle.begin()
	if wg != nil {
		wg.Add(1)
	}
	o, _ := s.settling.pool.Get().(*outcome)
	if o == nil {
		o = new(outcome)
	}
	o.ctx, o.d, o.wg = ctx, d, wg
	o.set.Ref = d.Ref()
	return o
}

// hand queues o to be written and writes the batches waiting, if no other
// goroutine is writing them.
func (s *Sender) hand(o *outcome) {
	st := &s.settling
	st.mu.Lock()
	for st.writing && len(st.queue) >= s.queueCap {
		st.room.Wait()
	}
	st.queue = append(st.queue, o)
	if st.writing {
		st.mu.Unlock()
		return
	}
	st.writing = true
	var batch []*outcome
	for len(st.queue) > 0 {
		st.mu.Unlock()
		if s.cfg.SettleLinger > 0 && s.queued() < s.cfg.SettleBatchSize {
			time.Sleep(s.cfg.SettleLinger)
		}
		groupcommit.Yield(s.queued, s.cfg.SettleBatchSize)
		st.mu.Lock()
		n := min(len(st.queue), s.cfg.SettleBatchSize)
		batch = append(batch[:0], st.queue[:n]...)
		st.queue = shift(st.queue, n)
		st.room.Broadcast()
		st.mu.Unlock()
		s.write(batch)
		clear(batch)
		st.mu.Lock()
	}
	st.writing = false
	st.room.Broadcast()
	st.mu.Unlock()
}

// queued returns how many outcomes wait to be written.
func (s *Sender) queued() int {
	s.settling.mu.Lock()
	defer s.settling.mu.Unlock()
	return len(s.settling.queue)
}

// shift removes the first n elements of q in place.
func shift(q []*outcome, n int) []*outcome {
	k := copy(q, q[n:])
	clear(q[k:])
	return q[:k]
}

// write settles a batch: one Settle call with the endpoints' health
// changes, then the logs and hooks of each outcome and endpoint, then the
// outcomes are done.
func (s *Sender) write(batch []*outcome) {
	ctx := batch[0].ctx
	b := store.SettleBatch{Settlements: make([]store.Settlement, len(batch))}
	for i, o := range batch {
		b.Settlements[i] = o.set
	}
	h := s.healthOf(batch)
	b.Health = h.deltas
	seq := s.per.seq()
	res, err := s.settle(ctx, b)
	for i, o := range batch {
		s.settled(o, err, err == nil && res.Lost[i])
	}
	if err == nil && res.Endpoints != nil {
		s.eps.afterHealth(ctx, h, res.Endpoints, seq)
	}
	if err == nil {
		s.noteRetries(batch)
	}
	if err == nil && headsDone(batch) {
		// The next delivery of each finished head's key is due now: lease
		// it at once rather than at the next poll, or a key's deliveries
		// would go one per PollInterval.
		s.signal()
	}
	for _, o := range batch {
		o.res.free(s)
		wg := o.wg
		*o = outcome{}
		s.settling.pool.Put(o)
		s.idle.end()
		if wg != nil {
			wg.Done()
		}
	}
}

// noteRetries tells the loop when the retries of a written batch fall
// due, for those due before its next poll could find them.
func (s *Sender) noteRetries(batch []*outcome) {
	horizon := s.now().Add(s.cfg.PollInterval)
	for _, o := range batch {
		if o.set.Outcome == store.OutcomeRetry && o.set.Next.Before(horizon) {
			s.soon.add(o.set.Next)
		}
	}
}

// headsDone reports whether batch finished a delivery with an ordering
// key (succeeded or given up), which lets the key's next delivery go.
func headsDone(batch []*outcome) bool {
	for _, o := range batch {
		if o.d.OrderingKey != "" && (o.set.Outcome == store.OutcomeSucceeded || o.set.Outcome == store.OutcomeFailed) {
			return true
		}
	}
	return false
}

// errWrittenBefore: a batch tried again found its attempts stored already,
// so an earlier try was committed although it reported an error.
var errWrittenBefore = errors.New("written by an earlier try")

// settle is the store's Settle, tried again with backoff, for up to
// settleTimeout, when it fails for another reason than an ill-formed batch
// (a lost connection, a busy database): until it is written, the batch's
// deliveries stay leased and their attempts unrecorded. A try that finds
// the batch's attempts stored (ErrConflict after a failed try) means an
// earlier try was committed; it returns errWrittenBefore, and the lost
// leases of that try are not known. A panic in Settle is its error.
func (s *Sender) settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	deadline := time.Now().Add(settleTimeout)
	wait := 10 * time.Millisecond
	for try := 1; ; try++ {
		res, err := s.settleOnce(ctx, b)
		switch {
		case err == nil:
			return res, nil
		case try > 1 && errors.Is(err, store.ErrConflict):
			return store.SettleResult{}, errWrittenBefore
		case errors.Is(err, store.ErrInvalid), ctx.Err() != nil, time.Now().Add(wait).After(deadline):
			s.log.LogAttrs(ctx, slog.LevelError, "sender: settling deliveries failed; they stay leased until their leases end, and are attempted again",
				slog.Int("deliveries", len(b.Settlements)), slog.Int("tries", try), slog.Any("error", err))
			return res, err
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "sender: settling deliveries failed; trying again",
			slog.Int("deliveries", len(b.Settlements)), slog.Duration("in", wait), slog.Any("error", err))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, time.Second)
	}
}

// settleOnce is one Settle call; a panic in it is its error.
func (s *Sender) settleOnce(ctx context.Context, b store.SettleBatch) (res store.SettleResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "sender: the store's Settle panicked",
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			res, err = store.SettleResult{}, fmt.Errorf("sender: the store's Settle panicked: %v", p)
		}
	}()
	res, err = s.st.Settle(ctx, b)
	if err == nil && len(res.Lost) != len(b.Settlements) {
		err = fmt.Errorf("sender: the store's Settle returned %d results for %d settlements", len(res.Lost), len(b.Settlements))
	}
	return res, err
}

// settled logs an outcome written (or not: err) and calls its hooks:
// OnAttempt for the attempt made, OnDeliveryExhausted for a delivery given
// up. A lost lease means another worker took the delivery after this
// lease expired (the attempt may be duplicated): its attempt is logged,
// the rest of it is not, and no hook but OnAttempt is called.
func (s *Sender) settled(o *outcome, err error, lost bool) {
	ctx, d := o.ctx, o.d
	written := err == nil || errors.Is(err, errWrittenBefore)
	if a := o.set.Attempt; a != nil && written {
		if h := s.cfg.Hooks.OnAttempt; h != nil {
			// The store holds its own copy, and the sender is done with a:
			// the hook may have it, once its body is out of the pooled
			// buffer.
			body := bytes.Clone(a.ResponseBody)
			o.res.free(s)
			a.ResponseBody = body
			o.set.Attempt = nil
			s.safeHook(ctx, "OnAttempt", func() { h(ctx, a) })
		}
	}
	switch {
	case !written:
		return // logged by settle, once for the batch
	case lost:
		s.log.LogAttrs(ctx, slog.LevelWarn, "sender: lease lost before "+o.set.Outcome.String()+"; the delivery was taken by another worker", attrs(d)...)
		return
	}
	if o.set.Outcome != store.OutcomeFailed {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "sender: delivery given up", attrs(d, slog.String("reason", o.exhausted))...)
	if h := s.cfg.Hooks.OnDeliveryExhausted; h != nil {
		c := d.Clone()
		c.State, c.FinishedAt, c.LastError, c.LeaseToken = store.StateFailed, o.set.At, o.exhausted, ""
		s.safeHook(ctx, "OnDeliveryExhausted", func() { h(ctx, c, o.exhausted) })
	}
}

// deliver makes one attempt of a leased delivery and hands its outcome
// over to be written: succeeded, retried or given up, with the attempt and
// the endpoint's health; released when the attempt was interrupted. It
// reports whether an attempt was made and counted. ctx bounds the attempt;
// sctx, from [settleContext], is the hooks' context. ep is the endpoint
// admitted by limits.admit, whose slot it gives back once the request is
// done. wg, when not nil, is done once the outcome is written.
func (s *Sender) deliver(ctx, sctx context.Context, d *store.Delivery, ep *store.Endpoint, wg *sync.WaitGroup) bool {
	o := s.newOutcome(sctx, d, wg)
	if ep.Disabled {
		// Disabled after the lease: a retry lets a store that holds the
		// endpoints pause the delivery until the endpoint is enabled.
		s.per.cancelProbe(ep.ID, s.now())
		s.per.done(ep.ID, s.now())
		o.set.Outcome, o.set.Next, o.set.Error = store.OutcomeRetry, s.now(), "endpoint disabled"
		s.hand(o)
		return false
	}

	res := s.attempt(ctx, ep, &d.Event, d.Attempts)
	now := s.now()
	if res.interrupted {
		s.per.cancelProbe(ep.ID, now)
		s.per.done(ep.ID, now)
		res.free(s)
		o.set.Outcome, o.set.Next = store.OutcomeReleased, now
		s.hand(o)
		return false
	}
	a := res.a
	a.DeliveryID = d.ID
	// The id is set here, not by the store, so that a batch tried again
	// after an error finds its attempts stored if the error hid a commit.
	a.ID = s.ids.newString()
	s.logAttempt(sctx, a)
	o.res, o.set.Attempt, o.set.At = res, a, now
	o.ep, o.success = ep, res.class == retry.ClassSuccess
	fb := feedbackOf(&res, now)
	fb.leased = d.LastAttemptAt
	var retryFrom time.Time // the breaker closed: retries of failures since then may go
	if ch, changed := s.per.feedback(ep.ID, now, fb); changed {
		o.brk = &ch
		retryFrom = ch.failedFrom
	}
	s.per.done(ep.ID, now)

	switch res.class {
	case retry.ClassSuccess:
		o.set.Outcome, o.set.At = store.OutcomeSucceeded, now
	case retry.ClassGone:
		// Disable first, so deliveries queued behind this one see it.
		if _, err := s.eps.disable(sctx, ep.ID, "410 Gone"); err != nil {
			s.log.LogAttrs(sctx, slog.LevelError, "sender: disabling endpoint failed", slog.String("endpoint_id", ep.ID), slog.Any("error", err))
		}
		o.giveUp(now, "410 Gone", s.cfg.OnKeyGiveUp)
	case retry.ClassPermanent:
		o.giveUp(now, "permanent failure: "+a.Error, s.cfg.OnKeyGiveUp)
	default:
		delay, ok := s.cfg.Retry.Next(retry.Failure{
			Number:     d.Attempts,
			StatusCode: a.StatusCode,
			Header:     res.header,
			Err:        res.err,
			Age:        now.Sub(d.FirstAttemptAt),
			Time:       now,
		})
		if ok {
			o.set.Outcome, o.set.Next, o.set.Error = store.OutcomeRetry, now.Add(delay), a.Error
		} else {
			o.giveUp(now, fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, a.Error), s.cfg.OnKeyGiveUp)
		}
	}
	s.hand(o)
	if !retryFrom.IsZero() {
		s.advanceRetries(sctx, ep.ID, retryFrom, now)
	}
	return true
}

// advanceRetries makes due at now the endpoint's pending deliveries that
// wait for the retry of an attempt leased at or after since, when its
// breaker has just closed (see BreakerConfig.KeepRetrySchedule) and the
// store is a [store.RetryAdvancer], and wakes the dispatcher for them. A
// failure is logged: the deliveries then keep their schedule.
func (s *Sender) advanceRetries(ctx context.Context, endpointID string, since, now time.Time) {
	ra, ok := s.st.(store.RetryAdvancer)
	if !ok || s.cfg.Breaker.KeepRetrySchedule {
		return
	}
	n, err := ra.AdvanceRetries(ctx, endpointID, since, now)
	switch {
	case err != nil:
		s.log.LogAttrs(ctx, slog.LevelError, "sender: making the retries of a recovered endpoint due failed; they keep their schedule",
			slog.String("endpoint_id", endpointID), slog.Any("error", err))
	case n > 0:
		s.log.LogAttrs(ctx, slog.LevelInfo, "sender: endpoint circuit breaker closed; the deliveries that failed while it was down are due now",
			slog.String("endpoint_id", endpointID), slog.Int("deliveries", n))
		s.signal()
	}
}

// giveUp makes o fail the delivery at now, for reason; under KeyHold, a
// delivery with an ordering key keeps holding it.
func (o *outcome) giveUp(now time.Time, reason string, key KeyGiveUp) {
	o.set.Outcome, o.set.At, o.set.Error, o.exhausted = store.OutcomeFailed, now, reason, reason
	o.set.HoldKey = key == KeyHold && o.d.OrderingKey != ""
}

// giveUp hands over the failure of a delivery on which no attempt was
// made (its endpoint is gone).
func (s *Sender) giveUp(sctx context.Context, d *store.Delivery, now time.Time, reason string, wg *sync.WaitGroup) {
	o := s.newOutcome(sctx, d, wg)
	o.giveUp(now, reason, KeySkip) // its endpoint is gone: nothing to hold for
	s.hand(o)
}

// release hands over the release of a leased delivery, due at next,
// without counting it. sctx is from [settleContext].
func (s *Sender) release(sctx context.Context, d *store.Delivery, next time.Time, wg *sync.WaitGroup) {
	o := s.newOutcome(sctx, d, wg)
	o.set.Outcome, o.set.Next = store.OutcomeReleased, next
	s.hand(o)
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

// logAttempt logs an attempt made (at Debug when it succeeded, Info when
// not).
func (s *Sender) logAttempt(ctx context.Context, a *store.Attempt) {
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
}

func attrs(d *store.Delivery, extra ...slog.Attr) []slog.Attr {
	return append([]slog.Attr{
		slog.String("event_id", d.Event.ID),
		slog.String("endpoint_id", d.EndpointID),
		slog.String("delivery_id", d.ID),
		slog.Int("attempt", d.Attempts),
	}, extra...)
}
