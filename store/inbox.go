package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DefaultDedupWindow is how long an inbox remembers an event id: 7 days,
// longer than common senders retry (a day, 27 hours, 3 days).
const DefaultDedupWindow = 7 * 24 * time.Hour

// InboxState is where an accepted event is on the receiving side.
type InboxState string

// Inbox states.
const (
	// InboxClaimed: accepted (answered 200), not yet handled.
	InboxClaimed InboxState = "claimed"
	// InboxHandled: the callback succeeded.
	InboxHandled InboxState = "handled"
	// InboxDead: the callback failed for good.
	InboxDead InboxState = "dead"
)

// InboxEntry is an event id a receiver has accepted, and, in a durable
// inbox, the event itself until it is handled.
type InboxEntry struct {
	// Key is the de-duplication key: the envelope id, or the webhook-id header.
	Key   string
	State InboxState
	// Body is the raw request body as received and verified. A store may
	// drop it once the entry is handled; dead entries keep it.
	Body []byte
	// ClaimedAt starts the de-duplication window; ExpiresAt ends it.
	ClaimedAt, ExpiresAt time.Time
	// LeasedUntil is when a claimed entry's processing lease ends; after it,
	// [InboxRecovery.LeaseClaimed] may hand the entry to another worker.
	LeasedUntil time.Time
	// Attempts counts callback attempts; LastError is the latest failure.
	Attempts  int
	LastError string
	// FinishedAt is when it was handled or declared dead.
	FinishedAt time.Time
}

// Clone returns a deep copy.
func (e *InboxEntry) Clone() *InboxEntry {
	if e == nil {
		return nil
	}
	c := *e
	c.Body = append([]byte(nil), e.Body...)
	return &c
}

// Claim asks an inbox to accept an event.
type Claim struct {
	Key string
	// Body is kept with the claim by durable stores (so an accepted event
	// survives a crash); the memory store may ignore it.
	Body []byte
	// Now is the current time; the window is Now to Now+TTL.
	Now time.Time
	// TTL is the de-duplication window; zero or negative means
	// [DefaultDedupWindow].
	TTL time.Duration
	// Lease is how long the claiming worker holds the entry before
	// [InboxRecovery.LeaseClaimed] may re-drive it; negative means zero.
	Lease time.Duration
}

// Normalize applies the rules every inbox follows for a claim's arguments:
// an empty Key is an error wrapping [ErrInvalid]; a TTL that is not positive
// becomes [DefaultDedupWindow]; a negative Lease becomes zero. Drivers call
// it first, so they agree.
func (c Claim) Normalize() (Claim, error) {
	if c.Key == "" {
		return c, fmt.Errorf("%w: claim: empty key", ErrInvalid)
	}
	if c.TTL <= 0 {
		c.TTL = DefaultDedupWindow
	}
	c.Lease = max(c.Lease, 0)
	return c, nil
}

// Inbox de-duplicates received events. Implementations must be safe for
// concurrent use, and a durable one by several processes at once.
type Inbox interface {
	// Claim atomically records c.Key. It returns true when this call won:
	// the key was absent or its window had expired (c.Now at or after its
	// ExpiresAt). Among any number of concurrent claims of one key exactly
	// one wins. An empty key is [ErrInvalid]. An inbox with a size cap
	// makes room by forgetting finished (handled or dead) entries, never a
	// claimed one; with nothing finished left to forget it refuses the
	// claim with an error wrapping [ErrInboxFull].
	Claim(ctx context.Context, c Claim) (bool, error)
	// ReleaseClaim forgets a claim that could not be queued, so a retry of the
	// event is accepted later. Only an entry still in the claimed state is
	// forgotten: releasing a handled or dead entry is a no-op, so a release
	// that comes late (after the event was handled) never lets a duplicate
	// through. Releasing an absent key is not an error.
	ReleaseClaim(ctx context.Context, key string) error
	// MarkHandled records that the callback succeeded at time at; the key is
	// still remembered until its window ends. [ErrNotFound] when missing.
	MarkHandled(ctx context.Context, key string, at time.Time) error
	// MarkDead records that the callback failed for good, with the reason.
	// [ErrNotFound] when missing.
	MarkDead(ctx context.Context, key string, at time.Time, reason string) error
	// PruneInbox forgets entries whose window ended at or before now
	// (ExpiresAt <= now, the same boundary as Claim), except claimed and
	// dead ones in a durable store, and returns how many.
	PruneInbox(ctx context.Context, now time.Time) (int, error)
}

