package store

import (
	"fmt"
	"time"
)

// Outcome is how a [Settlement] ends a lease. The zero value is not an
// outcome: [Outbox.Settle] refuses it with [ErrInvalid].
type Outcome uint8

// Outcomes: what a settlement whose token holds the delivery does to it.
const (
	// OutcomeSucceeded marks the delivery succeeded at the settlement's At;
	// its LastError is kept.
	OutcomeSucceeded Outcome = iota + 1
	// OutcomeRetry makes the delivery pending again, due at Next, with
	// LastError set to Error; paused instead when its endpoint is disabled
	// in a store that holds endpoints too.
	OutcomeRetry
	// OutcomeFailed marks the delivery failed (given up) at At, with
	// LastError set to Error.
	OutcomeFailed
	// OutcomeReleased gives the delivery back, due at Next, without counting
	// the attempt: for work a worker took but did not start, such as at
	// shutdown or when the endpoint is at its limit. Attempts is
	// decremented, and FirstAttemptAt cleared when it drops back to zero;
	// paused instead of pending when its endpoint is disabled in a store
	// that holds endpoints too.
	OutcomeReleased
)

// String returns the outcome's name ("succeeded", "retry", "failed",
// "released"), or "Outcome(n)" for a value that is not one.
func (o Outcome) String() string {
	switch o {
	case OutcomeSucceeded:
		return "succeeded"
	case OutcomeRetry:
		return "retry"
	case OutcomeFailed:
		return "failed"
	case OutcomeReleased:
		return "released"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Valid reports whether o is one of the four outcomes.
func (o Outcome) Valid() bool { return o >= OutcomeSucceeded && o <= OutcomeReleased }

// Settlement ends one lease: what becomes of the delivery, and the attempt
// to log with it.
type Settlement struct {
	// Ref is the delivery and the token of the lease being settled.
	Ref LeaseRef
	// Outcome is what becomes of the delivery; the zero value is invalid.
	Outcome Outcome
	// At is when the attempt ended: the FinishedAt of a succeeded or failed
	// delivery. Required (not zero) for OutcomeSucceeded and OutcomeFailed;
	// ignored for the others.
	At time.Time
	// Next is when a retried or released delivery is due again. Required
	// (not zero) for OutcomeRetry and OutcomeReleased; ignored for the
	// others.
	Next time.Time
	// Error is the LastError of a retried delivery and the reason of a
	// failed one; ignored for the others (a succeeded delivery keeps its
	// last failure, a released one its LastError).
	Error string
	// HoldKey, with OutcomeFailed, makes a delivery with an ordering key
	// keep blocking its key (Delivery.HoldsKey) instead of letting the next
	// delivery of the key go: the key waits until the failed delivery is
	// requeued (or pruned). Ignored for the other outcomes and for
	// deliveries without an ordering key.
	HoldKey bool
	// Attempt is the attempt to log in the same transaction; nil logs none
	// (a release, which made no request). It is stored as a copy, as
	// [Attempts.AddAttempt] stores it, with an ID assigned when empty
	// (written back to the Attempt only when Settle succeeds), and it is
	// logged even when the lease is lost: the request was made.
	Attempt *Attempt
}

// check returns the error Settle reports for an ill-formed settlement.
func (s *Settlement) check() error {
	switch {
	case !s.Outcome.Valid():
		return fmt.Errorf("outcome %v", s.Outcome)
	case (s.Outcome == OutcomeSucceeded || s.Outcome == OutcomeFailed) && s.At.IsZero():
		return fmt.Errorf("outcome %v without At", s.Outcome)
	case (s.Outcome == OutcomeRetry || s.Outcome == OutcomeReleased) && s.Next.IsZero():
		return fmt.Errorf("outcome %v without Next", s.Outcome)
	}
	return nil
}

// HealthDelta is one endpoint's attempts of a batch folded into one change
// of its [Health]: the attempts' outcomes in the order they were made,
// summed up so the store writes the endpoint once per batch. Build one with
// [HealthDelta.Add]; [HealthDelta.Apply] is how every store applies it.
// The zero value (with an EndpointID) records no attempt and changes
// nothing.
type HealthDelta struct {
	// EndpointID names the endpoint; it must not be empty.
	EndpointID string
	// Failures counts the failed attempts after the batch's last success
	// (all of them when none succeeded). It must not be negative.
	Failures int
	// FirstFailure is the time of the first of those Failures; zero when
	// Failures is zero, and required (not zero) otherwise.
	FirstFailure time.Time
	// LastFailure is the time of the batch's latest failed attempt, also
	// one before a success; zero when none failed.
	LastFailure time.Time
	// LastSuccess is the time of the batch's latest successful attempt;
	// zero when none succeeded.
	LastSuccess time.Time
	// SetBreaker records the endpoint's circuit breaker as Breaker since
	// BreakerSince (see [Health]); without it the breaker is left as it
	// is.
	SetBreaker   bool
	Breaker      BreakerState
	BreakerSince time.Time
}

// Add folds one more attempt, made after those already folded, into d.
func (d *HealthDelta) Add(success bool, at time.Time) {
	if success {
		d.Failures, d.FirstFailure = 0, time.Time{}
		d.LastSuccess = later(d.LastSuccess, at)
		return
	}
	if d.Failures == 0 {
		d.FirstFailure = at
	}
	d.Failures++
	d.LastFailure = later(d.LastFailure, at)
}

// Apply returns h after the delta's attempts, as if they came after the
// ones h records; it is the rule every store follows in [Outbox.Settle].
// With a success in the delta, ConsecutiveFailures becomes Failures and
// FailingSince FirstFailure (the run after that success); without one,
// Failures are added to ConsecutiveFailures and FailingSince keeps the
// earlier of its own and FirstFailure. LastSuccessAt and LastFailureAt each
// become the later of their own and the delta's. A delta of one attempt
// (one [HealthDelta.Add]) thus records it: a success resets
// ConsecutiveFailures and FailingSince and sets LastSuccessAt; a failure
// increments ConsecutiveFailures, sets LastFailureAt and, when zero,
// FailingSince. With SetBreaker, Breaker and BreakerSince become the
// delta's.
func (d HealthDelta) Apply(h Health) Health {
	switch {
	case !d.LastSuccess.IsZero():
		h.ConsecutiveFailures = d.Failures
		h.FailingSince = time.Time{}
		if d.Failures > 0 {
			h.FailingSince = d.FirstFailure
		}
		h.LastSuccessAt = later(h.LastSuccessAt, d.LastSuccess)
	case d.Failures > 0:
		h.ConsecutiveFailures += d.Failures
		if h.FailingSince.IsZero() || d.FirstFailure.Before(h.FailingSince) {
			h.FailingSince = d.FirstFailure
		}
	}
	h.LastFailureAt = later(h.LastFailureAt, d.LastFailure)
	if d.SetBreaker {
		h.Breaker, h.BreakerSince = d.Breaker, d.BreakerSince
	}
	return h
}

// later returns the later of a and b; a zero time is earlier than any.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// SettleBatch is what one [Outbox.Settle] writes, in one transaction.
type SettleBatch struct {
	// Settlements end leases, in order: a delivery settled twice in one
	// batch is settled by the first, and the later ones find the lease lost
	// (as the same calls one after the other would).
	Settlements []Settlement
	// Health changes endpoints' health, at most one delta per endpoint. A
	// delta for an endpoint the store does not hold (deleted meanwhile) is
	// skipped, not an error.
	Health []HealthDelta
}

// Check returns an error wrapping [ErrInvalid], naming the offending
// settlement or delta, when b breaks a rule of its fields' documentation:
// an invalid Outcome, a missing At or Next, a delta without an endpoint id,
// with negative Failures or Failures without a FirstFailure, or two deltas
// for one endpoint. Every store calls it first; nil means b is well formed.
func (b SettleBatch) Check() error {
	for i := range b.Settlements {
		if err := b.Settlements[i].check(); err != nil {
			return fmt.Errorf("%w: settlement %d (delivery %q): %w", ErrInvalid, i, b.Settlements[i].Ref.DeliveryID, err)
		}
	}
	var seen map[string]bool
	if len(b.Health) > 1 {
		seen = make(map[string]bool, len(b.Health))
	}
	for i, d := range b.Health {
		switch {
		case d.EndpointID == "":
			return fmt.Errorf("%w: health delta %d: empty endpoint id", ErrInvalid, i)
		case d.Failures < 0:
			return fmt.Errorf("%w: health delta %d (endpoint %q): negative failures", ErrInvalid, i, d.EndpointID)
		case d.Failures > 0 && d.FirstFailure.IsZero():
			return fmt.Errorf("%w: health delta %d (endpoint %q): failures without FirstFailure", ErrInvalid, i, d.EndpointID)
		case seen[d.EndpointID]:
			return fmt.Errorf("%w: health delta %d: endpoint %q has two deltas", ErrInvalid, i, d.EndpointID)
		}
		if seen != nil {
			seen[d.EndpointID] = true
		}
	}
	return nil
}

// SettleResult is what [Outbox.Settle] reports.
type SettleResult struct {
	// Lost has one entry per settlement: true when its lease no longer held
	// the delivery (it expired and the delivery was leased again, or was
	// settled already; or the delivery is unknown). Nothing of a lost
	// settlement was written but its Attempt, which is logged.
	Lost []bool
	// Endpoints has one entry per health delta: the endpoint after the
	// delta, or nil when the store does not hold it (deleted meanwhile).
	Endpoints []*Endpoint
}

// Rounds splits b's settlements into rounds in which no delivery appears
// twice, for drivers that settle many deliveries with one statement (which
// can change a row only once): round k holds, in batch order, the index of
// each delivery's k-th settlement. Running the rounds one after the other
// settles as the batch's order does: the second settlement of a delivery
// finds the lease lost if the first took it, and takes it if the first
// held a stale token. A batch without a repeated delivery is one round;
// an empty one has none.
func (b SettleBatch) Rounds() [][]int {
	if len(b.Settlements) == 0 {
		return nil
	}
	first := make([]int, 0, len(b.Settlements))
	var seen map[string]int // delivery id -> settlements seen so far
	var more [][]int
	for i := range b.Settlements {
		id := b.Settlements[i].Ref.DeliveryID
		if seen == nil {
			seen = make(map[string]int, len(b.Settlements))
		}
		k := seen[id]
		seen[id] = k + 1
		if k == 0 {
			first = append(first, i)
			continue
		}
		for len(more) < k {
			more = append(more, nil)
		}
		more[k-1] = append(more[k-1], i)
	}
	return append([][]int{first}, more...)
}
