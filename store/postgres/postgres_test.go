package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// base is the tests' clock: a fixed instant, whole seconds, UTC.
var base = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

func testEvent(id, typ, data string) event.Event {
	return event.Event{APIMode: event.ModeTest, Date: base, ID: id, Type: typ, Data: json.RawMessage(data)}
}

func testEndpoint(tenant string, types ...string) *store.Endpoint {
	return &store.Endpoint{
		Tenant:     tenant,
		Mode:       event.ModeTest,
		URL:        "https://hooks.example.com/in",
		EventTypes: types,
		Secrets:    []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: base}},
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	// A pool never used connects to nothing: these cases need no database.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable")
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	_, err = postgres.New(nil, nil)
	require.ErrorIs(t, err, postgres.ErrInvalidConfig)

	s, err := postgres.New(pool, nil)
	require.NoError(t, err)
	require.Equal(t, postgres.DefaultSchema, s.Schema())

	for _, tc := range []struct {
		schema string
		ok     bool
	}{
		{"webhooks", true},
		{"_Hooks_2", true},
		{"a23456789012345678901234567890123456789012345678901234567890123", true},
		{"a234567890123456789012345678901234567890123456789012345678901234", false},
		{"1abc", false},
		{"web-hooks", false},
		{`x"; DROP TABLE y; --`, false},
		{"schéma", false},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: tc.schema})
			if !tc.ok {
				require.ErrorIs(t, err, postgres.ErrInvalidConfig)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.schema, s.Schema())
		})
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := randomSchema(t)
	pool := newPool(t)

	// Several instances migrating the same fresh schema at once: all succeed.
	const instances = 4
	errs := make(chan error, instances)
	for range instances {
		go func() {
			s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema, Logger: quiet})
			if err == nil {
				err = s.Migrate(ctx)
			}
			errs <- err
		}()
	}
	for range instances {
		require.NoError(t, <-errs)
	}

	s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema, Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx), "a second migrate is a no-op")

	var versions []int
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT version FROM %q.schema_version ORDER BY version`, schema))
	require.NoError(t, err)
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []int{postgres.SchemaVersion}, versions)

	// The store works after migrating.
	require.NoError(t, s.CreateEndpoint(ctx, testEndpoint("acme", "*")))

	// A schema migrated by a newer driver is refused.
	_, err = pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %q.schema_version (version) VALUES ($1)`, schema), postgres.SchemaVersion+1)
	require.NoError(t, err)
	require.ErrorIs(t, s.Migrate(ctx), postgres.ErrSchemaTooNew)
}

func TestEnqueueKeepsDataVerbatimAndDetectsConflicts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)

	// Whitespace, key order and escapes that jsonb would normalize.
	data := `{ "b" : 1,  "a":"\u00e9", "n": 1.0e2 }`
	ev := testEvent("9f1c1b2e-8c1e-4d0b-9a53-1f4f6f2d9e01", "patient.created", data)
	createEndpoints(t, s, "acme", "ep1", "ep2", "ep3", "ep9")
	targets := []store.Target{{EndpointID: "ep1", Tenant: "acme"}, {EndpointID: "ep2", Tenant: "acme"}, {EndpointID: "ep1", Tenant: "acme"}}

	n, err := s.Enqueue(ctx, enqueueAt(ev, targets))
	require.NoError(t, err)
	require.Equal(t, 2, n, "one delivery per distinct endpoint")

	n, err = s.Enqueue(ctx, enqueueAt(ev, append(targets, store.Target{EndpointID: "ep3", Tenant: "acme"})))
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the new pair is created")

	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme"})
	require.NoError(t, err)
	require.Len(t, ds, 3)
	for _, d := range ds {
		require.Equal(t, data, string(d.Event.Data), "data bytes round-trip verbatim")
		require.Equal(t, store.StatePending, d.State)
		require.True(t, d.NextAttemptAt.Equal(base))
	}

	for _, tc := range []struct {
		name string
		ev   event.Event
	}{
		{"data bytes", testEvent(ev.ID, ev.Type, `{"b":1,"a":"é","n":100}`)},
		{"type", testEvent(ev.ID, "patient.deleted", data)},
		{"mode", func() event.Event { e := ev; e.APIMode = event.ModeLive; return e }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := s.Enqueue(ctx, enqueueAt(tc.ev, []store.Target{{EndpointID: "ep9", Tenant: "acme"}}))
			require.ErrorIs(t, err, store.ErrConflict)
			require.Zero(t, n)
			ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: "ep9", AllTenants: true})
			require.NoError(t, err)
			require.Empty(t, ds, "a conflicting enqueue creates nothing")
		})
	}
}

