package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

var base = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

// open opens and migrates a store on a fresh file, closed at cleanup.
func open(tb testing.TB) (*sqlite.Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "webhooks.db")
	s, err := sqlite.Open(path, &sqlite.Config{Now: func() time.Time { return base }, Keys: testKeys(tb)})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	require.NoError(tb, s.Migrate(context.Background()))
	return s, path
}

func newEndpoint(tb testing.TB, s *sqlite.Store, tenant string, patterns ...string) *store.Endpoint {
	tb.Helper()
	if len(patterns) == 0 {
		patterns = []string{"*"}
	}
	ep := &store.Endpoint{
		Tenant:     tenant,
		Mode:       event.ModeTest,
		URL:        "https://hooks.example.com/in",
		EventTypes: patterns,
		Secrets:    []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: at(-time.Hour)}},
	}
	require.NoError(tb, s.CreateEndpoint(context.Background(), ep))
	return ep
}

func newEvent(typ string, date time.Time) event.Event {
	return event.Event{
		APIMode: event.ModeTest,
		Date:    date,
		ID:      uuid.NewString(),
		Type:    typ,
		Data:    json.RawMessage(`{"b": 1,  "a":[1, 2.50]}`),
	}
}

func targets(eps ...*store.Endpoint) []store.Target {
	ts := make([]store.Target, len(eps))
	for i, ep := range eps {
		ts[i] = store.Target{EndpointID: ep.ID, Tenant: ep.Tenant}
	}
	return ts
}

func TestOpenInvalid(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
		cfg  *sqlite.Config
	}{
		{"empty path", "", nil},
		{"memory", ":memory:", nil},
		{"uri", "file:" + filepath.Join(dir, "a.db"), nil},
		{"query", filepath.Join(dir, "a.db?mode=ro"), nil},
		{"synchronous", filepath.Join(dir, "a.db"), &sqlite.Config{Synchronous: "OFF"}},
		{"busy timeout", filepath.Join(dir, "a.db"), &sqlite.Config{BusyTimeout: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(tc.path, tc.cfg)
			require.ErrorIs(t, err, store.ErrInvalid)
			require.Nil(t, s)
			require.True(t, strings.HasPrefix(err.Error(), "sqlite: "), err.Error())
		})
	}
}

func TestPragmas(t *testing.T) {
	for _, tc := range []struct {
		sync string
		want int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{{"", 1}, {"normal", 1}, {"FULL", 2}} {
		t.Run("sync="+tc.sync, func(t *testing.T) {
			s, err := sqlite.Open(filepath.Join(t.TempDir(), "p.db"), &sqlite.Config{Synchronous: tc.sync, BusyTimeout: 1500 * time.Millisecond})
			require.NoError(t, err)
			defer s.Close()
			var mode string
			var fk, sync, busy int
			require.NoError(t, s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode))
			require.NoError(t, s.DB().QueryRow("PRAGMA foreign_keys").Scan(&fk))
			require.NoError(t, s.DB().QueryRow("PRAGMA synchronous").Scan(&sync))
			require.NoError(t, s.DB().QueryRow("PRAGMA busy_timeout").Scan(&busy))
			require.Equal(t, "wal", mode)
			require.Equal(t, 1, fk)
			require.Equal(t, tc.want, sync)
			require.Equal(t, 1500, busy)
		})
	}
}

func TestMigrateIdempotent(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	ep := newEndpoint(t, s, "acme")
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx))
	var versions int
	require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM webhookkit_migrations").Scan(&versions))
	require.Equal(t, 1, versions)
	got, err := s.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, ep.URL, got.URL, "migrating again keeps the data")

	// A newer schema than the package knows is refused.
	_, err = s.DB().Exec("INSERT INTO webhookkit_migrations (version, applied_at) VALUES (?, 0)", sqlite.SchemaVersion+1)
	require.NoError(t, err)
	require.ErrorContains(t, s.Migrate(ctx), "newer")
}

func TestUseBeforeMigrate(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "x.db"), plaintext)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.GetEndpoint(context.Background(), "x")
	require.ErrorContains(t, err, "no such table")
	require.NotErrorIs(t, err, store.ErrNotFound)
}

