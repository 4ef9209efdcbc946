package sender_test

// Helpers for the sender's tests over PostgreSQL, as in the sender
// package's own notify_test.go (which this module cannot import); the
// endpoint, sender and events come from webhooktest.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// quietPeriod is how long a sender must have left the store alone to count
// as idle. It bounds an absence, never the speed of anything.
const quietPeriod = 300 * time.Millisecond

// wakeWait bounds the wait for a woken sender's delivery: generous, far
// below the hour the tests' senders wait between polls.
const wakeWait = 10 * time.Second

// watchedStore wraps a store and watches the sender's leases, so a test can
// wait until the sender is idle: waiting for its next poll, with nothing
// left to wake it.
type watchedStore struct {
	store.SenderStore

	mu        sync.Mutex
	started   int  // leases started
	running   int  // leases not yet returned
	lastEmpty bool // the last lease returned nothing
}

func (w *watchedStore) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	w.mu.Lock()
	w.started++
	w.running++
	w.mu.Unlock()
	ds, err := w.SenderStore.Lease(ctx, req)
	w.mu.Lock()
	w.running--
	w.lastEmpty = err == nil && len(ds) == 0
	w.mu.Unlock()
	return ds, err
}

// waitIdle waits until the sender's last lease found nothing and no lease
// has started for quietPeriod: it sleeps until its next poll, or a wakeup.
func (w *watchedStore) waitIdle(tb testing.TB) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		w.mu.Lock()
		before := w.started
		w.mu.Unlock()
		<-time.After(quietPeriod)
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.started == before && w.running == 0 && w.lastEmpty
	}, wakeWait, time.Millisecond, "the sender never went idle")
}

// notifyingStore is a watched store that is also a [store.Notifier].
type notifyingStore struct {
	*watchedStore
	store.Notifier
}
