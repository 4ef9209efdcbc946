package sender

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// TestSweepDropsIdleEndpoints checks that the per-endpoint state of an
// endpoint unused for a whole sweep interval is dropped, and that a state
// in use, with requests in flight, with a breaker not closed, or at a
// limit is kept.
func TestSweepDropsIdleEndpoints(t *testing.T) {
	cfg, err := (&Config{}).settings()
	require.NoError(t, err)
	l := newPerEndpoint(cfg, func() {})
	l.mu.Lock()
	for _, id := range []string{"idle", "used", "in-flight", "open", "probing", "skipped"} {
		l.state(id)
	}
	l.eps["in-flight"].inFlight = 1
	l.eps["open"].brk.state = store.BreakerOpen
	l.eps["probing"].brk.state, l.eps["probing"].probing = store.BreakerHalfOpen, true
	l.skipped["skipped"] = struct{}{}
	l.mu.Unlock()

	require.Zero(t, l.sweep(), "the first sweep only marks")
	l.observe(l.seq(), &store.Endpoint{ID: "used"}) // used between the sweeps
	require.Equal(t, 1, l.sweep())
	require.NotContains(t, l.eps, "idle")
	for _, id := range []string{"used", "in-flight", "open", "probing", "skipped"} {
		require.Contains(t, l.eps, id)
	}

	// Unused since, "used" goes at the next sweep; the busy ones stay.
	require.Equal(t, 1, l.sweep())
	require.NotContains(t, l.eps, "used")

	// A state that stops being busy is idle from then: marked by the next
	// sweep, dropped by the one after.
	l.mu.Lock()
	l.eps["in-flight"].inFlight = 0
	l.mu.Unlock()
	require.Zero(t, l.sweep())
	require.Equal(t, 1, l.sweep())
	require.NotContains(t, l.eps, "in-flight")
	require.Len(t, l.eps, 3, "open, probing and skipped stay")
}
