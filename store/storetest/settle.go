package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// settleCases test [store.Outbox.Settle].
var settleCases = []testCase[*outboxFixture]{
	{"Mixed", testSettleMixed},
	{"LostLease", testSettleLostLease},
	{"SameDeliveryTwice", testSettleSameDeliveryTwice},
	{"HealthFold", testSettleHealthFold},
	{"PausesDisabled", testSettlePausesDisabled},
	{"AtomicOnConflict", testSettleAtomicOnConflict},
	{"Invalid", testSettleInvalid},
	{"Empty", testSettleEmpty},
	{"OneByOne", testSettleOneByOne},
	{"ConcurrentWithSetDisabled", testSettleConcurrentWithSetDisabled},
}

// settle runs Settle and requires it to succeed, with one Lost per
// settlement and one endpoint per delta.
func (f *outboxFixture) settle(b store.SettleBatch) store.SettleResult {
	f.Helper()
	res, err := f.s.Settle(f.ctx, b)
	require.NoError(f, err)
	require.Len(f, res.Lost, len(b.Settlements), "one Lost per settlement")
	require.Len(f, res.Endpoints, len(b.Health), "one endpoint per health delta")
	return res
}

// settleOne settles the one delivery st names through Settle, in a batch
// of its own without a health delta, and reports whether its lease was
// lost. It is how the cases and benchmarks that settle one delivery at a
// time do it.
func settleOne(ctx context.Context, o store.Outbox, st store.Settlement) (lost bool, err error) {
	res, err := o.Settle(ctx, store.SettleBatch{Settlements: []store.Settlement{st}})
	if err != nil {
		return false, err
	}
	if len(res.Lost) != 1 {
		return false, fmt.Errorf("storetest: Settle of one settlement reported %d Lost, want 1", len(res.Lost))
	}
	return res.Lost[0], nil
}

// settleOne settles one delivery with [settleOne] and requires its lease
// to hold.
func (f *outboxFixture) settleOne(st store.Settlement) {
	f.Helper()
	lost, err := settleOne(f.ctx, f.s, st)
	require.NoError(f, err)
	require.False(f, lost, "the lease of delivery %s (%v) must hold", st.Ref.DeliveryID, st.Outcome)
}

// Settlements of a leased delivery without an attempt, one per outcome.
func succeeded(ref store.LeaseRef, t time.Time) store.Settlement {
	return store.Settlement{Ref: ref, Outcome: store.OutcomeSucceeded, At: t}
}

func retried(ref store.LeaseRef, next time.Time, lastError string) store.Settlement {
	return store.Settlement{Ref: ref, Outcome: store.OutcomeRetry, Next: next, Error: lastError}
}

func failed(ref store.LeaseRef, t time.Time, reason string) store.Settlement {
	return store.Settlement{Ref: ref, Outcome: store.OutcomeFailed, At: t, Error: reason}
}

func released(ref store.LeaseRef, next time.Time) store.Settlement {
	return store.Settlement{Ref: ref, Outcome: store.OutcomeReleased, Next: next}
}

// leased stores an endpoint, publishes n events for it a second apart and
// leases their deliveries, at one minute for one minute.
func (f *outboxFixture) leased(n int) (*store.Endpoint, []*store.Delivery) {
	f.Helper()
	ep := f.endpoint()
	for i := range n {
		f.publish("ping", at(time.Duration(i)*time.Second), ep)
	}
	ds := f.lease(at(time.Minute), n)
	require.Len(f, ds, n)
	return ep, ds
}

// attemptOf returns an attempt of the leased delivery d, made at t.
func attemptOf(d *store.Delivery, success bool, t time.Time) *store.Attempt {
	a := &store.Attempt{
		DeliveryID:     d.ID,
		EndpointID:     d.EndpointID,
		Tenant:         d.Tenant,
		EventID:        d.Event.ID,
		EventType:      d.Event.Type,
		Mode:           d.Event.APIMode,
		Number:         d.Attempts,
		At:             t,
		Duration:       20 * time.Millisecond,
		URL:            "https://hooks.example.com/in",
		RequestHeaders: http.Header{"Webhook-Id": {d.Event.ID}},
		RequestBody:    []byte(`{"n":1}`),
		StatusCode:     200,
		Success:        success,
	}
	if !success {
		a.StatusCode, a.Error = 503, "503 Service Unavailable"
	}
	return a
}

