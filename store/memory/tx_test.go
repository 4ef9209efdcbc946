package memory_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

func txEndpoint(t *testing.T, s *memory.Store) store.Target {
	t.Helper()
	ep := &store.Endpoint{
		Tenant:     "acme",
		Mode:       event.ModeTest,
		URL:        "https://hooks.example.com/in",
		EventTypes: []string{"*"},
		Secrets:    []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
	}
	require.NoError(t, s.CreateEndpoint(context.Background(), ep))
	return store.Target{EndpointID: ep.ID, Tenant: ep.Tenant}
}

func txRequest(data string, ts ...store.Target) store.EnqueueRequest {
	return store.EnqueueRequest{
		Event:   event.Event{APIMode: event.ModeTest, ID: uuid.NewString(), Type: "order.paid", Data: json.RawMessage(data)},
		Targets: ts,
		Now:     time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func pending(t *testing.T, s *memory.Store) int {
	t.Helper()
	ds, _, err := s.ListDeliveries(context.Background(), store.DeliveryFilter{AllTenants: true})
	require.NoError(t, err)
	return len(ds)
}

// A Tx's enqueues are invisible until Commit, gone after Rollback, and a
// refused enqueue leaves the Tx usable.
func TestTxCommitRollback(t *testing.T) {
	ctx := context.Background()
	s := memory.New(nil)
	a, b := txEndpoint(t, s), txEndpoint(t, s)

	tx := s.Begin()
	req := txRequest(`{"n":1}`, a, b)
	n, err := tx.Enqueue(ctx, req)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = tx.Enqueue(ctx, req)
	require.NoError(t, err)
	require.Zero(t, n, "the same pairs staged again create nothing")
	changed := req
	changed.Event.Data = json.RawMessage(`{"n":2}`)
	_, err = tx.Enqueue(ctx, changed)
	require.ErrorIs(t, err, store.ErrConflict, "the same id with other data in one Tx")
	_, err = tx.Enqueue(ctx, txRequest(`{}`, store.Target{EndpointID: "missing"}))
	require.ErrorIs(t, err, store.ErrNotFound)
	eps, _, err := tx.ListEndpoints(ctx, store.EndpointFilter{Tenant: "acme"})
	require.NoError(t, err)
	require.Len(t, eps, 2)
	require.Zero(t, pending(t, s), "nothing visible before Commit")
	require.NoError(t, tx.Commit())
	require.Equal(t, 2, pending(t, s))
	require.ErrorIs(t, tx.Commit(), memory.ErrTxDone)
	require.ErrorIs(t, tx.Rollback(), memory.ErrTxDone)
	_, err = tx.Enqueue(ctx, txRequest(`{}`, a))
	require.ErrorIs(t, err, memory.ErrTxDone)

	rb := s.Begin()
	_, err = rb.Enqueue(ctx, txRequest(`{}`, a))
	require.NoError(t, err)
	require.NoError(t, rb.Rollback())
	require.Equal(t, 2, pending(t, s), "a rolled-back Tx leaves nothing")
}

// Commit applies all of a Tx or none: an endpoint deleted after staging
// refuses the whole commit.
func TestTxCommitAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := memory.New(nil)
	a, b := txEndpoint(t, s), txEndpoint(t, s)
	tx := s.Begin()
	_, err := tx.Enqueue(ctx, txRequest(`{}`, a))
	require.NoError(t, err)
	_, err = tx.Enqueue(ctx, txRequest(`{}`, b))
	require.NoError(t, err)
	require.NoError(t, s.DeleteEndpoint(ctx, b.EndpointID))
	require.ErrorIs(t, tx.Commit(), store.ErrNotFound)
	require.Zero(t, pending(t, s), "the first enqueue is not applied either")
}

// Subscribers hear a committed Tx that created deliveries, not a rolled-back
// one, and not an uncommitted one.
func TestTxCommitNotifies(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := memory.New(nil)
	a := txEndpoint(t, s)
	ch, err := s.Subscribe(ctx)
	require.NoError(t, err)
	<-ch // listening has begun

	rb := s.Begin()
	_, err = rb.Enqueue(ctx, txRequest(`{}`, a))
	require.NoError(t, err)
	require.NoError(t, rb.Rollback())
	tx := s.Begin()
	_, err = tx.Enqueue(ctx, txRequest(`{}`, a))
	require.NoError(t, err)
	select {
	case <-ch:
		t.Fatal("notified before any commit")
	default:
	}
	require.NoError(t, tx.Commit())
	select {
	case <-ch:
	default:
		t.Fatal("a commit that created deliveries notifies")
	}
	cancel()
	for range ch { // closed once ctx ends
	}
}
