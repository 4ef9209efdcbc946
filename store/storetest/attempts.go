package storetest

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

var attemptCases = []testCase[*attemptsFixture]{
	{"AddGet", testAttemptAddGet},
	{"List", testAttemptList},
	{"Prune", testAttemptPrune},
	{"ListWhileAdding", testAttemptListWhileAdding},
}

func sampleAttempt() *store.Attempt {
	return &store.Attempt{
		DeliveryID: "delivery-1",
		EndpointID: "endpoint-1",
		Tenant:     "acme",
		EventID:    "3b0f6f7e-53e5-4b8e-9a51-3b7a0c2f5d11",
		EventType:  "patient.created",
		Mode:       event.ModeTest,
		Number:     2,
		At:         at(time.Second),
		Duration:   150 * time.Millisecond,
		URL:        "https://hooks.example.com/in",
		RequestHeaders: http.Header{
			"Content-Type": {"application/json"},
			"Webhook-Id":   {"3b0f6f7e-53e5-4b8e-9a51-3b7a0c2f5d11"},
		},
		RequestBody:       []byte(`{"type": "patient.created"}`),
		StatusCode:        503,
		ResponseHeaders:   http.Header{"Retry-After": {"5"}, "X-Multi": {"a", "b"}, store.TruncatedHeaderKey: {"36 of 9612345 bytes kept"}},
		ResponseBody:      []byte("busy\x00\xff"),
		ResponseTruncated: true,
		Error:             "503 Service Unavailable",
		Format:            store.BodyEventPayload,
	}
}

func requireSameAttempt(t testing.TB, want, got *store.Attempt) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.DeliveryID, got.DeliveryID)
	require.Equal(t, want.EndpointID, got.EndpointID)
	require.Equal(t, want.Tenant, got.Tenant)
	require.Equal(t, want.EventID, got.EventID)
	require.Equal(t, want.EventType, got.EventType)
	require.Equal(t, want.Mode, got.Mode)
	require.Equal(t, want.Number, got.Number)
	sameTime(t, want.At, got.At, "At")
	require.Equal(t, want.Duration, got.Duration)
	require.Equal(t, want.Format, got.Format)
	require.Equal(t, want.URL, got.URL)
	require.Equal(t, want.RequestHeaders, got.RequestHeaders)
	require.Equal(t, want.RequestBody, got.RequestBody)
	require.Equal(t, want.StatusCode, got.StatusCode)
	require.Equal(t, want.ResponseHeaders, got.ResponseHeaders)
	require.Equal(t, want.ResponseHeadersTruncated(), got.ResponseHeadersTruncated())
	require.Equal(t, want.ResponseBody, got.ResponseBody)
	require.Equal(t, want.ResponseTruncated, got.ResponseTruncated)
	require.Equal(t, want.Error, got.Error)
	require.Equal(t, want.Success, got.Success)
}

func testAttemptAddGet(f *attemptsFixture) {
	in := sampleAttempt()
	require.NoError(f, f.s.AddAttempt(f.ctx, in))
	require.NotEmpty(f, in.ID, "AddAttempt assigns an ID")
	want := in.Clone()

	// The store keeps a copy.
	in.RequestHeaders.Set("Webhook-Id", "changed")
	in.RequestBody[0] = 'X'
	in.ResponseBody[0] = 'X'

	got, err := f.s.GetAttempt(f.ctx, want.ID)
	require.NoError(f, err)
	requireSameAttempt(f, want, got)
	got.ResponseHeaders.Set("Retry-After", "changed")
	got.ResponseBody[0] = 'X'
	got, err = f.s.GetAttempt(f.ctx, want.ID)
	require.NoError(f, err)
	requireSameAttempt(f, want, got)

	ok := sampleAttempt()
	ok.ID = "attempt-explicit"
	ok.Number = 3
	ok.StatusCode = 204
	ok.Success = true
	ok.Error = ""
	ok.ResponseTruncated = false
	ok.ResponseBody = nil
	require.NoError(f, f.s.AddAttempt(f.ctx, ok))
	got, err = f.s.GetAttempt(f.ctx, "attempt-explicit")
	require.NoError(f, err)
	requireSameAttempt(f, ok, got)
	require.NotEqual(f, want.ID, ok.ID)

	_, err = f.s.GetAttempt(f.ctx, "no-such-attempt")
	require.ErrorIs(f, err, store.ErrNotFound)
}