// requireAttempt requires that the store holds a copy of a.
func (f *outboxFixture) requireAttempt(a *store.Attempt) {
	f.Helper()
	require.NotEmpty(f, a.ID, "Settle assigns the attempt's ID")
	got, err := f.s.GetAttempt(f.ctx, a.ID)
	require.NoError(f, err)
	requireSameAttempt(f, a, got)
}

// attemptsOf returns the ids of the delivery's logged attempts.
func (f *outboxFixture) attemptsOf(deliveryID string) []string {
	f.Helper()
	as, _, err := f.s.ListAttempts(f.ctx, store.AttemptFilter{AllTenants: true, DeliveryID: deliveryID})
	require.NoError(f, err)
	return ids(as, func(a *store.Attempt) string { return a.ID })
}

func testSettleMixed(f *outboxFixture) {
	a, b := f.endpoint(), f.endpoint(withTenant("globex"))
	for i := range 4 {
		f.publish("ping", at(time.Duration(i)*time.Second), a, b)
	}
	ds := f.lease(at(time.Minute), 8)
	require.Len(f, ds, 8)
	t := at(2 * time.Minute)
	ss := []store.Settlement{
		{Ref: ds[0].Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: attemptOf(ds[0], true, t)},
		{Ref: ds[1].Ref(), Outcome: store.OutcomeRetry, Next: at(time.Hour), Error: "503 Service Unavailable", Attempt: attemptOf(ds[1], false, t)},
		{Ref: ds[2].Ref(), Outcome: store.OutcomeFailed, At: t, Error: "410 Gone", Attempt: attemptOf(ds[2], false, t)},
		{Ref: ds[3].Ref(), Outcome: store.OutcomeReleased, Next: at(3 * time.Minute)},
		{Ref: ds[4].Ref(), Outcome: store.OutcomeSucceeded, At: t.Add(time.Second), Attempt: attemptOf(ds[4], true, t)},
		{Ref: ds[5].Ref(), Outcome: store.OutcomeRetry, Next: at(2 * time.Hour), Error: "timeout", Attempt: attemptOf(ds[5], false, t)},
		{Ref: ds[6].Ref(), Outcome: store.OutcomeFailed, At: t.Add(time.Second), Error: "too many attempts", Attempt: attemptOf(ds[6], false, t)},
		{Ref: ds[7].Ref(), Outcome: store.OutcomeReleased, Next: at(4 * time.Minute)},
	}
	res := f.settle(store.SettleBatch{Settlements: ss})
	require.Equal(f, make([]bool, len(ss)), res.Lost, "no lease was lost")
	require.Empty(f, res.Endpoints)

	for i, st := range ss {
		d := f.get(st.Ref.DeliveryID)
		what := fmt.Sprintf("settlement %d (%v)", i, st.Outcome)
		require.Empty(f, d.LeaseToken, what)
		switch st.Outcome {
		case store.OutcomeSucceeded:
			require.Equal(f, store.StateSucceeded, d.State, what)
			sameTime(f, st.At, d.FinishedAt, what+" FinishedAt")
			require.Equal(f, 1, d.Attempts, what)
		case store.OutcomeRetry:
			require.Equal(f, store.StatePending, d.State, what)
			sameTime(f, st.Next, d.NextAttemptAt, what+" NextAttemptAt")
			require.Equal(f, st.Error, d.LastError, what)
			require.Equal(f, 1, d.Attempts, what)
			require.True(f, d.FinishedAt.IsZero(), what)
		case store.OutcomeFailed:
			require.Equal(f, store.StateFailed, d.State, what)
			sameTime(f, st.At, d.FinishedAt, what+" FinishedAt")
			require.Equal(f, st.Error, d.LastError, what)
		case store.OutcomeReleased:
			require.Equal(f, store.StatePending, d.State, what)
			sameTime(f, st.Next, d.NextAttemptAt, what+" NextAttemptAt")
			require.Zero(f, d.Attempts, what+": a release takes the attempt back")
			require.True(f, d.FirstAttemptAt.IsZero(), what+": and the first attempt's time")
		}
		if st.Attempt != nil {
			f.requireAttempt(st.Attempt)
			require.Equal(f, []string{st.Attempt.ID}, f.attemptsOf(d.ID), what)
		} else {
			require.Empty(f, f.attemptsOf(d.ID), what+": a release logs no attempt")
		}
	}

	// The store kept copies.
	ss[0].Attempt.RequestHeaders.Set("Webhook-Id", "changed")
	ss[0].Attempt.RequestBody[0] = 'X'
	got, err := f.s.GetAttempt(f.ctx, ss[0].Attempt.ID)
	require.NoError(f, err)
	require.Equal(f, ds[0].Event.ID, got.RequestHeaders.Get("Webhook-Id"))
	require.Equal(f, `{"n":1}`, string(got.RequestBody))

	// Settled leases are gone: the batch again loses every one, and logs
	// its attempts again under new ids.
	for i := range ss {
		if ss[i].Attempt != nil {
			ss[i].Attempt.ID = ""
		}
	}
	res = f.settle(store.SettleBatch{Settlements: ss})
	for i, lost := range res.Lost {
		require.True(f, lost, "settlement %d of a settled lease", i)
	}
	require.Len(f, f.attemptsOf(ds[0].ID), 2)
	// The released ones are due again and lease as usual.
	again := f.lease(at(4*time.Minute), 10)
	require.ElementsMatch(f, []string{ds[3].ID, ds[7].ID}, deliveryIDs(again))
}

