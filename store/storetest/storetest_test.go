package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// The suite runs against the memory store here too, so `go test` on this
// package exercises every case.
func TestRunMemory(t *testing.T) {
	storetest.Run(t, func(testing.TB) storetest.Store { return memory.New(nil) })
	storetest.RunTx(t, func(testing.TB) storetest.TxStore {
		s := memory.New(nil)
		return storetest.TxStore{
			Store: s,
			Begin: func(context.Context) (storetest.Transaction, error) { return s.Begin(), nil },
		}
	})
}

// TestRunInboxAlone runs the inbox cases on an implementation of
// store.Inbox and nothing else: a runner needs only its role.
func TestRunInboxAlone(t *testing.T) {
	storetest.RunInbox(t, func(testing.TB) store.Inbox { return &mapInbox{} })
}

// mapInbox is about the smallest correct inbox: a map under a mutex. It is
// a [store.Inbox] only (no [store.InboxRecovery]), and forgets every entry
// whose window ended when pruned, as a store that keeps no bodies may.
type mapInbox struct {
	mu      sync.Mutex
	entries map[string]*mapEntry
}

type mapEntry struct {
	state   store.InboxState
	expires time.Time
}

var _ store.Inbox = (*mapInbox)(nil)

func (m *mapInbox) Claim(_ context.Context, c store.Claim) (bool, error) {
	c, err := c.Normalize()
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[c.Key]; e != nil && c.Now.Before(e.expires) {
		return false, nil
	}
	if m.entries == nil {
		m.entries = make(map[string]*mapEntry)
	}
	m.entries[c.Key] = &mapEntry{state: store.InboxClaimed, expires: c.Now.Add(c.TTL)}
	return true, nil
}

func (m *mapInbox) ReleaseClaim(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[key]; e != nil && e.state == store.InboxClaimed {
		delete(m.entries, key)
	}
	return nil
}

func (m *mapInbox) MarkHandled(_ context.Context, key string, _ time.Time) error {
	return m.mark(key, store.InboxHandled)
}

func (m *mapInbox) MarkDead(_ context.Context, key string, _ time.Time, _ string) error {
	return m.mark(key, store.InboxDead)
}

func (m *mapInbox) mark(key string, state store.InboxState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[key]
	if e == nil {
		return fmt.Errorf("mapinbox: %q: %w", key, store.ErrNotFound)
	}
	e.state = state
	return nil
}

func (m *mapInbox) PruneInbox(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for key, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, key)
			n++
		}
	}
	return n, nil
}
