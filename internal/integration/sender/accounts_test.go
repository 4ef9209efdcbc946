package sender_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres/pgtest"
	"github.com/webhookkit/webhookkit/store/sqlite"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// appTx is the application's transaction on a real database: its own
// write (an order row), the sender store's view bound to it, and its end.
type appTx struct {
	insertOrder func(id string) error
	view        store.Tx
	commit      func() error
	rollback    func() error
}

// outboxDB is a real database holding both the sender's store and the
// application's orders table.
type outboxDB struct {
	st     store.SenderStore
	begin  func(tb testing.TB) *appTx
	orders func(tb testing.TB) []string // committed order ids, sorted
}

// openSQLiteOutbox opens a SQLite file with the sender's schema and an
// orders table; transactions begin on the store's DB, as Store.Tx asks.
func openSQLiteOutbox(tb testing.TB) *outboxDB {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "app.db"), &sqlite.Config{PlaintextSecrets: true})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = st.Close() })
	require.NoError(tb, st.Migrate(ctx))
	_, err = st.DB().ExecContext(ctx, "CREATE TABLE orders (id TEXT PRIMARY KEY)")
	require.NoError(tb, err)
	return &outboxDB{
		st: st,
		begin: func(tb testing.TB) *appTx {
			tx, err := st.DB().BeginTx(ctx, nil)
			require.NoError(tb, err)
			tb.Cleanup(func() { _ = tx.Rollback() }) // a no-op once ended
			return &appTx{
				insertOrder: func(id string) error {
					_, err := tx.ExecContext(ctx, "INSERT INTO orders (id) VALUES (?)", id)
					return err
				},
				view: st.Tx(tx), commit: tx.Commit, rollback: tx.Rollback,
			}
		},
		orders: func(tb testing.TB) []string {
			rows, err := st.DB().QueryContext(ctx, "SELECT id FROM orders ORDER BY id")
			require.NoError(tb, err)
			defer rows.Close()
			var ids []string
			for rows.Next() {
				var id string
				require.NoError(tb, rows.Scan(&id))
				ids = append(ids, id)
			}
			require.NoError(tb, rows.Err())
			return ids
		},
	}
}

// openPostgresOutbox opens a fresh schema with the sender's tables and an
// orders table; transactions begin on the application's pool.
func openPostgresOutbox(tb testing.TB) *outboxDB {
	tb.Helper()
	ctx := context.Background()
	dsn := pgtest.DSN(tb)
	schema := pgtest.Schema(tb, dsn, "whk_sender_acct_")
	st, pool := postgresInstance(tb, dsn, schema)
	require.NoError(tb, st.Migrate(ctx))
	orders := pgx.Identifier{schema, "orders"}.Sanitize()
	_, err := pool.Exec(ctx, "CREATE TABLE "+orders+" (id text PRIMARY KEY)")
	require.NoError(tb, err)
	return &outboxDB{
		st: st,
		begin: func(tb testing.TB) *appTx {
			tx, err := pool.Begin(ctx)
			require.NoError(tb, err)
			tb.Cleanup(func() { _ = tx.Rollback(ctx) }) // a no-op once ended
			return &appTx{
				insertOrder: func(id string) error {
					_, err := tx.Exec(ctx, "INSERT INTO "+orders+" (id) VALUES ($1)", id)
					return err
				},
				view:     st.Tx(tx),
				commit:   func() error { return tx.Commit(ctx) },
				rollback: func() error { return tx.Rollback(ctx) },
			}
		},
		orders: func(tb testing.TB) []string {
			rows, err := pool.Query(ctx, "SELECT id FROM "+orders+" ORDER BY id")
			require.NoError(tb, err)
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(tb, err)
			return ids
		},
	}
}

// reached returns the ids of the endpoints st holds a delivery of the
// event for, sorted, read outside any transaction.
func reached(tb testing.TB, st store.SenderStore, eventID string) []string {
	tb.Helper()
	ds, _, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: eventID, AllTenants: true})
	require.NoError(tb, err)
	ids := make([]string, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.EndpointID)
	}
	slices.Sort(ids)
	return ids
}

// TestPublishTxToAccount (SQLite and PostgreSQL): PublishTx in the
// application's own transaction, next to the application's write, to
// sender.ToAccount("org_1", "acct_1") reaches exactly org_1's
// organization-wide endpoint and acct_1's endpoint: not acct_2's of the
// same organization, not org_2's, not org_2's endpoint of an account also
// named acct_1. Nothing is visible outside the transaction before it
// commits; a rolled-back transaction enqueues nothing and delivers
// nothing; a committed one is delivered, over HTTP, to exactly those two
// endpoints, with the organization as the deliveries' tenant.
// sender.ToTenant("org_1") in a transaction reaches the organization-wide
// endpoint only.
func TestPublishTxToAccount(t *testing.T) {
	for kind, open := range map[string]func(testing.TB) *outboxDB{
		"sqlite":   openSQLiteOutbox,
		"postgres": openPostgresOutbox,
	} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testPublishTxToAccount(t, open(t))
		})
	}
}

