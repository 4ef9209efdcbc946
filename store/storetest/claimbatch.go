package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// claimBatchCases test [store.InboxBatcher], for stores that have it.
var claimBatchCases = []testCase[*inboxFixture]{
	{"ClaimBatch", testClaimBatch},
	{"Duplicates", testClaimBatchDuplicates},
	{"Expiry", testClaimBatchExpiry},
	{"Concurrent", testClaimBatchConcurrent},
	{"ConcurrentWithMarkHandled", testClaimBatchConcurrentWithMarkHandled},
	{"Invalid", testClaimBatchInvalid},
	{"MarkHandledBatch", testMarkHandledBatch},
}

// batcher returns the store's InboxBatcher, or skips the case.
func (f *inboxFixture) batcher() store.InboxBatcher {
	f.Helper()
	b, ok := f.s.(store.InboxBatcher)
	if !ok {
		f.Skip("storetest: the store does not implement store.InboxBatcher")
	}
	return b
}

// claims returns a claim of each key at now, with the suite's body, a
// one-hour window and a one-minute lease.
func claims(now time.Time, keys ...string) []store.Claim {
	cs := make([]store.Claim, len(keys))
	for i, k := range keys {
		cs[i] = store.Claim{Key: k, Body: []byte("body of " + k), Now: now, TTL: time.Hour, Lease: time.Minute}
	}
	return cs
}

// claimBatch runs ClaimBatch and requires one result per claim.
func (f *inboxFixture) claimBatch(b store.InboxBatcher, cs []store.Claim) []bool {
	f.Helper()
	won, err := b.ClaimBatch(f.ctx, cs)
	require.NoError(f, err)
	require.Len(f, won, len(cs), "one result per claim")
	return won
}

func testClaimBatch(f *inboxFixture) {
	b := f.batcher()
	require.True(f, f.claim("old", at(0), time.Hour))
	won := f.claimBatch(b, claims(at(time.Second), "a", "old", "b", "c"))
	require.Equal(f, []bool{true, false, true, true}, won)
	require.Equal(f, []bool{false, true, false}, f.claimBatch(b, claims(at(2*time.Second), "b", "d", "a")))
	require.False(f, f.claim("d", at(3*time.Second), time.Hour), "a single Claim sees the batch's claims")
	won, err := b.ClaimBatch(f.ctx, nil)
	require.NoError(f, err)
	require.Empty(f, won)

	r, ok := f.s.(store.InboxRecovery)
	if !ok {
		return
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		e := f.entry(r, k)
		require.Equal(f, store.InboxClaimed, e.State)
		require.Equal(f, "body of "+k, string(e.Body), "the body is kept")
		at0 := at(time.Second)
		if k == "d" {
			at0 = at(2 * time.Second)
		}
		sameTime(f, at0, e.ClaimedAt, k+" ClaimedAt")
		sameTime(f, at0.Add(time.Hour), e.ExpiresAt, k+" ExpiresAt")
		sameTime(f, at0.Add(time.Minute), e.LeasedUntil, k+" LeasedUntil")
	}
	require.Equal(f, "body of old", string(f.entry(r, "old").Body), "a lost claim changes nothing")
}

func testClaimBatchDuplicates(f *inboxFixture) {
	b := f.batcher()
	cs := claims(at(0), "a", "b", "a", "a")
	cs[2].Body = []byte("second a")
	cs[3].Now = at(2 * time.Hour) // after the first's window: still the same batch
	require.Equal(f, []bool{true, true, false, false}, f.claimBatch(b, cs), "a key's first claim in a batch wins, the later ones lose")
	if r, ok := f.s.(store.InboxRecovery); ok {
		e := f.entry(r, "a")
		require.Equal(f, "body of a", string(e.Body))
		sameTime(f, at(0), e.ClaimedAt, "ClaimedAt")
	}
}

func testClaimBatchExpiry(f *inboxFixture) {
	b := f.batcher()
	require.Equal(f, []bool{true, true}, f.claimBatch(b, claims(at(0), "k", "h")))
	require.NoError(f, f.s.MarkHandled(f.ctx, "h", at(time.Minute)))
	require.Equal(f, []bool{false, false}, f.claimBatch(b, claims(at(time.Hour-time.Millisecond), "k", "h")))
	require.Equal(f, []bool{true, true}, f.claimBatch(b, claims(at(time.Hour), "k", "h")),
		"at the end of its window a key, claimed or handled, is claimed again")
	require.Equal(f, []bool{false, false}, f.claimBatch(b, claims(at(time.Hour+time.Millisecond), "h", "k")), "and starts a new window")
	require.False(f, f.claim("k", at(2*time.Hour-time.Millisecond), time.Hour))

	// Defaults as Claim's: a TTL that is not positive is the default window.
	cs := claims(at(0), "default")
	cs[0].TTL, cs[0].Lease = 0, -time.Second
	require.Equal(f, []bool{true}, f.claimBatch(b, cs))
	require.False(f, f.claim("default", at(store.DefaultDedupWindow-time.Millisecond), time.Hour))
	require.True(f, f.claim("default", at(store.DefaultDedupWindow), time.Hour))
}

