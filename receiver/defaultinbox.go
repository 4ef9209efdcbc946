package receiver

import (
	"context"
	"time"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// memoryInbox is the inbox of a receiver configured without one: a
// store/memory Store of its own, with the default caps. It deliberately
// exposes only [store.Inbox], not [store.InboxRecovery]: nothing outside
// the process can re-drive its entries, so the receiver treats it as
// non-durable (no bodies kept, claims released on Close).
type memoryInbox struct{ s *memory.Store }

func newDefaultInbox() store.Inbox { return memoryInbox{memory.New(nil)} }

func (m memoryInbox) Claim(ctx context.Context, c store.Claim) (bool, error) {
	return m.s.Claim(ctx, c)
}

func (m memoryInbox) ReleaseClaim(ctx context.Context, key string) error {
	return m.s.ReleaseClaim(ctx, key)
}

func (m memoryInbox) MarkHandled(ctx context.Context, key string, at time.Time) error {
	return m.s.MarkHandled(ctx, key, at)
}

func (m memoryInbox) MarkDead(ctx context.Context, key string, at time.Time, reason string) error {
	return m.s.MarkDead(ctx, key, at, reason)
}

func (m memoryInbox) PruneInbox(ctx context.Context, now time.Time) (int, error) {
	return m.s.PruneInbox(ctx, now)
}
