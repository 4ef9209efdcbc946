package receiver

import (
	"context"
	"fmt"
	"log/slog"
	"math/bits"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// memoryInbox is the inbox of a receiver configured without one: a set of
// keys in memory, made for the receiver's hot path (one map entry per key,
// no allocation per event, no index upkeep), with store/memory's cap
// ([memory.DefaultMaxInboxEntries]) and rules:
//
//   - a key is claimed while its window (DedupWindow from the claim) runs;
//   - at the cap a new key evicts a finished entry, a handled one before a
//     dead one, the one finished longest ago first, and is refused with
//     [store.ErrInboxFull] when every key is claimed;
//   - PruneInbox forgets handled keys whose window ended.
//
// Finished keys are evicted and pruned in the order they finished, which,
// as every claim of one receiver has the same window, is the order their
// windows end give or take the time events wait for their callback: a key
// whose window ended may outlive a prune by that much, and is claimable
// again meanwhile all the same.
//
// It deliberately exposes only [store.Inbox], not [store.InboxRecovery]:
// nothing outside the process can re-drive its entries, so the receiver
// treats it as non-durable (no bodies kept, claims released on Close).
type memoryInbox struct {
	log *slog.Logger
	max int

	mu      sync.Mutex
	keys    map[string]inboxKey
	seq     uint64
	handled fifo // finished keys by the time they finished, for pruning
	dead    fifo // and evicting
	evicted uint64
	refused uint64
}

// inboxKey is one key's state.
type inboxKey struct {
	state   store.InboxState
	expires int64  // end of the window, Unix nanoseconds
	seq     uint64 // of the claim: tells stale fifo entries apart
}

// finished is a key in a fifo, as it was when it finished.
type finished struct {
	key     string
	expires int64
	seq     uint64
}

// fifo is a queue of finished keys.
type fifo struct {
	items []finished
	head  int
}

func (q *fifo) push(f finished) {
	if q.head > 0 && q.head >= len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, f)
}

func (q *fifo) len() int { return len(q.items) - q.head }

func (q *fifo) front() finished { return q.items[q.head] }

func (q *fifo) pop() {
	q.items[q.head] = finished{}
	q.head++
}

func newDefaultInbox(log *slog.Logger) store.Inbox {
	return &memoryInbox{log: log, max: memory.DefaultMaxInboxEntries, keys: make(map[string]inboxKey)}
}

var errDefaultInboxFull = fmt.Errorf("receiver: inbox: every key is claimed, none can be evicted: %w", store.ErrInboxFull)

// Claim implements [store.Inbox].
func (m *memoryInbox) Claim(_ context.Context, c store.Claim) (bool, error) {
	c, err := c.Normalize()
	if err != nil {
		return false, fmt.Errorf("receiver: inbox: %w", err)
	}
	now := c.Now.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[c.Key]
	if ok && now < k.expires {
		return false, nil
	}
	if !ok && len(m.keys) >= m.max && !m.evictLocked() {
		m.refused++
		if bits.OnesCount64(m.refused) == 1 {
			m.log.Warn("receiver: inbox cap reached and every key is claimed; refusing claims",
				slog.Uint64("refused", m.refused), slog.Int("cap", m.max))
		}
		return false, errDefaultInboxFull
	}
	m.seq++
	m.keys[c.Key] = inboxKey{state: store.InboxClaimed, expires: c.Now.Add(c.TTL).UnixNano(), seq: m.seq}
	return true, nil
}

// evictLocked forgets the handled key that finished first, else the dead
// one, and reports whether there was one.
func (m *memoryInbox) evictLocked() bool {
	for _, q := range []*fifo{&m.handled, &m.dead} {
		for q.len() > 0 {
			f := q.front()
			q.pop()
			if k, ok := m.keys[f.key]; ok && k.seq == f.seq && k.state != store.InboxClaimed {
				delete(m.keys, f.key)
				m.evicted++
				if bits.OnesCount64(m.evicted) == 1 {
					m.log.Warn("receiver: inbox cap reached, evicting oldest",
						slog.Uint64("evicted", m.evicted), slog.Int("cap", m.max))
				}
				return true
			}
		}
	}
	return false
}

// ReleaseClaim implements [store.Inbox].
func (m *memoryInbox) ReleaseClaim(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[key]; ok && k.state == store.InboxClaimed {
		delete(m.keys, key)
	}
	return nil
}

// MarkHandled implements [store.Inbox].
func (m *memoryInbox) MarkHandled(_ context.Context, key string, _ time.Time) error {
	return m.finish(key, store.InboxHandled, &m.handled)
}

// MarkDead implements [store.Inbox].
func (m *memoryInbox) MarkDead(_ context.Context, key string, _ time.Time, _ string) error {
	return m.finish(key, store.InboxDead, &m.dead)
}

func (m *memoryInbox) finish(key string, state store.InboxState, q *fifo) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[key]
	if !ok {
		return fmt.Errorf("receiver: inbox entry %q: %w", key, store.ErrNotFound)
	}
	if k.state == state {
		return nil
	}
	k.state = state
	m.keys[key] = k
	q.push(finished{key: key, expires: k.expires, seq: k.seq})
	return nil
}

// PruneInbox implements [store.Inbox]: it forgets handled keys whose window
// ended at or before now, in the order they finished.
func (m *memoryInbox) PruneInbox(_ context.Context, now time.Time) (int, error) {
	t := now.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for m.handled.len() > 0 {
		f := m.handled.front()
		k, ok := m.keys[f.key]
		live := ok && k.seq == f.seq && k.state == store.InboxHandled
		if live && f.expires > t {
			break
		}
		m.handled.pop()
		if live {
			delete(m.keys, f.key)
			n++
		}
	}
	return n, nil
}
