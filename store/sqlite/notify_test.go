package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// quietLog discards the senders' logs.
var quietLog = slog.New(slog.DiscardHandler)

// subscribe subscribes to s until the test ends and takes the value that
// says listening has begun.
func subscribe(tb testing.TB, s *sqlite.Store) <-chan struct{} {
	tb.Helper()
	n, ok := any(s).(store.Notifier)
	require.True(tb, ok, "a Store from Open is a store.Notifier")
	ch, err := n.Subscribe(tb.Context())
	require.NoError(tb, err)
	requireWoken(tb, ch, "the value sent when listening starts")
	return ch
}

// requireWoken requires a value waiting on ch. SQLite notifies in the
// committing goroutine, before COMMIT returns, so the value is there when
// the write that sent it has returned: no waiting.
func requireWoken(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case _, ok := <-ch:
		require.True(tb, ok, "%s: the channel is closed", what)
	default:
		tb.Fatalf("%s: no notification", what)
	}
}

// requireQuiet requires that no value is waiting on ch.
func requireQuiet(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case _, ok := <-ch:
		require.False(tb, ok, "%s: a notification", what)
		tb.Fatalf("%s: the channel is closed", what)
	default:
	}
}

// TestSubscribe holds Subscribe to the store.Notifier contract: a value at
// start, one after each commit that made deliveries due, coalesced, none
// for the other writes, and the channel closed when ctx ends.
func TestSubscribe(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)

	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Subscribe(done)
	require.ErrorIs(t, err, context.Canceled, "a done ctx subscribes nothing")

	ch := subscribe(t, s)
	a := newEndpoint(t, s, "acme")
	requireQuiet(t, ch, "CreateEndpoint")

	// Coalesced: two commits, one value waiting.
	for i := range 2 {
		n, err := s.Enqueue(ctx, enqueueAt(newEvent("ping", at(time.Duration(i)*time.Second)), targets(a)))
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	requireWoken(t, ch, "Enqueue")
	requireQuiet(t, ch, "a second Enqueue before the first value was read")

	ev := newEvent("ping", at(0))
	_, err = s.Enqueue(ctx, enqueueAt(ev, targets(a)))
	require.NoError(t, err)
	requireWoken(t, ch, "Enqueue")
	n, err := s.Enqueue(ctx, enqueueAt(ev, targets(a)))
	require.NoError(t, err)
	require.Zero(t, n)
	requireQuiet(t, ch, "an Enqueue that created nothing")
	_, err = s.Enqueue(ctx, enqueueAt(newEvent("ping", at(0)), []store.Target{{EndpointID: "no-such-endpoint"}}))
	require.ErrorIs(t, err, store.ErrNotFound)
	requireQuiet(t, ch, "a refused Enqueue")

	ds, err := s.Lease(ctx, store.LeaseRequest{Now: at(time.Hour), Limit: 3, Duration: time.Minute})
	require.NoError(t, err)
	require.Len(t, ds, 3)
	res, err := s.Settle(ctx, store.SettleBatch{
		Settlements: []store.Settlement{
			{Ref: ds[0].Ref(), Outcome: store.OutcomeSucceeded, At: at(time.Hour)},
			{Ref: ds[1].Ref(), Outcome: store.OutcomeFailed, At: at(time.Hour), Error: "410 Gone"},
			{Ref: ds[2].Ref(), Outcome: store.OutcomeFailed, At: at(time.Hour), Error: "410 Gone"},
		},
		Health: []store.HealthDelta{{EndpointID: a.ID, Failures: 1, FirstFailure: at(time.Hour), LastFailure: at(time.Hour)}},
	})
	require.NoError(t, err)
	require.Equal(t, []bool{false, false, false}, res.Lost)
	requireQuiet(t, ch, "Lease and a Settle that finishes deliveries and writes health")

	require.NoError(t, s.Requeue(ctx, ds[0].ID, at(2*time.Hour)))
	requireWoken(t, ch, "Requeue")
	require.ErrorIs(t, s.Requeue(ctx, ds[0].ID, at(2*time.Hour)), store.ErrConflict)
	requireQuiet(t, ch, "a refused Requeue")
	n, err = s.RequeueFailed(ctx, a.ID, at(0), at(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	requireWoken(t, ch, "RequeueFailed")
	n, err = s.RequeueFailed(ctx, a.ID, at(0), at(2*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
	requireQuiet(t, ch, "a RequeueFailed that requeued nothing")

	_, err = s.SetDisabled(ctx, a.ID, true, "manual", at(3*time.Hour))
	require.NoError(t, err)
	requireQuiet(t, ch, "disabling")
	_, err = s.SetDisabled(ctx, a.ID, false, "", at(3*time.Hour))
	require.NoError(t, err)
	requireWoken(t, ch, "enabling")

	// Several subscribers each get the value.
	other := subscribe(t, s)
	_, err = s.Enqueue(ctx, enqueueAt(newEvent("ping", at(0)), targets(a)))
	require.NoError(t, err)
	requireWoken(t, ch, "the first subscriber")
	requireWoken(t, other, "the second subscriber")

	// Ending ctx closes the channel; the others keep theirs.
	sub, stop := context.WithCancel(ctx)
	closing, err := s.Subscribe(sub)
	require.NoError(t, err)
	requireWoken(t, closing, "the value sent when listening starts")
	stop()
	select {
	case _, ok := <-closing:
		require.False(t, ok, "no value after ctx ended")
	case <-time.After(10 * time.Second):
		t.Fatal("the channel was not closed after ctx ended")
	}
	_, err = s.Enqueue(ctx, enqueueAt(newEvent("ping", at(0)), targets(a)))
	require.NoError(t, err)
	requireWoken(t, ch, "a subscriber whose ctx goes on")
}

// TestSubscribeCallerTx: a transaction of the caller's, begun on DB, wakes
// the subscribers when it commits after publishing, not before, and not
// when it rolls back; an enqueue its savepoint undid wakes no one.
func TestSubscribeCallerTx(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	a := newEndpoint(t, s, "acme")
	stored := newEvent("ping", at(0))
	_, err := s.Enqueue(ctx, enqueueAt(stored, targets(a)))
	require.NoError(t, err)
	ch := subscribe(t, s)

	begin := func(t *testing.T) (*sql.Tx, store.Tx) {
		t.Helper()
		tx, err := s.DB().BeginTx(ctx, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = tx.Rollback() })
		return tx, s.Tx(tx)
	}

	t.Run("commit", func(t *testing.T) {
		tx, view := begin(t)
		n, err := publisher(t, s).PublishTx(ctx, view, newEvent("ping", at(0)), sender.ToTenant("acme"), nil)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		requireQuiet(t, ch, "published, not committed")
		require.NoError(t, tx.Commit())
		requireWoken(t, ch, "the commit")
	})
	t.Run("rollback", func(t *testing.T) {
		tx, view := begin(t)
		n, err := publisher(t, s).PublishTx(ctx, view, newEvent("ping", at(0)), sender.ToTenant("acme"), nil)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.NoError(t, tx.Rollback())
		requireQuiet(t, ch, "the rollback")
		// The next commit that publishes nothing stays quiet too: the
		// rollback took the wakeup with it.
		_, err = s.Settle(ctx, store.SettleBatch{Health: []store.HealthDelta{{EndpointID: a.ID, LastSuccess: at(0)}}})
		require.NoError(t, err)
		requireQuiet(t, ch, "a commit after the rollback")
	})
	t.Run("refused enqueue", func(t *testing.T) {
		tx, view := begin(t)
		changed := stored
		changed.Data = []byte(`{"other":true}`)
		_, err := view.Enqueue(ctx, enqueueAt(changed, targets(a)))
		require.ErrorIs(t, err, store.ErrConflict)
		_, err = tx.Exec(`UPDATE webhookkit_endpoints SET description = 'touched' WHERE id = ?`, a.ID)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		requireQuiet(t, ch, "a commit whose only enqueue was refused")
		got, err := s.GetEndpoint(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, "touched", got.Description, "the caller's write committed")
	})
	t.Run("refused after a kept enqueue", func(t *testing.T) {
		tx, view := begin(t)
		n, err := view.Enqueue(ctx, enqueueAt(newEvent("ping", at(0)), targets(a)))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = view.Enqueue(ctx, enqueueAt(newEvent("ping", at(0)), []store.Target{{EndpointID: "no-such-endpoint"}}))
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, tx.Commit())
		requireWoken(t, ch, "the commit keeps the first enqueue")
	})
}

// TestSubscribeNew: a Store over the caller's own *sql.DB cannot see that
// pool's commits; it says so rather than subscribe and stay silent.
func TestSubscribeNew(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "own.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	s := sqlite.New(db, plaintext)
	require.NoError(t, s.Migrate(context.Background()))
	ch, err := s.Subscribe(context.Background())
	require.ErrorIs(t, err, errors.ErrUnsupported)
	require.Nil(t, ch)

	// A sender on it says so once and polls.
	snd, err := sender.New(s, &sender.Config{Logger: quietLog})
	require.NoError(t, err)
	require.NoError(t, snd.Start(context.Background()))
	require.NoError(t, snd.Shutdown(context.Background()))
}

// leaseWatch is a store whose leases the test sees, and whose
// notifications reach the sender only after the one that says listening
// has begun. A started sender on it with an hour between polls, once its
// first lease found nothing, leases again only when the store notifies.
type leaseWatch struct {
	*sqlite.Store
	leased    chan int      // how many deliveries each Lease returned
	listening chan struct{} // closed once the store's first value arrived
}

func (w *leaseWatch) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	ds, err := w.Store.Lease(ctx, req)
	if err == nil {
		w.leased <- len(ds)
	}
	return ds, err
}

func (w *leaseWatch) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	n, ok := any(w.Store).(store.Notifier)
	if !ok {
		return nil, errors.New("test: the store does not notify")
	}
	in, err := n.Subscribe(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		if _, ok := <-in; !ok {
			return
		}
		close(w.listening)
		for range in {
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out, nil
}

// TestPublishTxWakesSender publishes in the caller's transaction while a
// started sender waits an hour between polls: nothing is delivered before
// the commit (the subscriber hears nothing), the commit wakes the sender
// and it delivers; a rolled-back transaction wakes nothing.
func TestPublishTxWakesSender(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := event.Decode(body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- ev.ID
	}))
	defer srv.Close()
	ep := &store.Endpoint{
		Tenant: "acme", Mode: event.ModeTest, URL: srv.URL, EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
	}
	require.NoError(t, s.CreateEndpoint(ctx, ep))

	w := &leaseWatch{Store: s, leased: make(chan int, 100), listening: make(chan struct{})}
	snd, err := sender.New(w, &sender.Config{PollInterval: time.Hour, AllowPrivateNetworks: true, Logger: quietLog})
	require.NoError(t, err)
	defer snd.Close()
	require.NoError(t, snd.Start(ctx))
	select {
	case <-w.listening:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender did not subscribe")
	}
	select {
	case n := <-w.leased:
		require.Zero(t, n, "the sender's first lease finds nothing")
	case <-time.After(10 * time.Second):
		t.Fatal("the started sender did not lease")
	}
	watch := subscribe(t, s)

	// Rolled back: nothing to wake for.
	tx, err := s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = snd.PublishTx(ctx, s.Tx(tx), newEvent("order.created", at(0)), sender.ToTenant("acme"), nil)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	requireQuiet(t, watch, "a rolled-back PublishTx")

	// Committed: the sender is woken and delivers.
	ev := newEvent("order.created", at(0))
	tx, err = s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	n, err := snd.PublishTx(ctx, s.Tx(tx), ev, sender.ToTenant("acme"), nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	requireQuiet(t, watch, "published, not yet committed")
	require.NoError(t, tx.Commit())
	requireWoken(t, watch, "the commit")
	select {
	case id := <-got:
		require.Equal(t, ev.ID, id)
	case <-time.After(10 * time.Second):
		t.Fatal("the commit did not wake the sender")
	}
	require.NoError(t, snd.Shutdown(ctx))
	require.Empty(t, got, "the rolled-back event is never delivered")
}