func testSettleLostLease(f *outboxFixture) {
	_, ds := f.leased(3)
	// ds[1]'s lease expires and another worker takes the delivery.
	f.settle(store.SettleBatch{Settlements: []store.Settlement{
		{Ref: ds[0].Ref(), Outcome: store.OutcomeRetry, Next: at(time.Minute)},
	}})
	taken := f.lease(at(2*time.Minute), 10, func(r *store.LeaseRequest) { r.Worker = "w2" })
	require.ElementsMatch(f, []string{ds[0].ID, ds[1].ID, ds[2].ID}, deliveryIDs(taken), "every lease ended")
	var retaken *store.Delivery
	for _, d := range taken {
		if d.ID == ds[1].ID {
			retaken = d
		}
	}

	t := at(3 * time.Minute)
	// The old worker settles ds[1] with its stale token, amid the new
	// worker's settlements and one for a delivery that does not exist.
	var ss []store.Settlement
	for _, d := range taken {
		if d.ID != ds[1].ID {
			ss = append(ss, store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: attemptOf(d, true, t)})
		}
	}
	stale := store.Settlement{Ref: ds[1].Ref(), Outcome: store.OutcomeFailed, At: t, Error: "gone", Attempt: attemptOf(ds[1], false, t)}
	unknown := store.Settlement{Ref: store.LeaseRef{DeliveryID: "no-such-delivery", Token: ds[1].LeaseToken}, Outcome: store.OutcomeSucceeded, At: t}
	ss = []store.Settlement{ss[0], stale, unknown, ss[1]}
	res := f.settle(store.SettleBatch{Settlements: ss})
	require.Equal(f, []bool{false, true, true, false}, res.Lost)

	for _, i := range []int{0, 3} {
		require.Equal(f, store.StateSucceeded, f.get(ss[i].Ref.DeliveryID).State, "the others are applied")
	}
	d := f.get(ds[1].ID)
	require.Equal(f, store.StateLeased, d.State, "nothing of a lost settlement is written")
	require.Empty(f, d.LastError)
	require.True(f, d.FinishedAt.IsZero())
	require.Equal(f, 2, d.Attempts)
	f.requireAttempt(stale.Attempt)
	require.Equal(f, []string{stale.Attempt.ID}, f.attemptsOf(ds[1].ID), "the attempt of a lost lease is logged")

	// The new holder still settles it.
	res = f.settle(store.SettleBatch{Settlements: []store.Settlement{
		{Ref: retaken.Ref(), Outcome: store.OutcomeSucceeded, At: t},
	}})
	require.Equal(f, []bool{false}, res.Lost)
	require.Equal(f, store.StateSucceeded, f.get(ds[1].ID).State)
}