// TestDurable writes every kind of row, closes the store, reopens the file
// and finds everything as it was.
func TestDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "durable.db")
	s, err := sqlite.Open(path, &sqlite.Config{Synchronous: "FULL", PlaintextSecrets: true})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))

	ep := newEndpoint(t, s, "acme", "patient.*")
	ep.Headers = map[string]string{"X-A": "1"}
	ep.Metadata = map[string]string{}
	require.NoError(t, s.UpdateEndpoint(ctx, ep))
	_, err = s.Settle(ctx, store.SettleBatch{Health: []store.HealthDelta{
		{EndpointID: ep.ID, Failures: 1, FirstFailure: at(time.Second), LastFailure: at(time.Second)},
	}})
	require.NoError(t, err)
	ev := newEvent("patient.created", at(0))
	n, err := s.Enqueue(ctx, enqueueAt(ev, targets(ep)))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	leased, err := s.Lease(ctx, store.LeaseRequest{Now: at(0), Limit: 1, Duration: time.Minute, Worker: "w"})
	require.NoError(t, err)
	require.Len(t, leased, 1)
	a := &store.Attempt{DeliveryID: leased[0].ID, EndpointID: ep.ID, Tenant: "acme", EventID: ev.ID,
		EventType: ev.Type, Mode: ev.APIMode, Number: 1, At: at(time.Second), Duration: 1234567 * time.Nanosecond,
		URL: ep.URL, RequestHeaders: map[string][]string{"Webhook-Id": {ev.ID}}, RequestBody: []byte(`{"x":1}`),
		StatusCode: 503, ResponseBody: []byte("busy"), Error: "503 Service Unavailable"}
	require.NoError(t, s.AddAttempt(ctx, a))
	ok, err := s.Claim(ctx, store.Claim{Key: "msg_1", Body: []byte(`{"id":"msg_1"}`), Now: at(0), TTL: time.Hour, Lease: time.Minute})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.Close())

	s, err = sqlite.Open(path, plaintext)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Migrate(ctx))

	gotEp, err := s.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, ep.Headers, gotEp.Headers)
	require.NotNil(t, gotEp.Metadata, "an empty map stays empty, not nil")
	require.Equal(t, 1, gotEp.Health.ConsecutiveFailures)
	require.True(t, at(time.Second).Equal(gotEp.Health.FailingSince))
	require.True(t, at(-time.Hour).Equal(gotEp.Secrets[0].CreatedAt))
	require.True(t, gotEp.Secrets[0].ExpiresAt.IsZero())

	d, err := s.GetDelivery(ctx, leased[0].ID)
	require.NoError(t, err)
	require.Equal(t, store.StateLeased, d.State)
	require.Equal(t, ev.Data, d.Event.Data, "data bytes verbatim")
	require.True(t, ev.Date.Equal(d.CreatedAt), "CreatedAt is the publish time")
	require.Empty(t, d.LeaseToken, "only Lease returns the token")
	// The lease token survived the restart: the worker can still settle.
	res, err := s.Settle(ctx, store.SettleBatch{Settlements: []store.Settlement{
		{Ref: leased[0].Ref(), Outcome: store.OutcomeSucceeded, At: at(2 * time.Second)},
	}})
	require.NoError(t, err)
	require.Equal(t, []bool{false}, res.Lost)

	gotA, err := s.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, a, gotA)

	e, err := s.GetInboxEntry(ctx, "msg_1")
	require.NoError(t, err)
	require.Equal(t, store.InboxClaimed, e.State)
	require.Equal(t, []byte(`{"id":"msg_1"}`), e.Body)
	// The claim's lease ended: recovery re-drives it after the restart.
	es, err := s.LeaseClaimed(ctx, at(time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, 1, es[0].Attempts)
}

