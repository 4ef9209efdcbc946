package receiver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/store"
)

// batchInbox is a testInbox that implements store.InboxBatcher: a batch
// claims (or marks) its keys one after the other, so a key given twice is
// won by its first claim. It records the keys of every batch, counts the
// single Claim and MarkHandled calls (the direct path), and can hold
// batches: a held batch sends its keys on claimHeld (markHeld) and waits
// for the error to return on claimResume (markResume); nil writes it.
type batchInbox struct {
	*testInbox
	bmu          sync.Mutex
	claimBatches [][]string
	markBatches  [][]string
	holdClaims   int // the next holdClaims ClaimBatch calls are held
	holdMarks    int // the next holdMarks MarkHandledBatch calls are held
	claimHeld    chan []string
	claimResume  chan error
	markHeld     chan []string
	markResume   chan error
	singleClaims atomic.Int64
	singleMarks  atomic.Int64
	leases       atomic.Int64
}

func newBatchInbox() *batchInbox {
	return &batchInbox{
		testInbox: newTestInbox(),
		claimHeld: make(chan []string, 1), claimResume: make(chan error),
		markHeld: make(chan []string, 1), markResume: make(chan error),
	}
}

func keysOf(cs []store.Claim) []string {
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	return keys
}

// hold reports whether this call is held, counting it off *n.
func (b *batchInbox) hold(n *int) bool {
	b.bmu.Lock()
	defer b.bmu.Unlock()
	if *n == 0 {
		return false
	}
	*n--
	return true
}

func (b *batchInbox) ClaimBatch(ctx context.Context, cs []store.Claim) ([]bool, error) {
	keys := keysOf(cs)
	b.bmu.Lock()
	b.claimBatches = append(b.claimBatches, keys)
	b.bmu.Unlock()
	if b.hold(&b.holdClaims) {
		b.claimHeld <- keys
		if err := <-b.claimResume; err != nil {
			if errors.Is(err, errPanic) {
				panic(err)
			}
			return nil, err
		}
	}
	won := make([]bool, len(cs))
	for i, c := range cs {
		var err error
		if won[i], err = b.testInbox.Claim(ctx, c); err != nil {
			return nil, err // the test inbox fails before claiming anything
		}
	}
	return won, nil
}

func (b *batchInbox) MarkHandledBatch(ctx context.Context, keys []string, at time.Time) error {
	b.bmu.Lock()
	b.markBatches = append(b.markBatches, slices.Clone(keys))
	b.bmu.Unlock()
	if b.hold(&b.holdMarks) {
		b.markHeld <- slices.Clone(keys)
		if err := <-b.markResume; err != nil {
			return err
		}
	}
	var missing []string
	for _, k := range keys {
		if err := b.testInbox.MarkHandled(ctx, k, at); err != nil {
			missing = append(missing, k)
		}
	}
	if missing != nil {
		return fmt.Errorf("%w: %q", store.ErrNotFound, missing)
	}
	return nil
}

func (b *batchInbox) Claim(ctx context.Context, c store.Claim) (bool, error) {
	b.singleClaims.Add(1)
	return b.testInbox.Claim(ctx, c)
}

func (b *batchInbox) MarkHandled(ctx context.Context, key string, at time.Time) error {
	b.singleMarks.Add(1)
	return b.testInbox.MarkHandled(ctx, key, at)
}

func (b *batchInbox) LeaseClaimed(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.InboxEntry, error) {
	defer b.leases.Add(1)
	return b.testInbox.LeaseClaimed(ctx, now, lease, limit)
}

func (b *batchInbox) batches() (claims, marks [][]string) {
	b.bmu.Lock()
	defer b.bmu.Unlock()
	return slices.Clone(b.claimBatches), slices.Clone(b.markBatches)
}

// recv receives from ch, failing t after waitTimeout.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for a value")
		panic("unreachable")
	}
}

// send sends v on ch, failing t after waitTimeout.
func send[T any](t *testing.T, ch chan<- T, v T) {
	t.Helper()
	select {
	case ch <- v:
	case <-time.After(waitTimeout):
		t.Fatal("timed out sending a value")
	}
}

// newBatchRig starts a receiver configured by cfg on a new batchInbox
// whose next holdClaims claim batches and holdMarks mark batches are held,
// with a recorder for its handler.
func newBatchRig(t *testing.T, holdClaims, holdMarks int, cfg receiver.Config) (keyPair, *batchInbox, *recorder, *receiver.Receiver) {
	t.Helper()
	k := newKeyPair(t)
	ib := newBatchInbox()
	ib.holdClaims, ib.holdMarks = holdClaims, holdMarks
	rc := newRecorder()
	cfg.Keys, cfg.Inbox = []receiver.Key{{Text: k.Text}}, ib
	return k, ib, rc, newReceiver(t, rc, cfg)
}

