package memory

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"log/slog"
	"math/bits"
	"slices"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// inboxRec is a stored inbox entry with its position in the heap of its
// state. Its Body is never changed in place (only replaced), so readers
// copy the entry's fields under the lock and its body after letting go of
// it.
type inboxRec struct {
	store.InboxEntry
	seq      uint64 // claim order, breaks ties
	leaseIdx int    // in inboxLease: claimed entries
	expIdx   int    // in inboxExp: handled entries
	deadIdx  int    // in inboxDead: dead entries
}

// errInboxFull is Claim's error when the cap is reached and every entry is
// claimed.
var errInboxFull = fmt.Errorf("memory: claim: every inbox entry is claimed, none can be evicted: %w", store.ErrInboxFull)

// Claim implements [store.Inbox]. A TTL that is not positive means
// [store.DefaultDedupWindow]; a negative Lease means zero. The key's window
// has expired when Now is at or after its ExpiresAt. An empty Key is
// [store.ErrInvalid].
//
// A new key that finds the inbox at [Config].MaxInboxEntries evicts one
// finished entry to make room: the handled entry whose window ends first
// (so expired ones go first), else the dead entry that died earliest. A
// claimed entry is never evicted (its event is accepted and not handled:
// forgetting it would let a redelivery in as new), so when every entry is
// claimed Claim refuses with an error wrapping [store.ErrInboxFull],
// counted in [Stats].InboxRefused. Either costs O(log n).
func (s *Store) Claim(_ context.Context, c store.Claim) (bool, error) {
	c, err := c.Normalize()
	if err != nil {
		return false, fmt.Errorf("memory: %w", err)
	}
	ttl, lease := c.TTL, c.Lease
	body := bytes.Clone(c.Body)

	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.inbox[c.Key]
	if e != nil && c.Now.Before(e.ExpiresAt) {
		return false, nil
	}
	if e == nil {
		if len(s.inbox) >= s.cfg.MaxInboxEntries && !s.evictInbox() {
			s.inboxRefused++
			if bits.OnesCount64(s.inboxRefused) == 1 {
				s.log.Warn("memory store: inbox cap reached and every entry is claimed; refusing claims",
					slog.Uint64("refused", s.inboxRefused), slog.Int("cap", s.cfg.MaxInboxEntries))
			}
			return false, errInboxFull
		}
		e = &inboxRec{leaseIdx: -1, expIdx: -1, deadIdx: -1}
		s.inbox[c.Key] = e
	}
	s.enqueueSeq++
	e.seq = s.enqueueSeq
	e.InboxEntry = store.InboxEntry{
		Key:         c.Key,
		State:       store.InboxClaimed,
		Body:        body,
		ClaimedAt:   c.Now,
		ExpiresAt:   c.Now.Add(ttl),
		LeasedUntil: c.Now.Add(lease),
	}
	s.fileInbox(e)
	return true, nil
}

// evictInbox forgets one finished entry, handled before dead, and reports
// whether there was one.
func (s *Store) evictInbox() bool {
	var e *inboxRec
	switch {
	case s.inboxExp.Len() > 0:
		e = s.inboxExp.items[0]
	case s.inboxDead.Len() > 0:
		e = s.inboxDead.items[0]
	default:
		return false
	}
	s.dropInbox(e)
	s.inboxEvicted++
	s.logEviction("inbox entries", s.inboxEvicted, s.cfg.MaxInboxEntries)
	return true
}

// fileInbox puts e in the heap of its state (claimed: by lease end;
// handled: by window end; dead: by death), or fixes its place there, and
// takes it out of the others.
func (s *Store) fileInbox(e *inboxRec) {
	if e.State != store.InboxClaimed {
		s.inboxLease.remove(e.leaseIdx)
	}
	if e.State != store.InboxHandled {
		s.inboxExp.remove(e.expIdx)
	}
	if e.State != store.InboxDead {
		s.inboxDead.remove(e.deadIdx)
	}
	switch e.State {
	case store.InboxClaimed:
		s.inboxLease.put(e, e.leaseIdx)
	case store.InboxHandled:
		s.inboxExp.put(e, e.expIdx)
	case store.InboxDead:
		s.inboxDead.put(e, e.deadIdx)
	}
}

// dropInbox forgets e.
func (s *Store) dropInbox(e *inboxRec) {
	s.inboxLease.remove(e.leaseIdx)
	s.inboxExp.remove(e.expIdx)
	s.inboxDead.remove(e.deadIdx)
	delete(s.inbox, e.Key)
}

// ReleaseClaim implements [store.Inbox]: it forgets a claimed entry so the
// event is accepted again. A key that is absent, handled or dead is left
// alone and is not an error.
func (s *Store) ReleaseClaim(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.inbox[key]; e != nil && e.State == store.InboxClaimed {
		s.dropInbox(e)
	}
	return nil
}