func TestPublishTx(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	pool := newPool(t)
	for _, types := range [][]string{{"order.*"}, {"*"}, {"invoice.paid"}} {
		require.NoError(t, s.CreateEndpoint(ctx, testEndpoint("acme", types...)))
	}
	require.NoError(t, s.CreateEndpoint(ctx, testEndpoint("other", "*")))

	count := func(eventID string) int {
		ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, EventID: eventID})
		require.NoError(t, err)
		return len(ds)
	}

	t.Run("rollback enqueues nothing", func(t *testing.T) {
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		ev := testEvent("0b6f7c1e-2a35-4c55-8a0e-4a7b7d1e9c01", "order.created", `{"n":1}`)
		n, err := publisher(t, s).PublishTx(ctx, s.Tx(tx), ev, sender.ToTenant("acme"), nil)
		require.NoError(t, err)
		require.Equal(t, 2, n, "order.* and * of tenant acme")
		require.Zero(t, count(ev.ID), "invisible before commit")
		require.NoError(t, tx.Rollback(ctx))
		require.Zero(t, count(ev.ID))
		_, err = s.GetDelivery(ctx, "no-such-id")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("commit enqueues with the business write", func(t *testing.T) {
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %q.orders (id int)`, s.Schema()))
		require.NoError(t, err)
		ev := testEvent("0b6f7c1e-2a35-4c55-8a0e-4a7b7d1e9c02", "order.created", `{"n":2}`)
		n, err := publisher(t, s).PublishTx(ctx, s.Tx(tx), ev, sender.ToAllTenants(), nil)
		require.NoError(t, err)
		require.Equal(t, 3, n)

		// A conflicting publish inside the same transaction fails alone:
		// the savepoint keeps tx usable.
		_, err = publisher(t, s).PublishTx(ctx, s.Tx(tx), testEvent(ev.ID, ev.Type, `{"n":3}`), sender.ToAllTenants(), nil)
		require.ErrorIs(t, err, store.ErrConflict)
		_, err = tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %q.orders VALUES (1)`, s.Schema()))
		require.NoError(t, err)

		require.NoError(t, tx.Commit(ctx))
		require.Equal(t, 3, count(ev.ID))

		got, err := s.Lease(ctx, store.LeaseRequest{Now: base, Limit: 10, Duration: time.Minute, Mode: event.ModeTest})
		require.NoError(t, err)
		require.Len(t, got, 3)
	})

	t.Run("no audience", func(t *testing.T) {
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		_, err = publisher(t, s).PublishTx(ctx, s.Tx(tx), testEvent("0b6f7c1e-2a35-4c55-8a0e-4a7b7d1e9c03", "order.created", `{}`), sender.Audience{}, nil)
		require.ErrorIs(t, err, sender.ErrNoAudience)
	})
}

