package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// Store is what [Run] tests: the sender's roles and the inbox in one value.
// The optional [store.InboxRecovery], [store.DeliveryPruner] and
// [store.RetryAdvancer] are tested when the store implements them.
type Store interface {
	store.SenderStore
	store.Inbox
}

// HealthStore is what [RunHealth] tests: endpoints, their enabled state
// and their health, which only exists for endpoints the store holds and is
// written by the health deltas of [store.Outbox.Settle] (so the outbox
// lives with the endpoints).
type HealthStore interface {
	store.Endpoints
	store.EndpointHealth
	store.Outbox
}

// OutboxStore is what [RunOutbox] tests: the outbox and its delivery log,
// with the endpoints they refer to and the attempt log (Settle writes
// attempts and endpoint health in the transaction that settles the
// deliveries, so the outbox, the endpoints and the attempts live
// together). The cases create endpoints to enqueue for (Enqueue refuses
// endpoints the store does not hold), disable and enable them (disabling
// pauses their deliveries) and read deliveries back.
// [store.DeliveryPruner] and [store.RetryAdvancer] are tested when the
// store implements them.
type OutboxStore interface {
	store.Endpoints
	store.EndpointHealth
	store.Outbox
	store.Deliveries
	store.Attempts
}

// Factory returns a fresh, empty store of type S for one test. It registers
// with tb.Cleanup whatever closing or dropping the store needs, and fails
// tb (with tb.Fatal) if it cannot make one. The runners call it once per
// case, with the case's *testing.T; the benchmarks call it once, with
// their *testing.B.
type Factory[S any] func(tb testing.TB) S

// Run runs every conformance case of [RunEndpoints], [RunHealth],
// [RunOutbox], [RunAttempts] and [RunInbox] as subtests of t, each on a
// fresh store from newStore. Cases for optional capabilities run only when
// the store has them; the others are skipped with a message. A driver with
// transaction views runs [RunTx] as well. Run does not call t.Parallel.
func Run(t *testing.T, newStore Factory[Store]) {
	t.Helper()
	RunEndpoints(t, func(tb testing.TB) store.Endpoints { return newStore(tb) })
	RunHealth(t, func(tb testing.TB) HealthStore { return newStore(tb) })
	RunOutbox(t, func(tb testing.TB) OutboxStore { return newStore(tb) })
	RunAttempts(t, func(tb testing.TB) store.Attempts { return newStore(tb) })
	RunInbox(t, func(tb testing.TB) store.Inbox { return newStore(tb) })
}

// RunEndpoints runs the [store.Endpoints] cases (the subtests named
// Endpoints/...) on fresh stores from newStore.
func RunEndpoints(t *testing.T, newStore Factory[store.Endpoints]) {
	t.Helper()
	runCases(t, "Endpoints", endpointCases, func(t *testing.T) *endpointsFixture {
		return &endpointsFixture{newFixture(t, newStore)}
	})
}

// RunHealth runs the [store.EndpointHealth] cases (EndpointHealth/...) on
// fresh stores from newStore: health after attempts (written by Settle's
// health deltas), disabling and enabling, and what the endpoints'
// administration must leave alone.
func RunHealth(t *testing.T, newStore Factory[HealthStore]) {
	t.Helper()
	runCases(t, "EndpointHealth", healthCases, func(t *testing.T) *healthFixture {
		return &healthFixture{newFixture(t, newStore)}
	})
}

// RunOutbox runs the [store.Outbox] and [store.Deliveries] cases
// (Outbox/..., OrderingKeys/..., Deliveries/..., Settle/...) and, for stores implementing
// them, the [store.DeliveryPruner] cases (DeliveryPruner/...) and the
// [store.AttemptStats] cases (AttemptStats/...: the hourly aggregates that
// AddAttempt and Settle keep and PruneAttempts prunes) on fresh stores from
// newStore.
func RunOutbox(t *testing.T, newStore Factory[OutboxStore]) {
	t.Helper()
	fx := func(t *testing.T) *outboxFixture { return &outboxFixture{newFixture(t, newStore)} }
	runCases(t, "Outbox", outboxCases, fx)
	runCases(t, "OrderingKeys", keyCases, fx)
	runCases(t, "Deliveries", deliveryCases, fx)
	runCases(t, "DeliveryPruner", prunerCases, fx)
	runCases(t, "RetryAdvancer", advanceCases, fx)
	runCases(t, "Settle", settleCases, fx)
	runCases(t, "AttemptStats", statsCases, fx)
}

// RunAttempts runs the [store.Attempts] cases (Attempts/...) on fresh
// stores from newStore.
func RunAttempts(t *testing.T, newStore Factory[store.Attempts]) {
	t.Helper()
	runCases(t, "Attempts", attemptCases, func(t *testing.T) *attemptsFixture {
		return &attemptsFixture{newFixture(t, newStore)}
	})
}