// testSettleSameDeliveryTwice: settlements apply in batch order, as the
// same calls one after the other would.
func testSettleSameDeliveryTwice(f *outboxFixture) {
	_, ds := f.leased(2)
	t := at(2 * time.Minute)

	// One token twice: the first settles, the second finds the lease lost.
	res := f.settle(store.SettleBatch{Settlements: []store.Settlement{
		{Ref: ds[0].Ref(), Outcome: store.OutcomeRetry, Next: at(time.Hour), Error: "first"},
		{Ref: ds[1].Ref(), Outcome: store.OutcomeSucceeded, At: t},
		{Ref: ds[0].Ref(), Outcome: store.OutcomeFailed, At: t, Error: "second"},
	}})
	require.Equal(f, []bool{false, false, true}, res.Lost)
	d := f.get(ds[0].ID)
	require.Equal(f, store.StatePending, d.State)
	require.Equal(f, "first", d.LastError)

	// A stale token, then the holder's: the first is lost, the second
	// settles.
	old := f.leaseOne(at(time.Hour))
	held := f.lease(at(2*time.Hour), 1, func(r *store.LeaseRequest) { r.Worker = "w2" })
	require.Len(f, held, 1)
	res = f.settle(store.SettleBatch{Settlements: []store.Settlement{
		{Ref: old.Ref(), Outcome: store.OutcomeFailed, At: t, Error: "stale"},
		{Ref: held[0].Ref(), Outcome: store.OutcomeSucceeded, At: at(3 * time.Hour)},
	}})
	require.Equal(f, []bool{true, false}, res.Lost)
	d = f.get(ds[0].ID)
	require.Equal(f, store.StateSucceeded, d.State)
	require.Equal(f, "first", d.LastError)
}

// testSettleHealthFold applies folded deltas and compares them with the
// same attempts settled one by one, a delta of one attempt per batch.
func testSettleHealthFold(f *outboxFixture) {
	folded, single, gone := f.endpoint(), f.endpoint(), f.endpoint()
	type attempt struct {
		ok bool
		at time.Time
	}
	batches := [][]attempt{
		{{false, at(1 * time.Minute)}, {false, at(2 * time.Minute)}}, // a run starts
		{{false, at(3 * time.Minute)}},                               // it goes on
		{{false, at(4 * time.Minute)}, {true, at(5 * time.Minute)}, {false, at(6 * time.Minute)}, {false, at(7 * time.Minute)}}, // a success, then a new run
		{{true, at(8 * time.Minute)}, {true, at(9 * time.Minute)}},                                                              // healthy again
		{{false, at(10 * time.Minute)}, {true, at(11 * time.Minute)}},                                                           // a failure before the success
		{}, // no attempt changes nothing
	}
	for i, batch := range batches {
		what := fmt.Sprintf("batch %d", i)
		delta := store.HealthDelta{EndpointID: folded.ID}
		var want *store.Endpoint
		for _, a := range batch {
			delta.Add(a.ok, a.at)
			one := store.HealthDelta{EndpointID: single.ID}
			one.Add(a.ok, a.at)
			want = f.settle(store.SettleBatch{Health: []store.HealthDelta{one}}).Endpoints[0]
		}
		if want == nil {
			var err error
			want, err = f.s.GetEndpoint(f.ctx, single.ID)
			require.NoError(f, err)
		}
		if i == 2 {
			require.NoError(f, f.s.DeleteEndpoint(f.ctx, gone.ID))
		}
		res := f.settle(store.SettleBatch{Health: []store.HealthDelta{
			{EndpointID: gone.ID, Failures: 1, FirstFailure: at(time.Minute), LastFailure: at(time.Minute)},
			delta,
		}})
		if i < 2 {
			require.NotNil(f, res.Endpoints[0], what)
			require.Equal(f, gone.ID, res.Endpoints[0].ID, what)
		} else {
			require.Nil(f, res.Endpoints[0], what+": a deleted endpoint's delta is skipped")
		}
		stored, err := f.s.GetEndpoint(f.ctx, folded.ID)
		require.NoError(f, err)
		for _, got := range []*store.Endpoint{res.Endpoints[1], stored} {
			require.Equal(f, folded.ID, got.ID, what)
			require.Equal(f, folded.URL, got.URL, what)
			require.Equal(f, folded.Secrets[0].Key, got.Secrets[0].Key, what)
			requireSameHealth(f, want.Health, got.Health, what)
		}
	}
}

