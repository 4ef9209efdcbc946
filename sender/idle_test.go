package sender_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// TestWaitIdleAfterBurst checks that WaitIdle on a started sender returns
// once a burst of publishes has been delivered, hooks included.
func TestWaitIdleAfterBurst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := newStore()
	srv := newServer(t, nil)
	addEndpoint(t, st, srv.URL, nil)
	addEndpoint(t, st, srv.URL+"/second", nil)
	var hooked atomic.Int64
	s := newSender(t, st, nil, func(c *sender.Config) {
		c.Workers = 4
		c.Hooks.OnAttempt = func(context.Context, *store.Attempt) { hooked.Add(1) }
	})
	require.NoError(t, s.Start(ctx))

	const events = 50
	for i := range events {
		ev, err := event.New(event.ModeTest, "order.paid", []byte(fmt.Sprintf(`{"n":%d}`, i)))
		require.NoError(t, err)
		n, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
		require.Equal(t, 2, n)
	}
	require.NoError(t, s.WaitIdle(ctx))

	require.Equal(t, 2*events, srv.count())
	require.Equal(t, int64(2*events), hooked.Load(), "every OnAttempt has run")
	b, err := s.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Backlog{}, b.Backlog)
	ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, Page: store.Page{Limit: store.MaxPageSize}})
	require.NoError(t, err)
	require.Len(t, ds, 2*events)
	for _, d := range ds {
		require.Equal(t, store.StateSucceeded, d.State)
	}
}

// TestWaitIdleLeavesLaterRetries checks that a retry scheduled for later
// does not keep WaitIdle waiting, on a sender driven by ProcessDue and a
// fake clock.
func TestWaitIdleLeavesLaterRetries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := newClock()
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusServiceUnavailable) })
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry = retry.Schedule{Delays: []time.Duration{time.Hour}}
	})
	_, err := s.Publish(ctx, newEvent(t, clk, "order.paid", `{}`), sender.ToTenant(""), nil)
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() { done <- s.WaitIdle(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("WaitIdle returned %v with a delivery due", err)
	default:
	}
	require.Equal(t, 1, processDue(t, s))
	require.NoError(t, <-done)

	b, err := s.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, sender.Backlog{Backlog: store.Backlog{Scheduled: 1}}, b, "the retry waits an hour, and does not count")
	require.NoError(t, s.WaitIdle(ctx), "returns at once with only a later retry")

	clk.Advance(time.Hour)
	b, err = s.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, sender.Backlog{Backlog: store.Backlog{Due: 1}}, b, "by the sender's clock, the retry is due now")
}

// TestWaitIdleBlocksWhileInFlight checks that WaitIdle waits while an
// attempt is in flight and returns ctx's error when ctx ends first.
func TestWaitIdleBlocksWhileInFlight(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			close(entered)
			<-release
		}
	})
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, nil)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the sender closes, should the test fail
	require.NoError(t, s.Start(ctx))
	_, err := s.Publish(ctx, newEvent(t, nil, "order.paid", `{}`), sender.ToTenant(""), nil)
	require.NoError(t, err)
	<-entered

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.WaitIdle(wctx) }()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	unblock()
	require.NoError(t, s.WaitIdle(ctx))
	require.Equal(t, store.StateSucceeded, delivery(t, st, srv.requests()[0].Event.ID).State)
}

// pollCounter is a store whose Backlog calls are reported on a channel.
type pollCounter struct {
	store.SenderStore
	polled chan struct{}
}

func (p *pollCounter) Backlog(ctx context.Context, mode event.Mode, now time.Time) (store.Backlog, error) {
	b, err := p.SenderStore.Backlog(ctx, mode, now)
	select {
	case p.polled <- struct{}{}:
	default:
	}
	return b, err
}

// TestWaitIdleWaitsForHooks checks that a delivery settled in the store
// still counts as in flight until its hooks have returned: WaitIdle keeps
// asking the store, finds it idle, and still waits.
func TestWaitIdleWaitsForHooks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := newClock()
	st := &pollCounter{SenderStore: newStore(), polled: make(chan struct{}, 1)}
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusInternalServerError) })
	addEndpoint(t, st, srv.URL, nil)
	entered := make(chan struct{})
	release := make(chan struct{})
	var hookDone atomic.Bool
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Retry = retry.Never{}
		c.Hooks.OnDeliveryExhausted = func(context.Context, *store.Delivery, string) {
			close(entered)
			<-release
			hookDone.Store(true)
		}
	})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the sender closes, should the test fail
	_, err := s.Publish(ctx, newEvent(t, clk, "order.paid", `{}`), sender.ToTenant(""), nil)
	require.NoError(t, err)
	processed := make(chan int, 1)
	go func() { n, _ := s.ProcessDue(ctx); processed <- n }()
	<-entered // the delivery has failed in the store; its hook runs

	type outcome struct {
		err      error
		hookDone bool
	}
	done := make(chan outcome, 1)
	go func() { err := s.WaitIdle(ctx); done <- outcome{err, hookDone.Load()} }()
	// Two polls after the hook began: the first saw an idle store, and
	// WaitIdle carried on.
	<-st.polled
	for range 2 {
		select {
		case <-st.polled:
		case <-done:
			t.Fatal("WaitIdle returned while a hook was running")
		}
	}
	unblock()
	o := <-done
	require.NoError(t, o.err)
	require.True(t, o.hookDone, "WaitIdle returned after the hook")
	require.Equal(t, 1, <-processed)
}
