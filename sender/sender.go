package sender

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// Sender delivers events to endpoints: see the package documentation. Create
// one with [New]; all its methods are safe for concurrent use.
type Sender struct {
	st     store.SenderStore
	cfg    *settings
	client *http.Client
	direct http.RoundTripper // client.Transport when Client.Do adds nothing; else nil
	base   *http.Transport   // the guarded transport before WrapTransport, or nil (see newClient)
	log    *slog.Logger
	per    *perEndpoint // what the sender keeps per endpoint: copy, limits, signer
	eps    *Endpoints   // endpoint administration and health
	idle   idle         // deliveries in flight, for WaitIdle
	// settling is the queue of outcomes waiting to be written, at most
	// queueCap long.
	settling settler
	queueCap int
	bufs     sync.Pool // *[]byte envelope buffers
	ids      *idSource // attempt ids

	wake chan struct{} // capacity 1: "look for due deliveries now"
	soon *soonQueue    // retries due before the next poll

	hard       context.Context // cancelled by Close, or when Shutdown's ctx ends
	cancelHard context.CancelFunc

	mu      sync.Mutex
	started bool
	closed  bool
	stop    chan struct{}  // closed when Shutdown or Close begins
	wg      sync.WaitGroup // background goroutines, deliveries and ProcessDue calls
}

// New returns a Sender working on st, configured by cfg (nil: every default;
// see [Config]). It validates cfg and builds the HTTP client, and starts no
// goroutines: call [Sender.Start] to deliver in the background, or
// [Sender.ProcessDue] to deliver synchronously. Errors name the Config field
// at fault.
func New(st store.SenderStore, cfg *Config) (*Sender, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidConfig)
	}
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	client, guarded, err := newClient(set)
	if err != nil {
		return nil, err
	}
	s := &Sender{
		st:     st,
		cfg:    set,
		client: client,
		base:   guarded,
		log:    set.Logger,
		ids:    newIDSource(),
		wake:   make(chan struct{}, 1),
		soon:   newSoonQueue(4 * set.Workers),
		stop:   make(chan struct{}),
	}
	s.settling.room.L = &s.settling.mu
	s.queueCap = max(2*set.SettleBatchSize, 2*set.Workers)
	if client.Jar == nil && client.Timeout == 0 {
		s.direct = client.Transport
	}
	s.hard, s.cancelHard = context.WithCancel(context.Background())
	s.per = newPerEndpoint(set, s.signal)
	s.eps = &Endpoints{s: s}
	return s, nil
}

// Store returns the store the sender works on, for reading what it holds:
// deliveries, the attempt log, backlogs. Administer endpoints through
// [Sender.Endpoints] and act on deliveries through the sender's methods
// (Publish, Retry, ReplayFailed), which apply the sender's rules and wake
// its workers; writing to the store directly bypasses both.
func (s *Sender) Store() store.SenderStore { return s.st }

// Mode returns the API mode the sender stamps and delivers.
func (s *Sender) Mode() event.Mode { return s.cfg.Mode }

// Thresholds returns the sender's effective endpoint-health thresholds, with
// Config's defaults applied: warnAt is the number of consecutive failed
// attempts at which Hooks.OnEndpointWarning fires (half of disableAt,
// rounded up), and disableAt is Config.DisableAfterFailures, the number at
// which an endpoint that has also been failing for Config.DisableAfterDuration
// is disabled. Both are 0 when Config.DisableAfterFailures is negative: the
// sender then never warns and never disables. A dashboard uses warnAt to
// show the same warning the hook reports. It is safe for concurrent use and
// works after Close.
func (s *Sender) Thresholds() (warnAt, disableAt int) {
	if s.cfg.warnAt == 0 {
		return 0, 0
	}
	return s.cfg.warnAt, s.cfg.DisableAfterFailures
}

// Notify tells a started sender that deliveries may have become due, so it
// looks for them now instead of at its next poll: for a store that is not a
// [store.Notifier], after writing to its outbox by other means than this
// sender. Every bundled store notifies (a commit in which [Sender.PublishTx]
// enqueued deliveries wakes the sender by itself), so with them Notify is
// never needed. It never blocks, is safe for concurrent use, and does
// nothing on a sender that is not started.
func (s *Sender) Notify() { s.signal() }