func testAttemptList(f *attemptsFixture) {
	type spec struct {
		delivery, endpoint, tenant, event string
		at                                time.Duration
	}
	var specs []spec
	// Three deliveries, several attempts each, with ties on At.
	for i := range 4 {
		specs = append(specs,
			spec{"d1", "e1", "acme", "ev1", time.Duration(i) * time.Minute},
			spec{"d2", "e1", "acme", "ev2", time.Duration(i) * time.Minute},
			spec{"d3", "e2", "globex", "ev1", time.Duration(i+1) * time.Minute},
		)
	}
	specs = append(specs, spec{"d4", "e3", "", "ev3", 90 * time.Second})
	var all []*store.Attempt
	for i, s := range specs {
		a := sampleAttempt()
		a.DeliveryID, a.EndpointID, a.Tenant, a.EventID = s.delivery, s.endpoint, s.tenant, s.event
		a.At = at(s.at)
		a.Number = i
		require.NoError(f, f.s.AddAttempt(f.ctx, a))
		all = append(all, a.Clone())
	}
	slices.SortFunc(all, func(a, b *store.Attempt) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})

	for _, tc := range []struct {
		name   string
		filter store.AttemptFilter
		keep   func(a *store.Attempt) bool
	}{
		{"all tenants", store.AttemptFilter{AllTenants: true}, func(*store.Attempt) bool { return true }},
		{"tenant", store.AttemptFilter{Tenant: "acme"}, func(a *store.Attempt) bool { return a.Tenant == "acme" }},
		{"empty tenant", store.AttemptFilter{}, func(a *store.Attempt) bool { return a.Tenant == "" }},
		{"endpoint", store.AttemptFilter{AllTenants: true, EndpointID: "e1"}, func(a *store.Attempt) bool { return a.EndpointID == "e1" }},
		{"event", store.AttemptFilter{AllTenants: true, EventID: "ev1"}, func(a *store.Attempt) bool { return a.EventID == "ev1" }},
		{"delivery", store.AttemptFilter{AllTenants: true, DeliveryID: "d3"}, func(a *store.Attempt) bool { return a.DeliveryID == "d3" }},
		{"tenant and event", store.AttemptFilter{Tenant: "globex", EventID: "ev1"}, func(a *store.Attempt) bool {
			return a.Tenant == "globex" && a.EventID == "ev1"
		}},
		{"since until", store.AttemptFilter{AllTenants: true, Since: at(time.Minute), Until: at(3 * time.Minute)}, func(a *store.Attempt) bool {
			return !a.At.Before(at(time.Minute)) && a.At.Before(at(3*time.Minute))
		}},
		{"no match", store.AttemptFilter{AllTenants: true, DeliveryID: "none"}, func(*store.Attempt) bool { return false }},
		{"endpoint since until", store.AttemptFilter{AllTenants: true, EndpointID: "e1", Since: at(time.Minute), Until: at(3 * time.Minute)}, func(a *store.Attempt) bool {
			return a.EndpointID == "e1" && !a.At.Before(at(time.Minute)) && a.At.Before(at(3*time.Minute))
		}},
		{"event and endpoint", store.AttemptFilter{AllTenants: true, EventID: "ev1", EndpointID: "e2"}, func(a *store.Attempt) bool {
			return a.EventID == "ev1" && a.EndpointID == "e2"
		}},
		{"delivery of another endpoint", store.AttemptFilter{AllTenants: true, DeliveryID: "d3", EndpointID: "e1"}, func(*store.Attempt) bool { return false }},
		{"delivery of another tenant", store.AttemptFilter{Tenant: "acme", DeliveryID: "d3"}, func(*store.Attempt) bool { return false }},
	} {
		f.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, a := range all {
				if tc.keep(a) {
					want = append(want, a.ID)
				}
			}
			for _, size := range []int{1, 2, 5, 100} {
				flt := tc.filter
				flt.Page.Limit = size
				got := collect(t, size, func(cursor string) ([]*store.Attempt, string, error) {
					flt.Page.Cursor = cursor
					return f.s.ListAttempts(f.ctx, flt)
				})
				gotIDs := ids(got, func(a *store.Attempt) string { return a.ID })
				requireUnique(t, gotIDs)
				if len(want) == 0 {
					require.Empty(t, gotIDs)
					continue
				}
				require.Equal(t, want, gotIDs, "page size %d: newest first, by At then ID", size)
			}
		})
	}
}

