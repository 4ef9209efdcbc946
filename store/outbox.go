package store

import (
	"context"
	"time"

	"github.com/webhookkit/webhookkit/event"
)

// DeliveryState is where a delivery is in its life (see the package doc).
type DeliveryState string

// Delivery states.
const (
	// StatePending: waiting until NextAttemptAt.
	StatePending DeliveryState = "pending"
	// StateLeased: a worker holds it until LeasedUntil.
	StateLeased DeliveryState = "leased"
	// StatePaused: its endpoint is disabled; it waits for re-enabling.
	StatePaused DeliveryState = "paused"
	// StateSucceeded: an attempt got a 2xx answer.
	StateSucceeded DeliveryState = "succeeded"
	// StateFailed: given up (dead). Requeue makes it pending again.
	StateFailed DeliveryState = "failed"
)

// Valid reports whether s is one of the states above.
func (s DeliveryState) Valid() bool {
	switch s {
	case StatePending, StateLeased, StatePaused, StateSucceeded, StateFailed:
		return true
	}
	return false
}

// Target is one endpoint an event is enqueued for, with the endpoint's
// tenant (copied onto the delivery so lists can be scoped without a join).
type Target struct {
	EndpointID string
	Tenant     string
}

// EnqueueRequest asks an outbox to queue one event for some endpoints.
type EnqueueRequest struct {
	// Event is the event as published. Its Date is not stored: the date on
	// the wire is each attempt's own time, so an event read back from a
	// store has a zero Date.
	Event event.Event
	// Targets are the endpoints to create deliveries for.
	Targets []Target
	// Now is the publish time, each new delivery's CreatedAt.
	Now time.Time
	// DueAt is when the first attempt is due. Zero: Now.
	DueAt time.Time
	// OrderingKey, when not empty, orders the event's deliveries behind
	// the earlier deliveries with the same key to the same endpoint (see
	// [Outbox.Lease]). Empty: no order.
	OrderingKey string
}

// Due returns when the first attempt is due: DueAt, or Now when DueAt is
// zero.
func (r EnqueueRequest) Due() time.Time {
	if r.DueAt.IsZero() {
		return r.Now
	}
	return r.DueAt
}

// Backlog counts an outbox's unfinished deliveries of one mode at one
// instant, by where they are.
type Backlog struct {
	// Due: pending and due (NextAttemptAt at or before the instant), not
	// waiting for their ordering key (see Waiting).
	Due int
	// Scheduled: pending and due later (a retry, or a scheduled publish),
	// not waiting for their ordering key.
	Scheduled int
	// Leased: held by a worker (a leased delivery whose lease ended counts
	// here too until it is leased again).
	Leased int
	// Paused: waiting for their endpoint to be enabled.
	Paused int
	// Waiting: pending and queued behind an earlier delivery of their
	// ordering key ([Delivery].KeyWaiting), whatever their own due time:
	// Lease hands them out only once that one is settled. They count
	// neither in Due nor in Scheduled.
	Waiting int
}

// Pending returns how many deliveries are not finished: all of them.
func (b Backlog) Pending() int { return b.Due + b.Scheduled + b.Leased + b.Paused + b.Waiting }

// Delivery is one event for one endpoint.
type Delivery struct {
	// ID is assigned by the store.
	ID         string
	EndpointID string
	Tenant     string
	// Event is the event as published; Event.Data bytes are kept verbatim.
	// Its Date is zero: each attempt is dated when it is made.
	Event event.Event
	State DeliveryState
	// Attempts counts the attempts started: leasing increments it, a
	// settlement with [OutcomeReleased] takes it back. An expired lease
	// counts as an attempt.
	Attempts int
	// CreatedAt is when the delivery was enqueued: the publish time.
	CreatedAt time.Time
	// FirstAttemptAt is when it was first leased; zero before.
	FirstAttemptAt time.Time
	// NextAttemptAt is when a pending delivery is due (for a leased one, when
	// its lease expires).
	NextAttemptAt time.Time
	// LastAttemptAt is when it was last leased; zero before.
	LastAttemptAt time.Time
	// LastError is the last failure, for people ("503 Service Unavailable",
	// "dial tcp: connection refused").
	LastError string
	// FinishedAt is when it succeeded or failed; zero otherwise.
	FinishedAt time.Time
	// LeaseToken identifies the current lease; set only on deliveries
	// returned by Lease.
	LeaseToken string
	// LeasedBy names the worker holding the lease (diagnostics only).
	LeasedBy string
	// OrderingKey is the key the event was enqueued with
	// ([EnqueueRequest].OrderingKey); empty when unordered.
	OrderingKey string
	// HoldsKey reports a failed delivery that keeps blocking its ordering
	// key (settled with [Settlement].HoldKey) until it is requeued or
	// pruned.
	HoldsKey bool
	// KeyWaiting reports a pending delivery queued behind an earlier
	// delivery of its ordering key (leased, pending or holding the key):
	// Lease hands it out only once that one is settled, whatever its own
	// NextAttemptAt. Set by the store on the deliveries it returns;
	// ignored on input. A delivery overtaken by a replayed one (Requeue
	// puts it first) may read false while it waits.
	KeyWaiting bool
}

