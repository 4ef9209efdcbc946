package sender_test

// Helpers for the sender's tests over PostgreSQL, as in the sender
// package's own notify_test.go (which this module cannot import); the
// endpoint, sender and events come from webhooktest. The SQLite and
// PostgreSQL outboxes of accounts_test.go are there.

import (
	"time"

	"github.com/webhookkit/webhookkit/internal/leasewatch"
	"github.com/webhookkit/webhookkit/store"
)

// quietPeriod is how long a sender must have left the store alone to count
// as idle. It bounds an absence, never the speed of anything.
const quietPeriod = 300 * time.Millisecond

// wakeWait bounds the wait for a woken sender's delivery: generous, far
// below the hour the tests' senders wait between polls.
const wakeWait = 10 * time.Second

// watchedStore wraps a store and watches the sender's leases, so a test can
// wait until the sender is idle (WaitIdle).
type watchedStore = leasewatch.Store

// notifyingStore is a watched store that is also a [store.Notifier].
type notifyingStore struct {
	*watchedStore
	store.Notifier
}
