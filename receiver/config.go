package receiver

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// Defaults used for the zero values of [Config] fields.
const (
	// DefaultMaxBodyBytes is the largest request body accepted: 1 MiB,
	// four times the sender's largest payload.
	DefaultMaxBodyBytes = 1 << 20

	// DefaultTolerance is how far a webhook-timestamp may be from the
	// receiver's clock, in either direction: 5 minutes.
	DefaultTolerance = signature.DefaultTolerance

	// DefaultDedupWindow is how long an accepted event id is remembered:
	// 7 days, longer than common senders keep retrying.
	DefaultDedupWindow = store.DefaultDedupWindow

	// DefaultQueueSize is the capacity of the queue between the HTTP
	// handler and the workers.
	DefaultQueueSize = 1024

	// DefaultWorkers is the number of goroutines calling the [Handler].
	DefaultWorkers = 4

	// DefaultCallbackTimeout bounds one call of the [Handler].
	DefaultCallbackTimeout = 30 * time.Second

	// DefaultRetryAfter is the Retry-After sent with every 503: 5 seconds.
	DefaultRetryAfter = 5 * time.Second

	// DefaultLease is how long a durable inbox entry stays with the
	// receiver that claimed it before another recovery pass may take it
	// over. It should exceed the time an event can spend queued plus all its
	// callback attempts and retry delays (with the default retry policy,
	// well under a minute).
	DefaultLease = 5 * time.Minute

	// DefaultRecoveryInterval is how often a receiver with a durable inbox
	// looks for accepted events whose lease ended without being handled.
	DefaultRecoveryInterval = 30 * time.Second

	// DefaultPruneInterval is how often the receiver asks its inbox to
	// forget entries whose de-duplication window has ended.
	DefaultPruneInterval = time.Hour

	// DefaultRetryAttempts, DefaultRetryBase and DefaultRetryMax shape the
	// policy [DefaultRetry] returns: 5 callback attempts in all, with full
	// jitter exponential backoff whose bound starts at 1 s and is capped at
	// 30 s (in total at most about 15 s of waiting).
	DefaultRetryAttempts = 5
	DefaultRetryBase     = time.Second
	DefaultRetryMax      = 30 * time.Second

	// DefaultInboxBatchSize caps the claims of one ClaimBatch and the keys
	// of one MarkHandledBatch, with an inbox that implements
	// [store.InboxBatcher].
	DefaultInboxBatchSize = 256

	// DefaultClaimFlushes is how many ClaimBatch calls may run at once: one,
	// so each batch gathers every claim that arrived while the previous one
	// was written.
	DefaultClaimFlushes = 1

	// MaxRecoveryBatch caps the entries one recovery pass leases. A pass
	// also takes no more than half the queue's free room (at least one
	// slot), so requests arriving while it leases still find room.
	MaxRecoveryBatch = 256

	// storeTimeout bounds the receiver's own inbox calls made outside a
	// request (mark handled, mark dead, release, recovery).
	storeTimeout = 10 * time.Second
)

// DefaultRetry returns the callback retry policy used when [Config.Retry] is
// nil: [retry.Exponential] with [DefaultRetryAttempts], [DefaultRetryBase]
// and [DefaultRetryMax]. Callback failures are usually bugs or an
// unavailable dependency of the application; a few quick retries absorb
// blips, and the event then goes to the dead-letter hook instead of sitting
// in memory for hours. Each call returns a new value.
func DefaultRetry() retry.Policy {
	return retry.Exponential{
		Base:        DefaultRetryBase,
		Max:         DefaultRetryMax,
		MaxAttempts: DefaultRetryAttempts,
	}
}

