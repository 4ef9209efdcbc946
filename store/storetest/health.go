package storetest

import (
	"fmt"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

var healthCases = []testCase[*healthFixture]{
	{"AfterAttempts", testHealthAfterAttempts},
	{"SetDisabled", testHealthSetDisabled},
	{"Copies", testHealthCopies},
	{"UpdateKeepsHealth", testHealthUpdateKeeps},
	{"DeletedEndpoint", testHealthDeleted},
	{"ListActiveOnly", testHealthListActive},
	{"Breaker", testHealthBreaker},
}

// testHealthBreaker: a delta with SetBreaker records the breaker's state,
// one without leaves it, and enabling a disabled endpoint closes it.
func testHealthBreaker(f *healthFixture) {
	ep := f.endpoint()
	require.Equal(f, store.BreakerClosed, ep.Health.Breaker)
	settle := func(d store.HealthDelta) *store.Endpoint {
		f.Helper()
		res, err := f.s.Settle(f.ctx, store.SettleBatch{Health: []store.HealthDelta{d}})
		require.NoError(f, err)
		require.Len(f, res.Endpoints, 1)
		return res.Endpoints[0]
	}
	check := func(got *store.Endpoint, want store.BreakerState, since time.Time, what string) {
		f.Helper()
		stored, err := f.s.GetEndpoint(f.ctx, ep.ID)
		require.NoError(f, err)
		for _, e := range []*store.Endpoint{got, stored} {
			require.Equal(f, want, e.Health.Breaker, what)
			sameTime(f, since, e.Health.BreakerSince, what+" BreakerSince")
		}
	}
	d := store.HealthDelta{EndpointID: ep.ID, SetBreaker: true, Breaker: store.BreakerOpen, BreakerSince: at(time.Minute)}
	d.Add(false, at(time.Minute))
	got := settle(d)
	check(got, store.BreakerOpen, at(time.Minute), "opened")
	require.Equal(f, 1, got.Health.ConsecutiveFailures, "the delta's attempts count too")

	d = store.HealthDelta{EndpointID: ep.ID}
	d.Add(false, at(2*time.Minute))
	check(settle(d), store.BreakerOpen, at(time.Minute), "a delta without SetBreaker leaves it")

	d = store.HealthDelta{EndpointID: ep.ID, SetBreaker: true, Breaker: store.BreakerClosed, BreakerSince: at(3 * time.Minute)}
	d.Add(true, at(3*time.Minute))
	check(settle(d), store.BreakerClosed, at(3*time.Minute), "closed")

	settle(store.HealthDelta{EndpointID: ep.ID, SetBreaker: true, Breaker: store.BreakerOpen, BreakerSince: at(4 * time.Minute)})
	_, err := f.s.SetDisabled(f.ctx, ep.ID, true, "x", at(5*time.Minute))
	require.NoError(f, err)
	stored, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	require.Equal(f, store.BreakerOpen, stored.Health.Breaker, "disabling keeps the breaker")
	got, err = f.s.SetDisabled(f.ctx, ep.ID, false, "", at(6*time.Minute))
	require.NoError(f, err)
	check(got, store.BreakerClosed, time.Time{}, "enabling closes the breaker")
}

// settleHealth records one attempt of the endpoint id made at t through
// Settle: a batch with no settlement and one health delta of that one
// attempt. It returns the endpoint after it, nil when the store does not
// hold the endpoint.
func (f *healthFixture) settleHealth(id string, success bool, t time.Time) *store.Endpoint {
	f.Helper()
	d := store.HealthDelta{EndpointID: id}
	d.Add(success, t)
	res, err := f.s.Settle(f.ctx, store.SettleBatch{Health: []store.HealthDelta{d}})
	require.NoError(f, err)
	require.Len(f, res.Endpoints, 1, "one endpoint per health delta")
	return res.Endpoints[0]
}

// testHealthAfterAttempts: a success resets the run of failures, a failure
// extends it, each attempt settled alone.
func testHealthAfterAttempts(f *healthFixture) {
	ep := f.endpoint()
	type step struct {
		success   bool
		at        time.Time
		failures  int
		since     time.Time
		lastOK    time.Time
		lastError time.Time
	}
	for i, s := range []step{
		{false, at(1 * time.Minute), 1, at(1 * time.Minute), time.Time{}, at(1 * time.Minute)},
		{false, at(2 * time.Minute), 2, at(1 * time.Minute), time.Time{}, at(2 * time.Minute)},
		{false, at(3 * time.Minute), 3, at(1 * time.Minute), time.Time{}, at(3 * time.Minute)},
		{true, at(4 * time.Minute), 0, time.Time{}, at(4 * time.Minute), at(3 * time.Minute)},
		{false, at(5 * time.Minute), 1, at(5 * time.Minute), at(4 * time.Minute), at(5 * time.Minute)},
		{true, at(6 * time.Minute), 0, time.Time{}, at(6 * time.Minute), at(5 * time.Minute)},
		{true, at(7 * time.Minute), 0, time.Time{}, at(7 * time.Minute), at(5 * time.Minute)},
	} {
		what := fmt.Sprintf("step %d", i)
		got := f.settleHealth(ep.ID, s.success, s.at)
		require.NotNil(f, got, what)
		stored, err := f.s.GetEndpoint(f.ctx, ep.ID)
		require.NoError(f, err, what)
		for _, h := range []store.Health{got.Health, stored.Health} {
			require.Equal(f, s.failures, h.ConsecutiveFailures, what)
			sameTime(f, s.since, h.FailingSince, what+" FailingSince")
			sameTime(f, s.lastOK, h.LastSuccessAt, what+" LastSuccessAt")
			sameTime(f, s.lastError, h.LastFailureAt, what+" LastFailureAt")
		}
	}
	require.Nil(f, f.settleHealth("missing", false, at(0)), "a delta of an endpoint the store does not hold is skipped")
}

func testHealthSetDisabled(f *healthFixture) {
	ep := f.endpoint()
	for i := range 3 {
		f.settleHealth(ep.ID, false, at(time.Duration(i)*time.Minute))
	}
	got, err := f.s.SetDisabled(f.ctx, ep.ID, true, "20 consecutive failures", at(time.Hour))
	require.NoError(f, err)
	stored, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	for _, e := range []*store.Endpoint{got, stored} {
		require.True(f, e.Disabled)
		require.Equal(f, "20 consecutive failures", e.DisabledReason)
		sameTime(f, at(time.Hour), e.DisabledAt, "DisabledAt")
	}
	active, _, err := f.s.ListEndpoints(f.ctx, store.EndpointFilter{AllTenants: true, ActiveOnly: true})
	require.NoError(f, err)
	require.Empty(f, active)

	got, err = f.s.SetDisabled(f.ctx, ep.ID, false, "", at(2*time.Hour))
	require.NoError(f, err)
	stored, err = f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	for _, e := range []*store.Endpoint{got, stored} {
		require.False(f, e.Disabled)
		require.Empty(f, e.DisabledReason)
		require.True(f, e.DisabledAt.IsZero(), "DisabledAt after enabling")
		require.Zero(f, e.Health.ConsecutiveFailures, "enabling resets health")
		require.True(f, e.Health.FailingSince.IsZero(), "enabling resets FailingSince")
	}
	active, _, err = f.s.ListEndpoints(f.ctx, store.EndpointFilter{AllTenants: true, ActiveOnly: true})
	require.NoError(f, err)
	require.Len(f, active, 1)

	_, err = f.s.SetDisabled(f.ctx, "missing", true, "x", at(0))
	require.ErrorIs(f, err, store.ErrNotFound)
}

// testHealthCopies: the endpoints Settle and SetDisabled return are copies.
func testHealthCopies(f *healthFixture) {
	ep := f.endpoint()
	want, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	rec := f.settleHealth(ep.ID, true, at(0))
	rec.EventTypes[0] = "changed"
	rec.Headers["X-Team"] = "changed"
	dis, err := f.s.SetDisabled(f.ctx, ep.ID, true, "manual", at(0))
	require.NoError(f, err)
	dis.EventTypes[0] = "changed"
	dis.Secrets[0].Key = "changed"

	got, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	want.Disabled = true
	requireSameEndpoint(f, want, got)
}

// testHealthUpdateKeeps: UpdateEndpoint keeps the disabled state and the
// health, whatever the argument says.
func testHealthUpdateKeeps(f *healthFixture) {
	ep := f.endpoint()
	_, err := f.s.SetDisabled(f.ctx, ep.ID, true, "manual", at(0))
	require.NoError(f, err)
	f.settleHealth(ep.ID, false, at(time.Second))
	before, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)

	upd := before.Clone()
	editUserFields(upd)
	upd.Disabled = false
	upd.DisabledReason = ""
	upd.DisabledAt = time.Time{}
	upd.Health = store.Health{}
	require.NoError(f, f.s.UpdateEndpoint(f.ctx, upd))

	got, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	want := upd.Clone()
	want.Disabled = true
	requireSameEndpoint(f, want, got)
	require.Equal(f, "manual", got.DisabledReason)
	sameTime(f, at(0), got.DisabledAt, "DisabledAt")
	require.Equal(f, 1, got.Health.ConsecutiveFailures, "Update must keep Health")
	sameTime(f, at(time.Second), got.Health.FailingSince, "Update must keep Health")
}