// requireSameHealth requires equal health records.
func requireSameHealth(t testing.TB, want, got store.Health, what string) {
	t.Helper()
	require.Equal(t, want.ConsecutiveFailures, got.ConsecutiveFailures, what+" ConsecutiveFailures")
	sameTime(t, want.FailingSince, got.FailingSince, what+" FailingSince")
	sameTime(t, want.LastSuccessAt, got.LastSuccessAt, what+" LastSuccessAt")
	sameTime(t, want.LastFailureAt, got.LastFailureAt, what+" LastFailureAt")
}

func testSettlePausesDisabled(f *outboxFixture) {
	a, b := f.endpoint(), f.endpoint()
	for i := range 3 {
		f.publish("ping", at(time.Duration(i)*time.Second), a)
	}
	f.publish("ping", at(3*time.Second), b)
	ds := f.lease(at(time.Minute), 4)
	require.Len(f, ds, 4)
	_, err := f.s.SetDisabled(f.ctx, a.ID, true, "manual", at(90*time.Second))
	require.NoError(f, err)

	var ofA []*store.Delivery
	var ofB *store.Delivery
	for _, d := range ds {
		if d.EndpointID == a.ID {
			ofA = append(ofA, d)
		} else {
			ofB = d
		}
	}
	t := at(2 * time.Minute)
	res := f.settle(store.SettleBatch{
		Settlements: []store.Settlement{
			{Ref: ofA[0].Ref(), Outcome: store.OutcomeRetry, Next: at(time.Hour), Error: "503", Attempt: attemptOf(ofA[0], false, t)},
			{Ref: ofA[1].Ref(), Outcome: store.OutcomeReleased, Next: at(time.Hour)},
			{Ref: ofA[2].Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: attemptOf(ofA[2], true, t)},
			{Ref: ofB.Ref(), Outcome: store.OutcomeRetry, Next: at(time.Hour), Error: "503"},
		},
		Health: []store.HealthDelta{{EndpointID: a.ID, Failures: 1, FirstFailure: t, LastFailure: t}},
	})
	require.Equal(f, make([]bool, 4), res.Lost)
	require.True(f, res.Endpoints[0].Disabled)
	require.Equal(f, store.StatePaused, f.get(ofA[0].ID).State, "a retry for a disabled endpoint waits, paused")
	require.Equal(f, "503", f.get(ofA[0].ID).LastError)
	require.Equal(f, store.StatePaused, f.get(ofA[1].ID).State, "so does a release")
	require.Zero(f, f.get(ofA[1].ID).Attempts)
	require.Equal(f, store.StateSucceeded, f.get(ofA[2].ID).State)
	require.Equal(f, store.StatePending, f.get(ofB.ID).State, "another endpoint's retry is pending")
	require.Empty(f, f.lease(at(2*time.Hour), 10, func(r *store.LeaseRequest) { r.SkipEndpoints = []string{b.ID} }))

	_, err = f.s.SetDisabled(f.ctx, a.ID, false, "", at(3*time.Hour))
	require.NoError(f, err)
	require.ElementsMatch(f, []string{ofA[0].ID, ofA[1].ID, ofB.ID}, deliveryIDs(f.lease(at(3*time.Hour), 10)))
}