// Config configures a [Receiver]. The zero value of every field except Keys
// selects a documented default; Keys is required. [New] copies the Config:
// changing it afterwards has no effect.
type Config struct {
	// Keys verify the requests of the receiver's own source, the one the
	// Receiver itself serves, in the form of its Provider. At least one is
	// required, unless Sources is set: New fails with an error wrapping
	// [ErrInvalidConfig] and [ErrNoKeys] without any, and wrapping
	// ErrInvalidConfig, naming the key, if any is malformed (a typo in a
	// rotated secret is never silently ignored). Without Keys, the
	// Receiver itself answers every request 404 ([ReasonNoSource]) and
	// only the handlers of Sources ([Receiver.Source]) accept events.
	Keys []Key

	// Provider reads the requests of the receiver's own source, which is
	// named after it. Nil: [Webhookkit], webhookkit's own envelope, served
	// as before providers existed (bare keys in the inbox, raw bodies,
	// DedupByHeader). Any other provider's keys are claimed in the inbox
	// as its name + "." + key, as those of Sources are.
	Provider Provider

	// Sources are further senders the receiver accepts events from, each
	// on its own handler ([Receiver.Source]) and with its own provider and
	// keys, sharing the inbox, the queue and the handler. New fails with
	// [ErrInvalidConfig] for a source without provider or keys, with a
	// malformed key, or whose name is invalid or taken (see
	// [Source].Name). See "Providers" in the package documentation.
	Sources []Source

	// MaxBodyBytes is the largest request body accepted; larger bodies are
	// answered 413, before reading when Content-Length declares it. Zero:
	// [DefaultMaxBodyBytes].
	MaxBodyBytes int64

	// Tolerance is how far the webhook-timestamp (or the timestamp another
	// provider signs) may be from Now, in the past or the future. Zero:
	// [DefaultTolerance]. A [Source] may set its own.
	Tolerance time.Duration

	// DedupWindow is how long an accepted event id is remembered; a request
	// with the same id within the window is answered 200 and not handled
	// again. It must be longer than twice the longest Tolerance (this
	// one's or a Source's), for which a signed request verifies, or New
	// fails with [ErrInvalidConfig]. Zero: [DefaultDedupWindow].
	DedupWindow time.Duration

	// DedupByHeader de-duplicates on the signed webhook-id header instead of
	// the envelope's id. Both are set to the same value by webhookkit's
	// sender; choose the header for senders that reuse envelope ids. It
	// applies to the receiver's own source with the [Webhookkit] provider;
	// other providers choose their key themselves ([StandardWebhooks]
	// de-duplicates on webhook-id).
	DedupByHeader bool

	// Inbox remembers accepted event ids (and, if it implements
	// [store.InboxRecovery], keeps the accepted events themselves so they
	// survive a crash). A claim it refuses with an error is answered 503
	// with Retry-After ([ReasonInboxFull] for [store.ErrInboxFull],
	// [ReasonInbox] otherwise). If it implements [store.InboxBatcher], the
	// receiver writes claims and mark-handled records in batches (see
	// "Group commit" in the package documentation). Nil: a new in-memory
	// inbox owned by this receiver, with store/memory's default cap and
	// rules (see Durability in the package documentation).
	Inbox store.Inbox

	// InboxBatchSize caps the claims the receiver writes in one call of
	// the inbox's ClaimBatch, and the keys it marks handled in one call of
	// MarkHandledBatch, when Inbox implements [store.InboxBatcher] (see
	// "Group commit" in the package documentation). Zero:
	// [DefaultInboxBatchSize].
	InboxBatchSize int

	// ClaimLinger is how long a batch of claims waits for more claims
	// before it is written, unless it is full already. Each request then
	// waits up to ClaimLinger longer for its answer, and batches are larger
	// under light load; under heavy load batches fill while the previous
	// one is written, without it. Zero: no wait. Unused without
	// [store.InboxBatcher].
	ClaimLinger time.Duration

	// ClaimFlushes is how many batches of claims may be written at once.
	// More than one lets a store that writes batches in parallel (several
	// connections) take the next batch before the previous one committed,
	// at the price of smaller batches. Zero: [DefaultClaimFlushes]. Unused
	// without [store.InboxBatcher].
	ClaimFlushes int

	// QueueSize is the capacity of the queue of accepted events waiting for
	// a worker; a request takes its place before its event is claimed in
	// the inbox, so when the queue is full requests are answered 503 with
	// Retry-After (duplicates too, unrecognised) and the sender retries
	// later. Zero: [DefaultQueueSize].
	QueueSize int

	// Workers is the number of goroutines calling the handler. Zero:
	// [DefaultWorkers].
	Workers int

	// CallbackTimeout bounds each call of the handler, on a context of its
	// own (the request's has ended by then). Zero: [DefaultCallbackTimeout].
	CallbackTimeout time.Duration

	// Retry decides whether and when a failed callback is tried again. A
	// callback error marked with [retry.Permanent] is never retried; the
	// policies of the retry package also honour [retry.After]. Nil:
	// [DefaultRetry].
	Retry retry.Policy

	// ManualRetries turns off the receiver's retry timers, for tests that
	// drive it with a fake clock (Now). A failed callback attempt that Retry
	// schedules again, after any delay (zero included), then waits, due at
	// Now plus the delay, until [Receiver.RunRetries] finds it due and runs
	// it on the caller's goroutine; nothing else runs it. [Receiver.Shutdown]
	// does not wait for such retries (see there). Accepted events still get
	// their first attempt from the workers. False: retries run by themselves
	// on real timers, whatever Now says.
	ManualRetries bool

	// RetryAfter is the delay announced in the Retry-After header of 503
	// answers, rounded up to whole seconds. Zero: [DefaultRetryAfter].
	RetryAfter time.Duration

	// Lease is how long a receiver holds an event it claimed in a durable
	// inbox before a recovery pass (of this or another receiver sharing the
	// inbox) may re-drive it. Zero: [DefaultLease]. Unused without
	// [store.InboxRecovery].
	Lease time.Duration

	// RecoveryInterval is how often a receiver with a durable inbox re-drives
	// claimed events whose lease ended (events accepted by a process that
	// died, or replayed dead events). Zero: [DefaultRecoveryInterval].
	// Unused without [store.InboxRecovery].
	RecoveryInterval time.Duration

	// PruneInterval is how often the receiver calls the inbox's PruneInbox.
	// Zero: [DefaultPruneInterval]. Negative: never (prune elsewhere).
	PruneInterval time.Duration

	// Hooks observe requests and callbacks, for metrics and tracing, and
	// hear of dead events (OnDead). Nil functions are skipped.
	Hooks Hooks

	// Logger receives the receiver's logs (never bodies or secrets).
	// Rejected requests are logged at debug level, unavailability and failed
	// attempts at warn, dead events and store failures at error. Nil:
	// [slog.Default].
	Logger *slog.Logger

	// Now is the clock for timestamps, tolerance checks, inbox calls, the
	// retry policy's attempt times and, with ManualRetries, the due times of
	// retries. Nil: [time.Now].
	Now func() time.Time
}