// heldWriter is a ResponseRecorder that notes, when the status is
// written, whether the inbox held the event's key at that moment.
type heldWriter struct {
	*httptest.ResponseRecorder
	held       func() bool
	heldAtSend bool
}

func (w *heldWriter) WriteHeader(code int) {
	w.heldAtSend = w.held()
	w.ResponseRecorder.WriteHeader(code)
}

// postAsync serves a request for ev on r in a goroutine; its answer comes
// on the returned channel, noting whether ib held ev's key when the status
// was written.
func postAsync(t *testing.T, r *receiver.Receiver, k keyPair, ib *batchInbox, ev event.Event) <-chan *heldWriter {
	t.Helper()
	req := eventRequest(t, k.Signer, ev)
	w := &heldWriter{ResponseRecorder: httptest.NewRecorder(), held: func() bool { return ib.state(ev.ID) != "" }}
	ch := make(chan *heldWriter, 1)
	go func() {
		r.ServeHTTP(w, req)
		ch <- w
	}()
	return ch
}

// waitClaims waits until n claims wait for a batch.
func waitClaims(t *testing.T, r *receiver.Receiver, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return receiver.ClaimsWaiting(r) == n }, waitTimeout, time.Millisecond,
		"%d claims waiting for a batch", n)
}

func requireAccepted(t *testing.T, w *heldWriter) {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code)
	require.Empty(t, w.Header().Get(receiver.HeaderDuplicate))
	require.True(t, w.heldAtSend, "answered 200 before its claim was written")
}

// TestClaimBatchAnswersAfterWrite: with a batching inbox, concurrent
// requests' claims are written together, one ClaimBatch per batch, and no
// request is answered before the batch holding its claim returned.
func TestClaimBatchAnswersAfterWrite(t *testing.T) {
	k, ib, rc, r := newBatchRig(t, 2, 0, receiver.Config{})
	e1, e2, e3 := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")

	a1 := postAsync(t, r, k, ib, e1)
	require.Equal(t, []string{e1.ID}, recv(t, ib.claimHeld), "the first claim is written at once, alone")
	a2, a3 := postAsync(t, r, k, ib, e2), postAsync(t, r, k, ib, e3)
	waitClaims(t, r, 2) // they wait for the batch being written
	require.Empty(t, a1)
	require.Empty(t, a2)
	require.Empty(t, a3)

	send(t, ib.claimResume, nil)
	requireAccepted(t, recv(t, a1))
	require.ElementsMatch(t, []string{e2.ID, e3.ID}, recv(t, ib.claimHeld), "the claims that waited make the next batch")
	require.Empty(t, a2)
	require.Empty(t, a3)
	send(t, ib.claimResume, nil)
	requireAccepted(t, recv(t, a2))
	requireAccepted(t, recv(t, a3))

	drain(t, r)
	for _, ev := range []event.Event{e1, e2, e3} {
		require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	}
	require.EqualValues(t, 3, rc.Calls.Load())
	require.Zero(t, ib.singleClaims.Load(), "no claim took the direct path")
	require.Zero(t, ib.singleMarks.Load(), "no mark took the direct path")
	st := r.Stats()
	require.Equal(t, uint64(2), st.ClaimBatches)
	require.Positive(t, st.MarkBatches)
	require.Equal(t, uint64(3), st.Accepted)
}

// TestClaimBatchDuplicates: copies of one event in one batch: the first is
// accepted, the others are duplicates, and all are answered only once the
// batch (the first's claim) is written.
func TestClaimBatchDuplicates(t *testing.T) {
	k, ib, rc, r := newBatchRig(t, 2, 0, receiver.Config{})
	x, ev := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")

	ax := postAsync(t, r, k, ib, x)
	recv(t, ib.claimHeld)
	var copies []<-chan *heldWriter
	for range 3 {
		copies = append(copies, postAsync(t, r, k, ib, ev))
	}
	waitClaims(t, r, 3)
	send(t, ib.claimResume, nil)
	requireAccepted(t, recv(t, ax))
	require.Equal(t, []string{ev.ID, ev.ID, ev.ID}, recv(t, ib.claimHeld), "the copies are one batch")
	for _, c := range copies {
		require.Empty(t, c, "a copy answered before its batch was written")
	}
	send(t, ib.claimResume, nil)
	accepted, dups := 0, 0
	for _, c := range copies {
		w := recv(t, c)
		require.True(t, w.heldAtSend, "a copy answered before the first copy's claim was written")
		require.Equal(t, http.StatusOK, w.Code)
		if w.Header().Get(receiver.HeaderDuplicate) == "true" {
			require.Equal(t, string(receiver.ReasonDuplicate)+"\n", w.Body.String())
			dups++
		} else {
			require.Empty(t, w.Body.String())
			accepted++
		}
	}
	require.Equal(t, 1, accepted)
	require.Equal(t, 2, dups)
	drain(t, r)
	require.EqualValues(t, 2, rc.Calls.Load(), "x and one copy of ev")
	require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	st := r.Stats()
	require.Equal(t, uint64(2), st.Accepted)
	require.Equal(t, uint64(2), st.Duplicates)
}

