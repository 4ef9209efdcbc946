package store

import (
	"context"
	"time"
)

// InboxBatcher is implemented by inboxes that can claim and mark many keys
// in one statement, so that a receiver groups the claims of concurrent
// requests into one commit (a group commit) instead of one commit each. It
// is an optional capability, found by a type assertion on the [Inbox]; the
// SQL drivers implement it, the memory store does not (its Claim is a map
// insert, which batching would only delay). Implementations must be safe
// for concurrent use, with each other and with every method of [Inbox].
type InboxBatcher interface {
	// ClaimBatch claims every claim of cs in one statement, each as
	// [Inbox.Claim] claims it (normalized by [Claim.Normalize], its body
	// kept, a key whose window ended claimable again), and returns won[i]
	// for cs[i]. A key given twice in one batch is won at most once, by its
	// first claim; the later ones lose. Among concurrent batches and single
	// claims of one key exactly one wins. When it returns without error,
	// every won claim is durable. An error, an empty key ([ErrInvalid])
	// included, means nothing was claimed.
	ClaimBatch(ctx context.Context, cs []Claim) ([]bool, error)
	// MarkHandledBatch marks every key handled at time at, as
	// [Inbox.MarkHandled] does, in one statement. Keys the inbox does not
	// hold are skipped, and reported by an error wrapping [ErrNotFound]
	// after the others were marked; any other error means nothing was
	// marked. A key given twice is marked once.
	MarkHandledBatch(ctx context.Context, keys []string, at time.Time) error
}