func testAttemptPrune(f *attemptsFixture) {
	var added []string
	for i := range 10 {
		a := sampleAttempt()
		a.ID = fmt.Sprintf("attempt-%02d", i)
		a.At = at(time.Duration(i) * time.Minute)
		require.NoError(f, f.s.AddAttempt(f.ctx, a))
		added = append(added, a.ID)
	}
	n, err := f.s.PruneAttempts(f.ctx, at(5*time.Minute))
	require.NoError(f, err)
	require.Equal(f, 5, n, "attempts that started before the cut")
	for _, id := range added[:5] {
		_, err := f.s.GetAttempt(f.ctx, id)
		require.ErrorIs(f, err, store.ErrNotFound, "pruned %s", id)
	}
	for _, id := range added[5:] {
		_, err := f.s.GetAttempt(f.ctx, id)
		require.NoError(f, err, "kept %s", id)
	}
	left, _, err := f.s.ListAttempts(f.ctx, store.AttemptFilter{AllTenants: true})
	require.NoError(f, err)
	require.Equal(f, []string{"attempt-09", "attempt-08", "attempt-07", "attempt-06", "attempt-05"},
		ids(left, func(a *store.Attempt) string { return a.ID }))

	n, err = f.s.PruneAttempts(f.ctx, at(5*time.Minute))
	require.NoError(f, err)
	require.Zero(f, n)
	n, err = f.s.PruneAttempts(f.ctx, at(time.Hour))
	require.NoError(f, err)
	require.Equal(f, 5, n)
	left, _, err = f.s.ListAttempts(f.ctx, store.AttemptFilter{AllTenants: true})
	require.NoError(f, err)
	require.Empty(f, left)
}

// Paging a delivery's attempts while attempts are added between pages (newer
// than the first page, older than the cursor, and for other deliveries)
// lists every attempt that was there from the start exactly once, newest
// first: cursors are positions in the order, not offsets.
func testAttemptListWhileAdding(f *attemptsFixture) {
	add := func(delivery string, d time.Duration) *store.Attempt {
		a := sampleAttempt()
		a.DeliveryID, a.At = delivery, at(d)
		require.NoError(f, f.s.AddAttempt(f.ctx, a))
		return a
	}
	var want []string
	for i := range 10 {
		want = append(want, add("d1", time.Duration(i)*time.Minute).ID)
		add("d2", time.Duration(i)*time.Minute)
	}
	slices.Reverse(want)

	flt := store.AttemptFilter{Tenant: "acme", DeliveryID: "d1", Page: store.Page{Limit: 3}}
	var got []string
	older := map[string]bool{}
	for page := 0; ; page++ {
		as, next, err := f.s.ListAttempts(f.ctx, flt)
		require.NoError(f, err)
		for _, a := range as {
			if !older[a.ID] {
				got = append(got, a.ID)
			}
		}
		if next == "" {
			break
		}
		require.Less(f, page, 10, "paging does not end")
		flt.Page.Cursor = next
		// Between pages: a newer attempt (before the cursor in the order,
		// so not listed), an older one (after it, so listed later) and one
		// for another delivery.
		add("d1", time.Hour+time.Duration(page)*time.Minute)
		older[add("d1", -time.Duration(page+1)*time.Hour).ID] = true
		add("d2", time.Duration(page)*time.Second)
	}
	require.Equal(f, want, got, "the attempts there from the start, each once, newest first")
}
