package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/bodyread"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// Lifecycle states.
const (
	stateNew int32 = iota
	stateRunning
	stateDraining
	stateClosed
)

// Canonical header keys, for allocation-free map lookups.
const (
	hdrID              = "Webhook-Id"
	hdrContentType     = "Content-Type"
	hdrContentEncoding = "Content-Encoding"
)

// Receiver is an [http.Handler] that verifies, de-duplicates and queues
// webhook events, answers at once, and hands the events to a [Handler] on a
// pool of workers. See the package documentation for the status codes and
// the guarantees.
//
// Build one with [New], mount it on any mux, call [Receiver.Start], and stop
// it with [Receiver.Shutdown] or [Receiver.Close]. All methods are safe for
// concurrent use.
type Receiver struct {
	h        Handler
	cfg      *settings
	log      *slog.Logger
	now      func() time.Time
	inbox    store.Inbox
	recovery store.InboxRecovery // nil unless the inbox is durable
	owned    bool                // the inbox is the default in-memory one

	verifier *signature.Verifier
	// byMode is nil unless some key is restricted to a mode; then it maps
	// each mode to the verifier of the keys allowed to sign it (nil: none).
	byMode map[event.Mode]*signature.Verifier

	// mu orders lifecycle transitions against admitting and queueing
	// events: requests hold it for reading while they reserve a queue slot
	// (only while running) and while they queue a claimed event (until
	// closed), transitions hold it for writing.
	mu    sync.RWMutex
	state atomic.Int32

	queue chan *job
	// slots counts the queue's places taken: events queued plus slots
	// reserved by requests still claiming their event. It never exceeds
	// cap(queue), so a reserved slot guarantees a place in the queue; a
	// worker frees the slot once it took the event out.
	slots   atomic.Int64
	wake    chan struct{} // retries became ready
	drained chan struct{} // pending dropped to zero
	quit    chan struct{} // closed when Shutdown or Close begins
	stop    chan struct{} // closed when the workers must exit
	// base is the parent of callback contexts: Start's context without its
	// cancellation, cancelled by Close. storeBase is the same, never
	// cancelled, for recording outcomes reached while closing.
	base, storeBase context.Context
	cancel          context.CancelFunc
	wg              sync.WaitGroup // workers and maintenance
	closeOnce       sync.Once
	left            int            // events abandoned by closeNow
	timers          sync.WaitGroup // retry timers not yet stopped or fired
	runners         sync.WaitGroup // RunRetries calls in progress

	// sched holds retry timers and ready retries, the retries waiting for
	// RunRetries (ManualRetries only), and the keys of events this process
	// holds (durable inboxes only).
	sched struct {
		sync.Mutex
		closed   bool
		ready    []*job
		timers   map[*job]*time.Timer
		inflight map[string]struct{}
		// waiting holds the retries of ManualRetries in the order they
		// were scheduled; quiet is closed and replaced each time every
		// pending event is found among them (see waitQuiet).
		waiting []*job
		quiet   chan struct{}
	}

	pending atomic.Int64
	stats   counters
	bufs    sync.Pool
}

type counters struct {
	accepted, duplicates, rejected, unavailable atomic.Uint64
	inboxFull                                   atomic.Uint64
	handled, dropped, dead, interrupted         atomic.Uint64
	recovered, attempts, retries                atomic.Uint64
}

// job is one accepted event on its way through the workers.
type job struct {
	ev      event.Event
	key     string
	attempt int       // attempts made so far
	first   time.Time // start of the first attempt
	due     time.Time // when a retry waiting for RunRetries is due
	// hooked is held by the request while Hooks.Accepted runs; a worker
	// takes it before the first attempt, so the hook happens before it.
	hooked sync.Mutex
}

