package sender

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// idlePollInterval is how often WaitIdle asks the store for the backlog
// between the settles of this sender's own deliveries, which wake it at
// once: it sees deliveries settled by other senders, and due times passing,
// this late.
const idlePollInterval = 50 * time.Millisecond

// idle counts this sender's deliveries in flight (from the attempt to the
// last hook) and wakes the WaitIdle calls when one ends. It is safe for
// concurrent use; its zero value is ready.
type idle struct {
	mu    sync.Mutex
	busy  int
	ended chan struct{} // closed when a delivery ends; nil until a waiter asks
}

func (w *idle) begin() {
	w.mu.Lock()
	w.busy++
	w.mu.Unlock()
}

func (w *idle) end() {
	w.mu.Lock()
	w.busy--
	if w.ended != nil {
		close(w.ended)
		w.ended = nil
	}
	w.mu.Unlock()
}

// quiet reports whether no delivery is in flight and none has ended since
// watch returned ended.
func (w *idle) quiet(ended <-chan struct{}) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-ended:
		return false
	default:
		return w.busy == 0
	}
}

// watch returns how many deliveries are in flight and a channel closed
// when one of them, or one begun later, ends.
func (w *idle) watch() (int, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended == nil {
		w.ended = make(chan struct{})
	}
	return w.busy, w.ended
}

// Backlog is what [Sender.Backlog] reports: the store's counts and, of
// the due deliveries, those this sender holds back.
type Backlog struct {
	store.Backlog
	// Held: of Due, the deliveries whose endpoint this sender holds back
	// for a while: its circuit breaker is open (until its next probe) or
	// probing, or a Retry-After pauses it (see [Sender.Flow]). The breaker
	// and the pause are this sender's own: another sender sharing the
	// store may deliver them. Deliveries an endpoint's rate limit or
	// in-flight cap delays for a moment are not held.
	Held int
}

// Backlog counts the unfinished deliveries of the sender's mode, by the
// sender's clock (Config.Now): due, scheduled for later, leased, paused
// and waiting for their ordering key (see [store.Backlog]), and of the
// due ones, those this sender holds back ([Backlog].Held). The store's
// counts cover every delivery in it, whichever sender enqueued or holds
// it. Counting the held ones reads the due deliveries of the endpoints
// held back, when any is and something is due. It returns [ErrClosed]
// after Close, and the store's error, wrapped. Safe for concurrent use.
func (s *Sender) Backlog(ctx context.Context) (Backlog, error) {
	if s.isClosed() {
		return Backlog{}, ErrClosed
	}
	now := s.now()
	b, err := s.st.Backlog(ctx, s.cfg.Mode, now)
	if err != nil {
		return Backlog{}, fmt.Errorf("sender: backlog: %w", err)
	}
	out := Backlog{Backlog: b}
	if b.Due == 0 {
		return out, nil
	}
	for id, h := range s.per.holds(now) {
		if !h.paused {
			continue
		}
		err := s.eachUnfinished(ctx, store.DeliveryFilter{EndpointID: id, State: store.StatePending}, func(d *store.Delivery) {
			if !d.KeyWaiting && !d.NextAttemptAt.After(now) {
				out.Held++
			}
		})
		if err != nil {
			return Backlog{}, err
		}
	}
	out.Held = min(out.Held, b.Due) // the store moved on meanwhile
	return out, nil
}

