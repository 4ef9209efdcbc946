package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// Sender delivers events to endpoints: see the package documentation. Create
// one with [New]; all its methods are safe for concurrent use.
type Sender struct {
	st     store.SenderStore
	cfg    *settings
	client *http.Client
	direct http.RoundTripper // client.Transport when Client.Do adds nothing; else nil
	log    *slog.Logger
	lim    *limits
	bufs   sync.Pool // *[]byte envelope buffers
	ids    *idSource // attempt ids

	wake chan struct{} // capacity 1: "look for due deliveries now"

	hard       context.Context // cancelled by Close, or when Shutdown's ctx ends
	cancelHard context.CancelFunc

	disableMu sync.Mutex // one disable (and one hook) at a time in this process

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
		return nil, errors.New("sender: New: nil store")
	}
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	client, err := newClient(set)
	if err != nil {
		return nil, err
	}
	s := &Sender{
		st:     st,
		cfg:    set,
		client: client,
		log:    set.Logger,
		ids:    newIDSource(),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
	}
	if client.Jar == nil && client.Timeout == 0 {
		s.direct = client.Transport
	}
	s.hard, s.cancelHard = context.WithCancel(context.Background())
	s.lim = newLimits(set, s.signal)
	return s, nil
}

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
// looks for them now instead of at its next poll. Call it after committing a
// transaction in which [Sender.PublishTx] enqueued deliveries, or after
// writing to the outbox by other means. A sender whose store is a
// [store.Notifier] (store/postgres is) hears such commits by itself, from
// any process; Notify then only saves this process the notification's trip
// through the database. It never blocks, is safe for concurrent use, and
// does nothing on a sender that is not started.
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
func (s *Sender) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return ErrStarted
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
	if s.cfg.Retention > 0 {
		s.wg.Add(1)
		go s.pruner(ctx)
	}
	return nil
}