// testHealthDeleted: a deleted endpoint has no health to record (its delta
// is skipped) or state to set.
func testHealthDeleted(f *healthFixture) {
	ep := f.endpoint()
	require.NoError(f, f.s.DeleteEndpoint(f.ctx, ep.ID))
	require.Nil(f, f.settleHealth(ep.ID, true, at(0)))
	_, err := f.s.SetDisabled(f.ctx, ep.ID, true, "x", at(0))
	require.ErrorIs(f, err, store.ErrNotFound)
}

// testHealthListActive: ListEndpoints with ActiveOnly leaves disabled
// endpoints out; without, it lists them.
func testHealthListActive(f *healthFixture) {
	disable := func(id string) {
		_, err := f.s.SetDisabled(f.ctx, id, true, "test", at(0))
		require.NoError(f, err)
	}
	listEndpoints(f.T, f.ctx, f.s, disable, []listCase{
		{"tenant", store.EndpointFilter{Tenant: "acme"}, []string{"ep-01", "ep-02", "ep-03", "ep-06", "ep-09"}},
		{"tenant and mode", store.EndpointFilter{Tenant: "acme", Mode: event.ModeTest}, []string{"ep-01", "ep-06", "ep-09"}},
		{"active only", store.EndpointFilter{Tenant: "acme", ActiveOnly: true}, []string{"ep-01", "ep-02", "ep-09"}},
		{"active live", store.EndpointFilter{AllTenants: true, Mode: event.ModeLive, ActiveOnly: true}, []string{"ep-02", "ep-07", "ep-08"}},
	})
}