// RunInbox runs the [store.Inbox] cases (Inbox/...) and, for inboxes
// implementing them, the [store.InboxRecovery] cases (InboxRecovery/...)
// and the [store.InboxBatcher] cases (InboxBatcher/...) on
// fresh inboxes from newStore. It needs nothing but the inbox, so a
// receiver's inbox kept apart from any sender store is tested alone.
func RunInbox(t *testing.T, newStore Factory[store.Inbox]) {
	t.Helper()
	fx := func(t *testing.T) *inboxFixture { return &inboxFixture{newFixture(t, newStore)} }
	runCases(t, "Inbox", inboxCases, fx)
	runCases(t, "InboxRecovery", recoveryCases, fx)
	runCases(t, "InboxBatcher", claimBatchCases, fx)
}

// testCase is one case, run on the fixture F of its runner.
type testCase[F any] struct {
	name string
	run  func(f F)
}

// runCases runs cases as subtests of a subtest named group, each on a
// fixture of its own.
func runCases[F any](t *testing.T, group string, cases []testCase[F], newFixture func(*testing.T) F) {
	t.Helper()
	t.Run(group, func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.run(newFixture(t)) })
		}
	})
}

// base is the suite's clock: a fixed instant, whole seconds, UTC.
var base = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// fixture is one case's store, of the type S its runner tests, and its
// subtest and context. Each runner wraps it in a type of its own that adds
// the helpers its cases use.
type fixture[S any] struct {
	*testing.T
	s        S
	ctx      context.Context
	newStore Factory[S]
}

func newFixture[S any](t *testing.T, newStore Factory[S]) fixture[S] {
	t.Helper()
	s := newStore(t)
	require.NotNil(t, s, "storetest: the factory returned a nil store")
	return fixture[S]{T: t, s: s, ctx: t.Context(), newStore: newStore}
}

// The fixtures of the runners.
type (
	endpointsFixture struct{ fixture[store.Endpoints] }
	healthFixture    struct{ fixture[HealthStore] }
	outboxFixture    struct{ fixture[OutboxStore] }
	attemptsFixture  struct{ fixture[store.Attempts] }
	inboxFixture     struct{ fixture[store.Inbox] }
)

// fresh returns a fixture on a new, empty store for the subtest t.
func (f *outboxFixture) fresh(t *testing.T) *outboxFixture {
	t.Helper()
	return &outboxFixture{newFixture(t, f.newStore)}
}

// Signing secrets the suite stores. Stores parse secrets, so these are real
// ones: "whsec_" and the base64 of 24 random bytes.
const (
	testSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secondSecret  = "whsec_VxA8RHeKJzhjqcjNdqEXNlb9kkFV1bWW"
	rotatedSecret = "whsec_aqS13Y7d29Ij70oF9YxsCYv7YX0AF7dY"
)

// validEndpoint returns an endpoint that passes Validate, not yet stored.
func validEndpoint() *store.Endpoint {
	return &store.Endpoint{
		Tenant:      "acme",
		Mode:        event.ModeTest,
		URL:         "https://hooks.example.com/in",
		Description: "orders",
		EventTypes:  []string{"patient.*", "ping"},
		Secrets: []store.SigningKey{
			{Key: testSecret, CreatedAt: at(-time.Hour)},
		},
		Headers:     map[string]string{"X-Team": "billing"},
		RateLimit:   5,
		Burst:       10,
		MaxInFlight: 4,
		Metadata:    map[string]string{"owner": "ops"},
	}
}

// createEndpoint stores a valid endpoint after applying edits to it.
func createEndpoint[S store.Endpoints](f *fixture[S], edits ...func(*store.Endpoint)) *store.Endpoint {
	f.Helper()
	ep := validEndpoint()
	for _, e := range edits {
		e(ep)
	}
	require.NoError(f, f.s.CreateEndpoint(f.ctx, ep))
	require.NotEmpty(f, ep.ID)
	return ep
}

// endpoint stores a valid endpoint after applying edits to it.
func (f *endpointsFixture) endpoint(edits ...func(*store.Endpoint)) *store.Endpoint {
	f.Helper()
	return createEndpoint(&f.fixture, edits...)
}

// endpoint stores a valid endpoint after applying edits to it.
func (f *healthFixture) endpoint(edits ...func(*store.Endpoint)) *store.Endpoint {
	f.Helper()
	return createEndpoint(&f.fixture, edits...)
}

// endpoint stores a valid endpoint after applying edits to it.
func (f *outboxFixture) endpoint(edits ...func(*store.Endpoint)) *store.Endpoint {
	f.Helper()
	return createEndpoint(&f.fixture, edits...)
}

