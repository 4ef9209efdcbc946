package receiver

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
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
	batcher  store.InboxBatcher  // nil unless the inbox batches
	owned    bool                // the inbox is the default in-memory one

	verifier *signature.Verifier
	// byMode is nil unless some key is restricted to a mode; then it maps
	// each mode to the verifier of the keys allowed to sign it (nil: none).
	byMode map[event.Mode]*signature.Verifier
	// own is the source Receiver.ServeHTTP serves (nil without
	// Config.Keys); sources holds it and the Config.Sources by name.
	own     *source
	sources map[string]*source

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
	stopped chan struct{} // closed when closeNow has finished
	// unwatch stops watching Start's context (see context.AfterFunc).
	unwatch func() bool
	// base is the parent of callback contexts: Start's context without its
	// cancellation, cancelled by Close. storeBase is the same, never
	// cancelled, for recording outcomes reached while closing.
	base, storeBase context.Context
	cancel          context.CancelFunc
	// giveUp ends when a closing is cut short (Close, or the end of
	// Shutdown's context): failing mark-handled records are given up then.
	giveUp     context.Context
	giveUpNow  context.CancelFunc
	markBudget time.Duration  // how long failing marks are tried (markBudget)
	wg         sync.WaitGroup // workers and maintenance
	closeOnce  sync.Once
	left       int            // events abandoned by closeNow
	timers     sync.WaitGroup // retry timers not yet stopped or fired
	runners    sync.WaitGroup // RunRetries calls in progress

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

	// claims gathers the claims of concurrent requests into batches, and
	// marks the workers' mark-handled records (batching inboxes only).
	claims claims
	marks  marks

	pending atomic.Int64
	stats   counters
	bufs    sync.Pool
}

// job is one accepted event on its way through the workers.
type job struct {
	ev  event.Event
	key string
	src *source   // nil for a legacy entry without a legacy source
	dlv *Delivery // nil for the legacy source: made on demand
	// received is when the request was accepted.
	received time.Time
	attempt  int       // attempts made so far
	first    time.Time // start of the first attempt
	due      time.Time // when a retry waiting for RunRetries is due
	marking  bool      // its mark-handled record is with the marker
	marked   [1]string // its key, as writeMarks takes it (no allocation)
	ctx      callCtx   // the first attempt's callback context
	// hooked is held by the request while Hooks.OnAccepted runs; a worker
	// takes it before the first attempt, so the hook happens before it.
	hooked sync.Mutex
}

// New returns a Receiver that hands verified events to h. It validates and
// copies cfg (nil means all defaults, which fails for want of keys) and
// starts no goroutines: the receiver answers 503 until [Receiver.Start].
//
// Every error wraps [ErrInvalidConfig] and names the field at fault;
// without keys it also wraps [ErrNoKeys].
func New(h Handler, cfg *Config) (*Receiver, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil Handler", ErrInvalidConfig)
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	r := &Receiver{
		h:        h,
		cfg:      s,
		log:      s.Logger,
		now:      s.Now,
		inbox:    s.Inbox,
		verifier: s.verifier,
		byMode:   s.byMode,
		own:      s.own,
		sources:  s.sources,
		queue:    make(chan *job, s.QueueSize),
		wake:     make(chan struct{}, s.Workers),
		drained:  make(chan struct{}, 1),
		quit:     make(chan struct{}),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),

		markBudget: markBudget,
	}
	for _, src := range r.sources {
		src.r = r
	}
	r.giveUp, r.giveUpNow = context.WithCancel(context.Background())
	if r.inbox == nil {
		r.inbox, r.owned = newDefaultInbox(s.Logger), true
	}
	r.recovery, _ = r.inbox.(store.InboxRecovery)
	r.batcher, _ = r.inbox.(store.InboxBatcher)
	r.sched.timers = make(map[*job]*time.Timer)
	r.sched.quiet = make(chan struct{})
	if r.recovery != nil {
		r.sched.inflight = make(map[string]struct{})
	}
	r.bufs.New = func() any { b := make([]byte, 0, minPooledBuf); return &b }

	return r, nil
}