// Shutdown stops the sender gracefully: it stops leasing new deliveries at
// once, lets the attempts in flight finish, and returns nil when they have.
// If ctx ends first, the attempts still running are cancelled, their
// deliveries are released (due again, the attempt not counted), and
// Shutdown returns ctx's error once they are. Methods called afterwards
// return [ErrClosed]; calling Shutdown or Close again returns nil at once.
func (s *Sender) Shutdown(ctx context.Context) error {
	if !s.beginClose() {
		return nil
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancelHard()
		s.client.CloseIdleConnections()
		return nil
	case <-ctx.Done():
		s.cancelHard()
		<-done
		s.client.CloseIdleConnections()
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
	s.client.CloseIdleConnections()
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

// job is a leased delivery handed to a worker, with the time its lease
// ends.
type job struct {
	d        *store.Delivery
	leaseEnd time.Time
}

// loop leases due deliveries in batches and hands them to Config.Workers
// long-lived workers (whose stacks stay grown, unlike a goroutine per
// delivery). Up to Workers deliveries wait leased in a queue beside the
// ones in flight, so that a busy loop leases at least half of Workers at a
// time rather than one delivery per freed worker; a worker admits each job
// against its endpoint's limits when it starts it. A slot is taken per job
// and given back by the worker when the delivery is settled or released.
func (s *Sender) loop(ctx context.Context) {
	defer s.wg.Done()
	sctx, cancelSettle := settleContext(ctx)
	queue := s.cfg.Workers
	batch := max(s.cfg.Workers/2, 1)
	slots := make(chan struct{}, s.cfg.Workers+queue)
	jobs := make(chan job, s.cfg.Workers+queue)
	var workers sync.WaitGroup
	defer func() {
		// Workers settle what is queued, then exit; only then may the
		// settle context end, or their last Complete or Retry calls would
		// fail and leave deliveries leased until their leases expire.
		close(jobs)
		workers.Wait()
		cancelSettle()
	}()
	for range s.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				s.work(ctx, sctx, j)
				<-slots
			}
		}()
	}
	timer := time.NewTimer(s.cfg.PollInterval)
	defer timer.Stop()
	busy := false // the last round leased all it asked for: more are due
	for {
		select {
		case slots <- struct{}{}:
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		}
		n := 1
		for n < cap(slots) {
			if busy && n < batch {
				// Wait for a batch's worth of free slots: the queue
				// keeps the workers busy meanwhile.
				select {
				case slots <- struct{}{}:
					n++
					continue
				case <-s.stop:
					return
				case <-ctx.Done():
					return
				}
			}
			select {
			case slots <- struct{}{}:
				n++
				continue
			default:
			}
			break
		}
		ran := 0
		leased, next, err := s.round(ctx, sctx, n, nil, false, func(d *store.Delivery, _ *store.Endpoint, leaseEnd time.Time) {
			ran++
			jobs <- job{d, leaseEnd}
		})
		for range n - ran {
			<-slots
		}
		busy = err == nil && leased == n
		if leased > 0 && err == nil {
			continue
		}
		wait := s.cfg.PollInterval
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(s.now()), time.Millisecond))
		}
		timer.Reset(wait)
		select {
		case <-s.wake:
		case <-timer.C:
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// work starts a queued job: it is released, due now, when the sender is
// stopping or its lease would run out before the attempt could finish, and
// due when its endpoint allows when the endpoint is at a limit; otherwise
// it is delivered.
func (s *Sender) work(ctx, sctx context.Context, j job) {
	now := s.now()
	select {
	case <-s.stop:
		s.release(sctx, j.d, now)
		return
	default:
	}
	if ctx.Err() != nil || now.Add(s.cfg.RequestTimeout).After(j.leaseEnd) {
		s.release(sctx, j.d, now)
		return
	}
	ep, ok, at := s.lim.admit(j.d.EndpointID, now)
	if !ok {
		s.release(sctx, j.d, at)
		s.signal() // the dispatcher skips the endpoint from now on
		return
	}
	s.deliver(ctx, sctx, j.d, ep)
}

// round leases up to limit due deliveries and loads their endpoints (once
// per endpoint per round, remembered as the freshest copy this sender has
// seen) and hands each to run with the time its lease ends. With admit,
// only deliveries their endpoint admits are run and the others are
// released for later; without, the caller must call limits.admit. skip,
// when not nil, rejects deliveries the caller has seen already (released
// due now). It returns how many deliveries it leased and the earliest time
// a rate-limited endpoint frees up.
func (s *Sender) round(ctx, sctx context.Context, limit int, skip func(*store.Delivery) bool, admit bool,
	run func(*store.Delivery, *store.Endpoint, time.Time)) (int, time.Time, error) {
	now := s.now()
	skipEps, next := s.lim.skipList(now)
	ds, err := s.st.Lease(ctx, store.LeaseRequest{
		Now:           now,
		Limit:         limit,
		Duration:      s.cfg.LeaseDuration,
		Mode:          s.cfg.Mode,
		Worker:        s.cfg.WorkerID,
		SkipEndpoints: skipEps,
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelError, "sender: leasing deliveries failed", slog.Any("error", err))
		}
		return 0, next, err
	}
	leaseEnd := now.Add(s.cfg.LeaseDuration)
	// Most batches go to one or a few endpoints: a short list beats a map.
	var loaded []string
	for _, d := range ds {
		if skip != nil && skip(d) {
			s.release(sctx, d, now)
			continue
		}
		if !slices.Contains(loaded, d.EndpointID) {
			seq := s.lim.seq()
			ep, err := s.st.GetEndpoint(ctx, d.EndpointID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				s.giveUp(sctx, d, now, "endpoint deleted")
				continue
			case err != nil:
				s.log.LogAttrs(ctx, slog.LevelError, "sender: loading endpoint failed", attrs(d, slog.Any("error", err))...)
				s.release(sctx, d, now.Add(s.cfg.PollInterval))
				continue
			}
			s.lim.observe(seq, ep)
			loaded = append(loaded, d.EndpointID)
		}
		if !admit {
			run(d, nil, leaseEnd)
			continue
		}
		ep, ok, at := s.lim.admit(d.EndpointID, now)
		if !ok {
			s.release(sctx, d, at)
			if next.IsZero() || (at.After(now) && at.Before(next)) {
				next = at
			}
			continue
		}
		run(d, ep, leaseEnd)
	}
	return len(ds), next, nil
}