// TestClaimBatchError: a failed batch answers 503 with Retry-After to every
// request in it, claims nothing and releases nothing, and gives back the
// requests' queue slots: the senders' retries are accepted.
func TestClaimBatchError(t *testing.T) {
	k, ib, rc, r := newBatchRig(t, 2, 0, receiver.Config{QueueSize: 3})
	x, e1, e2 := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")

	ax := postAsync(t, r, k, ib, x)
	recv(t, ib.claimHeld)
	a1, a2 := postAsync(t, r, k, ib, e1), postAsync(t, r, k, ib, e2)
	waitClaims(t, r, 2)
	send(t, ib.claimResume, errors.New("connection reset"))
	w := recv(t, ax)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, string(receiver.ReasonInbox)+"\n", w.Body.String())
	require.Equal(t, "5", w.Header().Get("Retry-After"))

	recv(t, ib.claimHeld)
	send(t, ib.claimResume, fmt.Errorf("cap reached: %w", store.ErrInboxFull))
	for _, a := range []<-chan *heldWriter{a1, a2} {
		w := recv(t, a)
		require.Equal(t, http.StatusServiceUnavailable, w.Code)
		require.Equal(t, string(receiver.ReasonInboxFull)+"\n", w.Body.String())
	}
	st := r.Stats()
	require.Zero(t, st.Pending, "no request holds a slot")
	require.Equal(t, uint64(3), st.Unavailable)
	require.Equal(t, uint64(2), st.InboxFull)
	for _, ev := range []event.Event{x, e1, e2} {
		require.Equal(t, store.InboxState(""), ib.state(ev.ID), "nothing claimed")
	}
	require.Empty(t, ib.released, "nothing released")

	// The senders retry: every event is accepted (the queue of 3 has room
	// for all three: no slot leaked) and handled once.
	for _, ev := range []event.Event{x, e1, e2} {
		requireAccepted(t, recv(t, postAsync(t, r, k, ib, ev)))
	}
	drain(t, r)
	require.EqualValues(t, 3, rc.Calls.Load())
	for _, ev := range []event.Event{x, e1, e2} {
		require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	}
}

// errPanic, sent to a held ClaimBatch, makes it panic.
var errPanic = errors.New("the store panicked")

// TestClaimBatchPanic: a ClaimBatch that panics fails its batch (503 to
// every request in it) and the next batch is written as usual.
func TestClaimBatchPanic(t *testing.T) {
	k, ib, rc, r := newBatchRig(t, 2, 0, receiver.Config{})
	x, e1 := newEvent(t, event.ModeTest, "ping"), newEvent(t, event.ModeTest, "ping")
	ax := postAsync(t, r, k, ib, x)
	recv(t, ib.claimHeld)
	a1 := postAsync(t, r, k, ib, e1)
	waitClaims(t, r, 1)
	send(t, ib.claimResume, errPanic)
	w := recv(t, ax)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, string(receiver.ReasonInbox)+"\n", w.Body.String())
	require.Equal(t, []string{e1.ID}, recv(t, ib.claimHeld), "the lead passed on")
	send(t, ib.claimResume, nil)
	requireAccepted(t, recv(t, a1))
	requireAccepted(t, recv(t, postAsync(t, r, k, ib, x)))
	drain(t, r)
	require.EqualValues(t, 2, rc.Calls.Load())
}

// TestStopWritesMarks: the mark-handled records waiting for the marker when
// Shutdown or Close begins are written before it returns.
func TestStopWritesMarks(t *testing.T) {
	for _, stop := range []string{"Shutdown", "Close"} {
		t.Run(stop, func(t *testing.T) {
			k, ib, rc, r := newBatchRig(t, 0, 1, receiver.Config{})
			var evs []event.Event
			for range 4 {
				evs = append(evs, newEvent(t, event.ModeTest, "ping"))
			}
			requireAccepted(t, recv(t, postAsync(t, r, k, ib, evs[0])))
			rc.Next(t)
			require.Equal(t, []string{evs[0].ID}, recv(t, ib.markHeld), "the first record is being written")
			for _, ev := range evs[1:] {
				requireAccepted(t, recv(t, postAsync(t, r, k, ib, ev)))
				rc.Next(t)
			}
			// Every callback returned; three records wait for the marker,
			// whose batch is held.
			require.Equal(t, store.InboxClaimed, ib.state(evs[1].ID))
			done := make(chan error, 1)
			go func() {
				if stop == "Close" {
					done <- r.Close()
					return
				}
				done <- r.Shutdown(context.Background())
			}()
			send(t, ib.markResume, nil)
			require.NoError(t, recv(t, done))
			for _, ev := range evs {
				require.Equal(t, store.InboxHandled, ib.state(ev.ID), "%s returned before the record was written", stop)
			}
			require.Zero(t, ib.singleMarks.Load())
			_, marks := ib.batches()
			require.GreaterOrEqual(t, len(marks), 2, "the held batch, then the records that waited")
		})
	}
}