// New returns a Receiver that hands verified events to h. It validates and
// copies cfg (nil means all defaults, which fails for want of keys) and
// starts no goroutines: the receiver answers 503 until [Receiver.Start].
//
// It returns [ErrNoKeys] without keys and an error wrapping
// [ErrInvalidConfig] (naming the field) for an invalid configuration.
func New(h Handler, cfg *Config) (*Receiver, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil Handler", ErrInvalidConfig)
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	r := &Receiver{
		h:       h,
		cfg:     s,
		log:     s.Logger,
		now:     s.Now,
		inbox:   s.Inbox,
		queue:   make(chan *job, s.QueueSize),
		wake:    make(chan struct{}, s.Workers),
		drained: make(chan struct{}, 1),
		quit:    make(chan struct{}),
		stop:    make(chan struct{}),
	}
	if r.inbox == nil {
		r.inbox, r.owned = newDefaultInbox(), true
	}
	r.recovery, _ = r.inbox.(store.InboxRecovery)
	r.sched.timers = make(map[*job]*time.Timer)
	r.sched.quiet = make(chan struct{})
	if r.recovery != nil {
		r.sched.inflight = make(map[string]struct{})
	}
	r.bufs.New = func() any { b := make([]byte, 0, minPooledBuf); return &b }

	opts := &signature.VerifyOptions{Tolerance: s.Tolerance, Now: s.Now}
	r.verifier, err = signature.NewVerifier(s.secrets, s.publicKeys, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: Keys: %w", ErrInvalidConfig, err)
	}
	if s.anyModal {
		r.byMode = make(map[event.Mode]*signature.Verifier, 2)
		for _, m := range []event.Mode{event.ModeTest, event.ModeLive} {
			var secs []signature.Secret
			var pks []signature.PublicKey
			for i, km := range s.modes {
				if km != "" && km != m {
					continue
				}
				if i < len(s.secrets) {
					secs = append(secs, s.secrets[i])
				} else {
					pks = append(pks, s.publicKeys[i-len(s.secrets)])
				}
			}
			switch {
			case len(secs)+len(pks) == 0:
				r.byMode[m] = nil
			case len(secs) == len(s.secrets) && len(pks) == len(s.publicKeys):
				r.byMode[m] = r.verifier
			default:
				if r.byMode[m], err = signature.NewVerifier(secs, pks, opts); err != nil {
					return nil, fmt.Errorf("%w: Keys: %w", ErrInvalidConfig, err)
				}
			}
		}
	}
	return r, nil
}

// Start starts the workers and the background maintenance (pruning the
// inbox and, with a durable inbox, re-driving events whose lease ended,
// at once and every [Config].RecoveryInterval), and the receiver starts
// accepting events. The receiver runs until [Receiver.Shutdown] or
// [Receiver.Close], not until ctx ends; callbacks run on contexts that keep
// ctx's values but not its cancellation.
//
// It returns ctx's error if ctx is already done, [ErrClosed] after Shutdown
// or Close, and an error if the receiver was already started.
func (r *Receiver) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state.Load() {
	case stateRunning:
		return errors.New("receiver: already started")
	case stateDraining, stateClosed:
		return ErrClosed
	}
	r.storeBase = context.WithoutCancel(ctx)
	r.base, r.cancel = context.WithCancel(r.storeBase)
	r.wg.Add(r.cfg.Workers + 1)
	for range r.cfg.Workers {
		go r.worker()
	}
	go r.maintain()
	r.state.Store(stateRunning)
	return nil
}

