package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

var t0 = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

// checkInvariants requires that every index agrees with the maps.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	handled, claimed, dead := 0, 0, 0
	for _, e := range s.inbox {
		switch e.State {
		case store.InboxHandled:
			handled++
			require.Same(t, e, s.inboxExp.items[e.expIdx])
			require.Equal(t, [2]int{-1, -1}, [2]int{e.leaseIdx, e.deadIdx}, "a handled entry is in the expiry heap alone")
		case store.InboxClaimed:
			claimed++
			require.Same(t, e, s.inboxLease.items[e.leaseIdx])
			require.Equal(t, [2]int{-1, -1}, [2]int{e.expIdx, e.deadIdx}, "a claimed entry is in the lease heap alone")
		case store.InboxDead:
			dead++
			require.Same(t, e, s.inboxDead.items[e.deadIdx])
			require.Equal(t, [2]int{-1, -1}, [2]int{e.leaseIdx, e.expIdx}, "a dead entry is in the dead heap alone")
		}
	}
	require.Equal(t, handled, s.inboxExp.Len())
	require.Equal(t, claimed, s.inboxLease.Len())
	require.Equal(t, dead, s.inboxDead.Len())
	require.LessOrEqual(t, len(s.inbox), s.cfg.MaxInboxEntries)
	checkAttemptIndexes(t, s)
	checkDeliveryIndexes(t, s)

	scheduled, paused, fin := 0, 0, 0
	for _, d := range s.deliveries {
		switch {
		case d.grp != nil:
			scheduled++
			require.Same(t, d, d.grp.h.items[d.hidx])
		case d.State == store.StatePaused:
			paused++
		case finished(d.State):
			fin++
		}
	}
	inHeaps := 0
	for _, g := range s.groups {
		require.Positive(t, g.h.Len(), "empty groups are dropped")
		inHeaps += g.h.Len()
	}
	require.Equal(t, scheduled, inHeaps)
	require.Equal(t, paused, s.nPaused)
	require.Equal(t, fin, s.nFinished)
	require.LessOrEqual(t, len(s.finished)-s.finHead, 2*s.nFinished+1024, "the finished queue is compacted")
	events := map[string]bool{}
	for _, d := range s.deliveries {
		events[d.Event.ID] = true
	}
	require.Len(t, s.events, len(events), "events without deliveries are forgotten")
}

// A long run of short-window claims, handled and pruned as a receiver
// does, keeps the inbox at the size of one window.
func TestInboxBoundedOverLongRun(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	const (
		claims = 200_000
		step   = 10 * time.Millisecond
		ttl    = time.Second // 100 claims per window
		prune  = 1000        // prune every 1000 claims
	)
	most := 0
	for i := range claims {
		now := t0.Add(time.Duration(i) * step)
		key := uuid.NewString()
		won, err := s.Claim(ctx, store.Claim{Key: key, Body: []byte(`{"n":1}`), Now: now, TTL: ttl, Lease: time.Minute})
		require.NoError(t, err)
		require.True(t, won)
		if i%7 == 0 {
			require.NoError(t, s.MarkDead(ctx, key, now, "boom"))
			require.NoError(t, s.Replay(ctx, key, now))
		}
		require.NoError(t, s.MarkHandled(ctx, key, now))
		if i%prune == 0 {
			_, err := s.PruneInbox(ctx, now)
			require.NoError(t, err)
			most = max(most, s.Stats().InboxEntries)
		}
	}
	st := s.Stats()
	require.LessOrEqual(t, most, prune+int(ttl/step)+1, "entries beyond one window and one prune interval")
	require.Zero(t, st.InboxEvicted, "pruning, not the cap, bounded the run")
	checkInvariants(t, s)
	// After the last window everything goes.
	n, err := s.PruneInbox(ctx, t0.Add(claims*step+ttl))
	require.NoError(t, err)
	require.Equal(t, st.InboxEntries, n)
	require.Zero(t, s.Stats().InboxEntries)
	checkInvariants(t, s)
}

// A full inbox of handled entries evicts the ones whose window ends first
// and never refuses a claim.
func TestInboxCapEvictsHandledFirstToExpire(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	s := New(&Config{MaxInboxEntries: 100, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * time.Second)
		key := fmt.Sprint("k", i)
		won, err := s.Claim(ctx, store.Claim{Key: key, Now: now, TTL: time.Hour, Lease: time.Minute})
		require.NoError(t, err)
		require.True(t, won, "an inbox full of handled entries never refuses a claim")
		require.NoError(t, s.MarkHandled(ctx, key, now))
	}
	st := s.Stats()
	require.Equal(t, 100, st.InboxEntries)
	require.Equal(t, uint64(900), st.InboxEvicted)
	require.Zero(t, st.InboxRefused)
	for i := range 1000 {
		_, err := s.GetInboxEntry(ctx, fmt.Sprint("k", i))
		if i < 900 {
			require.ErrorIs(t, err, store.ErrNotFound, "k%d's window ended first: evicted", i)
		} else {
			require.NoError(t, err, "k%d is among the latest windows", i)
		}
	}
	// Evictions are logged at 1, 2, 4, ..., 512.
	require.Equal(t, 10, strings.Count(logs.String(), "evicting oldest"), logs.String())
	checkInvariants(t, s)
}

