package receiver

import "sync/atomic"

// Stats is a snapshot of a receiver's counters since [New]. Counters only
// grow; Queued and Pending are current values.
type Stats struct {
	// Requests answered, by outcome.
	Accepted    uint64 // 200, event queued
	Duplicates  uint64 // 200, already claimed
	Rejected    uint64 // 4xx
	Unavailable uint64 // 503, for any reason
	// InboxFull counts the 503s of claims the inbox refused with
	// [store.ErrInboxFull] (ReasonInboxFull), also counted in Unavailable.
	InboxFull uint64

	// Events, by what became of them.
	Handled     uint64 // callback succeeded
	Dropped     uint64 // no route for the type
	Dead        uint64 // failed for good
	Interrupted uint64 // left unhandled by Close or a Shutdown deadline
	Recovered   uint64 // re-driven from a durable inbox

	// Callbacks counts calls of the [Handler]; Retries those that failed
	// and were scheduled again.
	Callbacks uint64
	Retries   uint64

	// ClaimBatches and MarkBatches count the calls of the inbox's
	// ClaimBatch and MarkHandledBatch (zero unless it implements
	// [store.InboxBatcher]); requests per claim batch is the ratio of
	// Accepted+Duplicates to ClaimBatches, roughly.
	ClaimBatches uint64
	MarkBatches  uint64

	// MarkFailures counts the mark-handled writes (MarkHandled, or a
	// MarkHandledBatch) that failed; each is tried again until its retries
	// run out. MarksGivenUp counts the events whose record was given up
	// then: they stay claimed, and a durable inbox re-drives them.
	MarkFailures uint64
	MarksGivenUp uint64

	// Queued is the number of events waiting in the queue; Pending the
	// number accepted and not finished (queued, running or waiting for a
	// retry), and of requests claiming their event in the inbox.
	Queued  int
	Pending int
}

type counters struct {
	accepted, duplicates, rejected, unavailable atomic.Uint64
	inboxFull                                   atomic.Uint64
	handled, dropped, dead, interrupted         atomic.Uint64
	recovered, callbacks, retries               atomic.Uint64
	claimBatches, markBatches                   atomic.Uint64
	markFailures, marksGivenUp                  atomic.Uint64
}

// Stats returns a snapshot of the receiver's counters. It is cheap and safe
// to call at any time.
func (r *Receiver) Stats() Stats {
	c := &r.stats
	return Stats{
		Accepted:     c.accepted.Load(),
		Duplicates:   c.duplicates.Load(),
		Rejected:     c.rejected.Load(),
		Unavailable:  c.unavailable.Load(),
		InboxFull:    c.inboxFull.Load(),
		Handled:      c.handled.Load(),
		Dropped:      c.dropped.Load(),
		Dead:         c.dead.Load(),
		Interrupted:  c.interrupted.Load(),
		Recovered:    c.recovered.Load(),
		Callbacks:    c.callbacks.Load(),
		Retries:      c.retries.Load(),
		ClaimBatches: c.claimBatches.Load(),
		MarkBatches:  c.markBatches.Load(),
		MarkFailures: c.markFailures.Load(),
		MarksGivenUp: c.marksGivenUp.Load(),
		Queued:       len(r.queue),
		Pending:      int(r.pending.Load()),
	}
}