// NextAttempt returns the earliest time at which this sender may attempt
// a delivery of its mode, by its clock (Config.Now): a time at or before
// the clock's when one may go now. It accounts for what holds deliveries
// back:
//   - a delivery waiting for its ordering key (store.Delivery.KeyWaiting)
//     goes after its key's head, whose own time counts;
//   - a delivery whose endpoint this sender holds back goes no earlier
//     than its breaker's next probe, the end of a Retry-After pause or of
//     its rate limit's wait (see [Sender.Flow]); one held until a request
//     in flight ends counts through that request's lease;
//   - a leased delivery counts at its lease's end, when it may be taken
//     again if its sender died.
//
// It returns false when no delivery of the mode is pending or leased but
// paused ones and ones waiting for a key that a failed delivery holds
// ([KeyHold]): nothing will be attempted until something is published,
// replayed or enabled. It reads every pending and leased delivery of the
// store (its cost grows with them): it is meant for tests and tools
// driving a sender by hand (webhooktest.DeliverAll advances a fake clock
// to it), not for a hot loop. It returns [ErrClosed] after Close, and the
// store's error, wrapped. Safe for concurrent use.
func (s *Sender) NextAttempt(ctx context.Context) (time.Time, bool, error) {
	if s.isClosed() {
		return time.Time{}, false, ErrClosed
	}
	now := s.now()
	holds := s.per.holds(now)
	var (
		next  time.Time
		found bool
	)
	for _, state := range []store.DeliveryState{store.StatePending, store.StateLeased} {
		err := s.eachUnfinished(ctx, store.DeliveryFilter{State: state}, func(d *store.Delivery) {
			if d.KeyWaiting {
				return
			}
			at := d.NextAttemptAt
			if h, ok := holds[d.EndpointID]; ok && d.State == store.StatePending {
				if h.until.IsZero() {
					return // after a request in flight, counted by its lease
				}
				at = later(at, h.until)
			}
			if !found || at.Before(next) {
				next, found = at, true
			}
		})
		if err != nil {
			return time.Time{}, false, err
		}
	}
	return next, found, nil
}

// eachUnfinished calls fn with each delivery of the sender's mode that f
// (of every tenant) selects, a page at a time.
func (s *Sender) eachUnfinished(ctx context.Context, f store.DeliveryFilter, fn func(*store.Delivery)) error {
	f.AllTenants, f.Page = true, store.Page{Limit: store.MaxPageSize}
	for {
		ds, cursor, err := s.st.ListDeliveries(ctx, f)
		if err != nil {
			return fmt.Errorf("sender: list deliveries: %w", err)
		}
		for _, d := range ds {
			if d.Event.APIMode == s.cfg.Mode {
				fn(d)
			}
		}
		if cursor == "" {
			return nil
		}
		f.Page.Cursor = cursor
	}
}

// WaitIdle waits until everything due is delivered or given up: no
// delivery of the sender's mode is due or leased (by [Sender.Backlog], at
// the sender's clock's time), and no attempt of this sender is in flight,
// its logging, settling, health and hooks included. Deliveries scheduled
// for later (retries, deliveries published with PublishOptions, deliveries
// an endpoint's rate limit put off) and paused ones do not count: WaitIdle
// returns while they wait. Nor do deliveries that wait for something
// scheduled: those queued behind their ordering key's head
// ([store.Backlog].Waiting; the head counts when it is due or leased),
// and those whose endpoint this sender holds back ([Backlog].Held: its
// circuit breaker open until its next probe, or a Retry-After pause), so
// a drain against a dead endpoint returns rather than waiting for it to
// recover. A lease held by a sender that died counts until it expires and
// the delivery is taken again.
//
// It asks the store at a short interval and again each time one of this
// sender's deliveries is settled. It works whether or not the sender is
// started: without Start, something else must deliver (ProcessDue, another
// sender), or WaitIdle waits until ctx ends. It is meant for tests
// (publish, wait, assert) and for draining before Shutdown. It returns nil
// when idle, ctx's error when ctx ends first, [ErrClosed] when the sender
// is or gets closed, or the store's error. Safe for concurrent use.
func (s *Sender) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(idlePollInterval)
	defer t.Stop()
	poll := true // ask the store: at first, and at each tick
	for {
		busy, ended := s.idle.watch()
		if busy == 0 || poll {
			b, err := s.Backlog(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			// Idle, unless a delivery leased and settled (and so out of
			// the backlog) since watch is still in flight or ended.
			if busy == 0 && b.Due == b.Held && b.Leased == 0 && s.idle.quiet(ended) {
				return nil
			}
		}
		select {
		case <-ended:
			poll = false // a settle: the store is asked once none is in flight
		case <-t.C:
			poll = true
		case <-s.stop:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