// At the cap, a new claim evicts handled entries (expired first, then by
// window end), then dead ones (earliest death first), and never a claimed
// one: with only claimed entries left it is refused with
// store.ErrInboxFull, so a redelivery of a claimed event stays a duplicate.
func TestInboxCapNeverEvictsClaimed(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	s := New(&Config{MaxInboxEntries: 6, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	claim := func(key string, now time.Time, ttl time.Duration) (bool, error) {
		t.Helper()
		return s.Claim(ctx, store.Claim{Key: key, Now: now, TTL: ttl, Lease: time.Minute})
	}
	mustClaim := func(key string, now time.Time, ttl time.Duration) {
		t.Helper()
		won, err := claim(key, now, ttl)
		require.NoError(t, err)
		require.True(t, won, key)
	}
	gone := func(key string) bool {
		t.Helper()
		_, err := s.GetInboxEntry(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return true
		}
		require.NoError(t, err)
		return false
	}

	// Claimed first, so oldest by claim: the old cap evicted these first.
	mustClaim("claimed-1", t0, time.Hour)
	mustClaim("claimed-2", t0, time.Hour)
	mustClaim("dead-late", t0.Add(time.Second), time.Hour)
	mustClaim("dead-early", t0.Add(time.Second), time.Hour)
	mustClaim("handled-long", t0.Add(2*time.Second), 2*time.Hour)
	mustClaim("handled-expired", t0.Add(2*time.Second), time.Minute)
	require.NoError(t, s.MarkDead(ctx, "dead-early", t0.Add(3*time.Second), "boom"))
	require.NoError(t, s.MarkDead(ctx, "dead-late", t0.Add(4*time.Second), "boom"))
	require.NoError(t, s.MarkHandled(ctx, "handled-long", t0.Add(3*time.Second)))
	require.NoError(t, s.MarkHandled(ctx, "handled-expired", t0.Add(3*time.Second)))
	checkInvariants(t, s)

	now := t0.Add(10 * time.Minute) // handled-expired's window has ended
	for i, victim := range []string{"handled-expired", "handled-long", "dead-early", "dead-late"} {
		mustClaim(fmt.Sprint("new-", i), now, time.Hour)
		require.True(t, gone(victim), "%s is evicted by claim %d", victim, i)
		require.False(t, gone("claimed-1"))
		require.False(t, gone("claimed-2"))
		checkInvariants(t, s)
	}
	st := s.Stats()
	require.Equal(t, uint64(4), st.InboxEvicted)
	require.Equal(t, 6, st.InboxClaimed)

	// Only claimed entries are left: new keys are refused, claimed keys
	// stay duplicates.
	for i := range 5 {
		won, err := claim(fmt.Sprint("refused-", i), now, time.Hour)
		require.ErrorIs(t, err, store.ErrInboxFull)
		require.False(t, won)
	}
	won, err := claim("claimed-1", now, time.Hour)
	require.NoError(t, err)
	require.False(t, won, "a claimed event redelivered at the cap is still a duplicate")
	st = s.Stats()
	require.Equal(t, uint64(5), st.InboxRefused)
	require.Equal(t, uint64(4), st.InboxEvicted)
	require.Equal(t, 6, st.InboxEntries)
	// Refusals are logged at 1, 2 and 4.
	require.Equal(t, 3, strings.Count(logs.String(), "refusing claims"), logs.String())

	// Once one is handled (or released), there is room again.
	require.NoError(t, s.MarkHandled(ctx, "claimed-1", now))
	mustClaim("refused-0", now, time.Hour)
	require.True(t, gone("claimed-1"))
	require.NoError(t, s.ReleaseClaim(ctx, "claimed-2"))
	mustClaim("refused-1", now, time.Hour)
	require.Equal(t, uint64(5), s.Stats().InboxEvicted)
	checkInvariants(t, s)
}

func TestAttemptsCapAndPrune(t *testing.T) {
	ctx := context.Background()
	s := New(&Config{MaxAttempts: 1000, Logger: slog.New(slog.DiscardHandler)})
	const total = 200_000
	for i := range total {
		a := &store.Attempt{
			DeliveryID: fmt.Sprint("d", i/3), EndpointID: fmt.Sprint("e", i%7), EventID: fmt.Sprint("ev", i/3),
			Number: i, At: t0.Add(time.Duration(i) * time.Millisecond), RequestBody: make([]byte, 64),
		}
		require.NoError(t, s.AddAttempt(ctx, a))
		if i%5000 == 4999 {
			// Retention: prune what started more than 2 s ago.
			_, err := s.PruneAttempts(ctx, a.At.Add(-2*time.Second))
			require.NoError(t, err)
		}
		require.LessOrEqual(t, len(s.attempts), 1000)
		if i%20_000 == 0 || i%5000 == 4999 {
			// The indexes shrink with eviction and pruning: one list per
			// delivery, event and endpoint still in the log.
			require.LessOrEqual(t, len(s.attemptsByDelivery), 1000/3+2)
			require.LessOrEqual(t, len(s.attemptsByEvent), 1000/3+2)
			require.LessOrEqual(t, len(s.attemptsByEndpoint), 7)
			checkAttemptIndexes(t, s)
		}
	}
	st := s.Stats()
	require.Equal(t, 1000, st.Attempts)
	require.Positive(t, st.AttemptsEvicted)
	// The kept ones are the latest.
	list, _, err := s.ListAttempts(ctx, store.AttemptFilter{AllTenants: true, Page: store.Page{Limit: store.MaxPageSize}})
	require.NoError(t, err)
	require.Len(t, list, 1000)
	require.Equal(t, total-1, list[0].Number)
	require.Equal(t, total-1000, list[999].Number)
	checkInvariants(t, s)
}

func TestFinishedDeliveriesCap(t *testing.T) {
	ctx := context.Background()
	s := New(&Config{MaxFinishedDeliveries: 50, Logger: slog.New(slog.DiscardHandler)})
	ep := &store.Endpoint{Mode: event.ModeTest, URL: "https://example.com/", EventTypes: []string{"*"}, Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
	require.NoError(t, s.CreateEndpoint(ctx, ep))
	target := []store.Target{{EndpointID: ep.ID}}
	var first event.Event
	for i := range 2000 {
		now := t0.Add(time.Duration(i) * time.Second)
		ev := event.Event{APIMode: event.ModeTest, Date: now, ID: uuid.NewString(), Type: "ping", Data: json.RawMessage(`{}`)}
		if i == 0 {
			first = ev
		}
		n, err := s.Enqueue(ctx, enqueueAt(ev, target))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		ds, err := s.Lease(ctx, store.LeaseRequest{Now: now, Limit: 1, Duration: time.Minute})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		settle := func(st store.Settlement) {
			t.Helper()
			res, err := s.Settle(ctx, store.SettleBatch{Settlements: []store.Settlement{st}})
			require.NoError(t, err)
			require.Equal(t, []bool{false}, res.Lost)
		}
		if i%2 == 0 {
			settle(store.Settlement{Ref: ds[0].Ref(), Outcome: store.OutcomeSucceeded, At: now})
		} else {
			settle(store.Settlement{Ref: ds[0].Ref(), Outcome: store.OutcomeFailed, At: now, Error: "gone"})
			// Requeue and fail again: stale entries in the finished queue
			// must not pile up.
			require.NoError(t, s.Requeue(ctx, ds[0].ID, now))
			ds, err = s.Lease(ctx, store.LeaseRequest{Now: now, Limit: 1, Duration: time.Minute})
			require.NoError(t, err)
			settle(store.Settlement{Ref: ds[0].Ref(), Outcome: store.OutcomeFailed, At: now, Error: "gone"})
		}
	}
	st := s.Stats()
	require.Equal(t, 50, st.Finished)
	require.Equal(t, 50, st.Deliveries)
	require.Equal(t, 50, st.Events, "an event is forgotten with its last delivery")
	require.Equal(t, uint64(1950), st.DeliveriesEvicted)
	checkInvariants(t, s)

	// The first event was forgotten: enqueueing it again creates a delivery.
	n, err := s.Enqueue(ctx, enqueueAt(first, target))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	checkInvariants(t, s)
}

// A disable/enable cycle with leased, pending and paused deliveries keeps
// the lease heaps consistent.
func TestDisableEnableKeepsHeapsConsistent(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	var eps []*store.Endpoint
	for range 3 {
		ep := &store.Endpoint{Mode: event.ModeTest, URL: "https://example.com/", EventTypes: []string{"*"}, Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		eps = append(eps, ep)
	}
	var targets []store.Target
	for _, ep := range eps {
		targets = append(targets, store.Target{EndpointID: ep.ID})
	}
	for i := range 100 {
		ev := event.Event{APIMode: event.ModeTest, Date: t0.Add(time.Duration(i) * time.Second), ID: uuid.NewString(), Type: "ping", Data: json.RawMessage(`{}`)}
		_, err := s.Enqueue(ctx, enqueueAt(ev, targets))
		require.NoError(t, err)
	}
	leased, err := s.Lease(ctx, store.LeaseRequest{Now: t0.Add(time.Minute), Limit: 40, Duration: time.Hour})
	require.NoError(t, err)
	require.Len(t, leased, 40)
	for round := range 4 {
		at := t0.Add(time.Duration(round) * time.Hour)
		_, err := s.SetDisabled(ctx, eps[round%3].ID, true, "x", at)
		require.NoError(t, err)
		checkInvariants(t, s)
		_, err = s.SetDisabled(ctx, eps[round%3].ID, false, "", at)
		require.NoError(t, err)
		checkInvariants(t, s)
	}
	var retries store.SettleBatch
	for _, d := range leased[:20] {
		retries.Settlements = append(retries.Settlements, store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeRetry, Next: t0, Error: "x"})
	}
	res, err := s.Settle(ctx, retries)
	require.NoError(t, err)
	require.NotContains(t, res.Lost, true)
	require.NoError(t, s.DeleteEndpoint(ctx, eps[0].ID))
	checkInvariants(t, s)
	st := s.Stats()
	require.Equal(t, st.Deliveries, st.Scheduled+st.Paused+st.Finished)
}

// checkList requires that l is sorted, holds n items, and that its chunks
// are not sparse: its memory is proportional to its length.
func checkList[T comparable](t *testing.T, l *sortedList[T], n int, keyOf func(T) key, what string) {
	t.Helper()
	require.Equal(t, n, l.Len(), what)
	got := 0
	var prev *key
	l.keys(func(k key, v T) bool {
		// require only on failure: this runs for every row, often.
		if keyOf(v) != k {
			require.Equal(t, keyOf(v), k, "%s: the entry's key is its row's", what)
		}
		if prev != nil && prev.cmp(k) >= 0 {
			require.Negative(t, prev.cmp(k), "%s is in ascending order", what)
		}
		prev = &k
		got++
		return true
	})
	require.Equal(t, n, got, what)
	chunks, slots := l.footprint()
	require.LessOrEqual(t, chunks, 4*n/chunkMax+1, "%s: chunks are merged as they empty", what)
	require.LessOrEqual(t, slots, 5*n+2*chunkMax, "%s: slots are bounded by the length", what)
}

// checkAttemptIndexes requires that the attempt log and each index hold
// exactly the stored attempts, with no empty lists left behind.
func checkAttemptIndexes(t *testing.T, s *Store) {
	t.Helper()
	checkList(t, &s.attemptLog, len(s.attempts), (*attempt).key, "attempt log")
	for _, ix := range []struct {
		name string
		m    attemptIndex
		key  func(a *attempt) string
	}{
		{"by delivery", s.attemptsByDelivery, func(a *attempt) string { return a.DeliveryID }},
		{"by endpoint", s.attemptsByEndpoint, func(a *attempt) string { return a.EndpointID }},
		{"by event", s.attemptsByEvent, func(a *attempt) string { return a.EventID }},
	} {
		want := map[string]int{}
		for _, a := range s.attempts {
			if k := ix.key(a); k != "" {
				want[k]++
			}
		}
		require.Len(t, ix.m, len(want), "attempts %s: one list per key, none empty", ix.name)
		for k, l := range ix.m {
			checkList(t, l, want[k], (*attempt).key, "attempts "+ix.name+" "+k)
			l.all(func(a *attempt) bool {
				if s.attempts[a.ID] != a || ix.key(a) != k {
					require.Failf(t, "attempt index", "%s %s lists %s (%s), not stored there", ix.name, k, a.ID, ix.key(a))
				}
				return true
			})
		}
	}
}

// checkDeliveryIndexes requires that the delivery log and the per-endpoint
// lists hold exactly the stored deliveries.
func checkDeliveryIndexes(t *testing.T, s *Store) {
	t.Helper()
	checkList(t, &s.deliveryLog, len(s.deliveries), (*delivery).key, "delivery log")
	want := map[string]int{}
	for _, d := range s.deliveries {
		want[d.EndpointID]++
	}
	require.Len(t, s.byEndpoint, len(want), "deliveries by endpoint: one list per endpoint, none empty")
	for k, l := range s.byEndpoint {
		checkList(t, l, want[k], (*delivery).key, "deliveries of "+k)
		l.all(func(d *delivery) bool {
			if s.deliveries[d.ID] != d || d.EndpointID != k {
				require.Failf(t, "delivery index", "deliveries of %s list %s, not stored there", k, d.ID)
			}
			return true
		})
	}
}
