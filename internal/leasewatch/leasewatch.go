// Package leasewatch lets a test wait until a sender is idle: sleeping until
// its next poll, with nothing left to wake it but a notification. The
// sender's tests and the integration tests over PostgreSQL share it.
package leasewatch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// Store wraps a store and watches the sender's leases. Build it with the
// store to wrap as its SenderStore field: &leasewatch.Store{SenderStore: st}.
// It is safe for concurrent use.
type Store struct {
	store.SenderStore

	mu        sync.Mutex
	started   int  // leases started
	running   int  // leases not yet returned
	lastShort bool // the last lease found fewer deliveries than it asked for
}

// Lease leases from the wrapped store, counting the leases and noting
// whether the last one found fewer deliveries than it asked for (after
// such a lease the sender sleeps until its next poll or a wakeup).
func (w *Store) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	w.mu.Lock()
	w.started++
	w.running++
	w.mu.Unlock()
	ds, err := w.SenderStore.Lease(ctx, req)
	w.mu.Lock()
	w.running--
	w.lastShort = err == nil && len(ds) < req.Limit
	w.mu.Unlock()
	return ds, err
}

// Started returns how many leases have started.
func (w *Store) Started() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.started
}

// WaitIdle waits until the sender's last lease found less than it asked
// for and no lease has started for quiet: it sleeps until its next poll, or
// a wakeup. quiet bounds an absence, never the speed of anything. It fails
// tb when that has not happened within timeout.
func (w *Store) WaitIdle(tb testing.TB, quiet, timeout time.Duration) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		w.mu.Lock()
		before := w.started
		w.mu.Unlock()
		<-time.After(quiet)
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.started == before && w.running == 0 && w.lastShort
	}, timeout, time.Millisecond, "the sender never went idle")
}