// Clone returns a deep copy.
func (d *Delivery) Clone() *Delivery {
	if d == nil {
		return nil
	}
	c := *d
	c.Event.Data = append([]byte(nil), d.Event.Data...)
	return &c
}

// Ref returns the lease reference to settle a leased delivery with.
func (d *Delivery) Ref() LeaseRef { return LeaseRef{DeliveryID: d.ID, Token: d.LeaseToken} }

// LeaseRef names a leased delivery and the token of its lease.
type LeaseRef struct {
	DeliveryID string
	Token      string
}

// LeaseRequest asks for due deliveries.
type LeaseRequest struct {
	// Now is the current time: deliveries with NextAttemptAt <= Now are due.
	Now time.Time
	// Limit is the most deliveries to lease; it must be positive.
	Limit int
	// Duration is how long the lease holds; after Now+Duration the delivery
	// is due again and the next Lease may hand it to another worker.
	Duration time.Duration
	// Mode restricts leasing to one API mode; empty means both.
	Mode event.Mode
	// Worker names the caller, stored as LeasedBy.
	Worker string
	// SkipEndpoints are endpoints the caller cannot serve right now (at their
	// concurrency or rate limit); their deliveries are left for later.
	SkipEndpoints []string
}

// Outbox is the sender's queue. Implementations must be safe for concurrent
// use, and a durable one by several processes at once.
type Outbox interface {
	// Enqueue records req.Event and creates one delivery for each target
	// endpoint that does not have a delivery for the event id yet, created
	// at req.Now and due at req.Due(): pending, or paused when a store that
	// holds endpoints too has the endpoint disabled. It is idempotent:
	// existing pairs are left alone and not counted. It returns how many
	// deliveries it created. If the event id is already stored with a
	// different type, mode or data it returns [ErrConflict] and creates
	// nothing. A store that holds endpoints too returns [ErrNotFound] for a
	// target endpoint it does not hold, and creates nothing. An event without
	// an id or type, or with an invalid mode, is [ErrInvalid]. All or
	// nothing.
	Enqueue(ctx context.Context, req EnqueueRequest) (int, error)
	// Lease atomically takes up to req.Limit due deliveries, oldest due
	// first, marks them leased until req.Now+req.Duration with a fresh token,
	// increments Attempts and sets FirstAttemptAt (if zero) and
	// LastAttemptAt. While a lease holds, no other Lease returns the same
	// delivery. Its cost must grow with what it leases, not with the number
	// of deliveries that are not yet due.
	//
	// Ordering keys: a delivery with an OrderingKey is leased only when it
	// is its key's head, that is when no other delivery of the same
	// endpoint and key that was enqueued before it is unfinished (pending,
	// leased or paused) or holds the key (failed with HoldsKey), and no
	// other delivery of that endpoint and key holds a lease that has not
	// ended. So a key's deliveries are attempted one at a time, in enqueue
	// order, and a head waiting for its retry blocks its key only. Enqueue
	// order is the order in which the enqueues of one key committed;
	// enqueues of one key in concurrent transactions are ordered by the
	// store (PostgreSQL serializes them per key until they commit). A
	// requeued delivery keeps its place: it blocks the later deliveries of
	// its key that are not leased yet. This holds across processes sharing
	// a durable store.
	Lease(ctx context.Context, req LeaseRequest) ([]*Delivery, error)
	// Settle ends leases: it writes a batch of settlements, their attempts
	// and the endpoints' health deltas in one transaction, and reports per
	// settlement whether its lease was lost and per delta the endpoint
	// after it. Each settlement does what its [Outcome] says, in the
	// batch's order, if and only if its token still holds the delivery (a
	// token the store did not make holds nothing); each attempt is stored
	// as AddAttempt stores it; each delta is applied once, by
	// [HealthDelta.Apply]. A lost lease is not an error:
	// it is reported in [SettleResult].Lost, nothing of that settlement is
	// written but its attempt (the request was made), and the others are
	// applied. An ill-formed batch (see [SettleBatch.Check]) is
	// [ErrInvalid]; an attempt whose ID is stored already, or given twice
	// in the batch, is [ErrConflict]. On any error nothing of the batch is
	// written, and no Attempt's ID is set. An empty batch writes nothing
	// and returns an empty result.
	Settle(ctx context.Context, b SettleBatch) (SettleResult, error)
}