// TestLeaseTwoStoresConcurrently runs two Store values, each with its own
// pool (as two processes would), leasing from one schema at once: every
// delivery is handed out exactly once.
func TestLeaseTwoStoresConcurrently(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := newStore(t)
	b, err := postgres.New(newPool(t), &postgres.Config{Keys: testKeys(t), Schema: a.Schema(), Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, b.Migrate(ctx))

	const events, endpoints = 100, 5
	createEndpoints(t, a, "acme", "ep0", "ep1", "ep2", "ep3", "ep4")
	for i := range events {
		var ts []store.Target
		for j := range endpoints {
			ts = append(ts, store.Target{EndpointID: fmt.Sprintf("ep%d", j), Tenant: "acme"})
		}
		ev := testEvent(fmt.Sprintf("ev-%03d", i), "order.created", `{}`)
		ev.Date = base.Add(time.Duration(i) * time.Millisecond)
		n, err := a.Enqueue(ctx, enqueueAt(ev, ts))
		require.NoError(t, err)
		require.Equal(t, endpoints, n)
	}
	const total = events * endpoints

	var (
		mu   sync.Mutex
		seen = map[string]string{}
		wg   sync.WaitGroup
		errc = make(chan error, 8)
	)
	for w := range 8 {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ds, err := s.Lease(ctx, store.LeaseRequest{Now: base.Add(time.Second), Limit: 7, Duration: time.Hour, Worker: fmt.Sprint("w", w)})
				if err != nil {
					errc <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if prev, dup := seen[d.ID]; dup {
						mu.Unlock()
						errc <- fmt.Errorf("delivery %s leased by %s and %s", d.ID, prev, d.LeasedBy)
						return
					}
					seen[d.ID] = d.LeasedBy
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	require.Len(t, seen, total, "every delivery leased exactly once")
}

func TestDisableDuringLease(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	ep := testEndpoint("acme", "*")
	require.NoError(t, s.CreateEndpoint(ctx, ep))
	for i := range 3 {
		_, err := s.Enqueue(ctx, enqueueAt(testEvent(fmt.Sprint("ev", i), "order.created", `{}`), []store.Target{{EndpointID: ep.ID, Tenant: "acme"}}))
		require.NoError(t, err)
	}
	leased, err := s.Lease(ctx, store.LeaseRequest{Now: base, Limit: 2, Duration: time.Minute})
	require.NoError(t, err)
	require.Len(t, leased, 2)

	_, err = s.SetDisabled(ctx, ep.ID, true, "410 Gone", base)
	require.NoError(t, err)

	// The pending one is paused; the leased ones still read as leased but
	// are not handed out again when their lease expires.
	byState := func(st store.DeliveryState) int {
		ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme", State: st})
		require.NoError(t, err)
		return len(ds)
	}
	require.Equal(t, 1, byState(store.StatePaused))
	require.Equal(t, 2, byState(store.StateLeased))
	again, err := s.Lease(ctx, store.LeaseRequest{Now: base.Add(time.Hour), Limit: 10, Duration: time.Minute})
	require.NoError(t, err)
	require.Empty(t, again)

	// Their workers still settle them: a retry and a release pause.
	res, err := s.Settle(ctx, store.SettleBatch{Settlements: []store.Settlement{
		{Ref: leased[0].Ref(), Outcome: store.OutcomeRetry, Next: base.Add(time.Minute), Error: "503"},
		{Ref: leased[1].Ref(), Outcome: store.OutcomeReleased, Next: base},
	}})
	require.NoError(t, err)
	require.Equal(t, []bool{false, false}, res.Lost)
	require.Equal(t, 3, byState(store.StatePaused))
	d, err := s.GetDelivery(ctx, leased[1].ID)
	require.NoError(t, err)
	require.Zero(t, d.Attempts, "release takes the attempt back")
	require.Empty(t, d.LeaseToken, "only Lease hands out tokens")

	// Enabling resumes them all, due at the enable time.
	_, err = s.SetDisabled(ctx, ep.ID, false, "", base.Add(2*time.Hour))
	require.NoError(t, err)
	got, err := s.Lease(ctx, store.LeaseRequest{Now: base.Add(2 * time.Hour), Limit: 10, Duration: time.Minute, Mode: event.ModeTest})
	require.NoError(t, err)
	require.Len(t, got, 3)
	res, err = s.Settle(ctx, store.SettleBatch{Settlements: []store.Settlement{
		{Ref: leased[0].Ref(), Outcome: store.OutcomeSucceeded, At: base},
	}})
	require.NoError(t, err)
	require.Equal(t, []bool{true}, res.Lost, "an old token no longer holds")
}

func TestListDeliveriesEventTypePattern(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	createEndpoints(t, s, "t", "ep")
	types := []string{"patient.created", "patient.ehi.ready", "patient", "patients.x", "pat_ent.x", "patXent.x", "pat%ent.x"}
	for i, typ := range types {
		if _, err := event.ParsePattern(typ); err != nil {
			continue // "pat%ent.x" is no valid type: it cannot be enqueued by Publish
		}
		_, err := s.Enqueue(ctx, enqueueAt(testEvent(fmt.Sprint("ev", i), typ, `{}`), []store.Target{{EndpointID: "ep", Tenant: "t"}}))
		require.NoError(t, err)
	}
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"*", []string{"patient.created", "patient.ehi.ready", "patient", "patients.x", "pat_ent.x", "patXent.x"}},
		{"patient.*", []string{"patient.created", "patient.ehi.ready"}},
		{"patient", []string{"patient", "patient.created", "patient.ehi.ready"}}, // a service
		{"pat_ent", []string{"pat_ent.x"}},                                       // '_' escaped
		{"ping", nil},
		{"pat_ent.*", []string{"pat_ent.x"}},
		{"patient.ehi.ready", []string{"patient.ehi.ready"}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "t", EventType: tc.pattern})
			require.NoError(t, err)
			var got []string
			for _, d := range ds {
				got = append(got, d.Event.Type)
				require.True(t, event.Pattern(tc.pattern).Match(d.Event.Type), "SQL agrees with event.Pattern.Match")
			}
			require.ElementsMatch(t, tc.want, got)
		})
	}
	_, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "t", EventType: "pat%"})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestCursorsAreListSpecific(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	for range 3 {
		require.NoError(t, s.CreateEndpoint(ctx, testEndpoint("acme", "*")))
	}
	page, next, err := s.ListEndpoints(ctx, store.EndpointFilter{Tenant: "acme", Page: store.Page{Limit: 2}})
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.NotEmpty(t, next)
	_, _, err = s.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "acme", Page: store.Page{Cursor: next}})
	require.ErrorIs(t, err, store.ErrInvalid)
	_, _, err = s.ListEndpoints(ctx, store.EndpointFilter{Tenant: "acme", Page: store.Page{Cursor: "%%%"}})
	require.ErrorIs(t, err, store.ErrInvalid)
	rest, last, err := s.ListEndpoints(ctx, store.EndpointFilter{Tenant: "acme", Page: store.Page{Limit: 2, Cursor: next}})
	require.NoError(t, err)
	require.Len(t, rest, 1)
	require.Empty(t, last)
}