// testSettleAtomicOnConflict: an attempt id stored already, or given twice,
// fails the whole batch, and nothing of it is written.
func testSettleAtomicOnConflict(f *outboxFixture) {
	a, ds := f.leased(2)
	existing := sampleAttempt()
	require.NoError(f, f.s.AddAttempt(f.ctx, existing))
	t := at(2 * time.Minute)
	before, err := f.s.GetEndpoint(f.ctx, a.ID)
	require.NoError(f, err)

	for _, tc := range []struct {
		name  string
		dupID func(fresh *store.Attempt) string
	}{
		{"stored", func(*store.Attempt) string { return existing.ID }},
		{"twice", func(fresh *store.Attempt) string { return fresh.ID }},
	} {
		fresh := attemptOf(ds[0], true, t)
		fresh.ID = "attempt-fresh"
		unnamed := attemptOf(ds[1], false, t)
		dup := attemptOf(ds[1], false, t.Add(time.Second))
		dup.ID = tc.dupID(fresh)
		_, err := f.s.Settle(f.ctx, store.SettleBatch{
			Settlements: []store.Settlement{
				{Ref: ds[0].Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: fresh},
				{Ref: ds[1].Ref(), Outcome: store.OutcomeRetry, Next: at(time.Hour), Error: "503", Attempt: unnamed},
				{Ref: ds[1].Ref(), Outcome: store.OutcomeRetry, Next: at(time.Hour), Error: "503", Attempt: dup},
			},
			Health: []store.HealthDelta{{EndpointID: a.ID, Failures: 1, FirstFailure: t, LastFailure: t, LastSuccess: t}},
		})
		require.ErrorIs(f, err, store.ErrConflict, tc.name)
		require.Empty(f, unnamed.ID, "%s: no attempt gets an ID when Settle fails", tc.name)
		for _, d := range ds {
			got := f.get(d.ID)
			require.Equal(f, store.StateLeased, got.State, "%s: no delivery is settled", tc.name)
			require.Empty(f, got.LastError, tc.name)
			require.Empty(f, f.attemptsOf(d.ID), "%s: no attempt is logged", tc.name)
		}
		after, err := f.s.GetEndpoint(f.ctx, a.ID)
		require.NoError(f, err)
		requireSameHealth(f, before.Health, after.Health, tc.name+": health is not written")
		kept, err := f.s.GetAttempt(f.ctx, existing.ID)
		require.NoError(f, err)
		requireSameAttempt(f, existing, kept)
	}
	// The leases still hold.
	res := f.settle(store.SettleBatch{Settlements: []store.Settlement{
		{Ref: ds[0].Ref(), Outcome: store.OutcomeSucceeded, At: t},
		{Ref: ds[1].Ref(), Outcome: store.OutcomeSucceeded, At: t},
	}})
	require.Equal(f, []bool{false, false}, res.Lost)
}

func testSettleInvalid(f *outboxFixture) {
	a, ds := f.leased(1)
	d := ds[0]
	t := at(time.Minute)
	ok := store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: t, Attempt: attemptOf(d, true, t)}
	for name, b := range map[string]store.SettleBatch{
		"zero outcome":       {Settlements: []store.Settlement{ok, {Ref: d.Ref(), At: t}}},
		"unknown outcome":    {Settlements: []store.Settlement{{Ref: d.Ref(), Outcome: store.OutcomeReleased + 1, At: t, Next: t}}},
		"succeeded, no At":   {Settlements: []store.Settlement{{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, Next: t}}},
		"failed, no At":      {Settlements: []store.Settlement{{Ref: d.Ref(), Outcome: store.OutcomeFailed, Next: t}}},
		"retry, no Next":     {Settlements: []store.Settlement{{Ref: d.Ref(), Outcome: store.OutcomeRetry, At: t}}},
		"release, no Next":   {Settlements: []store.Settlement{{Ref: d.Ref(), Outcome: store.OutcomeReleased, At: t}}},
		"no endpoint id":     {Settlements: []store.Settlement{ok}, Health: []store.HealthDelta{{Failures: 1, FirstFailure: t}}},
		"negative failures":  {Settlements: []store.Settlement{ok}, Health: []store.HealthDelta{{EndpointID: a.ID, Failures: -1}}},
		"failures, no first": {Settlements: []store.Settlement{ok}, Health: []store.HealthDelta{{EndpointID: a.ID, Failures: 2, LastFailure: t}}},
		"two deltas": {Settlements: []store.Settlement{ok}, Health: []store.HealthDelta{
			{EndpointID: a.ID, LastSuccess: t}, {EndpointID: a.ID, LastSuccess: t},
		}},
	} {
		_, err := f.s.Settle(f.ctx, b)
		require.ErrorIs(f, err, store.ErrInvalid, name)
		require.Equal(f, store.StateLeased, f.get(d.ID).State, "%s: nothing is written", name)
		require.Empty(f, f.attemptsOf(d.ID), name)
		require.Empty(f, ok.Attempt.ID, name)
	}
}