// Shutdown gracefully stops the receiver: it stops accepting events at once
// (requests are answered 503 with Retry-After), then waits until every
// accepted event is handled or dead-lettered, including events waiting for
// a retry, or until ctx ends. Then it stops the workers: running callbacks
// get their context cancelled and Shutdown waits for them to return.
//
// With [Config].ManualRetries, Shutdown waits for the queue and the running
// callbacks (a [Receiver.RunRetries] call included), but not for retries,
// which nothing would run: events waiting for a retry are left unhandled at
// once, as at a deadline. Call RunRetries until nothing is pending first to
// drain them.
//
// It returns nil when everything was handled, and otherwise an error that
// says how many events were left unhandled and wraps ctx's error, or
// [ErrClosed] when ctx had not ended (Close cut the drain short, or retries
// were left waiting for RunRetries). Those
// events stay claimed in a durable inbox and are re-driven by the next
// receiver; with a non-durable inbox their claims are released so the
// sender (or a manual resend) can deliver them again. Shutdown returns
// [ErrClosed] when the receiver is already shut down or closed; a receiver
// never started is just closed.
func (r *Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	prev := r.state.Load()
	if prev == stateDraining || prev == stateClosed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.state.Store(stateDraining)
	close(r.quit)
	r.mu.Unlock()

	waiting := false // the drain ended with only manual retries left
	switch {
	case prev != stateRunning:
	case r.cfg.ManualRetries:
		waiting = r.waitQuiet(ctx) == nil
	default:
		for r.pending.Load() > 0 && ctx.Err() == nil {
			select {
			case <-r.drained:
			case <-ctx.Done():
			case <-r.stop: // Close was called meanwhile
			}
		}
	}
	left := r.closeNow()
	if left == 0 {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil {
		return fmt.Errorf("receiver: shutdown: %d events left unhandled: %w", left, cause)
	}
	if waiting {
		return fmt.Errorf("receiver: shutdown: %d events left unhandled (waiting for RunRetries): %w", left, ErrClosed)
	}
	return fmt.Errorf("receiver: shutdown: %d events left unhandled: %w", left, ErrClosed)
}

// Close stops the receiver immediately: it stops accepting events, cancels
// running callbacks and waits for them to return, and leaves queued events
// and pending retries unhandled (kept claimed in a durable inbox for the
// next receiver to re-drive, released in a non-durable one). A callback
// that ignores its context delays Close until it returns. Called during a
// [Receiver.Shutdown], Close cuts the drain short. It returns [ErrClosed] if
// the receiver was already closed or shut down.
func (r *Receiver) Close() error {
	r.mu.Lock()
	prev := r.state.Load()
	if prev == stateClosed {
		r.mu.Unlock()
		return ErrClosed
	}
	if prev != stateDraining {
		close(r.quit)
	}
	r.state.Store(stateClosed)
	r.mu.Unlock()
	r.closeNow()
	return nil
}

// closeNow stops the workers and timers and abandons whatever was not
// handled, once, returning how many events that was.
func (r *Receiver) closeNow() int {
	r.closeOnce.Do(func() { r.left = r.stopAll() })
	return r.left
}

func (r *Receiver) stopAll() int {
	r.mu.Lock()
	r.state.Store(stateClosed)
	r.mu.Unlock()
	before := r.stats.interrupted.Load()
	if r.cancel != nil {
		r.cancel()
	}
	close(r.stop)
	r.wg.Wait()
	r.runners.Wait()

	r.sched.Lock()
	r.sched.closed = true
	left := append(r.sched.ready, r.sched.waiting...)
	r.sched.ready, r.sched.waiting = nil, nil
	for j, t := range r.sched.timers {
		if t.Stop() {
			left = append(left, j)
			r.timers.Done()
		}
		// A timer that already fired appends to ready, sees closed and
		// abandons its job itself.
		delete(r.sched.timers, j)
	}
	r.sched.Unlock()
	r.timers.Wait()
	for {
		select {
		case j := <-r.queue:
			left = append(left, j)
			continue
		default:
		}
		break
	}
	for _, j := range left {
		r.abandon(j)
	}
	return int(r.stats.interrupted.Load() - before)
}

// Stats returns a snapshot of the receiver's counters. It is cheap and safe
// to call at any time.
func (r *Receiver) Stats() Stats {
	c := &r.stats
	return Stats{
		Accepted:    c.accepted.Load(),
		Duplicates:  c.duplicates.Load(),
		Rejected:    c.rejected.Load(),
		Unavailable: c.unavailable.Load(),
		InboxFull:   c.inboxFull.Load(),
		Handled:     c.handled.Load(),
		Dropped:     c.dropped.Load(),
		Dead:        c.dead.Load(),
		Interrupted: c.interrupted.Load(),
		Recovered:   c.recovered.Load(),
		Attempts:    c.attempts.Load(),
		Retries:     c.retries.Load(),
		Queued:      len(r.queue),
		Pending:     int(r.pending.Load()),
	}
}

// Body buffers: pooled, starting at minPooledBuf, not returned to the pool
// once grown beyond maxPooledBuf.
const (
	minPooledBuf = 4 << 10
	maxPooledBuf = 256 << 10
)

// ServeHTTP answers a webhook request; see the package documentation for
// the checks and status codes. It never answers 2xx for a request it did
// not verify, and answers 200 only for an event it holds: queued, or
// already claimed in the inbox (a duplicate, answered with
// [HeaderDuplicate]).
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var start time.Time
	if r.cfg.Hooks.Response != nil {
		start = time.Now()
	}
	status, reason, ev := r.serve(w, req)
	if reason == ReasonAccepted {
		w.WriteHeader(http.StatusOK)
	} else {
		// The header values share one allocation; each header gets a slice
		// of its own (capped, so appending to it copies). The keys are
		// canonical.
		v := []string{"text/plain; charset=utf-8", "nosniff", ""}
		h := w.Header()
		h["Content-Type"], h["X-Content-Type-Options"] = v[0:1:1], v[1:2:2]
		switch status {
		case http.StatusOK:
			v[2] = "true"
			h[HeaderDuplicate] = v[2:3:3]
		case http.StatusServiceUnavailable:
			v[2] = r.cfg.retryAfter
			h["Retry-After"] = v[2:3:3]
		case http.StatusMethodNotAllowed:
			v[2] = http.MethodPost
			h["Allow"] = v[2:3:3]
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, string(reason)) // two writes, no concatenation to allocate
		_, _ = io.WriteString(w, "\n")
	}
	switch {
	case reason == ReasonAccepted:
		r.stats.accepted.Add(1)
	case reason == ReasonDuplicate:
		r.stats.duplicates.Add(1)
	case status == http.StatusServiceUnavailable:
		r.stats.unavailable.Add(1)
		if reason == ReasonInboxFull {
			r.stats.inboxFull.Add(1)
		}
	default:
		r.stats.rejected.Add(1)
	}
	if status != http.StatusOK && r.log.Enabled(req.Context(), slog.LevelDebug) {
		r.log.LogAttrs(req.Context(), slog.LevelDebug, "receiver: request refused",
			slog.Int("status", status), slog.String("reason", string(reason)),
			slog.String("remote_addr", req.RemoteAddr), slog.String("event_id", ev.ID))
	}
	if r.cfg.Hooks.Response != nil {
		r.cfg.Hooks.Response(ResponseInfo{
			Status: status, Reason: reason, EventID: ev.ID, EventType: ev.Type,
			Duration: time.Since(start),
		})
	}
}

