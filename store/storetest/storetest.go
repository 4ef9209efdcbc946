package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// Store is what the suite tests: the sender's roles and the inbox in one
// value. The optional [store.InboxRecovery] and [store.DeliveryPruner] are
// tested when the store implements them.
type Store interface {
	store.SenderStore
	store.Inbox
}

// Factory returns a fresh, empty store for one test. It registers with
// t.Cleanup whatever closing or dropping the store needs, and fails t (with
// t.Fatal) if it cannot make one.
type Factory func(t *testing.T) Store

// Run runs every conformance case as a subtest of t, each on a fresh store
// from newStore. Cases for optional capabilities run only when the store has
// them; the others are skipped with a message. Run does not call t.Parallel.
func Run(t *testing.T, newStore Factory) {
	t.Helper()
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Endpoints", endpointCases},
		{"Outbox", outboxCases},
		{"Deliveries", deliveryCases},
		{"Attempts", attemptCases},
		{"Inbox", inboxCases},
		{"InboxRecovery", recoveryCases},
		{"DeliveryPruner", prunerCases},
		{"Settle", settleCases},
		{"InboxBatcher", claimBatchCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					c.run(newFixture(t, newStore))
				})
			}
		})
	}
}

type testCase struct {
	name string
	run  func(f *fixture)
}

// base is the suite's clock: a fixed instant, whole seconds, UTC.
var base = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// fixture is one case's store and helpers.
type fixture struct {
	*testing.T
	s       Store
	ctx     context.Context
	factory Factory
}

func newFixture(t *testing.T, newStore Factory) *fixture {
	t.Helper()
	s := newStore(t)
	require.NotNil(t, s, "storetest: the factory returned a nil store")
	return &fixture{T: t, s: s, ctx: t.Context(), factory: newStore}
}

// fresh returns a fixture on a new, empty store for the subtest t.
func (f *fixture) fresh(t *testing.T) *fixture {
	t.Helper()
	return newFixture(t, f.factory)
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
		Secrets: []store.Secret{
			{Key: testSecret, CreatedAt: at(-time.Hour)},
		},
		Headers:     map[string]string{"X-Team": "billing"},
		RateLimit:   5,
		Burst:       10,
		MaxInFlight: 4,
		Metadata:    map[string]string{"owner": "ops"},
	}
}

// endpoint stores a valid endpoint after applying edits to it.
func (f *fixture) endpoint(edits ...func(*store.Endpoint)) *store.Endpoint {
	f.Helper()
	ep := validEndpoint()
	for _, e := range edits {
		e(ep)
	}
	require.NoError(f, f.s.CreateEndpoint(f.ctx, ep))
	require.NotEmpty(f, ep.ID)
	return ep
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
func (f *fixture) enqueue(ev event.Event, want int, eps ...*store.Endpoint) {
	f.Helper()
	n, err := f.s.Enqueue(f.ctx, enqueueAt(ev, targets(eps...)))
	require.NoError(f, err)
	require.Equal(f, want, n, "deliveries created by Enqueue")
}

// publish enqueues a new test event of type typ at date for eps and returns it.
func (f *fixture) publish(typ string, date time.Time, eps ...*store.Endpoint) event.Event {
	f.Helper()
	ev := newEvent(typ, date)
	f.enqueue(ev, len(eps), eps...)
	return ev
}

// deliveryOf returns the delivery of event evID for endpoint epID.
func (f *fixture) deliveryOf(evID, epID string) *store.Delivery {
	f.Helper()
	ds, next, err := f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EventID: evID, EndpointID: epID})
	require.NoError(f, err)
	require.Empty(f, next)
	require.Len(f, ds, 1, "deliveries of event %s for endpoint %s", evID, epID)
	return ds[0]
}

// get returns the delivery with id.
func (f *fixture) get(id string) *store.Delivery {
	f.Helper()
	d, err := f.s.GetDelivery(f.ctx, id)
	require.NoError(f, err)
	require.Equal(f, id, d.ID)
	return d
}

// lease leases with the usual defaults filled in.
func (f *fixture) lease(now time.Time, limit int, edits ...func(*store.LeaseRequest)) []*store.Delivery {
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
func (f *fixture) leaseOne(now time.Time) *store.Delivery {
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

// sortedCopy returns a sorted copy of ids.
func sortedCopy(ids []string) []string {
	c := slices.Clone(ids)
	slices.Sort(c)
	return c
}