func testSettleEmpty(f *outboxFixture) {
	res, err := f.s.Settle(f.ctx, store.SettleBatch{})
	require.NoError(f, err)
	require.Empty(f, res.Lost)
	require.Empty(f, res.Endpoints)
}

// testSettleOneByOne: each outcome settled alone, for a first attempt, a
// later one and a disabled endpoint, leaves the delivery as its outcome's
// documentation says.
func testSettleOneByOne(f *outboxFixture) {
	t := at(time.Hour)
	type want struct {
		state    store.DeliveryState
		attempts int
		err      string
		first    bool // FirstAttemptAt kept (else cleared)
	}
	for _, tc := range []struct {
		name    string
		st      store.Settlement
		attempt int // the attempt settled: 1, or 2 after an expired lease
		disable bool
		want    want
	}{
		{"Succeeded", succeeded(store.LeaseRef{}, t), 1, false, want{store.StateSucceeded, 1, "", true}},
		{"Retry", retried(store.LeaseRef{}, t, "503"), 1, false, want{store.StatePending, 1, "503", true}},
		{"Failed", failed(store.LeaseRef{}, t, "410"), 1, false, want{store.StateFailed, 1, "410", true}},
		{"Released", released(store.LeaseRef{}, t), 1, false, want{store.StatePending, 0, "", false}},
		{"ReleasedSecond", released(store.LeaseRef{}, t), 2, false, want{store.StatePending, 1, "", true}},
		{"RetryDisabled", retried(store.LeaseRef{}, t, "503"), 2, true, want{store.StatePaused, 2, "503", true}},
		{"ReleasedDisabled", released(store.LeaseRef{}, t), 1, true, want{store.StatePaused, 0, "", false}},
		{"SucceededDisabled", succeeded(store.LeaseRef{}, t), 1, true, want{store.StateSucceeded, 1, "", true}},
	} {
		f.Run(tc.name, func(tt *testing.T) {
			f := f.fresh(tt)
			ep := f.endpoint()
			f.publish("ping", at(0), ep)
			d := f.leaseOne(at(0))
			if tc.attempt == 2 {
				d = f.leaseOne(at(time.Minute))
			}
			require.Equal(f, tc.attempt, d.Attempts)
			if tc.disable {
				_, err := f.s.SetDisabled(f.ctx, ep.ID, true, "manual", at(2*time.Minute))
				require.NoError(f, err)
			}
			st := tc.st
			st.Ref = d.Ref()
			f.settleOne(st)
			got := f.get(d.ID)
			require.Equal(f, tc.want.state, got.State)
			require.Equal(f, tc.want.attempts, got.Attempts)
			require.Equal(f, tc.want.err, got.LastError)
			require.Empty(f, got.LeaseToken)
			if tc.want.first {
				sameTime(f, at(0), got.FirstAttemptAt, "FirstAttemptAt")
			} else {
				require.True(f, got.FirstAttemptAt.IsZero(), "a release of the only attempt clears FirstAttemptAt")
			}
			sameTime(f, d.LastAttemptAt, got.LastAttemptAt, "LastAttemptAt")
			switch got.State {
			case store.StateSucceeded, store.StateFailed:
				sameTime(f, t, got.FinishedAt, "FinishedAt")
			case store.StatePending:
				sameTime(f, t, got.NextAttemptAt, "NextAttemptAt")
				require.True(f, got.FinishedAt.IsZero(), "FinishedAt")
			}
		})
	}
}