// signal wakes the dispatcher without blocking.
func (s *Sender) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sender) now() time.Time { return s.cfg.Now() }

// enter registers a synchronous call that Shutdown and Close must wait for;
// the caller must call s.wg.Done.
func (s *Sender) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.wg.Add(1)
	return nil
}

func (s *Sender) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Start starts the background workers and the attempt-log pruner, and
// returns. When the store is a [store.Notifier], Start also subscribes to
// it, so that deliveries enqueued elsewhere (by another process, or in the
// application's own transaction) wake the workers at once instead of at the
// next poll; if subscribing fails, that is logged and polling carries on. Deliveries run until Shutdown or Close, or until ctx is
// cancelled, which stops the sender as Close does (Shutdown or Close must
// still be called to wait for it). Values of ctx reach the hooks and the
// store calls. It returns [ErrStarted] if already started and [ErrClosed]
// after Shutdown or Close.
//
// When the store is a [store.SchemaChecker] (the SQL drivers), Start first
// checks that its schema exists, and returns that check's error, starting
// nothing, when it fails: an error wrapping [store.ErrNotMigrated] means
// the store's Migrate was never called. When the store is also a
// [store.KeyChecker] (the SQL drivers, which seal endpoint credentials),
// Start then checks that the keys the store was given open the
// credentials it holds, and returns that check's error likewise: one
// wrapping seal.ErrUnknownKey names the key ids the store's Config.Keys
// lacks, one wrapping seal.ErrWrongKey an id given another key. Without
// these checks every delivery would fail in the background while Start
// and WaitIdle succeeded.
func (s *Sender) Start(ctx context.Context) error {
	if err := s.checkStart(); err != nil {
		return err
	}
	if c, ok := s.st.(store.SchemaChecker); ok {
		if err := c.CheckSchema(ctx); err != nil {
			return fmt.Errorf("sender: start: %w", err)
		}
	}
	if c, ok := s.st.(store.KeyChecker); ok {
		if err := c.CheckKeys(ctx); err != nil {
			return fmt.Errorf("sender: start: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startable(); err != nil {
		return err
	}
	s.started = true
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(s.hard, cancel)
	s.wg.Add(1)
	go s.loop(ctx)
	if n, ok := s.st.(store.Notifier); ok {
		s.wg.Add(1)
		go s.listen(ctx, n)
	}
	s.wg.Add(1)
	go s.pruner(ctx)
	return nil
}

// checkStart returns what Start would return for the sender's state
// before Start checks the store.
func (s *Sender) checkStart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startable()
}

// startable returns [ErrClosed] or [ErrStarted] when the sender cannot
// start; s.mu must be held.
func (s *Sender) startable() error {
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return ErrStarted
	}
	return nil
}

// Shutdown stops the sender gracefully: it stops leasing new deliveries at
// once, lets the attempts in flight finish, and returns nil when they have.
// If ctx ends first, the attempts still running are cancelled, their
// deliveries are released (due again, the attempt not counted), and
// Shutdown returns ctx's error once they are. Methods called afterwards
// return [ErrClosed]; calling Shutdown or Close again returns nil at once.
//
// Shutdown does not wait for deliveries that are queued but not in flight:
// those due, those scheduled for later (retries) and those paused stay in
// the store for the next sender to deliver. With a durable store (SQLite,
// PostgreSQL) that is the next start; with store/memory they vanish with
// the process. To deliver what is due before stopping, call
// [Sender.WaitIdle] first.
func (s *Sender) Shutdown(ctx context.Context) error {
	if !s.beginClose() {
		return nil
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancelHard()
		s.closeIdle()
		return nil
	case <-ctx.Done():
		s.cancelHard()
		<-done
		s.closeIdle()
		return ctx.Err()
	}
}

// Close stops the sender immediately: attempts in flight are cancelled and
// their deliveries released, due again, without counting the attempt. It
// waits only for that bookkeeping. Methods called afterwards return
// [ErrClosed]; calling Close or Shutdown again returns nil.
func (s *Sender) Close() error {
	if !s.beginClose() {
		return nil
	}
	s.cancelHard()
	s.wg.Wait()
	s.closeIdle()
	return nil
}

func (s *Sender) beginClose() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed = true
	close(s.stop)
	return true
}

