package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

var inboxCases = []testCase[*inboxFixture]{
	{"ClaimOnce", testClaimOnce},
	{"ClaimConcurrent", testClaimConcurrent},
	{"ClaimExpiry", testClaimExpiry},
	{"ClaimDefaults", testClaimDefaults},
	{"ClaimInvalid", testClaimInvalid},
	{"ReleaseClaim", testInboxRelease},
	{"ReleaseFinished", testInboxReleaseFinished},
	{"MarkMissing", testInboxMarkMissing},
	{"Prune", testInboxPrune},
	{"PruneBoundary", testInboxPruneBoundary},
}

var recoveryCases = []testCase[*inboxFixture]{
	{"Entry", testRecoveryEntry},
	{"LeaseClaimed", testRecoveryLeaseClaimed},
	{"Dead", testRecoveryDead},
	{"Replay", testRecoveryReplay},
	{"ReplayResetsAttempts", testRecoveryReplayResets},
	{"PruneKeeps", testRecoveryPruneKeeps},
	{"ListAll", testRecoveryListAll},
	{"LeaseClaimedInvalid", testRecoveryLeaseClaimedInvalid},
	{"ReleaseFinished", testRecoveryReleaseFinished},
	{"ClaimDefaults", testRecoveryClaimDefaults},
}

// claim claims key at now for window ttl and a one-minute lease.
func (f *inboxFixture) claim(key string, now time.Time, ttl time.Duration) bool {
	f.Helper()
	won, err := f.s.Claim(f.ctx, store.Claim{Key: key, Body: []byte("body of " + key), Now: now, TTL: ttl, Lease: time.Minute})
	require.NoError(f, err)
	return won
}

func testClaimOnce(f *inboxFixture) {
	require.True(f, f.claim("k1", at(0), time.Hour), "the first claim wins")
	require.False(f, f.claim("k1", at(time.Second), time.Hour), "a second claim in the window loses")
	require.False(f, f.claim("k1", at(0), time.Hour))
	require.True(f, f.claim("k2", at(time.Second), time.Hour), "keys are independent")
	require.NoError(f, f.s.MarkHandled(f.ctx, "k1", at(time.Minute)))
	require.False(f, f.claim("k1", at(2*time.Minute), time.Hour), "a handled key is remembered for its window")
	require.NoError(f, f.s.MarkDead(f.ctx, "k2", at(time.Minute), "boom"))
	require.False(f, f.claim("k2", at(2*time.Minute), time.Hour), "a dead key is remembered for its window")
}

