package sender_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// settleStore wraps a store to watch and steer its Settle calls: before,
// when set, runs first and may fail the call; after, when set, runs after
// a successful call and may turn it into an error (a commit whose answer
// was lost).
type settleStore struct {
	store.SenderStore
	mu     sync.Mutex
	sizes  []int
	before func(call int, b store.SettleBatch) error
	after  func(call int) error
}

func (s *settleStore) Settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	s.mu.Lock()
	call := len(s.sizes)
	s.sizes = append(s.sizes, len(b.Settlements))
	s.mu.Unlock()
	if s.before != nil {
		if err := s.before(call, b); err != nil {
			return store.SettleResult{}, err
		}
	}
	res, err := s.SenderStore.Settle(ctx, b)
	if err == nil && s.after != nil {
		if err := s.after(call); err != nil {
			return store.SettleResult{}, err
		}
	}
	return res, err
}

func (s *settleStore) calls() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.sizes...)
}

// publishN publishes n events to ep.
func publishN(t *testing.T, s *sender.Sender, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ev := newEvent(t, nil, "order.created", `{"n":1}`)
		_, err := s.Publish(context.Background(), ev, sender.ToAllTenants(), nil)
		require.NoError(t, err)
		ids[i] = ev.ID
	}
	return ids
}

// requireDelivered asserts that every event succeeded with exactly one
// attempt logged.
func requireDelivered(t *testing.T, st store.SenderStore, ids []string) {
	t.Helper()
	for _, id := range ids {
		assert.Equal(t, store.StateSucceeded, delivery(t, st, id).State, id)
		assert.Len(t, attemptsOf(t, st, id), 1, id)
	}
}

// firstBatchGate holds the first Settle call at a gate, so that the
// outcomes arriving meanwhile queue behind it.
type firstBatchGate struct {
	gate chan struct{}
	once sync.Once
	held atomic.Int64 // the size of the batch held, once it is
}

// newFirstBatchGate returns a gate for t, opened when t ends at the latest,
// and the hook to set as a settleStore's before.
func newFirstBatchGate(t *testing.T) (*firstBatchGate, func(int, store.SettleBatch) error) {
	g := &firstBatchGate{gate: make(chan struct{})}
	t.Cleanup(g.open)
	return g, func(call int, b store.SettleBatch) error {
		if call == 0 {
			g.held.Store(int64(len(b.Settlements)))
			<-g.gate
		}
		return nil
	}
}

func (g *firstBatchGate) open() { g.once.Do(func() { close(g.gate) }) }

// waitQueued waits until the batch held and the outcomes queued behind it
// make n, and returns the size of the batch held.
func (g *firstBatchGate) waitQueued(t *testing.T, s *sender.Sender, n int) int {
	t.Helper()
	require.Eventually(t, func() bool {
		k := int(g.held.Load())
		return k > 0 && k+s.QueuedOutcomes() == n
	}, 10*time.Second, time.Millisecond)
	return int(g.held.Load())
}

// batchesAfterGate is the batch sizes expected when the gated first batch
// held k of n outcomes and the rest queued behind it: k, then n-k in one
// batch (none when the first held all).
func batchesAfterGate(k, n int) []int {
	if k == n {
		return []int{n}
	}
	return []int{k, n - k}
}

func TestSettleWritesOutcomesInBatches(t *testing.T) {
	g, before := newFirstBatchGate(t)
	st := &settleStore{SenderStore: newStore(), before: before}
	srv := newServer(t, nil)
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) { c.Workers = 8 })
	ids := publishN(t, s, 8)

	done := make(chan int)
	go func() {
		n, err := s.ProcessDue(context.Background())
		assert.NoError(t, err)
		done <- n
	}()
	// The first batch is being written; the other outcomes queue behind it
	// while their workers are free again.
	k := g.waitQueued(t, s, 8)
	select {
	case <-done:
		t.Fatal("ProcessDue returned before its outcomes were written")
	default:
	}
	g.open()
	require.Equal(t, 8, <-done)
	assert.Equal(t, batchesAfterGate(k, 8), st.calls(), "the outcomes queued meanwhile are written in one batch")
	requireDelivered(t, st, ids)
	got, err := st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	assert.False(t, got.Health.LastSuccessAt.IsZero(), "the batch wrote the endpoint's health")
}