// DeliveryFilter selects deliveries to list. Zero fields do not filter.
type DeliveryFilter struct {
	// Tenant and AllTenants work as in [EndpointFilter].
	Tenant     string
	AllTenants bool
	EndpointID string
	EventID    string
	// EventType is an [event.Pattern]: an exact type ("patient.created",
	// "ping"), a service ("patient": itself and all its methods), a prefix
	// ("patient.*") or "*".
	EventType string
	State     DeliveryState
	// Since and Until bound CreatedAt: Since <= CreatedAt < Until.
	Since, Until time.Time
	Page         Page
}

// Deliveries reads and repairs deliveries: the delivery-logs view and manual
// replay. Implementations must be safe for concurrent use.
type Deliveries interface {
	// GetDelivery returns a copy of the delivery, or [ErrNotFound].
	GetDelivery(ctx context.Context, id string) (*Delivery, error)
	// ListDeliveries returns deliveries newest first (by CreatedAt, then ID),
	// one page at a time.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
	// Requeue makes a failed or succeeded delivery pending again, due at
	// time at, with Attempts and FirstAttemptAt reset and HoldsKey cleared
	// (a replay). A pending, leased or paused delivery is left alone and
	// returns [ErrConflict]; [ErrNotFound] when missing.
	Requeue(ctx context.Context, id string, at time.Time) error
	// RequeueFailed requeues, as Requeue, every failed delivery of the
	// endpoint that finished at or after since, and returns how many.
	RequeueFailed(ctx context.Context, endpointID string, since, at time.Time) (int, error)
	// Backlog counts the unfinished deliveries of mode (both modes when
	// mode is empty) as of now. Its cost grows with the unfinished
	// deliveries, never with the finished ones.
	Backlog(ctx context.Context, mode event.Mode, now time.Time) (Backlog, error)
}

// RetryAdvancer is implemented by outboxes that can bring an endpoint's
// retries forward. A sender does so when its circuit breaker for the
// endpoint closes: the deliveries whose attempts failed while the endpoint
// was down (the failures that opened the breaker, and its probes) are due
// again at once, rather than at the later steps of their retry schedule,
// behind an endpoint that is up. It is an optional capability, found with a
// type assertion on the store; without it, those deliveries keep their
// schedule. Implementations must be safe for concurrent use with every
// other method.
type RetryAdvancer interface {
	// AdvanceRetries makes due at at every pending delivery of the endpoint
	// that waits for a retry of an attempt leased at or after since:
	// Attempts above zero, LastAttemptAt at or after since, and
	// NextAttemptAt after at. It changes nothing else (Attempts, LastError,
	// the place in its ordering key's order are kept) and returns how many
	// deliveries it changed. Leased, paused and finished deliveries, and
	// those never attempted (a key's waiting deliveries, requeued ones),
	// are left alone. Its cost grows with the endpoint's deliveries that
	// are due later, not with its history.
	AdvanceRetries(ctx context.Context, endpointID string, since, at time.Time) (int, error)
}

// DeliveryPruner is implemented by outboxes that can forget finished
// deliveries, so a durable store does not grow forever. It is an optional
// capability: find it with a type assertion on the store, as the sender's
// background pruner does:
//
//	if p, ok := st.(store.DeliveryPruner); ok {
//		n, err := p.PruneDeliveries(ctx, now.Add(-retention))
//		...
//	}
//
// Implementations must be safe for concurrent use with every other method.
type DeliveryPruner interface {
	// PruneDeliveries deletes the succeeded and failed deliveries that
	// finished before the given time (FinishedAt < before), and then every
	// event left with no delivery, and returns how many deliveries it
	// deleted. Pending, leased and paused deliveries are never deleted,
	// whatever their age, and neither is a finished one that was requeued.
	// An event is kept while any delivery still refers to it.
	//
	// Pruning ends the outbox's memory of an event id: Enqueue of a pruned
	// event id (the whole event, or one endpoint's delivery of it) creates
	// fresh deliveries, as for a new event. So keep deliveries at least as
	// long as publishers may re-publish an id, and as long as the attempt
	// log ([DefaultRetention]), whose attempts name their delivery.
	//
	// Durable stores delete in batches of bounded size, each in its own
	// short transaction; if ctx ends or a batch fails, the batches already
	// done stay deleted and their count is returned with the error.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
}
