package memory

import (
	"container/heap"
	"log/slog"
	"math/bits"
	"strconv"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// Defaults for [Config]'s zero fields.
const (
	// DefaultMaxInboxEntries is how many de-duplication keys the inbox
	// holds before it evicts finished entries (handled, then dead) and,
	// with none left, refuses new claims.
	DefaultMaxInboxEntries = 1_000_000
	// DefaultMaxAttempts is how many attempts the attempt log holds before
	// it evicts the oldest.
	DefaultMaxAttempts = 100_000
	// DefaultMaxAttemptBytes is how many bytes of attempts (see
	// [Config].MaxAttemptBytes) the attempt log holds before it evicts the
	// oldest: 256 MiB.
	DefaultMaxAttemptBytes = 256 << 20
	// DefaultMaxFinishedDeliveries is how many succeeded and failed
	// deliveries the store keeps before it evicts the oldest finished.
	DefaultMaxFinishedDeliveries = 100_000
)

// Config configures a [Store]. The zero value (or a nil *Config) gives the
// defaults.
type Config struct {
	// MaxInboxEntries caps the inbox. A claim of a new key at the cap
	// evicts a finished entry, counted in [Stats].InboxEvicted: the handled
	// entry whose window ends first, else the dead entry that died first
	// (dead entries are kept for Replay until then). An evicted key can be
	// claimed again, so an event redelivered after its eviction is accepted
	// twice. Claimed entries (accepted, not yet handled) are never evicted:
	// when every entry is claimed, Claim refuses with an error wrapping
	// [store.ErrInboxFull] (a receiver answers 503, and the sender retries),
	// counted in [Stats].InboxRefused. Zero or negative means
	// [DefaultMaxInboxEntries].
	MaxInboxEntries int
	// MaxAttempts caps the attempt log; beyond it the attempts that started
	// earliest are evicted and counted in [Stats].AttemptsEvicted. Zero or
	// negative means [DefaultMaxAttempts].
	MaxAttempts int
	// MaxAttemptBytes caps the attempt log's size in bytes, counting each
	// attempt's bodies, header names and values (4 bytes more per value,
	// as on the wire), URL, error and ids (the Go overhead per attempt is
	// bounded by MaxAttempts instead). Beyond it the attempts that started
	// earliest are evicted, as for MaxAttempts, until the log is under
	// both caps; the last attempt left is never evicted. Zero or negative
	// means [DefaultMaxAttemptBytes].
	MaxAttemptBytes int
	// MaxFinishedDeliveries caps the succeeded and failed deliveries kept
	// for listing and Requeue; beyond it the ones that finished earliest are
	// evicted and counted in [Stats].DeliveriesEvicted. Pending, leased and
	// paused deliveries are never evicted. Once every delivery of an event is
	// gone the event id is forgotten, and enqueueing it again creates new
	// deliveries. Zero or negative means [DefaultMaxFinishedDeliveries].
	MaxFinishedDeliveries int
	// Logger receives a warning when evictions start and at every power of
	// two evictions after; nil means slog.Default().
	Logger *slog.Logger
	// Now stamps endpoints' CreatedAt and UpdatedAt, and the CreatedAt of
	// secrets stored without one, the only times the store reads itself
	// (every other time is an argument); nil means time.Now.
	Now func() time.Time
}

// Stats is a snapshot of a [Store]'s sizes and eviction counters.
type Stats struct {
	// Endpoints is the number of endpoints.
	Endpoints int
	// Events is the number of event ids that have at least one delivery.
	Events int
	// Deliveries is the number of deliveries in any state; Scheduled of them
	// are pending or leased (in the lease queue), Paused paused, and
	// Finished succeeded or failed.
	Deliveries, Scheduled, Paused, Finished int
	// Attempts is the number of attempts in the log, and AttemptBytes
	// their size as [Config].MaxAttemptBytes counts it.
	Attempts, AttemptBytes int
	// InboxEntries is the number of inbox entries; InboxClaimed of them are
	// claimed, InboxDead dead, the rest handled.
	InboxEntries, InboxClaimed, InboxDead int
	// DeliveriesEvicted, AttemptsEvicted and InboxEvicted count what the
	// caps in [Config] evicted since New (AttemptsEvicted counts the
	// attempts evicted by either attempt cap).
	DeliveriesEvicted, AttemptsEvicted, InboxEvicted uint64
	// InboxRefused counts the claims refused with [store.ErrInboxFull]
	// since New: the inbox was at its cap with every entry claimed.
	InboxRefused uint64
}

// Store is an in-memory [store.SenderStore] and [store.Inbox] with
// [store.InboxRecovery] and [store.DeliveryPruner]. Create it with [New]; the
// zero value is not usable. It is safe for concurrent use: one
// sync.RWMutex guards everything (reads share it), no method blocks on
// anything else, and copies in and out are made outside it.
type Store struct {
	mu   sync.RWMutex
	cfg  Config
	subs subscribers // Subscribe's channels; their own lock
	log  *slog.Logger

	// endpoints holds immutable snapshots: a change stores a new one.
	endpoints  map[string]*store.Endpoint
	events     map[string]*eventRec
	deliveries map[string]*delivery
	// deliveryLog is every delivery by (CreatedAt, ID); byEndpoint the
	// same per endpoint.
	deliveryLog sortedList[*delivery]
	byEndpoint  map[string]*sortedList[*delivery]

	// Scheduled (pending and leased) deliveries, in one heap per endpoint
	// and mode, ordered by NextAttemptAt; the groups sit in one heap per
	// mode ordered by their earliest delivery.
	groups map[groupKey]*group
	ready  map[event.Mode]*heapq[*group]
	// chains holds each ordering key's blocking deliveries (keys.go).
	chains map[chainKey]*chain

	// Finished deliveries in the order they finished, for eviction; entries
	// whose delivery was requeued or removed are skipped (lazy deletion).
	finished  []finRef
	finHead   int
	nFinished int
	nPaused   int
	// pausedByMode counts paused deliveries per mode, for Backlog.
	pausedByMode map[event.Mode]int
	finSeq       uint64
	enqueueSeq   uint64
	tokenSeq     uint64
	tokenPrefix  string

	// attempts by id; attemptLog is all of them by (At, ID), oldest (the
	// next evicted) first; the indexes are the same per delivery, endpoint
	// and event id.
	attempts           map[string]*attempt
	attemptLog         sortedList[*attempt]
	attemptsByDelivery attemptIndex
	attemptsByEndpoint attemptIndex
	attemptsByEvent    attemptIndex
	attemptBytes       int // the sum of the attempts' sizes
	// stats are the hourly aggregates of the attempts, per endpoint
	// (store.AttemptStats); the caps do not evict them, pruning does.
	stats map[string]*endpointStats

	// inbox holds every entry, each also in the heap of its state.
	inbox      map[string]*inboxRec
	inboxLease heapq[*inboxRec] // claimed entries, by LeasedUntil
	inboxExp   heapq[*inboxRec] // handled entries, by ExpiresAt
	inboxDead  heapq[*inboxRec] // dead entries, by FinishedAt

	deliveriesEvicted, attemptsEvicted, inboxEvicted, inboxRefused uint64
}

var (
	_ store.SenderStore    = (*Store)(nil)
	_ store.Inbox          = (*Store)(nil)
	_ store.InboxRecovery  = (*Store)(nil)
	_ store.DeliveryPruner = (*Store)(nil)
	_ store.RetryAdvancer  = (*Store)(nil)
	_ store.AttemptStats   = (*Store)(nil)
)

// New returns an empty store configured by cfg (nil means the defaults).
// It starts no goroutines.
func New(cfg *Config) *Store {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.MaxInboxEntries <= 0 {
		c.MaxInboxEntries = DefaultMaxInboxEntries
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxAttemptBytes <= 0 {
		c.MaxAttemptBytes = DefaultMaxAttemptBytes
	}
	if c.MaxFinishedDeliveries <= 0 {
		c.MaxFinishedDeliveries = DefaultMaxFinishedDeliveries
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{
		cfg:          c,
		log:          log,
		endpoints:    make(map[string]*store.Endpoint),
		events:       make(map[string]*eventRec),
		deliveries:   make(map[string]*delivery),
		byEndpoint:   make(map[string]*sortedList[*delivery]),
		groups:       make(map[groupKey]*group),
		chains:       make(map[chainKey]*chain),
		pausedByMode: make(map[event.Mode]int),
		ready:        make(map[event.Mode]*heapq[*group]),
		attempts:     make(map[string]*attempt),
		inbox:        make(map[string]*inboxRec),
		stats:        make(map[string]*endpointStats),

		attemptsByDelivery: make(attemptIndex),
		attemptsByEndpoint: make(attemptIndex),
		attemptsByEvent:    make(attemptIndex),
	}
	s.tokenPrefix = strconv.FormatInt(c.Now().UnixNano(), 36) + "."
	s.inboxDead = heapq[*inboxRec]{
		less: func(a, b *inboxRec) bool {
			if !a.FinishedAt.Equal(b.FinishedAt) {
				return a.FinishedAt.Before(b.FinishedAt)
			}
			return a.seq < b.seq
		},
		setIdx: func(e *inboxRec, i int) { e.deadIdx = i },
	}
	s.inboxExp = heapq[*inboxRec]{
		less:   func(a, b *inboxRec) bool { return a.ExpiresAt.Before(b.ExpiresAt) },
		setIdx: func(e *inboxRec, i int) { e.expIdx = i },
	}
	s.inboxLease = heapq[*inboxRec]{
		less: func(a, b *inboxRec) bool {
			if !a.LeasedUntil.Equal(b.LeasedUntil) {
				return a.LeasedUntil.Before(b.LeasedUntil)
			}
			return a.seq < b.seq
		},
		setIdx: func(e *inboxRec, i int) { e.leaseIdx = i },
	}
	return s
}

// Stats returns the store's current sizes and eviction counters.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	scheduled := 0
	for _, g := range s.groups {
		scheduled += g.h.Len()
	}
	return Stats{
		Endpoints:         len(s.endpoints),
		Events:            len(s.events),
		Deliveries:        len(s.deliveries),
		Scheduled:         scheduled,
		Paused:            s.nPaused,
		Finished:          s.nFinished,
		Attempts:          len(s.attempts),
		AttemptBytes:      s.attemptBytes,
		InboxEntries:      len(s.inbox),
		InboxClaimed:      s.inboxLease.Len(),
		InboxDead:         s.inboxDead.Len(),
		DeliveriesEvicted: s.deliveriesEvicted,
		AttemptsEvicted:   s.attemptsEvicted,
		InboxEvicted:      s.inboxEvicted,
		InboxRefused:      s.inboxRefused,
	}
}

// logEviction warns when a counter reaches a power of two, so a store that
// keeps evicting logs rarely.
func (s *Store) logEviction(what string, n uint64, limit int) {
	if bits.OnesCount64(n) == 1 {
		s.log.Warn("memory store: cap reached, evicting oldest",
			slog.String("what", what), slog.Uint64("evicted", n), slog.Int("cap", limit))
	}
}

// heapq is a container/heap of T that tells each element its index, so
// elements can be fixed or removed in O(log n).
type heapq[T any] struct {
	items  []T
	less   func(a, b T) bool
	setIdx func(x T, i int)
}

func (h *heapq[T]) Len() int           { return len(h.items) }
func (h *heapq[T]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *heapq[T]) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.setIdx(h.items[i], i)
	h.setIdx(h.items[j], j)
}

func (h *heapq[T]) Push(x any) {
	v := x.(T)
	h.setIdx(v, len(h.items))
	h.items = append(h.items, v)
}

func (h *heapq[T]) Pop() any {
	n := len(h.items) - 1
	v := h.items[n]
	var zero T
	h.items[n] = zero
	h.items = h.items[:n]
	h.setIdx(v, -1)
	return v
}

// put adds x, or fixes its position when it is in the heap at idx.
func (h *heapq[T]) put(x T, idx int) {
	if idx >= 0 {
		heap.Fix(h, idx)
	} else {
		heap.Push(h, x)
	}
}

// remove takes out the element at idx, if idx is a position.
func (h *heapq[T]) remove(idx int) {
	if idx >= 0 {
		heap.Remove(h, idx)
	}
}