// Simulate sends an event of type typ with the given data (nil: {}) to one
// endpoint as a real delivery: it is published to [ToEndpoint] of the
// endpoint, so it is signed, logged and retried like any other and shows in
// the delivery logs. It works in test mode only: a live-mode sender returns
// [ErrLiveMode]. It returns the event published, or the errors of
// [event.New] and [Sender.Publish].
func (s *Sender) Simulate(ctx context.Context, endpointID, typ string, data json.RawMessage) (event.Event, error) {
	if s.cfg.Mode == event.ModeLive {
		return event.Event{}, ErrLiveMode
	}
	if len(data) == 0 {
		data = json.RawMessage(`{}`)
	}
	ev, err := event.New(event.ModeTest, typ, data)
	if err != nil {
		return event.Event{}, fmt.Errorf("sender: simulate: %w", err)
	}
	if _, err := s.Publish(ctx, ev, ToEndpoint(endpointID), nil); err != nil {
		return event.Event{}, err
	}
	return ev, nil
}

// Ping sends a "ping" event to the endpoint synchronously, outside the
// queue: no retries, no rate limit, no effect on the endpoint's health, and
// it works on a disabled endpoint too. The attempt is logged (with an empty
// DeliveryID) and returned. The error is nil when the endpoint answered 2xx;
// otherwise a *[StatusError] for another status, or the transport error
// (errors.Is works: [ErrPrivateAddress], context.DeadlineExceeded, ...).
// Errors loading the endpoint return a nil attempt.
func (s *Sender) Ping(ctx context.Context, endpointID string) (*store.Attempt, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.wg.Done()
	ep, err := s.eps.get(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	s.idle.begin()
	defer s.idle.end()
	ev, err := event.New(ep.Mode, event.TypePing, json.RawMessage(`{}`))
	if err != nil {
		return nil, fmt.Errorf("sender: ping: %w", err)
	}
	ev.Date = s.now().UTC()
	res := s.attempt(ctx, ep, &ev, 1)
	s.recordPing(ctx, res.a)
	a := res.a.Clone()
	res.free(s)
	switch {
	case res.err != nil:
		return a, fmt.Errorf("sender: ping %s: %w", ep.ID, res.err)
	case res.class != classSuccess:
		return a, &StatusError{StatusCode: a.StatusCode}
	}
	return a, nil
}

// recordPing stores a ping's attempt, logs it and calls OnAttempt.
func (s *Sender) recordPing(ctx context.Context, a *store.Attempt) {
	a.ID = s.ids.newString()
	if err := s.st.AddAttempt(ctx, a); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sender: storing attempt failed",
			slog.String("event_id", a.EventID), slog.String("endpoint_id", a.EndpointID), slog.Any("error", err))
	}
	s.logAttempt(ctx, a)
	if h := s.cfg.Hooks.OnAttempt; h != nil {
		c := a.Clone()
		s.safeHook(ctx, "OnAttempt", func() { h(ctx, c) })
	}
}

// Retry replays a delivery now: a failed (or succeeded) delivery becomes
// pending with its attempts reset, and the workers are woken. A delivery
// still pending, leased or paused is [store.ErrConflict]; an unknown id
// [store.ErrNotFound].
func (s *Sender) Retry(ctx context.Context, deliveryID string) error {
	if s.isClosed() {
		return ErrClosed
	}
	if err := s.st.Requeue(ctx, deliveryID, s.now()); err != nil {
		return fmt.Errorf("sender: retry delivery %q: %w", deliveryID, err)
	}
	s.signal()
	return nil
}

// ReplayFailed re-queues every failed delivery of the endpoint that gave up
// at or after since, due now, and returns how many.
func (s *Sender) ReplayFailed(ctx context.Context, endpointID string, since time.Time) (int, error) {
	if s.isClosed() {
		return 0, ErrClosed
	}
	n, err := s.st.RequeueFailed(ctx, endpointID, since, s.now())
	if err != nil {
		return n, fmt.Errorf("sender: replay failed deliveries of %q: %w", endpointID, err)
	}
	if n > 0 {
		s.signal()
	}
	return n, nil
}

func (s *Sender) getBuf() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 4096)
	return &b
}

func (s *Sender) putBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		return // don't keep rare huge buffers alive
	}
	*b = (*b)[:0]
	s.bufs.Put(b)
}