// TestPendingMarkNotRedriven: an event handled here whose mark-handled
// record is not written yet is still held by this receiver: a recovery pass
// that finds its lease ended does not run it again.
func TestPendingMarkNotRedriven(t *testing.T) {
	clk := newClock(testNow)
	k, ib, rc, r := newBatchRig(t, 0, 1, receiver.Config{Now: clk.Now, Lease: time.Minute, RecoveryInterval: time.Millisecond})
	ev := newEvent(t, event.ModeTest, "ping")
	requireAccepted(t, recv(t, postAsync(t, r, k, ib, ev)))
	rc.Next(t)
	recv(t, ib.markHeld)
	clk.Add(2 * time.Minute) // the lease ends while the record waits
	n := ib.leases.Load()
	require.Eventually(t, func() bool { return ib.leases.Load() >= n+2 }, waitTimeout, time.Millisecond,
		"a recovery pass ran after the lease ended")
	require.Equal(t, store.InboxClaimed, ib.state(ev.ID))
	send(t, ib.markResume, nil)
	drain(t, r)
	require.Equal(t, store.InboxHandled, ib.state(ev.ID))
	require.EqualValues(t, 1, rc.Calls.Load(), "the event ran once")
	require.Zero(t, r.Stats().Recovered)
}

// TestRunRetriesWritesMarks: with ManualRetries and a batching inbox,
// RunRetries returns once the outcomes of the attempts it waited for and
// ran are written.
func TestRunRetriesWritesMarks(t *testing.T) {
	k, ib, _, r := newBatchRig(t, 0, 1, receiver.Config{ManualRetries: true})
	ev := newEvent(t, event.ModeTest, "ping")
	requireAccepted(t, recv(t, postAsync(t, r, k, ib, ev)))
	done := make(chan error, 1)
	go func() {
		_, err := r.RunRetries(context.Background())
		done <- err
	}()
	recv(t, ib.markHeld)
	require.Empty(t, done, "RunRetries returned before the record was written")
	send(t, ib.markResume, nil)
	require.NoError(t, recv(t, done))
	require.Equal(t, store.InboxHandled, ib.state(ev.ID))
}

// TestClaimBatchConcurrentCopies: many events, each posted as several
// concurrent copies, through a batching inbox with two batches written at
// once: each event is accepted once and handled once, its other copies are
// duplicates.
func TestClaimBatchConcurrentCopies(t *testing.T) {
	const events, copies = 200, 4
	k, ib, rc, r := newBatchRig(t, 0, 0, receiver.Config{ClaimFlushes: 2, InboxBatchSize: 8})
	rc.Got = nil
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range events {
		ev := newEvent(t, event.ModeTest, "ping")
		body := eventBody(t, ev)
		for range copies {
			wg.Go(func() {
				if serve(r, signedRequest(k.Signer, ev.ID, testNow, body)).Code != http.StatusOK {
					bad.Add(1)
				}
			})
		}
	}
	wg.Wait()
	drain(t, r)
	require.Zero(t, bad.Load())
	st := r.Stats()
	require.Equal(t, uint64(events), st.Accepted)
	require.Equal(t, uint64(events*(copies-1)), st.Duplicates)
	require.EqualValues(t, events, rc.Calls.Load())
	claims, _ := ib.batches()
	for _, b := range claims {
		require.LessOrEqual(t, len(b), 8, "InboxBatchSize caps a batch")
	}
	require.Zero(t, ib.singleClaims.Load())
}

// TestMemoryInboxClaimsDirectly: the default in-memory inbox does not
// batch: no batch is counted.
func TestMemoryInboxClaimsDirectly(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	require.Equal(t, http.StatusOK, serve(r, eventRequest(t, k.Signer, newEvent(t, event.ModeTest, "ping"))).Code)
	rc.Next(t)
	drain(t, r)
	st := r.Stats()
	require.Zero(t, st.ClaimBatches)
	require.Zero(t, st.MarkBatches)
}
