package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	msqlite "modernc.org/sqlite"

	"github.com/webhookkit/webhookkit/store"
)

var _ store.Notifier = (*Store)(nil)

// errNoNotify is what [Store.Subscribe] returns on a Store from [New]: its
// caller opened the *sql.DB, so the Store cannot watch that pool's commits.
var errNoNotify = fmt.Errorf("sqlite: subscribe: a Store from New cannot see its database's commits: %w", errors.ErrUnsupported)

// notifier watches the commits of a Store's write connection and wakes the
// subscribers of [Store.Subscribe]. A Store and its transaction views share
// one.
//
// The writes that may make deliveries due (an Enqueue that created some, a
// Requeue or RequeueFailed that requeued some, the enabling of an endpoint)
// set due inside their transaction; the commit hook, which SQLite calls as
// the write connection commits, clears it and wakes the subscribers when it
// was set, and the rollback hook clears it. The flag is the store's, not
// the connection's: [Open] gives writes a pool of one connection, so one
// transaction at a time sets and clears it.
type notifier struct {
	// hooked: the write pool's connections carry the hooks (Open).
	hooked bool
	due    atomic.Bool

	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// Subscribe implements [store.Notifier] within the process: the channel
// receives a value at once (listening has begun), then, coalesced,
// after every commit on the write pool ([Store.DB]) of a transaction that
// created deliveries (Enqueue, a sender's Publish, or a PublishTx through
// [Store.Tx] in the caller's own transaction), requeued some (Requeue,
// RequeueFailed) or enabled an endpoint. A transaction that rolls back
// notifies nothing. The channel is closed when ctx ends.
//
// The value is sent as the transaction commits, before COMMIT returns to
// its caller: a subscriber that then leases through the Store waits for
// the write connection, so it sees the committed deliveries. A transaction
// whose own savepoint undid a publish (ROLLBACK TO) still notifies when it
// commits: a spurious hint, which the contract allows. Writes by another
// process, or through another *sql.DB on the same file, are not seen; a
// sender finds them at its next poll.
//
// On a Store from [New] Subscribe returns an error wrapping
// [errors.ErrUnsupported]: the Store cannot hook the caller's pool, so it
// never notifies, and a sender started on it polls. Subscribe
// also returns ctx's error when ctx is already done. It is safe for
// concurrent use.
func (s *Store) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := s.n
	if !n.hooked {
		return nil, errNoNotify
	}
	ch := make(chan struct{}, 1)
	ch <- struct{}{}
	n.mu.Lock()
	if n.subs == nil {
		n.subs = make(map[chan struct{}]struct{})
	}
	n.subs[ch] = struct{}{}
	n.mu.Unlock()
	context.AfterFunc(ctx, func() {
		n.mu.Lock()
		delete(n.subs, ch)
		n.mu.Unlock()
		close(ch)
	})
	return ch, nil
}

// wakeOnCommit marks the write connection's transaction as one that may
// have made deliveries due, so its commit notifies. Writes call it inside
// their transaction, after their statements succeeded.
func (s *Store) wakeOnCommit() {
	if s.n.hooked {
		s.n.due.Store(true)
	}
}

// commitHook is the write connections' commit hook. SQLite calls it on the
// committing goroutine, inside COMMIT: it must not touch the database and
// must not block. It never turns the commit into a rollback.
func (n *notifier) commitHook() int32 {
	if n.due.Swap(false) {
		n.broadcast()
	}
	return 0
}

// rollbackHook is the write connections' rollback hook: a transaction that
// rolls back takes its wakeup with it. (ROLLBACK TO a savepoint does not
// call it; the savepoints of [Store.Tx] views restore the flag themselves.)
func (n *notifier) rollbackHook() { n.due.Store(false) }

// broadcast sends every subscriber a value without blocking.
func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// hookConnector opens the write pool's connections through the driver's
// connector and installs the notifier's commit and rollback hooks on each,
// so every connection that pool ever opens carries them (nothing global is
// registered).
type hookConnector struct {
	driver.Connector
	n *notifier
}

func (c hookConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	h, ok := conn.(msqlite.HookRegisterer)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite: the driver's connection (%T) cannot register commit hooks", conn)
	}
	h.RegisterCommitHook(c.n.commitHook)
	h.RegisterRollbackHook(c.n.rollbackHook)
	return conn, nil
}