// ProcessDue synchronously leases and delivers every delivery due at the
// sender's current time (Config.Now), up to Config.Workers at once, and
// returns how many attempts it made. Each delivery is attempted at most once
// per call, so a retry scheduled with no delay waits for the next call.
// Deliveries whose endpoint is at its rate or concurrency limit are left for
// later. It is meant for tests driven by a fake clock and for cron-style
// use without Start; it may run beside a started sender. Cancelling ctx
// cancels the attempts in flight (their deliveries are released) and
// returns ctx's error.
func (s *Sender) ProcessDue(ctx context.Context) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.hard, cancel)()
	sctx, cancelSettle := settleContext(ctx)
	defer cancelSettle()

	seen := make(map[string]bool)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			fresh    int
			attempts int
		)
		leased, _, err := s.round(ctx, sctx, s.cfg.Workers, func(d *store.Delivery) bool { return seen[d.ID] }, true, func(d *store.Delivery, ep *store.Endpoint, _ time.Time) {
			seen[d.ID] = true
			fresh++
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s.deliver(ctx, sctx, d, ep) {
					mu.Lock()
					attempts++
					mu.Unlock()
				}
			}()
		})
		wg.Wait()
		total += attempts
		if err != nil {
			return total, err
		}
		if leased == 0 || fresh == 0 {
			return total, ctx.Err()
		}
	}
}

