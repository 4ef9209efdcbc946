package receiver_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// holdingInbox is a testInbox whose next winning Claim or next ReleaseClaim
// can be held: the held call sends its key on held, then waits until resume
// is closed. It is durable (a store.InboxRecovery); wrap it in plain{} to
// hide that.
type holdingInbox struct {
	*testInbox
	mu                     sync.Mutex
	holdClaim, holdRelease bool
	held                   chan string
	resume                 chan struct{}
	unhold                 func() // closes resume, once
}

func newHoldingInbox() *holdingInbox {
	b := &holdingInbox{testInbox: newTestInbox(), held: make(chan string, 1), resume: make(chan struct{})}
	b.unhold = sync.OnceFunc(func() { close(b.resume) })
	return b
}

// take reports whether the call must be held, and stops holding the next.
func (b *holdingInbox) take(flag *bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	hold := *flag
	*flag = false
	return hold
}

func (b *holdingInbox) Claim(ctx context.Context, c store.Claim) (bool, error) {
	won, err := b.testInbox.Claim(ctx, c)
	if won && b.take(&b.holdClaim) {
		b.held <- c.Key
		<-b.resume
	}
	return won, err
}

func (b *holdingInbox) ReleaseClaim(ctx context.Context, key string) error {
	if b.take(&b.holdRelease) {
		b.held <- key
		<-b.resume
	}
	return b.testInbox.ReleaseClaim(ctx, key)
}

// requireDuplicate requires the answer of a duplicate: 200, the duplicate
// header and the reason as the body.
func requireDuplicate(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "true", w.Header().Get(receiver.HeaderDuplicate))
	require.Equal(t, string(receiver.ReasonDuplicate)+"\n", w.Body.String())
	require.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
}

// TestCopyOfRefusedEventIsRefused: while a request for an event is being
// refused for a full queue, a copy of the same event arriving meanwhile is
// refused too, never answered 200 as a duplicate of an event the receiver
// does not hold (its sender would stop retrying and the event be lost).
func TestCopyOfRefusedEventIsRefused(t *testing.T) {
	k := newKeyPair(t)
	started := make(chan string, 10)
	gate := make(chan struct{})
	openGate := sync.OnceFunc(func() { close(gate) })
	defer openGate() // before the receiver is closed, should the test fail
	rc := newRecorder()
	rc.Fn = func(_ context.Context, ev event.Event, _ int64) error {
		started <- ev.ID
		<-gate
		return nil
	}
	ib := newHoldingInbox()
	defer ib.unhold()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, QueueSize: 1, Workers: 1, Inbox: plain{ib}})
	e1, e2, e3 := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e1)).Code)
	require.Equal(t, e1.ID, <-started) // the worker holds e1
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e2)).Code)

	// e3 finds the queue full. Should the receiver claim it and then
	// release the claim, the release is held here.
	ib.mu.Lock()
	ib.holdRelease = true
	ib.mu.Unlock()
	claimsBefore := ib.claims.Load()
	first := make(chan *httptest.ResponseRecorder, 1)
	go func() { first <- serve(r, eventRequest(t, k.Signer, e3)) }()
	var w1 *httptest.ResponseRecorder
	select {
	case <-ib.held: // claimed, now releasing: the copy arrives meanwhile
	case w1 = <-first: // refused without a claim
	}
	copyW := serve(r, eventRequest(t, k.Signer, e3))
	ib.unhold()
	if w1 == nil {
		w1 = <-first
	}
	require.Equal(t, http.StatusServiceUnavailable, copyW.Code, "a copy of an event the receiver does not hold is refused, not a duplicate")
	require.Equal(t, string(receiver.ReasonQueueFull)+"\n", copyW.Body.String())
	require.Empty(t, copyW.Header().Get(receiver.HeaderDuplicate))
	require.Equal(t, http.StatusServiceUnavailable, w1.Code)
	require.Equal(t, "5", w1.Header().Get("Retry-After"))
	require.Equal(t, claimsBefore, ib.claims.Load(), "a full queue refuses before claiming")
	require.Empty(t, ib.released)

	openGate()
	require.Equal(t, e2.ID, <-started)
	require.Eventually(t, func() bool { return r.Stats().Queued == 0 }, waitTimeout, time.Millisecond)
	require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, e3)).Code, "the sender's retry is accepted")
	require.Equal(t, e3.ID, <-started)
	drain(t, r)
	require.EqualValues(t, 3, rc.Calls.Load())
	for _, ev := range []event.Event{e1, e2, e3} {
		require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	}
	st := r.Stats()
	require.Equal(t, uint64(2), st.Unavailable)
	require.Zero(t, st.Duplicates)
}

// heldClaim is a receiver whose first request, for ev, won its claim and
// is held inside the inbox's Claim until ib.unhold; its answer then comes
// on first.
type heldClaim struct {
	k     keyPair
	rc    *recorder
	ib    *holdingInbox
	r     *receiver.Receiver
	ev    event.Event
	first chan *httptest.ResponseRecorder
}

func newHeldClaim(t *testing.T, durable bool) *heldClaim {
	t.Helper()
	h := &heldClaim{k: newKeyPair(t), rc: newRecorder(), ib: newHoldingInbox(), first: make(chan *httptest.ResponseRecorder, 1)}
	h.ib.holdClaim = true
	var inbox store.Inbox = plain{h.ib}
	if durable {
		inbox = h.ib
	}
	h.r = newReceiver(t, h.rc, receiver.Config{Keys: []receiver.Key{{Text: h.k.Text}}, Inbox: inbox})
	t.Cleanup(h.ib.unhold) // before the receiver is closed, should the test fail
	h.ev = newEvent(t, event.ModeTest, "ping")
	go func() { h.first <- serve(h.r, h.post(t)) }()
	require.Equal(t, h.ev.ID, <-h.ib.held, "the first request won the claim")
	return h
}