// MarkHandled implements [store.Inbox]. The body is dropped; the key stays
// until its window ends and PruneInbox runs.
func (s *Store) MarkHandled(_ context.Context, key string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.inbox[key]
	if e == nil {
		return notFound("inbox entry", key)
	}
	e.State = store.InboxHandled
	e.FinishedAt = at
	e.Body = nil
	s.fileInbox(e)
	return nil
}

// MarkDead implements [store.Inbox]. The entry keeps its body, stays
// through PruneInbox and can be replayed; only the cap evicts it, after
// every handled entry.
func (s *Store) MarkDead(_ context.Context, key string, at time.Time, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.inbox[key]
	if e == nil {
		return notFound("inbox entry", key)
	}
	e.State = store.InboxDead
	e.FinishedAt = at
	e.LastError = reason
	s.fileInbox(e)
	return nil
}

// PruneInbox implements [store.Inbox]: it forgets handled entries whose
// window ended at or before now, in O(k log n) for k pruned. Claimed and
// dead entries stay (the cap evicts dead ones, never claimed ones).
func (s *Store) PruneInbox(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for s.inboxExp.Len() > 0 && !s.inboxExp.items[0].ExpiresAt.After(now) {
		s.dropInbox(s.inboxExp.items[0])
		n++
	}
	return n, nil
}

// LeaseClaimed implements [store.InboxRecovery]: it takes claimed entries
// whose LeasedUntil is at or before now, earliest first, in O(k log n).
// limit and lease must be positive ([store.ErrInvalid]).
func (s *Store) LeaseClaimed(_ context.Context, now time.Time, lease time.Duration, limit int) ([]*store.InboxEntry, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("memory: lease claimed: limit and lease must be positive: %w", store.ErrInvalid)
	}
	var vals []store.InboxEntry
	s.mu.Lock()
	for len(vals) < limit && s.inboxLease.Len() > 0 {
		e := s.inboxLease.items[0]
		if e.LeasedUntil.After(now) {
			break
		}
		e.Attempts++
		e.LeasedUntil = now.Add(lease)
		heap.Fix(&s.inboxLease, 0)
		vals = append(vals, e.InboxEntry)
	}
	s.mu.Unlock()
	return finishEntries(vals), nil
}

// finishEntries turns entries copied under the lock into deep copies,
// copying their bodies outside it.
func finishEntries(vals []store.InboxEntry) []*store.InboxEntry {
	if vals == nil {
		return nil
	}
	out := make([]*store.InboxEntry, len(vals))
	for i := range vals {
		vals[i].Body = bytes.Clone(vals[i].Body)
		out[i] = &vals[i]
	}
	return out
}

// GetInboxEntry implements [store.InboxRecovery].
func (s *Store) GetInboxEntry(_ context.Context, key string) (*store.InboxEntry, error) {
	s.mu.RLock()
	e := s.inbox[key]
	var v store.InboxEntry
	if e != nil {
		v = e.InboxEntry
	}
	s.mu.RUnlock()
	if e == nil {
		return nil, notFound("inbox entry", key)
	}
	return v.Clone(), nil
}

// ListInbox implements [store.InboxRecovery]; an empty state lists every
// entry. It scans the inbox and sorts the matches. A bad cursor is
// [store.ErrInvalid].
func (s *Store) ListInbox(_ context.Context, state store.InboxState, p store.Page) ([]*store.InboxEntry, string, error) {
	after, err := decodeTimeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	var matches []*inboxRec
	for _, e := range s.inbox {
		if (state == "" || e.State == state) && (after == nil || after.before(e.ClaimedAt, e.Key)) {
			matches = append(matches, e)
		}
	}
	slices.SortFunc(matches, func(a, b *inboxRec) int { return newestFirst(a.ClaimedAt, a.Key, b.ClaimedAt, b.Key) })
	size := p.Size()
	next := ""
	if len(matches) > size {
		matches = matches[:size]
		next = encodeTimeCursor(matches[size-1].ClaimedAt, matches[size-1].Key)
	}
	vals := make([]store.InboxEntry, len(matches))
	for i, e := range matches {
		vals[i] = e.InboxEntry
	}
	s.mu.RUnlock()
	out := finishEntries(vals)
	if out == nil {
		out = []*store.InboxEntry{}
	}
	return out, next, nil
}

// Replay implements [store.InboxRecovery]: the dead entry becomes claimed,
// with Attempts reset to 0, LastError and FinishedAt cleared and its lease
// ending at at, so LeaseClaimed hands it out from then.
func (s *Store) Replay(_ context.Context, key string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.inbox[key]
	if e == nil {
		return notFound("inbox entry", key)
	}
	if e.State != store.InboxDead {
		return fmt.Errorf("memory: inbox entry %q is %s, not dead: %w", key, e.State, store.ErrConflict)
	}
	e.State = store.InboxClaimed
	e.Attempts = 0
	e.LastError = ""
	e.FinishedAt = time.Time{}
	e.LeasedUntil = at
	s.fileInbox(e)
	return nil
}