// serve does the checks in order and returns the answer; ev is set once
// the request is verified and decoded.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) (int, Reason, event.Event) {
	var ev event.Event
	if req.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, ReasonMethod, ev
	}
	if !isJSON(req.Header[hdrContentType]) || !isIdentity(req.Header[hdrContentEncoding]) {
		return http.StatusUnsupportedMediaType, ReasonMediaType, ev
	}
	if req.ContentLength > r.cfg.MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, ReasonTooLarge, ev
	}

	bp := r.bufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			r.bufs.Put(bp)
		}
	}()
	body, err := r.readBody(w, req, bp)
	if err != nil {
		var tooLarge *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &tooLarge):
			return http.StatusRequestEntityTooLarge, ReasonTooLarge, ev
		case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
			return http.StatusRequestTimeout, ReasonReadTimeout, ev
		}
		return http.StatusBadRequest, ReasonUnreadable, ev
	}

	if err := r.verifier.Verify(req.Header, body); err != nil {
		switch {
		case errors.Is(err, signature.ErrMissingHeader), errors.Is(err, signature.ErrMalformedHeader):
			return http.StatusBadRequest, ReasonHeaders, ev
		case errors.Is(err, signature.ErrTimestampTooOld), errors.Is(err, signature.ErrTimestampTooNew):
			return http.StatusUnauthorized, ReasonTimestamp, ev
		}
		return http.StatusUnauthorized, ReasonSignature, ev
	}

	ev, err = event.Decode(body)
	if err != nil {
		return http.StatusBadRequest, ReasonInvalidEvent, event.Event{}
	}
	if r.byMode != nil {
		v := r.byMode[ev.APIMode]
		if v == nil || (v != r.verifier && v.Verify(req.Header, body) != nil) {
			return http.StatusBadRequest, ReasonMode, ev
		}
	}
	key := ev.ID
	if r.cfg.DedupByHeader {
		key = headerValue(req.Header, hdrID) // verified: present exactly once
	}
	status, reason := r.accept(req, ev, key, body)
	return status, reason, ev
}

