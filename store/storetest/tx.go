package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// Transaction is one of a driver's transactions, as [RunTx] drives it: the
// [store.Tx] view of the store bound to it, and the two ways it ends. A
// store/memory Tx is one as it is; a durable driver's test pairs its Tx
// view with the transaction beneath (a *sql.Tx, a pgx.Tx).
type Transaction interface {
	store.Tx
	// Commit commits the transaction.
	Commit() error
	// Rollback rolls the transaction back.
	Rollback() error
}

// TxStore is what [RunTx] tests: a store and a way to begin transactions
// on it.
type TxStore struct {
	// Store is the store itself. The cases create endpoints and read
	// deliveries back through it, outside any transaction, and never write
	// through it while a transaction is open (a SQLite store has one write
	// connection, which an open transaction holds).
	Store OutboxStore
	// Begin begins a transaction on Store's database and returns the
	// Transaction: Store's Tx view bound to it.
	Begin func(ctx context.Context) (Transaction, error)
}

// RunTx runs the cases of transaction views ([store.Tx], Tx/...) on fresh
// stores from newStore: an enqueue in a transaction exists once the
// transaction commits and not before (as read through the store: another
// connection, for a database), and is gone after it rolls back; a refused
// enqueue ([store.ErrConflict], [store.ErrNotFound]) leaves the
// transaction usable and its other writes committable; GetEndpoint and
// ListEndpoints read through it; and, when the store is a
// [store.Notifier], a commit that enqueued wakes a subscriber while a
// rollback does not.
func RunTx(t *testing.T, newStore Factory[TxStore]) {
	t.Helper()
	runCases(t, "Tx", txCases, func(t *testing.T) *txFixture {
		ts := newStore(t)
		require.NotNil(t, ts.Store, "storetest: the factory returned a TxStore without a Store")
		require.NotNil(t, ts.Begin, "storetest: the factory returned a TxStore without Begin")
		stores := func(tb testing.TB) OutboxStore { return newStore(tb).Store }
		return &txFixture{
			outboxFixture: outboxFixture{fixture[OutboxStore]{T: t, s: ts.Store, ctx: t.Context(), newStore: stores}},
			begin:         ts.Begin,
		}
	})
}

var txCases = []testCase[*txFixture]{
	{"Commit", testTxCommit},
	{"Rollback", testTxRollback},
	{"RefusedEnqueue", testTxRefused},
	{"Reads", testTxReads},
	{"Notify", testTxNotify},
}

// txFixture is a RunTx case's store, with the outbox helpers, and Begin.
type txFixture struct {
	outboxFixture
	begin func(ctx context.Context) (Transaction, error)
}

// beginTx begins a transaction, rolled back at the end of the case unless
// it ended before.
func (f *txFixture) beginTx() Transaction {
	f.Helper()
	tx, err := f.begin(f.ctx)
	require.NoError(f, err)
	require.NotNil(f, tx)
	f.Cleanup(func() { _ = tx.Rollback() })
	return tx
}

// txEnqueue enqueues ev for eps in tx and requires that want deliveries
// were created.
func (f *txFixture) txEnqueue(tx Transaction, ev event.Event, want int, eps ...*store.Endpoint) {
	f.Helper()
	n, err := tx.Enqueue(f.ctx, enqueueAt(ev, targets(eps...)))
	require.NoError(f, err)
	require.Equal(f, want, n, "deliveries created by the transaction's Enqueue")
}

// deliveriesOf returns the deliveries of event evID the store lists.
func (f *txFixture) deliveriesOf(evID string) []*store.Delivery {
	f.Helper()
	ds, _, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EventID: evID})
	require.NoError(f, err)
	return ds
}

// testTxCommit: what a transaction enqueues is not in the store until the
// transaction commits, and is there, due, after.
func testTxCommit(f *txFixture) {
	a := f.endpoint()
	b := f.endpoint(withTenant("globex"))
	ev := newEvent("order.paid", at(0))

	tx := f.beginTx()
	f.txEnqueue(tx, ev, 2, a, b)
	f.txEnqueue(tx, ev, 0, a, b)
	require.Empty(f, f.deliveriesOf(ev.ID), "an enqueue is invisible until its transaction commits")
	bl, err := f.s.Backlog(f.ctx, "", at(0))
	require.NoError(f, err)
	require.Zero(f, bl.Pending(), "Backlog before the commit")

	require.NoError(f, tx.Commit())
	ds := f.deliveriesOf(ev.ID)
	require.ElementsMatch(f, []string{a.ID, b.ID}, ids(ds, func(d *store.Delivery) string { return d.EndpointID }))
	for _, d := range ds {
		require.Equal(f, store.StatePending, d.State)
		sameTime(f, ev.Date, d.CreatedAt, "CreatedAt")
		require.Equal(f, string(ev.Data), string(d.Event.Data))
	}
	require.Len(f, f.lease(at(0), 10), 2, "committed deliveries are due")
}