// TestLeaseConcurrent has many goroutines leasing and settling at once: no
// delivery is handed out twice while its lease holds, and all are done.
func TestLeaseConcurrent(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	eps := []*store.Endpoint{newEndpoint(t, s, "a"), newEndpoint(t, s, "b"), newEndpoint(t, s, "c")}
	const events = 300
	for i := range events {
		_, err := s.Enqueue(ctx, enqueueAt(newEvent("ping", at(time.Duration(i)*time.Millisecond)), targets(eps...)))
		require.NoError(t, err)
	}
	total := events * len(eps)

	var (
		mu     sync.Mutex
		seen   = map[string]int{}
		errs   []error
		wg     sync.WaitGroup
		worker = 16
	)
	for w := range worker {
		wg.Go(func() {
			for {
				// Leases last for the whole test: a second hand-out of the
				// same delivery would be a broken lease.
				ds, err := s.Lease(ctx, store.LeaseRequest{Now: at(time.Hour), Limit: 7, Duration: time.Hour, Worker: fmt.Sprint("w", w)})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(ds) == 0 {
					return
				}
				var batch store.SettleBatch
				for _, d := range ds {
					mu.Lock()
					seen[d.ID]++
					mu.Unlock()
					batch.Settlements = append(batch.Settlements, store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: at(time.Hour)})
				}
				res, err := s.Settle(ctx, batch)
				if err == nil && slices.Contains(res.Lost, true) {
					err = fmt.Errorf("worker %d: a lease was lost: %v", w, res.Lost)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	require.Len(t, seen, total)
	for id, n := range seen {
		require.Equal(t, 1, n, "delivery %s leased %d times", id, n)
	}
	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, State: store.StateSucceeded, Page: store.Page{Limit: store.MaxPageSize}})
	require.NoError(t, err)
	require.Len(t, ds, total)
}

// queryPlan returns the details of SQLite's EXPLAIN QUERY PLAN for query,
// one line per step.
func queryPlan(tb testing.TB, s *sqlite.Store, query string, args ...any) string {
	tb.Helper()
	rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(tb, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(tb, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(tb, rows.Err())
	return strings.Join(plan, "\n")
}

// TestLeaseUsesDueIndex checks the lease query's plan: it walks the partial
// due index, without a full scan or a sort.
func TestLeaseUsesDueIndex(t *testing.T) {
	s, _ := open(t)
	joined := queryPlan(t, s, `SELECT id FROM webhookkit_deliveries
WHERE state IN ('pending', 'leased') AND key_waiting = 0 AND next_attempt_at <= ? AND mode = ?
ORDER BY next_attempt_at LIMIT ?`, 0, "test", 10)
	require.Contains(t, joined, "USING INDEX webhookkit_deliveries_due", joined)
	require.NotContains(t, joined, "TEMP B-TREE", joined)
}

// TestLeaseKeyCheckUsesKeyIndexes checks the plan of Lease's ordering-key
// condition: each probe is an index search (the key's queue, the
// endpoint's leased deliveries), never a scan of the deliveries.
func TestLeaseKeyCheckUsesKeyIndexes(t *testing.T) {
	s, _ := open(t)
	joined := queryPlan(t, s, `SELECT id FROM webhookkit_deliveries
WHERE state IN ('pending', 'leased') AND key_waiting = 0 AND next_attempt_at <= ? AND mode = ? AND `+sqlite.KeyHeadSQL+`
ORDER BY next_attempt_at LIMIT ?`, 0, "test", 0, 10)
	require.Contains(t, joined, "USING INDEX webhookkit_deliveries_due", joined)
	require.Contains(t, joined, "SEARCH k USING INDEX webhookkit_deliveries_key (endpoint_id=? AND ordering_key=? AND key_seq<?)", joined)
	// The leased deliveries of the endpoint: at most its requests in flight.
	require.Contains(t, joined, "SEARCH k USING INDEX webhookkit_deliveries_endpoint (endpoint_id=? AND state=?)", joined)
	require.NotContains(t, joined, "SCAN k", joined)
}

func TestEnqueueConflictWritesNothing(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	a, b := newEndpoint(t, s, "acme"), newEndpoint(t, s, "acme")
	ev := newEvent("ping", at(0))
	n, err := s.Enqueue(ctx, enqueueAt(ev, targets(a)))
	require.NoError(t, err)
	require.Equal(t, 1, n)

	for _, tc := range []struct {
		name string
		edit func(*event.Event)
	}{
		{"type", func(e *event.Event) { e.Type = "pong" }},
		{"mode", func(e *event.Event) { e.APIMode = event.ModeLive }},
		{"data", func(e *event.Event) { e.Data = json.RawMessage(`{"b":1,"a":[1,2.50]}`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := ev
			tc.edit(&other)
			n, err := s.Enqueue(ctx, enqueueAt(other, targets(a, b)))
			require.ErrorIs(t, err, store.ErrConflict)
			require.Zero(t, n)
			ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, EventID: ev.ID})
			require.NoError(t, err)
			require.Len(t, ds, 1, "nothing inserted for b")
		})
	}
	// The same event again, with a later date, only adds b.
	again := ev
	again.Date = at(time.Hour)
	n, err = s.Enqueue(ctx, enqueueAt(again, targets(a, b, b)))
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestPublishTx(t *testing.T) {
	ctx := context.Background()
	for _, commit := range []bool{true, false} {
		t.Run(fmt.Sprint("commit=", commit), func(t *testing.T) {
			s, _ := open(t)
			_, err := s.DB().Exec(`CREATE TABLE orders (id TEXT PRIMARY KEY)`)
			require.NoError(t, err)
			a := newEndpoint(t, s, "acme", "order.*")
			newEndpoint(t, s, "acme", "patient.*")      // not subscribed
			newEndpoint(t, s, "other", "order.created") // other tenant
			ev := newEvent("order.created", at(0))

			tx, err := s.DB().BeginTx(ctx, nil)
			require.NoError(t, err)
			_, err = tx.Exec(`INSERT INTO orders (id) VALUES ('o1')`)
			require.NoError(t, err)
			n, err := publisher(t, s).PublishTx(ctx, s.Tx(tx), ev, sender.ToTenant("acme"), nil)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			// A publish error leaves the caller's transaction usable.
			bad := ev
			bad.Type = "order.updated"
			_, err = publisher(t, s).PublishTx(ctx, s.Tx(tx), bad, sender.ToTenant("acme"), nil)
			require.ErrorIs(t, err, store.ErrConflict)
			_, err = publisher(t, s).PublishTx(ctx, s.Tx(tx), ev, sender.Audience{}, nil)
			require.ErrorIs(t, err, sender.ErrNoAudience)
			if commit {
				require.NoError(t, tx.Commit())
			} else {
				require.NoError(t, tx.Rollback())
			}

			var orders int
			require.NoError(t, s.DB().QueryRow(`SELECT COUNT(*) FROM orders`).Scan(&orders))
			ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true})
			require.NoError(t, err)
			if !commit {
				require.Zero(t, orders)
				require.Empty(t, ds, "rolled back with the caller's writes")
				return
			}
			require.Equal(t, 1, orders)
			require.Len(t, ds, 1)
			require.Equal(t, a.ID, ds[0].EndpointID)
			require.Equal(t, store.StatePending, ds[0].State)
			require.Equal(t, ev.Data, ds[0].Event.Data)
		})
	}
}

// TestPublishTxDisabled: publish inside a transaction sees the transaction's
// own endpoint changes.
func TestPublishTxSeesTxWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	a := newEndpoint(t, s, "acme")
	tx, err := s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.Exec(`UPDATE webhookkit_endpoints SET disabled = 1 WHERE id = ?`, a.ID)
	require.NoError(t, err)
	n, err := publisher(t, s).PublishTx(ctx, s.Tx(tx), newEvent("ping", at(0)), sender.ToTenant("acme"), nil)
	require.NoError(t, err)
	require.Zero(t, n, "the endpoint is disabled within the transaction")
}

func TestListDeliveriesFilters(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	a := newEndpoint(t, s, "acme")
	b := newEndpoint(t, s, "beta")
	types := []string{"patient.created", "patient.a.b", "Patient.created", "patient", "patientx.y", "ping"}
	for i, typ := range types {
		_, err := s.Enqueue(ctx, enqueueAt(newEvent(typ, at(time.Duration(i)*time.Second)), targets(a, b)))
		require.NoError(t, err)
	}
	list := func(f store.DeliveryFilter) []string {
		var out []string
		for {
			ds, next, err := s.ListDeliveries(ctx, f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(ds), f.Page.Size())
			for _, d := range ds {
				out = append(out, d.Event.Type)
			}
			if next == "" {
				return out
			}
			f.Page.Cursor = next
		}
	}
	for _, tc := range []struct {
		name string
		f    store.DeliveryFilter
		want []string
	}{
		{"exact", store.DeliveryFilter{Tenant: "acme", EventType: "patient.created"}, []string{"patient.created"}},
		{"prefix", store.DeliveryFilter{Tenant: "acme", EventType: "patient.*", Page: store.Page{Limit: 1}},
			[]string{"patient.a.b", "patient.created"}},
		{"all", store.DeliveryFilter{Tenant: "beta", EventType: "*", Page: store.Page{Limit: 4}},
			[]string{"ping", "patientx.y", "patient", "Patient.created", "patient.a.b", "patient.created"}},
		{"time", store.DeliveryFilter{AllTenants: true, Since: at(4 * time.Second), Until: at(5 * time.Second)},
			[]string{"patientx.y", "patientx.y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, list(tc.f))
		})
	}
	_, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{EventType: "pat*"})
	require.ErrorIs(t, err, store.ErrInvalid)
	_, _, err = s.ListDeliveries(ctx, store.DeliveryFilter{Page: store.Page{Cursor: "!!"}})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestInboxClaimConcurrent(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	const claimers = 24
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
		errs []error
	)
	for range claimers {
		wg.Go(func() {
			ok, err := s.Claim(ctx, store.Claim{Key: "k", Body: []byte("b"), Now: at(0), TTL: time.Hour, Lease: time.Minute})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				wins++
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	require.Equal(t, 1, wins)
}

func TestInboxBodies(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	claim := func(key string) {
		ok, err := s.Claim(ctx, store.Claim{Key: key, Body: []byte("body-" + key), Now: at(0), TTL: time.Hour, Lease: time.Minute})
		require.NoError(t, err)
		require.True(t, ok)
	}
	claim("h")
	claim("d")
	require.NoError(t, s.MarkHandled(ctx, "h", at(time.Second)))
	require.NoError(t, s.MarkDead(ctx, "d", at(time.Second), "boom"))
	h, err := s.GetInboxEntry(ctx, "h")
	require.NoError(t, err)
	require.Empty(t, h.Body, "handled entries drop the body")
	d, err := s.GetInboxEntry(ctx, "d")
	require.NoError(t, err)
	require.Equal(t, []byte("body-d"), d.Body, "dead entries keep it")
	require.Equal(t, "boom", d.LastError)

	require.ErrorIs(t, s.Replay(ctx, "h", at(time.Minute)), store.ErrConflict)
	require.ErrorIs(t, s.Replay(ctx, "nope", at(time.Minute)), store.ErrNotFound)
	require.NoError(t, s.Replay(ctx, "d", at(time.Minute)))
	es, err := s.LeaseClaimed(ctx, at(time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, "d", es[0].Key)
	require.Equal(t, []byte("body-d"), es[0].Body)

	// Windows end: handled entries are pruned, claimed and dead kept; an
	// ended window can be claimed again.
	require.NoError(t, s.MarkDead(ctx, "d", at(2*time.Minute), "again"))
	n, err := s.PruneInbox(ctx, at(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ok, err := s.Claim(ctx, store.Claim{Key: "d", Now: at(2 * time.Hour), TTL: time.Hour})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.ReleaseClaim(ctx, "d"))
	require.NoError(t, s.ReleaseClaim(ctx, "d"))
	_, err = s.GetInboxEntry(ctx, "d")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestNew runs a store over a caller's own *sql.DB: one pool, one connection.
func TestNew(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "own.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	s := sqlite.New(db, plaintext)
	require.NoError(t, s.Migrate(ctx))
	ep := newEndpoint(t, s, "")
	n, err := s.Enqueue(ctx, enqueueAt(newEvent("ping", at(0)), targets(ep)))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ds, err := s.Lease(ctx, store.LeaseRequest{Now: at(0), Limit: 5, Duration: time.Minute})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, ep.ID, ds[0].EndpointID)
	require.NoError(t, s.Close())
	require.NoError(t, db.PingContext(ctx), "Close leaves the caller's DB open")
}

func TestCanceledContextLeavesNoTransaction(t *testing.T) {
	s, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Enqueue(ctx, enqueueAt(newEvent("ping", at(0)), []store.Target{{EndpointID: "x"}}))
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	// The single write connection is usable afterwards.
	newEndpoint(t, s, "acme")
}

// publisher returns a sender on s that only publishes (it is never started).
func publisher(tb testing.TB, s *sqlite.Store) *sender.Sender {
	tb.Helper()
	snd, err := sender.New(s, nil)
	require.NoError(tb, err)
	return snd
}