// pruner deletes attempts older than the retention period, and finished
// deliveries older than it when the store is a [store.DeliveryPruner], at
// start and every PruneInterval.
func (s *Sender) pruner(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.PruneInterval)
	defer t.Stop()
	dp, _ := s.st.(store.DeliveryPruner)
	for {
		before := s.now().Add(-s.cfg.Retention)
		n, err := s.st.PruneAttempts(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.LogAttrs(ctx, slog.LevelError, "sender: pruning the attempt log failed", slog.Any("error", err))
		case n > 0:
			s.log.LogAttrs(ctx, slog.LevelDebug, "sender: pruned the attempt log", slog.Int("attempts", n))
		}
		if dp != nil {
			n, err := dp.PruneDeliveries(ctx, before)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.LogAttrs(ctx, slog.LevelError, "sender: pruning finished deliveries failed", slog.Any("error", err))
			case n > 0:
				s.log.LogAttrs(ctx, slog.LevelDebug, "sender: pruned finished deliveries", slog.Int("deliveries", n))
			}
		}
		select {
		case <-t.C:
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// endpoint loads an endpoint of the sender's mode.
func (s *Sender) endpoint(ctx context.Context, id string) (*store.Endpoint, error) {
	ep, err := s.st.GetEndpoint(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("sender: endpoint %q: %w", id, err)
	}
	if ep.Mode != s.cfg.Mode {
		return nil, fmt.Errorf("%w: endpoint %s is %q, sender is %q", ErrModeMismatch, ep.ID, ep.Mode, s.cfg.Mode)
	}
	return ep, nil
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
	ep, err := s.endpoint(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	ev, err := event.New(ep.Mode, event.TypePing, json.RawMessage(`{}`))
	if err != nil {
		return nil, fmt.Errorf("sender: ping: %w", err)
	}
	ev.Date = s.now().UTC()
	res := s.attempt(ctx, ep, &ev, 1)
	s.logAttempt(ctx, res.a)
	a := res.a.Clone()
	res.free(s)
	switch {
	case res.err != nil:
		return a, fmt.Errorf("sender: ping %s: %w", ep.ID, res.err)
	case s.cfg.Classifier.Classify(a.StatusCode, nil) != classSuccess:
		return a, &StatusError{StatusCode: a.StatusCode}
	}
	return a, nil
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

// EnableEndpoint re-enables an endpoint: its health is reset, its paused
// deliveries become due now and the workers are woken. If it was disabled,
// Hooks.OnEndpointRecovered is called. [store.ErrNotFound] for an unknown id.
func (s *Sender) EnableEndpoint(ctx context.Context, id string) error {
	if s.isClosed() {
		return ErrClosed
	}
	before, err := s.st.GetEndpoint(ctx, id)
	if err != nil {
		return fmt.Errorf("sender: enable endpoint %q: %w", id, err)
	}
	seq := s.lim.seq()
	ep, err := s.st.SetDisabled(ctx, id, false, "", s.now())
	if err != nil {
		return fmt.Errorf("sender: enable endpoint %q: %w", id, err)
	}
	s.lim.observe(seq, ep)
	ep = ep.Clone()
	if before.Disabled {
		s.log.LogAttrs(ctx, slog.LevelInfo, "sender: endpoint enabled", slog.String("endpoint_id", id))
		if h := s.cfg.Hooks.OnEndpointRecovered; h != nil {
			s.safeHook(ctx, "OnEndpointRecovered", func() { h(ctx, ep) })
		}
	}
	s.signal()
	return nil
}

// DisableEndpoint disables an endpoint with a reason for people (empty:
// "disabled manually"): publishing skips it and its queued deliveries wait
// until it is enabled. If it was enabled, Hooks.OnEndpointDisabled is
// called. [store.ErrNotFound] for an unknown id.
func (s *Sender) DisableEndpoint(ctx context.Context, id, reason string) error {
	if s.isClosed() {
		return ErrClosed
	}
	if reason == "" {
		reason = "disabled manually"
	}
	_, err := s.disable(ctx, id, reason)
	return err
}

func (s *Sender) disable(ctx context.Context, id, reason string) (*store.Endpoint, error) {
	s.disableMu.Lock()
	defer s.disableMu.Unlock()
	before, err := s.st.GetEndpoint(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("sender: disable endpoint %q: %w", id, err)
	}
	seq := s.lim.seq()
	ep, err := s.st.SetDisabled(ctx, id, true, reason, s.now())
	if err != nil {
		return nil, fmt.Errorf("sender: disable endpoint %q: %w", id, err)
	}
	// Deliveries leased before, still queued, see it disabled.
	s.lim.observe(seq, ep)
	ep = ep.Clone()
	if !before.Disabled {
		s.log.LogAttrs(ctx, slog.LevelWarn, "sender: endpoint disabled", slog.String("endpoint_id", id), slog.String("reason", reason))
		if h := s.cfg.Hooks.OnEndpointDisabled; h != nil {
			s.safeHook(ctx, "OnEndpointDisabled", func() { h(ctx, ep) })
		}
	}
	return ep, nil
}

// RotateSecret adds a fresh signing secret to the endpoint and returns it
// (show it to the endpoint's owner once: [signature.Secret.String] is its
// text). The old secrets keep signing for overlap (zero:
// [DefaultRotationOverlap]; negative: they stop at once), so during the
// overlap every request carries a signature per secret and receivers can
// switch at their pace; secrets that had expired already are removed. The
// endpoint is read, changed and written back: concurrent edits of the same
// endpoint may be lost. [store.ErrNotFound] for an unknown id.
func (s *Sender) RotateSecret(ctx context.Context, endpointID string, overlap time.Duration) (signature.Secret, error) {
	if s.isClosed() {
		return signature.Secret{}, ErrClosed
	}
	if overlap == 0 {
		overlap = DefaultRotationOverlap
	}
	sec, err := signature.NewSecret()
	if err != nil {
		return signature.Secret{}, fmt.Errorf("sender: rotate secret: %w", err)
	}
	ep, err := s.st.GetEndpoint(ctx, endpointID)
	if err != nil {
		return signature.Secret{}, fmt.Errorf("sender: rotate secret of %q: %w", endpointID, err)
	}
	now := s.now()
	until := now.Add(max(overlap, 0))
	kept := ep.Secrets[:0:0]
	for _, old := range ep.Secrets {
		if !old.Active(now) || overlap < 0 {
			continue
		}
		if old.ExpiresAt.IsZero() || old.ExpiresAt.After(until) {
			old.ExpiresAt = until
		}
		kept = append(kept, old)
	}
	ep.Secrets = append(kept, store.Secret{Key: sec.String(), CreatedAt: now})
	if err := s.st.UpdateEndpoint(ctx, ep); err != nil {
		return signature.Secret{}, fmt.Errorf("sender: rotate secret of %q: %w", endpointID, err)
	}
	return sec, nil
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
