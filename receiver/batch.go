package receiver

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/internal/groupcommit"
	"github.com/webhookkit/webhookkit/store"
)

// Group commit: with an inbox that implements [store.InboxBatcher], the
// claims of concurrent requests are written together, one ClaimBatch per
// batch, and the workers' mark-handled records likewise, one
// MarkHandledBatch per batch.
//
// Claims need no goroutine of their own. A request whose claim finds fewer
// than ClaimFlushes batches being written becomes a leader: it takes the
// claims waiting (after ClaimLinger, if set, and after letting the
// goroutines ready to run go first: see yield), up to InboxBatchSize with
// its own first, writes them in one ClaimBatch, hands each its result, and
// then passes the lead to the first claim that arrived meanwhile or, with
// none waiting, steps down. Every other request waits in the list for its
// result, or for the lead. So under light load a claim is one commit away,
// and under heavy load each batch gathers the claims that arrived while the
// previous one was written (self-clocked).

// claims is the waiting list of a receiver that batches its claims.
type claims struct {
	mu      sync.Mutex
	waiting []*claimWait
	leaders int // batches being gathered or written
	waits   sync.Pool
	batches sync.Pool
}

// claimWait is one request's claim and, once written, its result.
type claimWait struct {
	c    store.Claim
	wake chan struct{} // one send: the result is set, or the lead passed
	done bool          // the result is set
	won  bool
	err  error
}

// claimBatch is a leader's batch.
type claimBatch struct {
	ws []*claimWait
	cs []store.Claim
}

// claimBatched claims c in a batch with the claims of concurrent requests
// and returns its result once the batch is written (durably, by the
// contract of ClaimBatch): the request is never answered before its claim
// is.
func (r *Receiver) claimBatched(c store.Claim) (bool, error) {
	cl := &r.claims
	w, _ := cl.waits.Get().(*claimWait)
	if w == nil {
		w = &claimWait{wake: make(chan struct{}, 1)}
	}
	w.c, w.done, w.won, w.err = c, false, false, nil
	cl.mu.Lock()
	lead := cl.leaders < r.cfg.ClaimFlushes
	if lead {
		cl.leaders++
	} else {
		cl.waiting = append(cl.waiting, w)
	}
	cl.mu.Unlock()
	if !lead {
		<-w.wake
	}
	if !w.done {
		r.leadClaims(w)
	}
	won, err := w.won, w.err
	w.c = store.Claim{}
	cl.waits.Put(w)
	return won, err
}

// leadClaims writes self's claim with the waiting ones, up to
// InboxBatchSize, then passes the lead on or steps down. self is not in the
// waiting list.
func (r *Receiver) leadClaims(self *claimWait) {
	cl := &r.claims
	if r.cfg.ClaimLinger > 0 {
		cl.mu.Lock()
		full := len(cl.waiting)+1 >= r.cfg.InboxBatchSize
		cl.mu.Unlock()
		if !full {
			time.Sleep(r.cfg.ClaimLinger)
		}
	}
	r.yield(func() int {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return len(cl.waiting)
	})
	b, _ := cl.batches.Get().(*claimBatch)
	if b == nil {
		b = &claimBatch{}
	}
	cl.mu.Lock()
	n := min(len(cl.waiting), r.cfg.InboxBatchSize-1)
	b.ws = append(append(b.ws[:0], self), cl.waiting[:n]...)
	cl.waiting = shift(cl.waiting, n)
	cl.mu.Unlock()

	for _, w := range b.ws {
		b.cs = append(b.cs, w.c)
	}
	won, err := r.writeClaims(b.cs)
	for i, w := range b.ws {
		w.done, w.err = true, err
		if err == nil {
			w.won = won[i]
		}
		if w != self {
			w.wake <- struct{}{}
		}
	}
	clear(b.ws)
	clear(b.cs) // the bodies
	b.ws, b.cs = b.ws[:0], b.cs[:0]
	cl.batches.Put(b)

	cl.mu.Lock()
	var next *claimWait
	if len(cl.waiting) > 0 {
		next = cl.waiting[0]
		cl.waiting = shift(cl.waiting, 1)
	} else {
		cl.leaders--
	}
	cl.mu.Unlock()
	if next != nil {
		next.wake <- struct{}{} // not done: it leads
	}
}

// yield lets the goroutines that are ready to run join the batch before
// it is taken (see [groupcommit.Yield]); waiting reports its size.
func (r *Receiver) yield(waiting func() int) {
	groupcommit.Yield(waiting, r.cfg.InboxBatchSize)
}