// InboxRecovery is implemented by inboxes that keep accepted events, so a
// receiver can re-drive what a crash interrupted and replay dead events.
type InboxRecovery interface {
	// LeaseClaimed takes up to limit claimed entries whose lease ended
	// at or before now, extends their lease to now+lease, increments Attempts
	// and returns them with their bodies. A limit or lease that is not
	// positive is [ErrInvalid].
	LeaseClaimed(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*InboxEntry, error)
	// GetInboxEntry returns a copy of the entry, or [ErrNotFound].
	GetInboxEntry(ctx context.Context, key string) (*InboxEntry, error)
	// ListInbox returns entries in the given state (every state when state
	// is empty), newest claim first (by ClaimedAt, then Key), one page at a
	// time.
	ListInbox(ctx context.Context, state InboxState, p Page) ([]*InboxEntry, string, error)
	// Replay makes a dead entry claimed again and due for re-drive at time
	// at, and resets Attempts to 0 and clears LastError (and FinishedAt), so
	// the re-drive gets the callback's full retry policy again.
	// [ErrNotFound] when missing, [ErrConflict] when it is not dead.
	Replay(ctx context.Context, key string, at time.Time) error
}

// InboxBatcher is implemented by inboxes that can claim and mark many keys
// in one statement, so a receiver can group the claims of concurrent
// requests into one commit (a group commit) instead of one each. It is an
// optional capability: find it with a type assertion on the inbox. The SQL
// drivers implement it; the memory store does not (its Claim is a map
// insert, which batching would only delay). Implementations must be safe
// for concurrent use with every other method.
type InboxBatcher interface {
	// ClaimBatch claims every key of cs at once, each as [Inbox.Claim]
	// claims it (normalized by [Claim.Normalize], its body kept, a key
	// whose window ended claimable again), and returns won[i] for cs[i].
	// A key given twice in one batch is won at most once, by its first
	// claim; the later ones lose. Among concurrent batches and single
	// claims of one key exactly one wins. When it returns without error,
	// every won claim is durable (committed, with its body), as a Claim's
	// is when Claim returns: a receiver answers 200 on that promise. An
	// empty key is [ErrInvalid] and, like any error, means nothing was
	// claimed.
	ClaimBatch(ctx context.Context, cs []Claim) ([]bool, error)
	// MarkHandledBatch marks every key handled at time at, as
	// [Inbox.MarkHandled] does, at once. Keys the inbox does not hold are
	// skipped and reported by an error wrapping [ErrNotFound], a
	// [*MissingKeysError] naming them, returned after the keys it holds
	// are marked (durably). Any other error means nothing was marked. A
	// key given twice is marked once.
	MarkHandledBatch(ctx context.Context, keys []string, at time.Time) error
}

// MissingKeysError is returned by [InboxBatcher.MarkHandledBatch] when some
// keys are not in the inbox; the others were marked. It wraps
// [ErrNotFound].
type MissingKeysError struct {
	// Keys are the keys not found, in the order they were given.
	Keys []string
}

// Error lists up to 3 of the missing keys and the count of the others.
func (e *MissingKeysError) Error() string {
	const show = 3
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %d inbox keys: ", ErrNotFound, len(e.Keys))
	for i, k := range e.Keys[:min(len(e.Keys), show)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", k)
	}
	if len(e.Keys) > show {
		fmt.Fprintf(&b, " and %d more", len(e.Keys)-show)
	}
	return b.String()
}

// Unwrap returns [ErrNotFound].
func (e *MissingKeysError) Unwrap() error { return ErrNotFound }

// MissingKeys is the last step of a driver's MarkHandledBatch: given the
// keys asked for and those found, it returns nil when every key was found,
// else a [*MissingKeysError] naming the others once each, in the order
// they were asked for.
func MissingKeys(asked, found []string) error {
	if len(found) >= len(asked) {
		return nil // no key can be missing: found holds distinct asked keys
	}
	have := make(map[string]bool, len(found))
	for _, k := range found {
		have[k] = true
	}
	var missing []string
	for _, k := range asked {
		if !have[k] {
			have[k] = true // listed once
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &MissingKeysError{Keys: missing}
}

// DedupClaims is the first step of every driver's ClaimBatch: it
// normalizes each claim (see [Claim.Normalize]) and keeps each key's first
// claim only. It returns those claims and, for each, its index in cs; a
// later claim of a key is left out (it loses). An empty key is an error
// wrapping [ErrInvalid] that names its index.
func DedupClaims(cs []Claim) (firsts []Claim, idx []int, err error) {
	firsts = make([]Claim, 0, len(cs))
	idx = make([]int, 0, len(cs))
	seen := make(map[string]struct{}, len(cs))
	for i, c := range cs {
		n, err := c.Normalize()
		if err != nil {
			return nil, nil, fmt.Errorf("claim %d: %w", i, err)
		}
		if _, dup := seen[n.Key]; dup {
			continue
		}
		seen[n.Key] = struct{}{}
		firsts = append(firsts, n)
		idx = append(idx, i)
	}
	return firsts, idx, nil
}