func TestInboxDurable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	body := []byte(`{"id":"k1", "data" : {}}`)
	claim := store.Claim{Key: "k1", Body: body, Now: base, TTL: time.Hour, Lease: time.Minute}

	// Exactly one of many concurrent claims wins.
	const n = 16
	wins := make(chan bool, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			ok, err := s.Claim(ctx, claim)
			errs <- err
			wins <- ok
		}()
	}
	won := 0
	for range n {
		require.NoError(t, <-errs)
		if <-wins {
			won++
		}
	}
	require.Equal(t, 1, won)

	e, err := s.GetInboxEntry(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, store.InboxClaimed, e.State)
	require.Equal(t, body, e.Body, "the body is kept with the claim")

	// A crash: the lease ends and a recovering worker takes the entry.
	got, err := s.LeaseClaimed(ctx, base.Add(2*time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, body, got[0].Body)
	require.Equal(t, 1, got[0].Attempts)
	again, err := s.LeaseClaimed(ctx, base.Add(2*time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Empty(t, again, "a held lease is not handed out twice")

	require.NoError(t, s.MarkDead(ctx, "k1", base.Add(3*time.Minute), "boom"))
	e, err = s.GetInboxEntry(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, store.InboxDead, e.State)
	require.Equal(t, body, e.Body, "dead entries keep the body")

	require.ErrorIs(t, s.Replay(ctx, "nope", base), store.ErrNotFound)
	require.NoError(t, s.Replay(ctx, "k1", base.Add(4*time.Minute)))
	require.ErrorIs(t, s.Replay(ctx, "k1", base), store.ErrConflict)

	require.NoError(t, s.MarkHandled(ctx, "k1", base.Add(5*time.Minute)))
	e, err = s.GetInboxEntry(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, store.InboxHandled, e.State)
	require.Empty(t, e.Body, "handled entries drop the body")

	ok, err := s.Claim(ctx, claim)
	require.NoError(t, err)
	require.False(t, ok, "within the window the key is remembered")
	pruned, err := s.PruneInbox(ctx, base.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, pruned)
	_, err = s.GetInboxEntry(ctx, "k1")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.MarkHandled(ctx, "k1", base), store.ErrNotFound)
	require.True(t, errors.Is(s.MarkDead(ctx, "k1", base, "x"), store.ErrNotFound))
}

// publisher returns a sender on s that only publishes (it is never started).
func publisher(tb testing.TB, s *postgres.Store) *sender.Sender {
	tb.Helper()
	snd, err := sender.New(s, nil)
	require.NoError(tb, err)
	return snd
}
