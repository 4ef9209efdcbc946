package receiver_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// clock is a settable clock for Config.Now.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) {
	c.ns.Add(int64(d))
}

// TestCrashRedrive: a receiver accepts an event into a durable inbox and
// dies (Close) before handling it; the next receiver on the same inbox
// handles it once the lease has ended.
func TestCrashRedrive(t *testing.T) {
	k := newKeyPair(t)
	ib := newTestInbox()
	clk := newClock(testNow)
	started := make(chan struct{}, 1)
	first := dyingRecorder(started) // the process "dies" mid-callback
	cfg := receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib, Now: clk.Now, Lease: time.Minute, RecoveryInterval: time.Millisecond}
	a := newReceiver(t, first, cfg)
	ev := newEvent(t, event.ModeTest, "patient.ehi_export_success")
	require.Equal(t, 200, serve(a, eventRequest(t, k.Signer, ev)).Code)
	<-started
	require.NoError(t, a.Close())
	require.Equal(t, store.InboxClaimed, ib.state(ev.ID))

	second := newRecorder()
	b := newReceiver(t, second, cfg)
	// While the dead process's lease holds, nothing is re-driven; the
	// sender's retry is a duplicate (the event is held by the inbox).
	require.Equal(t, 200, serve(b, eventRequest(t, k.Signer, ev)).Code)
	require.Equal(t, uint64(1), b.Stats().Duplicates)
	clk.Add(2 * time.Minute) // the lease ends; the periodic pass picks it up
	got := second.Next(t)
	require.Equal(t, ev.ID, got.ID)
	drain(t, b)
	require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	require.EqualValues(t, 1, second.Calls.Load())
	require.Equal(t, uint64(1), b.Stats().Recovered)
}

// TestStartRedrivesFirst: Start returns once the events a crash left
// claimed (lease ended) are queued, before new requests compete for the
// queue's room.
func TestStartRedrivesFirst(t *testing.T) {
	k := newKeyPair(t)
	ib := newTestInbox()
	clk := newClock(testNow)
	evs := []event.Event{newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")}
	for _, ev := range evs {
		won, err := ib.Claim(context.Background(), store.Claim{Key: ev.ID, Body: eventBody(t, ev), Now: clk.Now(), TTL: time.Hour, Lease: time.Minute})
		require.NoError(t, err)
		require.True(t, won)
	}
	clk.Add(2 * time.Minute) // the crashed process's leases ended

	rc := newRecorder()
	// The periodic pass is an hour away: only Start's own pass can queue them.
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib, Now: clk.Now,
		Lease: time.Minute, RecoveryInterval: time.Hour, QueueSize: 2 * len(evs)})
	require.Equal(t, uint64(len(evs)), r.Stats().Recovered, "queued before Start returned")
	drain(t, r)
	for _, ev := range evs {
		require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	}
	require.EqualValues(t, len(evs), rc.Calls.Load())
}

// heldLeaseInbox is a testInbox whose LeaseClaimed waits, after telling
// leasing, until resume is closed.
type heldLeaseInbox struct {
	*testInbox
	leasing, resume chan struct{}
}

func (b *heldLeaseInbox) LeaseClaimed(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.InboxEntry, error) {
	b.leasing <- struct{}{}
	<-b.resume
	return b.testInbox.LeaseClaimed(ctx, now, lease, limit)
}

// TestRecoveryLeavesRoom: while a re-drive pass leases, requests still find
// half the queue's room: the pass does not answer them 503 by holding it.
func TestRecoveryLeavesRoom(t *testing.T) {
	k := newKeyPair(t)
	ib := &heldLeaseInbox{testInbox: newTestInbox(), leasing: make(chan struct{}, 1), resume: make(chan struct{})}
	rc := newRecorder()
	r, err := receiver.New(rc, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib, Now: fixedNow,
		Logger: quiet, QueueSize: 2, RecoveryInterval: time.Hour})
	require.NoError(t, err)
	started := make(chan error, 1)
	go func() { started <- r.Start(context.Background()) }()
	t.Cleanup(func() { _ = r.Close() })
	<-ib.leasing // Start's pass holds its slots

	ev := newEvent(t, event.ModeTest, "ping")
	w := serve(r, eventRequest(t, k.Signer, ev))
	close(ib.resume)
	require.Equal(t, 200, w.Code, w.Body.String())
	require.NoError(t, <-started)
	require.Equal(t, ev.ID, rc.Next(t).ID)
	drain(t, r)
}

// TestRecoverySkipsEventsHeldHere: a lease that ends while this receiver
// still runs the event does not make it run twice here.
func TestRecoverySkipsEventsHeldHere(t *testing.T) {
	k := newKeyPair(t)
	ib := newTestInbox()
	clk := newClock(testNow)
	started := make(chan struct{}, 1)
	gate := make(chan struct{})
	rc := newRecorder()
	rc.Fn = func(context.Context, event.Event, int64) error {
		started <- struct{}{}
		<-gate
		return nil
	}
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib, Now: clk.Now,
		Lease: time.Minute, RecoveryInterval: time.Millisecond})
	ev := newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	<-started
	clk.Add(2 * time.Minute)
	// A recovery pass leases the entry (its lease ended) and must skip it.
	require.Eventually(t, func() bool { return ib.entry(ev.ID).Attempts >= 1 }, waitTimeout, time.Millisecond)
	close(gate)
	drain(t, r)
	require.EqualValues(t, 1, rc.Calls.Load())
	require.Zero(t, r.Stats().Recovered)
	require.Equal(t, store.InboxHandled, ib.state(ev.ID))
}