// requireNoErrors closes errs, once its writers are done, and requires it
// to hold no error.
func requireNoErrors(t testing.TB, errs chan error) {
	t.Helper()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// testSettleConcurrentWithSetDisabled runs batches that retry and release
// deliveries of the same endpoints and write their health, in different
// orders, while the endpoints are disabled and enabled: no batch may fail
// (a store that locks endpoints in different orders deadlocks here), and
// afterwards no delivery of a disabled endpoint is pending and none of an
// enabled one paused.
func testSettleConcurrentWithSetDisabled(f *outboxFixture) {
	const (
		endpoints = 3
		workers   = 4
		rounds    = 8
		perBatch  = 6
	)
	var eps []*store.Endpoint
	for range endpoints {
		eps = append(eps, f.endpoint())
	}
	for i := range workers * rounds * perBatch / endpoints {
		f.publish("ping", at(time.Duration(i)*time.Millisecond), eps...)
	}
	// Each worker gets its own leases, so no settlement is lost.
	batches := make([][]*store.Delivery, 0, workers*rounds)
	for range workers * rounds {
		ds := f.lease(at(time.Minute), perBatch, func(r *store.LeaseRequest) { r.Duration = 24 * time.Hour })
		require.Len(f, ds, perBatch)
		batches = append(batches, ds)
	}

	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds+endpoints*rounds)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for r := range rounds {
				ds := batches[w*rounds+r]
				t := at(2*time.Minute + time.Duration(r)*time.Second)
				var b store.SettleBatch
				for i, d := range ds {
					st := store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeRetry, Next: at(time.Hour), Error: "503",
						Attempt: attemptOf(d, false, t)}
					if i%3 == 0 {
						st = store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeReleased, Next: at(time.Hour)}
					}
					b.Settlements = append(b.Settlements, st)
				}
				for _, i := range rng.Perm(endpoints) {
					b.Health = append(b.Health, store.HealthDelta{EndpointID: eps[i].ID, Failures: 1, FirstFailure: t, LastFailure: t})
				}
				res, err := f.s.Settle(f.ctx, b)
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
					continue
				}
				for i, lost := range res.Lost {
					if lost {
						errs <- fmt.Errorf("worker %d round %d: settlement %d lost its lease", w, r, i)
					}
				}
			}
		})
	}
	for i, ep := range eps {
		wg.Go(func() {
			for r := range rounds {
				if _, err := f.s.SetDisabled(f.ctx, ep.ID, (r+i)%2 == 0, "flapping", at(2*time.Minute)); err != nil {
					errs <- fmt.Errorf("set disabled %d round %d: %w", i, r, err)
				}
			}
		})
	}
	wg.Wait()
	requireNoErrors(f, errs)

	for _, ep := range eps {
		stored, err := f.s.GetEndpoint(f.ctx, ep.ID)
		require.NoError(f, err)
		ds := collect(f, store.MaxPageSize, func(cursor string) ([]*store.Delivery, string, error) {
			return f.s.ListDeliveries(f.ctx, store.DeliveryFilter{AllTenants: true, EndpointID: ep.ID,
				Page: store.Page{Cursor: cursor, Limit: store.MaxPageSize}})
		})
		for _, d := range ds {
			require.NotEqual(f, store.StateLeased, d.State, "every lease was settled")
			if stored.Disabled {
				require.NotEqual(f, store.StatePending, d.State, "a disabled endpoint's delivery %s is pending", d.ID)
			} else {
				require.NotEqual(f, store.StatePaused, d.State, "an enabled endpoint's delivery %s is paused", d.ID)
			}
		}
	}
}