func testClaimConcurrent(f *inboxFixture) {
	const claimers = 64
	for k := range 3 {
		key := fmt.Sprintf("concurrent-%d", k)
		var (
			wins, fails atomic.Int32
			wg          sync.WaitGroup
			start       = make(chan struct{})
		)
		for range claimers {
			wg.Go(func() {
				<-start
				won, err := f.s.Claim(f.ctx, store.Claim{Key: key, Body: []byte("b"), Now: at(0), TTL: time.Hour, Lease: time.Minute})
				switch {
				case err != nil:
					fails.Add(1)
				case won:
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		require.Zero(f, fails.Load(), "claims failed")
		require.Equal(f, int32(1), wins.Load(), "exactly one of %d concurrent claims of %s wins", claimers, key)
	}
}

func testClaimExpiry(f *inboxFixture) {
	require.True(f, f.claim("k", at(0), time.Hour))
	require.False(f, f.claim("k", at(time.Hour-time.Millisecond), time.Hour))
	require.True(f, f.claim("k", at(time.Hour+time.Millisecond), time.Hour), "a claim after the window wins again")
	require.False(f, f.claim("k", at(time.Hour+2*time.Millisecond), time.Hour), "and starts a new window")

	require.True(f, f.claim("h", at(0), time.Hour))
	require.NoError(f, f.s.MarkHandled(f.ctx, "h", at(time.Minute)))
	require.True(f, f.claim("h", at(2*time.Hour), time.Hour), "a handled key is forgotten after its window")
}

func testInboxRelease(f *inboxFixture) {
	require.True(f, f.claim("k", at(0), time.Hour))
	require.NoError(f, f.s.ReleaseClaim(f.ctx, "k"))
	require.True(f, f.claim("k", at(time.Second), time.Hour), "a released key can be claimed again")
	require.False(f, f.claim("k", at(2*time.Second), time.Hour))
	require.NoError(f, f.s.ReleaseClaim(f.ctx, "never-claimed"), "releasing an absent key is not an error")
	require.NoError(f, f.s.ReleaseClaim(f.ctx, "k"))
	require.NoError(f, f.s.ReleaseClaim(f.ctx, "k"))
}

func testClaimDefaults(f *inboxFixture) {
	for _, ttl := range []time.Duration{0, -time.Hour} {
		key := fmt.Sprintf("ttl%d", ttl)
		won, err := f.s.Claim(f.ctx, store.Claim{Key: key, Body: []byte("b"), Now: at(0), TTL: ttl, Lease: -time.Minute})
		require.NoError(f, err, "TTL %v and a negative Lease are accepted", ttl)
		require.True(f, won)
		require.False(f, f.claim(key, at(store.DefaultDedupWindow-time.Millisecond), time.Hour),
			"TTL %v means DefaultDedupWindow", ttl)
		require.True(f, f.claim(key, at(store.DefaultDedupWindow), time.Hour),
			"the window of TTL %v ends at Now+DefaultDedupWindow", ttl)
	}
}

func testClaimInvalid(f *inboxFixture) {
	won, err := f.s.Claim(f.ctx, store.Claim{Key: "", Body: []byte("b"), Now: at(0), TTL: time.Hour})
	require.ErrorIs(f, err, store.ErrInvalid, "an empty key")
	require.False(f, won)
}

// testInboxReleaseFinished: a late ReleaseClaim (after the event was handled
// or declared dead) must not let a duplicate through.
func testInboxReleaseFinished(f *inboxFixture) {
	require.True(f, f.claim("handled", at(0), time.Hour))
	require.NoError(f, f.s.MarkHandled(f.ctx, "handled", at(time.Second)))
	require.True(f, f.claim("dead", at(0), time.Hour))
	require.NoError(f, f.s.MarkDead(f.ctx, "dead", at(time.Second), "boom"))

	for _, key := range []string{"handled", "dead"} {
		require.NoError(f, f.s.ReleaseClaim(f.ctx, key), "releasing a %s entry is not an error", key)
		require.False(f, f.claim(key, at(time.Minute), time.Hour), "releasing a %s entry is a no-op: a duplicate loses", key)
	}
	require.NoError(f, f.s.MarkHandled(f.ctx, "handled", at(2*time.Minute)), "the handled entry is still there")
	require.NoError(f, f.s.MarkDead(f.ctx, "dead", at(2*time.Minute), "boom"), "the dead entry is still there")
}

func testInboxMarkMissing(f *inboxFixture) {
	require.ErrorIs(f, f.s.MarkHandled(f.ctx, "missing", at(0)), store.ErrNotFound)
	require.ErrorIs(f, f.s.MarkDead(f.ctx, "missing", at(0), "x"), store.ErrNotFound)
	require.True(f, f.claim("k", at(0), time.Hour))
	require.NoError(f, f.s.ReleaseClaim(f.ctx, "k"))
	require.ErrorIs(f, f.s.MarkHandled(f.ctx, "k", at(0)), store.ErrNotFound, "after ReleaseClaim")
	require.ErrorIs(f, f.s.MarkDead(f.ctx, "k", at(0), "x"), store.ErrNotFound, "after ReleaseClaim")
}

func testInboxPrune(f *inboxFixture) {
	for _, c := range []struct {
		key string
		ttl time.Duration
	}{{"a", time.Hour}, {"b", time.Hour}, {"c", 10 * time.Hour}} {
		require.True(f, f.claim(c.key, at(0), c.ttl))
		require.NoError(f, f.s.MarkHandled(f.ctx, c.key, at(time.Minute)))
	}
	n, err := f.s.PruneInbox(f.ctx, at(30*time.Minute))
	require.NoError(f, err)
	require.Zero(f, n, "nothing has expired yet")
	n, err = f.s.PruneInbox(f.ctx, at(2*time.Hour))
	require.NoError(f, err)
	require.Equal(f, 2, n, "entries whose window ended")
	require.ErrorIs(f, f.s.MarkHandled(f.ctx, "a", at(2*time.Hour)), store.ErrNotFound, "a pruned entry is gone")
	require.NoError(f, f.s.MarkHandled(f.ctx, "c", at(2*time.Hour)), "an entry in its window stays")
	require.False(f, f.claim("c", at(2*time.Hour), time.Hour))
	n, err = f.s.PruneInbox(f.ctx, at(2*time.Hour))
	require.NoError(f, err)
	require.Zero(f, n)
}

// testInboxPruneBoundary: a window ends at its ExpiresAt, for Claim and
// PruneInbox alike.
func testInboxPruneBoundary(f *inboxFixture) {
	require.True(f, f.claim("k", at(0), time.Hour))
	require.NoError(f, f.s.MarkHandled(f.ctx, "k", at(time.Minute)))
	n, err := f.s.PruneInbox(f.ctx, at(time.Hour-time.Millisecond))
	require.NoError(f, err)
	require.Zero(f, n, "the window has not ended")
	n, err = f.s.PruneInbox(f.ctx, at(time.Hour))
	require.NoError(f, err)
	require.Equal(f, 1, n, "the window ends at ExpiresAt")
	require.ErrorIs(f, f.s.MarkHandled(f.ctx, "k", at(time.Hour)), store.ErrNotFound)
}

// recovery returns the store's InboxRecovery or skips the test.
func (f *inboxFixture) recovery() store.InboxRecovery {
	f.Helper()
	r, ok := f.s.(store.InboxRecovery)
	if !ok {
		f.Skip("storetest: the store does not implement store.InboxRecovery")
	}
	return r
}

func (f *inboxFixture) entry(r store.InboxRecovery, key string) *store.InboxEntry {
	f.Helper()
	e, err := r.GetInboxEntry(f.ctx, key)
	require.NoError(f, err)
	require.Equal(f, key, e.Key)
	return e
}

func entryKeys(es []*store.InboxEntry) []string {
	return ids(es, func(e *store.InboxEntry) string { return e.Key })
}

func testRecoveryEntry(f *inboxFixture) {
	r := f.recovery()
	body := []byte(`{"id":"k","data":{}}` + "\x00\xff")
	won, err := f.s.Claim(f.ctx, store.Claim{Key: "k", Body: body, Now: at(0), TTL: time.Hour, Lease: 2 * time.Minute})
	require.NoError(f, err)
	require.True(f, won)

	e := f.entry(r, "k")
	require.Equal(f, store.InboxClaimed, e.State)
	require.Equal(f, body, e.Body, "the body is kept byte for byte")
	sameTime(f, at(0), e.ClaimedAt, "ClaimedAt")
	sameTime(f, at(time.Hour), e.ExpiresAt, "ExpiresAt")
	sameTime(f, at(2*time.Minute), e.LeasedUntil, "LeasedUntil")
	require.True(f, e.FinishedAt.IsZero())

	e.Body[0] = 'X'
	require.Equal(f, body, f.entry(r, "k").Body, "GetInboxEntry returns a copy")

	require.NoError(f, f.s.MarkHandled(f.ctx, "k", at(time.Minute)))
	e = f.entry(r, "k")
	require.Equal(f, store.InboxHandled, e.State)
	sameTime(f, at(time.Minute), e.FinishedAt, "FinishedAt")

	_, err = r.GetInboxEntry(f.ctx, "missing")
	require.ErrorIs(f, err, store.ErrNotFound)
}

func testRecoveryLeaseClaimed(f *inboxFixture) {
	r := f.recovery()
	claim := func(key string, now time.Time, lease time.Duration) {
		f.Helper()
		won, err := f.s.Claim(f.ctx, store.Claim{Key: key, Body: []byte("body " + key), Now: now, TTL: 24 * time.Hour, Lease: lease})
		require.NoError(f, err)
		require.True(f, won)
	}
	claim("k1", at(0), time.Minute)
	claim("k2", at(time.Second), time.Minute)
	claim("k3", at(0), time.Minute)
	claim("k4", at(0), 10*time.Minute)
	require.NoError(f, f.s.MarkHandled(f.ctx, "k3", at(time.Second)))
	before := f.entry(r, "k1").Attempts

	leaseClaimed := func(now time.Time, limit int) []*store.InboxEntry {
		f.Helper()
		es, err := r.LeaseClaimed(f.ctx, now, 30*time.Second, limit)
		require.NoError(f, err)
		require.LessOrEqual(f, len(es), limit)
		return es
	}
	require.Empty(f, leaseClaimed(at(time.Minute-time.Millisecond), 10), "leases still hold")

	now := at(time.Minute + time.Second + time.Millisecond)
	got := leaseClaimed(now, 10)
	require.ElementsMatch(f, []string{"k1", "k2"}, entryKeys(got), "claimed entries whose lease ended; never handled ones")
	for _, e := range got {
		require.Equal(f, store.InboxClaimed, e.State)
		require.Equal(f, "body "+e.Key, string(e.Body))
		require.Equal(f, before+1, e.Attempts, "LeaseClaimed increments Attempts")
		sameTime(f, now.Add(30*time.Second), e.LeasedUntil, "the lease is extended")
		sameTime(f, now.Add(30*time.Second), f.entry(r, e.Key).LeasedUntil, "stored LeasedUntil")
	}
	require.Empty(f, leaseClaimed(now, 10), "re-driven entries are leased")

	later := now.Add(30*time.Second + time.Millisecond)
	got = leaseClaimed(later, 1)
	require.Len(f, got, 1, "limit")
	got = append(got, leaseClaimed(later, 10)...)
	require.ElementsMatch(f, []string{"k1", "k2"}, entryKeys(got))

	require.NoError(f, f.s.MarkHandled(f.ctx, "k1", later))
	got = leaseClaimed(at(10*time.Minute+time.Millisecond), 10)
	require.ElementsMatch(f, []string{"k2", "k4"}, entryKeys(got), "a handled entry is never re-driven")
}

func testRecoveryDead(f *inboxFixture) {
	r := f.recovery()
	for i, key := range []string{"d1", "d2", "d3", "h1", "c1"} {
		require.True(f, f.claim(key, at(time.Duration(i)*time.Second), 24*time.Hour))
	}
	require.NoError(f, f.s.MarkDead(f.ctx, "d1", at(time.Minute), "callback: boom"))
	require.NoError(f, f.s.MarkDead(f.ctx, "d2", at(time.Minute), "callback: bang"))
	require.NoError(f, f.s.MarkDead(f.ctx, "d3", at(time.Minute), "callback: bust"))
	require.NoError(f, f.s.MarkHandled(f.ctx, "h1", at(time.Minute)))

	e := f.entry(r, "d1")
	require.Equal(f, store.InboxDead, e.State)
	require.Equal(f, "callback: boom", e.LastError)
	sameTime(f, at(time.Minute), e.FinishedAt, "FinishedAt")
	require.Equal(f, "body of d1", string(e.Body), "dead entries keep their body")

	for _, size := range []int{1, 2, 100} {
		got := collect(f, size, func(cursor string) ([]*store.InboxEntry, string, error) {
			return r.ListInbox(f.ctx, store.InboxDead, store.Page{Cursor: cursor, Limit: size})
		})
		require.Equal(f, []string{"d3", "d2", "d1"}, entryKeys(got), "dead entries, newest claim first (page size %d)", size)
		for _, e := range got {
			require.Equal(f, store.InboxDead, e.State)
			require.NotEmpty(f, e.Body)
		}
	}
	claimed, _, err := r.ListInbox(f.ctx, store.InboxClaimed, store.Page{})
	require.NoError(f, err)
	require.Equal(f, []string{"c1"}, entryKeys(claimed))
	handled, _, err := r.ListInbox(f.ctx, store.InboxHandled, store.Page{})
	require.NoError(f, err)
	require.Equal(f, []string{"h1"}, entryKeys(handled))

	es, err := r.LeaseClaimed(f.ctx, at(10*time.Hour), time.Minute, 10)
	require.NoError(f, err)
	require.Equal(f, []string{"c1"}, entryKeys(es), "dead entries are not re-driven")
}

func testRecoveryReplay(f *inboxFixture) {
	r := f.recovery()
	for _, key := range []string{"dead", "handled", "claimed"} {
		require.True(f, f.claim(key, at(0), 24*time.Hour))
	}
	require.NoError(f, f.s.MarkDead(f.ctx, "dead", at(time.Minute), "boom"))
	require.NoError(f, f.s.MarkHandled(f.ctx, "handled", at(time.Minute)))

	require.NoError(f, r.Replay(f.ctx, "dead", at(5*time.Hour)))
	e := f.entry(r, "dead")
	require.Equal(f, store.InboxClaimed, e.State)
	require.Equal(f, "body of dead", string(e.Body))

	es, err := r.LeaseClaimed(f.ctx, at(5*time.Hour-time.Millisecond), time.Minute, 10)
	require.NoError(f, err)
	require.Equal(f, []string{"claimed"}, entryKeys(es), "a replay is due at its time, not before")
	es, err = r.LeaseClaimed(f.ctx, at(5*time.Hour+time.Millisecond), time.Minute, 10)
	require.NoError(f, err)
	require.Equal(f, []string{"dead"}, entryKeys(es), "the replayed entry is re-driven")
	require.Equal(f, "body of dead", string(es[0].Body))

	dead, _, err := r.ListInbox(f.ctx, store.InboxDead, store.Page{})
	require.NoError(f, err)
	require.Empty(f, dead)

	require.ErrorIs(f, r.Replay(f.ctx, "handled", at(6*time.Hour)), store.ErrConflict)
	require.ErrorIs(f, r.Replay(f.ctx, "claimed", at(6*time.Hour)), store.ErrConflict)
	require.ErrorIs(f, r.Replay(f.ctx, "dead", at(6*time.Hour)), store.ErrConflict, "no longer dead")
	require.ErrorIs(f, r.Replay(f.ctx, "missing", at(6*time.Hour)), store.ErrNotFound)
}

// A replay starts the callback's attempts over: a dead entry that used up
// its attempts gets them all again, and its old error is cleared.
func testRecoveryReplayResets(f *inboxFixture) {
	r := f.recovery()
	require.True(f, f.claim("k", at(0), 24*time.Hour))
	for i := range 5 {
		es, err := r.LeaseClaimed(f.ctx, at(time.Duration(i+1)*time.Hour), time.Minute, 10)
		require.NoError(f, err)
		require.Len(f, es, 1)
		require.Equal(f, i+1, es[0].Attempts)
	}
	require.NoError(f, f.s.MarkDead(f.ctx, "k", at(6*time.Hour), "503 after 5 attempts"))
	e := f.entry(r, "k")
	require.Equal(f, 5, e.Attempts)
	require.Equal(f, "503 after 5 attempts", e.LastError)

	require.NoError(f, r.Replay(f.ctx, "k", at(7*time.Hour)))
	e = f.entry(r, "k")
	require.Equal(f, store.InboxClaimed, e.State)
	require.Zero(f, e.Attempts, "a replay resets Attempts")
	require.Empty(f, e.LastError, "a replay clears LastError")
	require.True(f, e.FinishedAt.IsZero())
	require.Equal(f, "body of k", string(e.Body))

	es, err := r.LeaseClaimed(f.ctx, at(7*time.Hour), time.Minute, 10)
	require.NoError(f, err)
	require.Len(f, es, 1)
	require.Equal(f, 1, es[0].Attempts, "the re-drive after a replay is its first attempt")
	require.Empty(f, es[0].LastError)
}

func testRecoveryPruneKeeps(f *inboxFixture) {
	r := f.recovery()
	for _, key := range []string{"dead", "handled", "claimed"} {
		require.True(f, f.claim(key, at(0), time.Hour))
	}
	require.NoError(f, f.s.MarkDead(f.ctx, "dead", at(time.Minute), "boom"))
	require.NoError(f, f.s.MarkHandled(f.ctx, "handled", at(time.Minute)))

	n, err := f.s.PruneInbox(f.ctx, at(48*time.Hour))
	require.NoError(f, err)
	require.Equal(f, 1, n, "only the handled entry is pruned")
	_, err = r.GetInboxEntry(f.ctx, "handled")
	require.ErrorIs(f, err, store.ErrNotFound)
	require.Equal(f, store.InboxDead, f.entry(r, "dead").State, "dead entries are kept for replay")
	require.Equal(f, store.InboxClaimed, f.entry(r, "claimed").State, "claimed entries are kept for re-drive")
}

// testRecoveryListAll: an empty state lists entries of every state.
func testRecoveryListAll(f *inboxFixture) {
	r := f.recovery()
	keys := []string{"c1", "h1", "d1", "c2", "h2"}
	for i, key := range keys {
		require.True(f, f.claim(key, at(time.Duration(i)*time.Second), 24*time.Hour))
	}
	require.NoError(f, f.s.MarkHandled(f.ctx, "h1", at(time.Minute)))
	require.NoError(f, f.s.MarkHandled(f.ctx, "h2", at(time.Minute)))
	require.NoError(f, f.s.MarkDead(f.ctx, "d1", at(time.Minute), "boom"))

	want := []string{"h2", "c2", "d1", "h1", "c1"} // newest claim first
	for _, size := range []int{1, 2, 100} {
		got := collect(f, size, func(cursor string) ([]*store.InboxEntry, string, error) {
			return r.ListInbox(f.ctx, "", store.Page{Cursor: cursor, Limit: size})
		})
		require.Equal(f, want, entryKeys(got), "every state, newest claim first (page size %d)", size)
		states := map[string]store.InboxState{}
		for _, e := range got {
			states[e.Key] = e.State
		}
		require.Equal(f, map[string]store.InboxState{
			"c1": store.InboxClaimed, "c2": store.InboxClaimed,
			"h1": store.InboxHandled, "h2": store.InboxHandled, "d1": store.InboxDead,
		}, states)
	}
}

func testRecoveryLeaseClaimedInvalid(f *inboxFixture) {
	r := f.recovery()
	require.True(f, f.claim("k", at(0), time.Hour))
	for _, c := range []struct {
		lease time.Duration
		limit int
	}{{time.Minute, 0}, {time.Minute, -1}, {0, 1}, {-time.Minute, 1}} {
		es, err := r.LeaseClaimed(f.ctx, at(time.Hour), c.lease, c.limit)
		require.ErrorIs(f, err, store.ErrInvalid, "lease %v limit %d", c.lease, c.limit)
		require.Empty(f, es)
	}
	require.Zero(f, f.entry(r, "k").Attempts, "invalid calls lease nothing")
}

func testRecoveryReleaseFinished(f *inboxFixture) {
	r := f.recovery()
	require.True(f, f.claim("handled", at(0), time.Hour))
	require.NoError(f, f.s.MarkHandled(f.ctx, "handled", at(time.Second)))
	require.True(f, f.claim("dead", at(0), time.Hour))
	require.NoError(f, f.s.MarkDead(f.ctx, "dead", at(time.Second), "boom"))
	require.NoError(f, f.s.ReleaseClaim(f.ctx, "handled"))
	require.NoError(f, f.s.ReleaseClaim(f.ctx, "dead"))
	require.Equal(f, store.InboxHandled, f.entry(r, "handled").State)
	e := f.entry(r, "dead")
	require.Equal(f, store.InboxDead, e.State)
	require.Equal(f, "body of dead", string(e.Body), "a dead entry keeps its body through ReleaseClaim")
}

// testRecoveryClaimDefaults: the stored window and lease of a claim with a
// TTL that is not positive and a negative Lease.
func testRecoveryClaimDefaults(f *inboxFixture) {
	r := f.recovery()
	won, err := f.s.Claim(f.ctx, store.Claim{Key: "k", Body: []byte("b"), Now: at(0), TTL: -time.Second, Lease: -time.Minute})
	require.NoError(f, err)
	require.True(f, won)
	e := f.entry(r, "k")
	sameTime(f, at(store.DefaultDedupWindow), e.ExpiresAt, "ExpiresAt with the default window")
	sameTime(f, at(0), e.LeasedUntil, "a negative Lease means zero")
	es, err := r.LeaseClaimed(f.ctx, at(0), time.Minute, 10)
	require.NoError(f, err)
	require.Equal(f, []string{"k"}, entryKeys(es), "a zero lease ends at once")
}
