package receiver

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// TestDefaultInbox: the receiver's own in-memory inbox follows
// store/memory's rules: windows, releases, not-found marks, pruning of
// handled keys, and at the cap eviction of a handled key before a dead
// one, never of a claimed one.
func TestDefaultInbox(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1_750_000_000, 0)
	const ttl = time.Hour
	m := newDefaultInbox(slog.New(slog.DiscardHandler)).(*memoryInbox)
	m.max = 3
	claim := func(key string, at time.Time) (bool, error) {
		return m.Claim(ctx, store.Claim{Key: key, Now: at, TTL: ttl})
	}
	won := func(key string, at time.Time) bool {
		t.Helper()
		ok, err := claim(key, at)
		require.NoError(t, err)
		return ok
	}

	_, err := claim("", t0)
	require.ErrorIs(t, err, store.ErrInvalid)
	require.True(t, won("a", t0))
	require.False(t, won("a", t0.Add(ttl-time.Nanosecond)), "within its window")
	require.ErrorIs(t, m.MarkHandled(ctx, "zz", t0), store.ErrNotFound)
	require.ErrorIs(t, m.MarkDead(ctx, "zz", t0, "x"), store.ErrNotFound)

	// Release forgets a claimed key only.
	require.True(t, won("b", t0))
	require.NoError(t, m.ReleaseClaim(ctx, "b"))
	require.True(t, won("b", t0), "released: claimable again")
	require.NoError(t, m.MarkHandled(ctx, "b", t0))
	require.NoError(t, m.ReleaseClaim(ctx, "b"))
	require.False(t, won("b", t0), "a handled key is not released")

	// a claimed, b handled, c dead: at the cap, d evicts b (handled before
	// dead), b again evicts c, and f is refused (a, d and b claimed) until a
	// is handled.
	require.True(t, won("c", t0))
	require.NoError(t, m.MarkDead(ctx, "c", t0, "boom"))
	require.True(t, won("d", t0))
	require.True(t, won("b", t0), "b was evicted")
	_, err = claim("f", t0)
	require.ErrorIs(t, err, store.ErrInboxFull, "a, d and b are claimed")
	require.NoError(t, m.MarkHandled(ctx, "a", t0))
	require.True(t, won("f", t0), "a evicted")
	_, err = claim("a", t0)
	require.ErrorIs(t, err, store.ErrInboxFull)
	require.Equal(t, uint64(2), m.refused)

	// Pruning forgets handled keys whose window ended, not claimed ones,
	// and skips the records of keys claimed again since.
	m2 := newDefaultInbox(slog.New(slog.DiscardHandler)).(*memoryInbox)
	for i, k := range []string{"p", "q", "r"} {
		ok, err := m2.Claim(ctx, store.Claim{Key: k, Now: t0.Add(time.Duration(i) * time.Minute), TTL: ttl})
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.NoError(t, m2.MarkHandled(ctx, "p", t0))
	require.NoError(t, m2.MarkHandled(ctx, "q", t0))
	// p's window ends; it is claimed again (a new window) before the prune.
	ok, err := m2.Claim(ctx, store.Claim{Key: "p", Now: t0.Add(ttl), TTL: ttl})
	require.NoError(t, err)
	require.True(t, ok)
	n, err := m2.PruneInbox(ctx, t0.Add(ttl+time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n, "q only: p is claimed again, r is claimed")
	ok, err = m2.Claim(ctx, store.Claim{Key: "p", Now: t0.Add(ttl + time.Minute), TTL: ttl})
	require.NoError(t, err)
	require.False(t, ok, "p's new claim survived the prune")
	require.Len(t, m2.keys, 2)
	require.Zero(t, m2.handled.len())
}