func TestSettleTriesAFailedBatchAgain(t *testing.T) {
	st := &settleStore{SenderStore: newStore(), before: func(call int, _ store.SettleBatch) error {
		if call < 2 {
			return errors.New("connection reset by peer")
		}
		return nil
	}}
	srv := newServer(t, nil)
	addEndpoint(t, st, srv.URL, nil)
	var logs syncBuffer
	s := newSender(t, st, nil, func(c *sender.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	ids := publishN(t, s, 1)

	require.Equal(t, 1, processDue(t, s))
	assert.Equal(t, []int{1, 1, 1}, st.calls())
	requireDelivered(t, st, ids)
	assert.Contains(t, logs.String(), "settling deliveries failed; trying again")
}

// A Settle that committed but answered an error (the connection dropped
// after COMMIT) is tried again, finds its attempts stored, and counts as
// written: no second attempt record, no second OnAttempt.
func TestSettleAfterAHiddenCommit(t *testing.T) {
	st := &settleStore{SenderStore: newStore(), after: func(call int) error {
		if call == 0 {
			return errors.New("unexpected EOF")
		}
		return nil
	}}
	srv := newServer(t, nil)
	addEndpoint(t, st, srv.URL, nil)
	var hooked atomic.Int32
	s := newSender(t, st, nil, func(c *sender.Config) {
		c.Hooks.OnAttempt = func(context.Context, *store.Attempt) { hooked.Add(1) }
	})
	ids := publishN(t, s, 1)

	require.Equal(t, 1, processDue(t, s))
	assert.Equal(t, []int{1, 1}, st.calls())
	requireDelivered(t, st, ids)
	assert.Equal(t, int32(1), hooked.Load())
}

// A lease lost before the batch is written (another sender took the
// delivery) is reported for that delivery: its attempt is logged and its
// outcome is not written. (That the rest of a batch settles is the
// store's rule, proved by the conformance suite.)
func TestSettleReportsALostLeasePerDelivery(t *testing.T) {
	inner := newStore()
	var stolen atomic.Value
	st := &settleStore{SenderStore: inner}
	st.before = func(call int, b store.SettleBatch) error {
		if call != 0 {
			return nil
		}
		// Another sender leases the first delivery after its lease ended.
		ds, err := inner.Lease(context.Background(), store.LeaseRequest{
			Now: time.Now().Add(time.Hour), Limit: 1, Duration: time.Hour, Worker: "thief",
		})
		if err != nil || len(ds) != 1 {
			return errors.New("test: could not take a lease")
		}
		stolen.Store(ds[0].Event.ID)
		return nil
	}
	srv := newServer(t, nil)
	addEndpoint(t, st, srv.URL, nil)
	var logs syncBuffer
	s := newSender(t, st, nil, func(c *sender.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ids := publishN(t, s, 1)

	require.Equal(t, 1, processDue(t, s))
	require.Equal(t, ids[0], stolen.Load())
	d := delivery(t, st, ids[0])
	assert.Len(t, attemptsOf(t, st, ids[0]), 1, "the attempt is logged")
	assert.Equal(t, store.StateLeased, d.State)
	assert.Equal(t, "thief", d.LeasedBy)
	assert.Contains(t, logs.String(), "lease lost before succeeded")
	assert.Contains(t, logs.String(), "delivery_id="+d.ID)
}

// Hooks run once the outcome is in the store.
func TestSettleHooksSeeTheOutcomeWritten(t *testing.T) {
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	addEndpoint(t, st, srv.URL, nil)
	var (
		mu     sync.Mutex
		states []store.DeliveryState
	)
	clk := newClock()
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Hooks.OnAttempt = func(ctx context.Context, a *store.Attempt) {
			d, err := st.GetDelivery(ctx, a.DeliveryID)
			assert.NoError(t, err)
			as, _, err := st.ListAttempts(ctx, store.AttemptFilter{EventID: a.EventID, AllTenants: true})
			assert.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			states = append(states, d.State)
			assert.Len(t, as, len(states), "the attempt is in the log")
		}
	})
	ids := publishN(t, s, 1)

	require.Equal(t, 1, processDue(t, s)) // 400: retried later
	clk.Advance(24 * time.Hour)
	require.Equal(t, 1, processDue(t, s)) // 200
	assert.Equal(t, []store.DeliveryState{store.StatePending, store.StateSucceeded}, states)
	assert.Equal(t, store.StateSucceeded, delivery(t, st, ids[0]).State)
}

// While the store cannot keep up, workers wait for room in the queue of
// outcomes instead of making attempts that nothing records.
func TestSettleBackpressure(t *testing.T) {
	gate := make(chan struct{})
	var gateOnce sync.Once
	open := func() { gateOnce.Do(func() { close(gate) }) }
	st := &settleStore{SenderStore: newStore(), before: func(int, store.SettleBatch) error {
		<-gate
		return nil
	}}
	t.Cleanup(open)
	srv := newServer(t, nil)
	addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, nil, func(c *sender.Config) {
		c.Workers = 2
		c.SettleBatchSize = 1 // a queue of 2 x Workers = 4 outcomes
		c.PollInterval = 10 * time.Millisecond
	})
	ids := publishN(t, s, 20)
	require.NoError(t, s.Start(context.Background()))

	require.Eventually(t, func() bool { return s.QueuedOutcomes() == 4 }, 10*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond) // room for attempts that should not happen
	// One outcome being written, four queued, one worker waiting for room.
	assert.LessOrEqual(t, srv.count(), 6)
	assert.Equal(t, 4, s.QueuedOutcomes())

	open()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, s.WaitIdle(ctx))
	requireDelivered(t, st, ids)
	require.NoError(t, s.Shutdown(ctx))
}

// A batch that carries an endpoint across the warning threshold warns once,
// and one that meets both disabling thresholds disables it, although each
// endpoint's health is written once per batch.
func TestSettleHealthAcrossABatch(t *testing.T) {
	g, before := newFirstBatchGate(t)
	st := &settleStore{SenderStore: newStore(), before: before}
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	var warned, disabled atomic.Int32
	s := newSender(t, st, nil, func(c *sender.Config) {
		c.Workers = 8
		c.DisableAfterFailures = 4 // warns at 2
		c.DisableAfterDuration = time.Nanosecond
		c.Hooks.OnEndpointWarning = func(context.Context, *store.Endpoint) { warned.Add(1) }
		c.Hooks.OnEndpointDisabled = func(context.Context, *store.Endpoint) { disabled.Add(1) }
	})
	publishN(t, s, 6)

	done := make(chan int)
	go func() {
		n, err := s.ProcessDue(context.Background())
		assert.NoError(t, err)
		done <- n
	}()
	k := g.waitQueued(t, s, 6)
	g.open()
	require.Equal(t, 6, <-done)
	assert.Equal(t, batchesAfterGate(k, 6), st.calls())
	got, err := st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	assert.Equal(t, 6, got.Health.ConsecutiveFailures)
	assert.True(t, got.Disabled)
	assert.Equal(t, int32(1), warned.Load())
	assert.Equal(t, int32(1), disabled.Load())
}