// testTxRollback: a rolled-back enqueue leaves nothing, not even its event:
// other content under the id is no conflict.
func testTxRollback(f *txFixture) {
	a := f.endpoint()
	ev := newEvent("order.paid", at(0))
	tx := f.beginTx()
	f.txEnqueue(tx, ev, 1, a)
	require.NoError(f, tx.Rollback())
	require.Empty(f, f.deliveriesOf(ev.ID), "a rolled-back enqueue leaves no delivery")

	changed := ev
	changed.Data = []byte(`{"other":true}`)
	f.enqueue(changed, 1, a)
	require.Equal(f, string(changed.Data), string(f.deliveryOf(ev.ID, a.ID).Event.Data))
}

// testTxRefused: an enqueue the transaction refuses (an event id stored
// with other content, an endpoint the store does not hold) creates nothing,
// and the transaction goes on: what it wrote before and writes after
// commits.
func testTxRefused(f *txFixture) {
	a := f.endpoint()
	stored := f.publish("order.paid", at(0), a)
	before := newEvent("order.paid", at(time.Second))
	conflict := stored
	conflict.Data = []byte(`{"other":true}`)
	unknown := newEvent("order.paid", at(2*time.Second))
	after := newEvent("order.paid", at(3*time.Second))

	tx := f.beginTx()
	f.txEnqueue(tx, before, 1, a)
	n, err := tx.Enqueue(f.ctx, enqueueAt(conflict, targets(a)))
	require.ErrorIs(f, err, store.ErrConflict)
	require.Zero(f, n)
	n, err = tx.Enqueue(f.ctx, enqueueAt(unknown, []store.Target{{EndpointID: "no-such-endpoint", Tenant: a.Tenant}}))
	require.ErrorIs(f, err, store.ErrNotFound)
	require.Zero(f, n)
	f.txEnqueue(tx, after, 1, a)
	require.NoError(f, tx.Commit())

	require.Equal(f, store.StatePending, f.deliveryOf(before.ID, a.ID).State, "written before the refusals")
	require.Equal(f, store.StatePending, f.deliveryOf(after.ID, a.ID).State, "written after the refusals")
	require.Equal(f, string(stored.Data), string(f.deliveryOf(stored.ID, a.ID).Event.Data), "the conflict changed nothing")
	require.Empty(f, f.deliveriesOf(unknown.ID), "the refused enqueue created nothing")
}

// testTxReads: GetEndpoint and ListEndpoints read through the transaction.
func testTxReads(f *txFixture) {
	a := f.endpoint(withID("ep-a"))
	b := f.endpoint(withID("ep-b"))
	c := f.endpoint(withID("ep-c"), withTenant("globex"))
	_, err := f.s.SetDisabled(f.ctx, b.ID, true, "manual", at(0))
	require.NoError(f, err)

	tx := f.beginTx()
	got, err := tx.GetEndpoint(f.ctx, a.ID)
	require.NoError(f, err)
	requireSameEndpoint(f, a, got)
	_, err = tx.GetEndpoint(f.ctx, "no-such-endpoint")
	require.ErrorIs(f, err, store.ErrNotFound)

	for _, tc := range []struct {
		filter store.EndpointFilter
		want   []string
	}{
		{store.EndpointFilter{Tenant: a.Tenant}, []string{a.ID, b.ID}},
		{store.EndpointFilter{Tenant: a.Tenant, ActiveOnly: true}, []string{a.ID}},
		{store.EndpointFilter{AllTenants: true}, []string{a.ID, b.ID, c.ID}},
		{store.EndpointFilter{AllTenants: true, Page: store.Page{Limit: 2}}, []string{a.ID, b.ID, c.ID}},
	} {
		all := collect(f.T, tc.filter.Page.Size(), func(cursor string) ([]*store.Endpoint, string, error) {
			flt := tc.filter
			flt.Page.Cursor = cursor
			return tx.ListEndpoints(f.ctx, flt)
		})
		require.Equal(f, tc.want, ids(all, func(ep *store.Endpoint) string { return ep.ID }), "%+v", tc.filter)
	}
	require.NoError(f, tx.Commit())
}

// notifyWait bounds the wait for a notification a commit sent; a store
// that notifies within the process has sent it before Commit returned.
const notifyWait = 30 * time.Second

// testTxNotify: a commit that enqueued wakes a subscriber; an open
// transaction and a rollback do not.
func testTxNotify(f *txFixture) {
	n, ok := f.s.(store.Notifier)
	if !ok {
		f.Skip("storetest: the store does not implement store.Notifier")
	}
	a := f.endpoint()
	ch, err := n.Subscribe(f.ctx)
	require.NoError(f, err)
	wait := func(what string) {
		f.Helper()
		select {
		case _, ok := <-ch:
			require.True(f, ok, "%s: the subscription ended", what)
		case <-time.After(notifyWait):
			f.Fatalf("%s: no notification within %v", what, notifyWait)
		}
	}
	quiet := func(what string) {
		f.Helper()
		select {
		case <-ch:
			f.Fatalf("%s: a notification", what)
		default:
		}
	}
	wait("the value sent when listening starts")

	tx := f.beginTx()
	f.txEnqueue(tx, newEvent("order.paid", at(0)), 1, a)
	quiet("an open transaction")
	require.NoError(f, tx.Rollback())
	quiet("a rollback")

	tx = f.beginTx()
	f.txEnqueue(tx, newEvent("order.paid", at(0)), 1, a)
	quiet("an open transaction")
	require.NoError(f, tx.Commit())
	wait("a commit that enqueued")
}