// readBody reads the whole body into the pooled buffer *bp, at most
// MaxBodyBytes of it, and leaves *bp holding the buffer, grown or not, for
// the pool.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request, bp *[]byte) ([]byte, error) {
	if req.Body == nil {
		return (*bp)[:0], nil
	}
	limit := r.cfg.MaxBodyBytes
	var src io.Reader = req.Body
	if req.ContentLength < 0 {
		// Unknown length: let net/http close the connection if the body
		// runs over, instead of draining it.
		src = http.MaxBytesReader(w, req.Body, limit)
	}
	b, err := bodyread.AppendAll((*bp)[:0], src, limit, req.ContentLength)
	*bp = b[:0]
	return b, err
}

// accept claims the event and queues it.
//
// It reserves a queue slot (and counts the event pending, which Shutdown
// waits for) before it claims, so that a claim it wins always finds room in
// the queue: a claim is never released because the queue filled up or
// Shutdown began meanwhile, and a copy of the event that lost the claim to
// this request, answered 200 as a duplicate, is never left without the
// event held. Only Close (or a Shutdown deadline) can come between the
// claim and the queue; then a durable inbox keeps the claim for re-drive,
// and a non-durable one releases it and the request is answered 503.
func (r *Receiver) accept(req *http.Request, ev event.Event, key string, body []byte) (int, Reason) {
	if reason, ok := r.reserve(); !ok {
		return http.StatusServiceUnavailable, reason
	}
	ctx := req.Context()
	c := store.Claim{Key: key, Now: r.now(), TTL: r.cfg.DedupWindow, Lease: r.cfg.Lease}
	if r.recovery != nil {
		c.Body = append([]byte(nil), body...)
	}
	won, err := r.inbox.Claim(ctx, c)
	if err != nil || !won {
		r.unreserve()
		switch {
		case err == nil:
			return http.StatusOK, ReasonDuplicate
		case errors.Is(err, store.ErrInboxFull):
			return http.StatusServiceUnavailable, ReasonInboxFull
		}
		r.log.LogAttrs(ctx, slog.LevelWarn, "receiver: inbox claim failed; answering 503",
			slog.String("event_id", ev.ID), slog.Any("error", err))
		return http.StatusServiceUnavailable, ReasonInbox
	}
	j := &job{ev: ev, key: key}
	hook := r.cfg.Hooks.Accepted
	if hook != nil {
		j.hooked.Lock() // before push: a worker may take j at once
	}
	if !r.push(j) {
		// Closed while claiming: the queue is gone.
		if hook != nil {
			j.hooked.Unlock()
		}
		r.slots.Add(-1)
		if r.recovery != nil {
			// Held by the durable inbox, claimed, for the next receiver.
			r.stats.interrupted.Add(1)
			r.unpend()
			return http.StatusOK, ReasonAccepted
		}
		r.release(ctx, key)
		r.unpend()
		return http.StatusServiceUnavailable, ReasonUnavailable
	}
	if hook != nil {
		info := AcceptedInfo{Key: key, Event: ev, Body: append([]byte(nil), body...), Header: req.Header.Clone()}
		func() {
			defer j.hooked.Unlock()
			r.safely("Hooks.Accepted", ev.ID, func() { hook(info) })
		}()
	}
	return http.StatusOK, ReasonAccepted
}

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

// isJSON reports whether the Content-Type values name JSON: exactly one
// value whose media type, ignoring case and parameters, is application/json
// or application/*+json.
func isJSON(v []string) bool {
	if len(v) != 1 {
		return false
	}
	mt := v[0]
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	const app = "application/"
	if len(mt) <= len(app) || !strings.EqualFold(mt[:len(app)], app) {
		return false
	}
	sub := mt[len(app):]
	if strings.EqualFold(sub, "json") {
		return true
	}
	return len(sub) > 5 && strings.EqualFold(sub[len(sub)-5:], "+json") && !strings.ContainsAny(sub, " \t/")
}

// isIdentity reports whether the Content-Encoding values are absent or all
// "identity".
func isIdentity(v []string) bool {
	for _, s := range v {
		for part := range strings.SplitSeq(s, ",") {
			if p := strings.TrimSpace(part); p != "" && !strings.EqualFold(p, "identity") {
				return false
			}
		}
	}
	return true
}

// headerValue returns the first value of the header named by canonical key,
// also found under a non-canonical spelling (as the verifier does).
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, key) {
			return v[0]
		}
	}
	return ""
}