// post returns a request for ev, freshly signed.
func (h *heldClaim) post(t *testing.T) *http.Request { return eventRequest(t, h.k.Signer, h.ev) }

// TestShutdownDuringClaimKeepsEvent: an event claimed while Shutdown
// begins is accepted and drained, not released, because a copy of it was
// already answered 200 as a duplicate.
func TestShutdownDuringClaimKeepsEvent(t *testing.T) {
	h := newHeldClaim(t, false)
	requireDuplicate(t, serve(h.r, h.post(t)))

	done := make(chan error, 1)
	go func() { done <- h.r.Shutdown(context.Background()) }()
	require.Eventually(t, func() bool { return errors.Is(h.r.Start(context.Background()), receiver.ErrClosed) },
		waitTimeout, time.Millisecond, "Shutdown has begun")
	h.ib.unhold()
	w := <-h.first
	require.Equal(t, http.StatusOK, w.Code, "the claimed event is accepted: its copy was told it is held")
	require.Empty(t, w.Header().Get(receiver.HeaderDuplicate))
	require.NoError(t, <-done)
	require.EqualValues(t, 1, h.rc.Calls.Load(), "Shutdown drained the event")
	require.Equal(t, store.InboxHandled, h.ib.state(h.ev.ID))
	require.Empty(t, h.ib.released)
	st := h.r.Stats()
	require.Equal(t, uint64(1), st.Accepted)
	require.Equal(t, uint64(1), st.Duplicates)
}

// TestCloseDuringClaimKeepsDurableEvent: an event claimed in a durable
// inbox while Close runs stays claimed for the next receiver to re-drive,
// since a copy of it was answered 200 as a duplicate.
func TestCloseDuringClaimKeepsDurableEvent(t *testing.T) {
	h := newHeldClaim(t, true)
	requireDuplicate(t, serve(h.r, h.post(t)))
	require.NoError(t, h.r.Close())
	h.ib.unhold()
	w := <-h.first
	require.Equal(t, http.StatusOK, w.Code, "the durable inbox holds the event")
	require.Equal(t, store.InboxClaimed, h.ib.state(h.ev.ID), "kept claimed for re-drive")
	require.Empty(t, h.ib.released)
	require.Zero(t, h.rc.Calls.Load())
	st := h.r.Stats()
	require.Equal(t, uint64(1), st.Interrupted)
	require.Zero(t, st.Pending)
}

// TestCloseDuringClaimRefusesNonDurable: with a non-durable inbox, an
// event claimed while Close runs cannot be held: it is released and
// answered 503, so its sender retries.
func TestCloseDuringClaimRefusesNonDurable(t *testing.T) {
	h := newHeldClaim(t, false)
	require.NoError(t, h.r.Close())
	h.ib.unhold()
	w := <-h.first
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	require.Equal(t, store.InboxState(""), h.ib.state(h.ev.ID), "the claim is released")
	require.Zero(t, h.rc.Calls.Load())
	st := h.r.Stats()
	require.Zero(t, st.Pending)
	require.Zero(t, st.Interrupted, "the event was never accepted")
}

// TestConcurrentCopiesAgainstFullQueue delivers events as a sender that
// posts several copies of each at once and stops at the first 200 does,
// against a receiver whose queue is mostly full: every event answered 200
// must be handled exactly once.
func TestConcurrentCopiesAgainstFullQueue(t *testing.T) {
	k := newKeyPair(t)
	const (
		events = 300
		copies = 8
	)
	rc := newRecorder()
	rc.Got = nil
	rc.Fn = func(context.Context, event.Event, int64) error {
		time.Sleep(50 * time.Microsecond) // slower than the requests: the queue fills up
		return nil
	}
	inbox := memory.New(&memory.Config{Logger: quiet})
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, QueueSize: 2, Workers: 1, Inbox: plain{inbox}})

	var mu sync.Mutex
	notHeld := 0 // 200s for an event the inbox did not hold at once
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16) // events in flight at once
	for range events {
		ev := newEvent(t, event.ModeTest, "ping")
		body := eventBody(t, ev)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for {
				// One round: copies posted at once; the sender is done at
				// the first 200.
				var round sync.WaitGroup
				var ok bool
				var rmu sync.Mutex
				for range copies {
					round.Go(func() {
						w := serve(r, signedRequest(k.Signer, ev.ID, testNow, body))
						if w.Code != http.StatusOK {
							return
						}
						_, err := inbox.GetInboxEntry(context.Background(), ev.ID)
						rmu.Lock()
						ok = true
						rmu.Unlock()
						if err != nil {
							mu.Lock()
							notHeld++
							mu.Unlock()
						}
					})
				}
				round.Wait()
				if ok {
					return
				}
				time.Sleep(100 * time.Microsecond) // Retry-After, shortened
			}
		})
	}
	wg.Wait()
	drain(t, r)
	st := r.Stats()
	require.Zero(t, notHeld, "200s for events not held")
	require.EqualValues(t, events, rc.Calls.Load(), "every event acknowledged is handled exactly once (stats %+v)", st)
	require.Equal(t, uint64(events), st.Accepted)
	require.Equal(t, uint64(events), st.Handled)
	require.Positive(t, st.Unavailable, "the queue was full at times")
}
