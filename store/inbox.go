package store

import (
	"context"
	"fmt"
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