// shift removes the first n elements of s in place.
func shift[T any](s []T, n int) []T {
	k := copy(s, s[n:])
	clear(s[k:])
	return s[:k]
}

// writeClaims is one ClaimBatch, on a context of its own: the batch holds
// the claims of several requests, and one client going away must not fail
// the others'. A panic in ClaimBatch is its error, so that the requests
// waiting for the batch are answered (503) and the lead passes on.
func (r *Receiver) writeClaims(cs []store.Claim) (won []bool, err error) {
	ctx, cancel := context.WithTimeout(r.storeBase, storeTimeout)
	defer cancel()
	r.stats.claimBatches.Add(1)
	defer func() {
		if p := recover(); p != nil {
			r.log.LogAttrs(ctx, slog.LevelError, "receiver: the inbox's ClaimBatch panicked",
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			won, err = nil, fmt.Errorf("receiver: the inbox's ClaimBatch panicked: %v", p)
		}
	}()
	won, err = r.batcher.ClaimBatch(ctx, cs)
	if err == nil && len(won) != len(cs) {
		err = fmt.Errorf("receiver: the inbox's ClaimBatch returned %d results for %d claims", len(won), len(cs))
	}
	return won, err
}

// Mark-handled records are batched on a goroutine of their own, the marker:
// a worker hands the key over and goes on with its next event. The marker
// writes whatever keys are waiting as soon as its previous batch is written
// (self-clocked, at most InboxBatchSize a batch). A key stays in the
// receiver's in-flight set until its record is written, so that a recovery
// pass of this receiver never re-drives an event handled here. Shutdown and
// Close write every waiting record before they return. A batch that fails
// is tried again (see markBudget).

// marks is the marker's state.
type marks struct {
	mu      sync.Mutex
	keys    []string
	wake    chan struct{} // cap 1: keys are waiting, or stopping
	stop    chan struct{} // closed once no worker can add keys
	done    chan struct{} // closed when the marker has written all and exited
	added   uint64        // keys handed over so far
	written uint64        // of those, keys whose batch returned
	// flushed is closed and replaced each time a batch returns.
	flushed chan struct{}
}

// markHandledBatched hands key to the marker.
func (r *Receiver) markHandledBatched(key string) {
	m := &r.marks
	m.mu.Lock()
	m.keys = append(m.keys, key)
	m.added++
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// startMarker starts the marker; Start calls it for a batching inbox.
func (r *Receiver) startMarker() {
	m := &r.marks
	m.wake = make(chan struct{}, 1)
	m.stop = make(chan struct{})
	m.done = make(chan struct{})
	m.flushed = make(chan struct{})
	go r.marker()
}

// stopMarker writes the waiting records and stops the marker, once no
// worker can hand over keys any more.
func (r *Receiver) stopMarker() {
	if r.marks.stop == nil {
		return
	}
	close(r.marks.stop)
	<-r.marks.done
}

func (r *Receiver) marker() {
	m := &r.marks
	defer close(m.done)
	var batch []string
	waiting := func() int {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.keys)
	}
	for {
		if waiting() > 0 {
			r.yield(waiting)
		}
		m.mu.Lock()
		n := min(len(m.keys), r.cfg.InboxBatchSize)
		batch = append(batch[:0], m.keys[:n]...)
		m.keys = shift(m.keys, n)
		m.mu.Unlock()
		if n == 0 {
			select {
			case <-m.wake:
				continue
			case <-m.stop:
			}
			m.mu.Lock()
			empty := len(m.keys) == 0
			m.mu.Unlock()
			if empty {
				return
			}
			continue
		}
		r.writeMarks(batch, r.markBatch)
		for _, key := range batch {
			r.forget(key)
		}
		m.mu.Lock()
		m.written += uint64(n)
		close(m.flushed)
		m.flushed = make(chan struct{})
		m.mu.Unlock()
	}
}

// markBatch is one MarkHandledBatch.
func (r *Receiver) markBatch(ctx context.Context, keys []string, at time.Time) error {
	r.stats.markBatches.Add(1)
	return r.batcher.MarkHandledBatch(ctx, keys, at)
}

// waitMarks waits until every key handed to the marker before the call has
// had its batch written. It returns ctx's error if ctx ends first, and
// ErrClosed if the marker stopped first.
func (r *Receiver) waitMarks(ctx context.Context) error {
	m := &r.marks
	if m.stop == nil {
		return nil
	}
	m.mu.Lock()
	target := m.added
	m.mu.Unlock()
	for {
		m.mu.Lock()
		ok, ch := m.written >= target, m.flushed
		m.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-m.done:
			return ErrClosed
		}
	}
}