// testClaimBatchConcurrent: batches of overlapping keys, in different
// orders, and single claims of the same keys, all at once: each key is won
// exactly once.
func testClaimBatchConcurrent(f *inboxFixture) {
	b := f.batcher()
	const (
		keys     = 64
		batchers = 8
		singles  = 4
	)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  = make(map[string]int)
		errs  []error
		start = make(chan struct{})
	)
	record := func(key string, won bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
		}
		if won {
			wins[key]++
		}
	}
	for w := range batchers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			var ks []string
			for _, i := range rng.Perm(keys)[:keys*3/4] {
				ks = append(ks, fmt.Sprintf("key-%02d", i))
			}
			<-start
			for half := range 2 { // two batches each, of half the keys
				part := ks[half*len(ks)/2 : (half+1)*len(ks)/2]
				won, err := b.ClaimBatch(f.ctx, claims(at(0), part...))
				if err == nil && len(won) != len(part) {
					err = fmt.Errorf("%d results for %d claims", len(won), len(part))
				}
				for i, k := range part {
					record(k, err == nil && won[i], err)
				}
			}
		})
	}
	for w := range singles {
		wg.Go(func() {
			<-start
			for i := w; i < keys; i += singles {
				k := fmt.Sprintf("key-%02d", i)
				won, err := f.s.Claim(f.ctx, claims(at(0), k)[0])
				record(k, won, err)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Empty(f, errs)
	for i := range keys {
		k := fmt.Sprintf("key-%02d", i)
		require.Equal(f, 1, wins[k], "key %s is won exactly once", k)
	}
}

// testClaimBatchConcurrentWithMarkHandled: batches that claim keys again
// (duplicates of events being handled) and batches that mark the same keys
// handled, in different orders, all at once: none may fail (a store that
// locks the keys of a batch in different orders deadlocks here).
func testClaimBatchConcurrentWithMarkHandled(f *inboxFixture) {
	b := f.batcher()
	const (
		keys    = 48
		workers = 4
		rounds  = 6
	)
	// Claimed in a shuffled order, so the rows are not stored in key order.
	rng := rand.New(rand.NewPCG(7, 7))
	all := make([]string, keys)
	for i, j := range rng.Perm(keys) {
		all[i] = fmt.Sprintf("key-%02d", j)
	}
	for _, won := range f.claimBatch(b, claims(at(0), all...)) {
		require.True(f, won)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*rounds)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for r := range rounds {
				ks := make([]string, 0, keys/2)
				for _, i := range rng.Perm(keys)[:keys/2] {
					ks = append(ks, all[i])
				}
				if _, err := b.ClaimBatch(f.ctx, claims(at(time.Duration(r)*time.Second), ks...)); err != nil {
					errs <- fmt.Errorf("claim batch, worker %d round %d: %w", w, r, err)
				}
				if err := b.MarkHandledBatch(f.ctx, ks, at(time.Duration(r)*time.Second)); err != nil {
					errs <- fmt.Errorf("mark handled batch, worker %d round %d: %w", w, r, err)
				}
			}
		})
	}
	wg.Wait()
	requireNoErrors(f, errs)
	for _, k := range all {
		require.False(f, f.claim(k, at(time.Minute), time.Hour), "key %s is still remembered", k)
	}
}

func testClaimBatchInvalid(f *inboxFixture) {
	b := f.batcher()
	cs := claims(at(0), "a", "", "b")
	_, err := b.ClaimBatch(f.ctx, cs)
	require.ErrorIs(f, err, store.ErrInvalid)
	require.True(f, f.claim("a", at(0), time.Hour), "a failed batch claims nothing")
	require.True(f, f.claim("b", at(0), time.Hour))
}

func testMarkHandledBatch(f *inboxFixture) {
	b := f.batcher()
	require.Equal(f, []bool{true, true, true}, f.claimBatch(b, claims(at(0), "a", "b", "c")))
	require.NoError(f, b.MarkHandledBatch(f.ctx, []string{"a", "b", "a"}, at(time.Minute)))
	require.NoError(f, b.MarkHandledBatch(f.ctx, nil, at(time.Minute)))

	err := b.MarkHandledBatch(f.ctx, []string{"x", "c", "y"}, at(2*time.Minute))
	require.ErrorIs(f, err, store.ErrNotFound)
	var missing *store.MissingKeysError
	require.ErrorAs(f, err, &missing)
	require.Equal(f, []string{"x", "y"}, missing.Keys)

	require.False(f, f.claim("a", at(30*time.Minute), time.Hour), "a handled key is remembered for its window")
	require.True(f, f.claim("a", at(time.Hour), time.Hour), "and forgotten after")
	if r, ok := f.s.(store.InboxRecovery); ok {
		for k, t := range map[string]time.Time{"b": at(time.Minute), "c": at(2 * time.Minute)} {
			e := f.entry(r, k)
			require.Equal(f, store.InboxHandled, e.State, k)
			sameTime(f, t, e.FinishedAt, k+" FinishedAt")
			require.Empty(f, e.Body, "%s: handling drops the body", k)
		}
		_, err := r.GetInboxEntry(f.ctx, "x")
		require.ErrorIs(f, err, store.ErrNotFound, "a missing key is not created")
		n, err := f.s.PruneInbox(f.ctx, at(time.Hour))
		require.NoError(f, err)
		require.Equal(f, 2, n, "the windows of b and c ended; a was claimed again")
	}
}
