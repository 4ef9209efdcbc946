package sender_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/leasewatch"
	"github.com/webhookkit/webhookkit/sender"
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

// fakeNotifier is a [store.Notifier] driven by the test: every value sent
// on in reaches the subscriber, as the contract says (coalesced, the
// channel closed after ctx ends).
type fakeNotifier struct {
	in         chan struct{}
	subscribed chan struct{} // closed by the first Subscribe
	ended      chan struct{} // closed when that subscription has ended
	err        error         // returned by Subscribe when set
	once       sync.Once
}

func newFakeNotifier(err error) *fakeNotifier {
	return &fakeNotifier{in: make(chan struct{}), subscribed: make(chan struct{}), ended: make(chan struct{}), err: err}
}

func (f *fakeNotifier) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	first := false
	f.once.Do(func() { first = true; close(f.subscribed) })
	if !first {
		return nil, errors.New("fake: subscribed twice")
	}
	if f.err != nil {
		close(f.ended)
		return nil, f.err
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(f.ended)
		defer close(out)
		for {
			select {
			case <-f.in:
				select {
				case out <- struct{}{}:
				default:
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// notifyingStore is a watched store that is also a [store.Notifier].
type notifyingStore struct {
	*watchedStore
	store.Notifier
}

func waitClosed(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(wakeWait):
		tb.Fatalf("%s: not within %v", what, wakeWait)
	}
}

// TestNotifierWakesIdleSender enqueues behind the sender's back (straight
// into the store, as another process would) while the sender waits an hour
// between polls: only the store's notification can make it deliver.
func TestNotifierWakesIdleSender(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, nil)
	watched := &watchedStore{SenderStore: newStore()}
	fake := newFakeNotifier(nil)
	st := notifyingStore{watched, fake}
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) { c.PollInterval = time.Hour })
	require.NoError(t, s.Start(ctx))
	waitClosed(t, fake.subscribed, "Start subscribes")

	for i := range 3 {
		watched.WaitIdle(t, quietPeriod, wakeWait)
		n, err := watched.Enqueue(ctx, store.EnqueueRequest{Event: newEvent(t, nil, "order.created", `{}`), Targets: []store.Target{{EndpointID: ep.ID, Tenant: ep.Tenant}}, Now: time.Now()})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		fake.in <- struct{}{}
		require.Eventually(t, func() bool { return srv.count() == i+1 }, wakeWait, time.Millisecond,
			"the notification wakes the sender")
	}

	require.NoError(t, s.Shutdown(ctx))
	select {
	case <-fake.ended:
	default:
		t.Fatal("Shutdown returned before the subscription ended")
	}
}

// TestShortLeaseSleeps: a lease that found fewer deliveries than it asked
// for shows that nothing more is due, so the sender sleeps until a wakeup
// or its poll instead of asking the store again at once.
func TestShortLeaseSleeps(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, nil)
	watched := &watchedStore{SenderStore: newStore()}
	addEndpoint(t, watched, srv.URL, nil)
	s := newSender(t, watched, nil, func(c *sender.Config) { c.PollInterval = time.Hour })
	require.NoError(t, s.Start(ctx))
	watched.WaitIdle(t, quietPeriod, wakeWait)

	before := watched.Started()
	publishN(t, s, 1) // wakes the sender
	require.Eventually(t, func() bool { return srv.count() == 1 }, wakeWait, time.Millisecond)
	watched.WaitIdle(t, quietPeriod, wakeWait)
	require.Equal(t, before+1, watched.Started(), "one lease, for the one delivery, and none after it")
}

// TestNotifierEndsWithClose checks that Close, too, ends the subscription
// before it returns.
func TestNotifierEndsWithClose(t *testing.T) {
	fake := newFakeNotifier(nil)
	st := notifyingStore{&watchedStore{SenderStore: newStore()}, fake}
	s := newSender(t, st, nil, nil)
	require.NoError(t, s.Start(context.Background()))
	waitClosed(t, fake.subscribed, "Start subscribes")
	require.NoError(t, s.Close())
	select {
	case <-fake.ended:
	default:
		t.Fatal("Close returned before the subscription ended")
	}
}

// TestNotifierSubscribeFails checks that a failed subscription is logged
// and the sender goes on working: local wakeups and polling.
func TestNotifierSubscribeFails(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, nil)
	fake := newFakeNotifier(errors.New("fake: no listening today"))
	st := notifyingStore{&watchedStore{SenderStore: newStore()}, fake}
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	var logs syncBuffer
	s := newSender(t, st, nil, func(c *sender.Config) {
		c.PollInterval = time.Hour
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	require.NoError(t, s.Start(ctx))
	waitClosed(t, fake.subscribed, "Start subscribes")
	require.Eventually(t, func() bool {
		return contains(logs.String(), `"level":"WARN"`, "polling only", "no listening today")
	}, wakeWait, time.Millisecond, "the failure is logged: %s", logs.String())

	n, err := s.Publish(ctx, newEvent(t, nil, "order.created", `{}`), sender.ToTenant(ep.Tenant), nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Eventually(t, func() bool { return srv.count() == 1 }, wakeWait, time.Millisecond)
	require.NoError(t, s.Shutdown(ctx))
}

// TestNoSubscriptionWithoutStart checks that only Start subscribes: a
// sender used synchronously holds no subscription.
func TestNoSubscriptionWithoutStart(t *testing.T) {
	fake := newFakeNotifier(nil)
	st := notifyingStore{&watchedStore{SenderStore: newStore()}, fake}
	s := newSender(t, st, nil, nil)
	_, err := s.ProcessDue(context.Background())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	select {
	case <-fake.subscribed:
		t.Fatal("subscribed without Start")
	default:
	}
}

// contains reports whether s contains every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
