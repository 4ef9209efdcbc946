package receiver

import (
	"context"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// TEMPORARY: replaced by store/memory once it lands.
func newDefaultInbox() store.Inbox { return &mapInbox{m: make(map[string]*store.InboxEntry)} }

type mapInbox struct {
	mu sync.Mutex
	m  map[string]*store.InboxEntry
}

func (b *mapInbox) Claim(_ context.Context, c store.Claim) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.m[c.Key]; ok && c.Now.Before(e.ExpiresAt) {
		return false, nil
	}
	b.m[c.Key] = &store.InboxEntry{Key: c.Key, State: store.InboxClaimed, ClaimedAt: c.Now, ExpiresAt: c.Now.Add(c.TTL)}
	return true, nil
}

func (b *mapInbox) Release(_ context.Context, key string) error {
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
	return nil
}

func (b *mapInbox) MarkHandled(_ context.Context, key string, at time.Time) error {
	return b.set(key, store.InboxHandled, at, "")
}

func (b *mapInbox) MarkDead(_ context.Context, key string, at time.Time, reason string) error {
	return b.set(key, store.InboxDead, at, reason)
}

func (b *mapInbox) set(key string, s store.InboxState, at time.Time, reason string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[key]
	if !ok {
		return store.ErrNotFound
	}
	e.State, e.FinishedAt, e.LastError = s, at, reason
	return nil
}

func (b *mapInbox) PruneInbox(_ context.Context, now time.Time) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for k, e := range b.m {
		if !now.Before(e.ExpiresAt) {
			delete(b.m, k)
			n++
		}
	}
	return n, nil
}