// settings is a Config with defaults filled in and keys parsed.
type settings struct {
	Config
	// verifier checks signatures by any key; byMode is nil unless some key
	// is restricted to a mode, and then holds the verifier of the keys
	// allowed to sign each mode (nil: none).
	verifier *signature.Verifier
	byMode   map[event.Mode]*signature.Verifier
	// own is the receiver's own source (nil without Keys); sources holds
	// it and every Source by name.
	own     *source
	sources map[string]*source
	// retryAfter is the Retry-After header value, RetryAfter in whole
	// seconds rounded up.
	retryAfter string
}

// settings copies c, fills in the defaults and parses the keys. Every error
// wraps [ErrInvalidConfig] and names the field.
func (c *Config) settings() (*settings, error) {
	s := &settings{}
	if c != nil {
		s.Config = *c
	}
	s.Keys = slices.Clone(s.Keys)
	if err := s.fillSizes(); err != nil {
		return nil, err
	}
	if err := s.fillDurations(); err != nil {
		return nil, err
	}
	if s.Retry == nil {
		s.Retry = DefaultRetry()
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if err := s.buildSources(); err != nil {
		return nil, err
	}
	if err := s.checkDedupWindow(); err != nil {
		return nil, err
	}
	secs := s.RetryAfter / time.Second
	if s.RetryAfter%time.Second != 0 {
		secs++
	}
	s.retryAfter = strconv.FormatInt(int64(secs), 10)
	return s, nil
}

// buildSources builds the receiver's own source (with the verifiers of
// the legacy path when its provider is Webhookkit) and the Sources.
func (s *settings) buildSources() error {
	s.Sources = slices.Clone(s.Sources)
	s.sources = make(map[string]*source, len(s.Sources)+1)
	if len(s.Keys) == 0 && len(s.Sources) == 0 {
		return fmt.Errorf("%w: Config.Keys: %w", ErrInvalidConfig, ErrNoKeys)
	}
	if len(s.Keys) > 0 {
		p := s.Provider
		if p == nil {
			p = Webhookkit{}
		}
		if _, ok := p.(Webhookkit); ok {
			keys, err := parseKeys(s.Keys)
			if err != nil {
				return err
			}
			opts := &signature.VerifyOptions{Tolerance: s.Tolerance, Now: s.Now}
			if s.verifier, s.byMode, err = verifiers(keys, opts); err != nil {
				return err
			}
			s.own = &source{provider: p, name: p.Name(), pname: p.Name(), legacy: true}
		} else {
			own, err := buildSource("", p, s.Keys, s.Tolerance, s.Now, "Config")
			if err != nil {
				return err
			}
			s.own = own
		}
		s.sources[s.own.name] = s.own
	} else if s.Provider != nil {
		return fmt.Errorf("%w: Config.Provider is set without Config.Keys", ErrInvalidConfig)
	}
	for i, src := range s.Sources {
		field := fmt.Sprintf("Config.Sources[%d]", i)
		tol := src.Tolerance
		if tol == 0 {
			tol = s.Tolerance
		}
		b, err := buildSource(src.Name, src.Provider, slices.Clone(src.Keys), tol, s.Now, field)
		if err != nil {
			return err
		}
		if _, taken := s.sources[b.name]; taken {
			return fmt.Errorf("%w: %s: source name %q is taken", ErrInvalidConfig, field, b.name)
		}
		s.sources[b.name] = b
	}
	return nil
}

// checkDedupWindow refuses a DedupWindow that does not outlast the
// signatures it guards: a request signed at t verifies from t-Tolerance to
// t+Tolerance, so a claim made at its first arrival must last longer than
// twice the longest tolerance of any source, or a copy sent once the
// inbox forgot the key would be accepted again.
func (s *settings) checkDedupWindow() error {
	tol := s.Tolerance
	for _, src := range s.Sources {
		tol = max(tol, src.Tolerance)
	}
	if s.DedupWindow <= 2*tol {
		return fmt.Errorf("%w: Config.DedupWindow %v must be longer than twice the longest Tolerance (%v): "+
			"a signed request verifies for that long, and a copy of it would be accepted again once its key is forgotten",
			ErrInvalidConfig, s.DedupWindow, tol)
	}
	return nil
}

// fillSizes defaults MaxBodyBytes, QueueSize, InboxBatchSize, ClaimFlushes
// and Workers.
func (s *settings) fillSizes() error {
	if err := defaultPositive(&s.MaxBodyBytes, DefaultMaxBodyBytes, "MaxBodyBytes"); err != nil {
		return err
	}
	if err := defaultPositive(&s.QueueSize, DefaultQueueSize, "QueueSize"); err != nil {
		return err
	}
	if err := defaultPositive(&s.InboxBatchSize, DefaultInboxBatchSize, "InboxBatchSize"); err != nil {
		return err
	}
	if err := defaultPositive(&s.ClaimFlushes, DefaultClaimFlushes, "ClaimFlushes"); err != nil {
		return err
	}
	return defaultPositive(&s.Workers, DefaultWorkers, "Workers")
}

// fillDurations defaults the durations; a negative PruneInterval stays
// (never prune).
func (s *settings) fillDurations() error {
	for _, d := range []struct {
		p    *time.Duration
		def  time.Duration
		name string
	}{
		{&s.Tolerance, DefaultTolerance, "Tolerance"},
		{&s.DedupWindow, DefaultDedupWindow, "DedupWindow"},
		{&s.CallbackTimeout, DefaultCallbackTimeout, "CallbackTimeout"},
		{&s.RetryAfter, DefaultRetryAfter, "RetryAfter"},
		{&s.Lease, DefaultLease, "Lease"},
		{&s.RecoveryInterval, DefaultRecoveryInterval, "RecoveryInterval"},
	} {
		if err := defaultPositive(d.p, d.def, d.name); err != nil {
			return err
		}
	}
	if s.PruneInterval == 0 {
		s.PruneInterval = DefaultPruneInterval
	}
	if s.ClaimLinger < 0 {
		return fmt.Errorf("%w: Config.ClaimLinger must not be negative", ErrInvalidConfig)
	}
	return nil
}

// defaultPositive sets *p to def when it is zero, and refuses a negative
// value of the field name.
func defaultPositive[T int | int64 | time.Duration](p *T, def T, name string) error {
	switch {
	case *p < 0:
		return fmt.Errorf("%w: Config.%s must not be negative", ErrInvalidConfig, name)
	case *p == 0:
		*p = def
	}
	return nil
}