// TestRecoveredPoisonEventGivesUp: an event re-driven after several leases
// continues its attempt count, so a crash loop still ends in the dead state.
func TestRecoveredPoisonEventGivesUp(t *testing.T) {
	k := newKeyPair(t)
	ib := newTestInbox()
	ev := newEvent(t, event.ModeTest, "ping")
	_, err := ib.Claim(context.Background(), store.Claim{Key: ev.ID, Body: eventBody(t, ev), Now: testNow.Add(-time.Hour), TTL: time.Hour * 24, Lease: time.Minute})
	require.NoError(t, err)
	ib.mu.Lock()
	ib.entries[ev.ID].Attempts = 2 // two earlier leases died
	ib.mu.Unlock()

	rc := newRecorder()
	rc.Fn = func(context.Context, event.Event, int64) error { return context.DeadlineExceeded }
	var attempts []int
	dead := make(chan struct{}, 1)
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib,
		Retry: retryFast(4),
		Hooks: receiver.Hooks{
			OnCallback: func(_ context.Context, i receiver.CallbackInfo) { attempts = append(attempts, i.Number) },
			OnDead:     func(context.Context, event.Event, error) { dead <- struct{}{} },
		},
	})
	<-dead
	drain(t, r)
	require.Equal(t, []int{3, 4}, attempts, "attempt numbers continue from the leases")
	require.Equal(t, store.InboxDead, ib.state(ev.ID))
}

// TestCorruptStoredBodyIsDead: a stored body that no longer decodes is
// marked dead rather than retried forever.
func TestCorruptStoredBodyIsDead(t *testing.T) {
	k := newKeyPair(t)
	ib := newTestInbox()
	_, err := ib.Claim(context.Background(), store.Claim{Key: "k1", Body: []byte("{not json"), Now: testNow.Add(-time.Hour), TTL: time.Hour * 24, Lease: time.Minute})
	require.NoError(t, err)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib})
	require.Eventually(t, func() bool { return ib.state("k1") == store.InboxDead }, waitTimeout, time.Millisecond)
	drain(t, r)
	require.Zero(t, rc.Calls.Load())
	require.Contains(t, ib.entry("k1").LastError, "does not decode")
}

// finishRaceInbox is a durable store/memory inbox whose LeaseClaimed, once
// it has leased key, holds its answer until finished is closed: the entry
// comes back as claimed although the job holding it has finished meanwhile.
type finishRaceInbox struct {
	*memory.Store
	key      string
	leased   chan struct{} // closed when LeaseClaimed has leased key
	finished chan struct{} // closed by the test once the job has finished
	once     sync.Once
	// passed is closed by the first LeaseClaimed call after the one that
	// returned key: the recovery pass that got key has ended (passes run
	// one after another on one goroutine).
	passed chan struct{}
	after  atomic.Bool
}

func (b *finishRaceInbox) LeaseClaimed(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.InboxEntry, error) {
	if b.after.CompareAndSwap(true, false) {
		close(b.passed)
	}
	out, err := b.Store.LeaseClaimed(ctx, now, lease, limit)
	for _, e := range out {
		if e.Key != b.key {
			continue
		}
		b.once.Do(func() {
			close(b.leased)
			select {
			case <-b.finished:
			case <-ctx.Done(): // the receiver is closing: the test failed
			}
			b.after.Store(true)
		})
	}
	return out, err
}

// TestRecoverySkipsEventsFinishedWhileLeasing: an event this receiver holds
// when a recovery pass leases it, and that finishes (leaving the receiver)
// before LeaseClaimed returns it as claimed, is not queued a second time.
// Regression test for a double callback in one process.
func TestRecoverySkipsEventsFinishedWhileLeasing(t *testing.T) {
	k := newKeyPair(t)
	clk := newClock(testNow)
	ev := newEvent(t, event.ModeTest, "ping")
	ib := &finishRaceInbox{Store: memory.New(nil), key: ev.ID,
		leased: make(chan struct{}), finished: make(chan struct{}), passed: make(chan struct{})}
	started := make(chan struct{})
	gate := make(chan struct{})
	rc := newRecorder()
	rc.Fn = func(_ context.Context, _ event.Event, n int64) error {
		if n == 1 {
			close(started)
			<-gate
		}
		return nil
	}
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib, Now: clk.Now,
		Lease: time.Minute, RecoveryInterval: time.Millisecond})
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
	<-started
	clk.Add(2 * time.Minute) // the lease ends while the callback runs

	select {
	case <-ib.leased: // a recovery pass took the entry, still claimed
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for a recovery pass to lease the entry")
	}
	close(gate) // the callback returns; the job is marked handled and finishes
	require.Eventually(t, func() bool { return r.Stats().Pending == 0 }, waitTimeout, time.Millisecond)
	close(ib.finished) // only now does LeaseClaimed return the entry
	select {
	case <-ib.passed: // that pass queued the entry again, or skipped it
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for the recovery pass to end")
	}

	drain(t, r)
	require.EqualValues(t, 1, rc.Calls.Load(), "callback ran once")
	require.Zero(t, r.Stats().Recovered)
	e, err := ib.GetInboxEntry(context.Background(), ev.ID)
	require.NoError(t, err)
	require.Equal(t, store.InboxHandled, e.State)
}