func withTenant(tenant string) func(*store.Endpoint) {
	return func(ep *store.Endpoint) { ep.Tenant = tenant }
}

func withMode(m event.Mode) func(*store.Endpoint) {
	return func(ep *store.Endpoint) { ep.Mode = m }
}

func withID(id string) func(*store.Endpoint) {
	return func(ep *store.Endpoint) { ep.ID = id }
}

// newEvent returns a test-mode event published at date.
func newEvent(typ string, date time.Time) event.Event {
	return event.Event{
		APIMode: event.ModeTest,
		Date:    date,
		ID:      uuid.NewString(),
		Type:    typ,
		Data:    json.RawMessage(`{"patient_id": "p_1",  "n":[1, 2.50]}`),
	}
}

// enqueueAt is the request the suite's enqueues make: ev for ts, published
// and due at ev.Date (the suite dates its events with the time it wants
// them due; stores do not keep that date).
func enqueueAt(ev event.Event, ts []store.Target) store.EnqueueRequest {
	return store.EnqueueRequest{Event: ev, Targets: ts, Now: ev.Date}
}

// targets returns the enqueue targets of endpoints.
func targets(eps ...*store.Endpoint) []store.Target {
	ts := make([]store.Target, len(eps))
	for i, ep := range eps {
		ts[i] = store.Target{EndpointID: ep.ID, Tenant: ep.Tenant}
	}
	return ts
}

// enqueue enqueues ev for eps and requires that want deliveries were created.
func (f *outboxFixture) enqueue(ev event.Event, want int, eps ...*store.Endpoint) {
	f.Helper()
	n, err := f.s.Enqueue(f.ctx, enqueueAt(ev, targets(eps...)))
	require.NoError(f, err)
	require.Equal(f, want, n, "deliveries created by Enqueue")
}

// publish enqueues a new test event of type typ at date for eps and returns it.
func (f *outboxFixture) publish(typ string, date time.Time, eps ...*store.Endpoint) event.Event {
	f.Helper()
	ev := newEvent(typ, date)
	f.enqueue(ev, len(eps), eps...)
	return ev
}

// deliveryOf returns the delivery of event evID for endpoint epID.
func (f *outboxFixture) deliveryOf(evID, epID string) *store.Delivery {
	f.Helper()
	ds, next, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EventID: evID, EndpointID: epID})
	require.NoError(f, err)
	require.Empty(f, next)
	require.Len(f, ds, 1, "deliveries of event %s for endpoint %s", evID, epID)
	return ds[0]
}

// get returns the delivery with id.
func (f *outboxFixture) get(id string) *store.Delivery {
	f.Helper()
	d, err := f.s.GetDelivery(f.ctx, id)
	require.NoError(f, err)
	require.Equal(f, id, d.ID)
	return d
}

// lease leases with the usual defaults filled in.
func (f *outboxFixture) lease(now time.Time, limit int, edits ...func(*store.LeaseRequest)) []*store.Delivery {
	f.Helper()
	req := store.LeaseRequest{Now: now, Limit: limit, Duration: time.Minute, Worker: "w1"}
	for _, e := range edits {
		e(&req)
	}
	ds, err := f.s.Lease(f.ctx, req)
	require.NoError(f, err)
	require.LessOrEqual(f, len(ds), limit, "Lease returned more than Limit")
	for _, d := range ds {
		require.NotEmpty(f, d.LeaseToken, "leased delivery without a token")
		require.Equal(f, store.StateLeased, d.State)
	}
	return ds
}

// leaseOne leases exactly one delivery at now.
func (f *outboxFixture) leaseOne(now time.Time) *store.Delivery {
	f.Helper()
	ds := f.lease(now, 1)
	require.Len(f, ds, 1)
	return ds[0]
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func deliveryIDs(ds []*store.Delivery) []string {
	return ids(ds, func(d *store.Delivery) string { return d.ID })
}

// sameTime requires want.Equal(got).
func sameTime(t testing.TB, want, got time.Time, what string) {
	t.Helper()
	require.Truef(t, want.Equal(got), "%s: want %v, got %v", what, want, got)
}

// collect pages through a list until the cursor is empty, requiring that
// every page holds at most size items and that pages are not empty except a
// lone first page.
func collect[T any](t testing.TB, size int, list func(cursor string) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10_000, "paging does not end")
		page, next, err := list(cursor)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), size, "page larger than its limit")
		all = append(all, page...)
		if next == "" {
			return all
		}
		require.NotEmpty(t, page, "an empty page with a next cursor")
		cursor = next
	}
}

// requireUnique requires that ids holds no duplicates.
func requireUnique(t testing.TB, ids []string) {
	t.Helper()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		require.False(t, seen[id], "id %s listed twice", id)
		seen[id] = true
	}
}