func testPublishTxToAccount(t *testing.T, db *outboxDB) {
	ctx := context.Background()
	clk := webhooktest.NewClock(webhooktest.DefaultStart())
	s := webhooktest.NewSender(t, db.st, clk, nil) // driven by DeliverAll, never started

	type target struct {
		name, org, account string
		srv                *webhooktest.Endpoint
		ep                 *store.Endpoint
	}
	targets := []*target{
		{name: "org_1 wide", org: "org_1"},
		{name: "org_1 acct_1", org: "org_1", account: "acct_1"},
		{name: "org_1 acct_2", org: "org_1", account: "acct_2"},
		{name: "org_2 wide", org: "org_2"},
		{name: "org_2 acct_1", org: "org_2", account: "acct_1"},
	}
	for _, tg := range targets {
		tg.srv = webhooktest.NewEndpoint(t, &webhooktest.EndpointConfig{Clock: clk})
		tg.ep = tg.srv.Registration("order.*")
		tg.ep.Tenant, tg.ep.Account = tg.org, tg.account
		_, err := s.Endpoints().Create(ctx, tg.ep)
		require.NoError(t, err, tg.name)
	}
	ids := func(names ...string) []string {
		var out []string
		for _, tg := range targets {
			if slices.Contains(names, tg.name) {
				out = append(out, tg.ep.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	// publish publishes a new event for order in a transaction of its own,
	// with the order's row, and ends it by commit or rollback.
	publish := func(t *testing.T, order string, aud sender.Audience, commit bool) (event.Event, int) {
		t.Helper()
		ev := webhooktest.NewEvent(t, "order.created", json.RawMessage(`{"order":"`+order+`"}`))
		tx := db.begin(t)
		require.NoError(t, tx.insertOrder(order))
		n, err := s.PublishTx(ctx, tx.view, ev, aud, nil)
		require.NoError(t, err)
		require.Empty(t, reached(t, db.st, ev.ID), "deliveries visible outside the transaction before it ended")
		if commit {
			require.NoError(t, tx.commit())
		} else {
			require.NoError(t, tx.rollback())
		}
		return ev, n
	}
	// deliveredTo delivers everything due and returns the names of the
	// targets that received ev over HTTP.
	deliveredTo := func(t *testing.T, ev event.Event) []string {
		t.Helper()
		_, err := webhooktest.DeliverAll(ctx, s, clk)
		require.NoError(t, err)
		var got []string
		for _, tg := range targets {
			for _, e := range tg.srv.Events() {
				if e.ID == ev.ID {
					got = append(got, tg.name)
				}
			}
		}
		return got
	}

	t.Run("rolled back", func(t *testing.T) {
		ev, n := publish(t, "ord_rolled_back", sender.ToAccount("org_1", "acct_1"), false)
		require.Equal(t, 2, n, "inside the transaction, the two endpoints were reached")
		require.Empty(t, reached(t, db.st, ev.ID), "a rolled-back transaction enqueues nothing")
		require.Empty(t, deliveredTo(t, ev))
		require.NotContains(t, db.orders(t), "ord_rolled_back")
	})

	t.Run("ToAccount committed", func(t *testing.T) {
		ev, n := publish(t, "ord_acct_1", sender.ToAccount("org_1", "acct_1"), true)
		require.Equal(t, 2, n)
		want := []string{"org_1 wide", "org_1 acct_1"}
		require.Equal(t, ids(want...), reached(t, db.st, ev.ID))
		ds, _, err := db.st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "org_1", EventID: ev.ID})
		require.NoError(t, err)
		require.Len(t, ds, 2, "the deliveries' tenant is the organization")
		require.Equal(t, want, deliveredTo(t, ev))
		require.Contains(t, db.orders(t), "ord_acct_1")
	})

	t.Run("ToTenant committed", func(t *testing.T) {
		ev, n := publish(t, "ord_org_1", sender.ToTenant("org_1"), true)
		require.Equal(t, 1, n)
		require.Equal(t, ids("org_1 wide"), reached(t, db.st, ev.ID))
		require.Equal(t, []string{"org_1 wide"}, deliveredTo(t, ev))
	})

	// Across the subtests: acct_2's endpoint and org_2's never heard
	// anything; the rolled-back event reached no one.
	for _, tg := range targets[2:] {
		require.Empty(t, tg.srv.Requests(), "%s received a request", tg.name)
	}
	require.Len(t, targets[0].srv.Events(), 2)
	require.Len(t, targets[1].srv.Events(), 1)
	require.Equal(t, []string{"ord_acct_1", "ord_org_1"}, db.orders(t))
}
