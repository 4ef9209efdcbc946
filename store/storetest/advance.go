package storetest

import (
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// advanceCases test the optional [store.RetryAdvancer] (RetryAdvancer/...);
// they are skipped when the store does not implement it.
var advanceCases = []testCase[*outboxFixture]{
	{"Advance", testAdvanceRetries},
	{"Paused", testAdvanceRetriesPaused},
}

// advancer returns the store's RetryAdvancer or skips the test.
func (f *outboxFixture) advancer() store.RetryAdvancer {
	f.Helper()
	a, ok := f.s.(store.RetryAdvancer)
	if !ok {
		f.Skip("storetest: the store does not implement store.RetryAdvancer")
	}
	return a
}

func testAdvanceRetries(f *outboxFixture) {
	adv := f.advancer()
	a := f.endpoint()
	b := f.endpoint()
	// Leased before since, waiting for its retry: left alone.
	early := f.publish("ping", at(0), a)
	d := f.leaseOne(at(0))
	require.Equal(f, early.ID, d.Event.ID)
	f.settleOne(retried(d.Ref(), at(time.Hour), "502 Bad Gateway"))

	for range 5 {
		f.publish("ping", at(time.Minute), a)
	}
	ofB := f.publish("ping", at(time.Minute), b)
	later := f.publish("ping", at(time.Hour), a) // never attempted, due later
	ds := f.lease(at(2*time.Minute), 10, func(r *store.LeaseRequest) { r.Duration = 2 * time.Hour })
	require.Len(f, ds, 6)
	var ofA []*store.Delivery
	for _, d := range ds {
		if d.EndpointID == b.ID {
			require.Equal(f, ofB.ID, d.Event.ID)
			f.settleOne(retried(d.Ref(), at(time.Hour), "502 Bad Gateway"))
			continue
		}
		ofA = append(ofA, d)
	}
	require.Len(f, ofA, 5)
	f.settleOne(retried(ofA[0].Ref(), at(time.Hour), "502 Bad Gateway")) // advanced
	f.settleOne(retried(ofA[1].Ref(), at(30*time.Minute), "timeout"))    // advanced
	f.settleOne(retried(ofA[2].Ref(), at(5*time.Minute), "503"))         // due before at: left alone
	f.settleOne(failed(ofA[3].Ref(), at(3*time.Minute), "permanent"))    // finished: left alone
	leased := ofA[4]                                                     // leased: left alone

	n, err := adv.AdvanceRetries(f.ctx, a.ID, at(time.Minute), at(10*time.Minute))
	require.NoError(f, err)
	require.Equal(f, 2, n, "deliveries advanced")
	for _, d := range ofA[:2] {
		got := f.get(d.ID)
		require.Equal(f, store.StatePending, got.State)
		sameTime(f, at(10*time.Minute), got.NextAttemptAt, "NextAttemptAt of an advanced retry")
		require.Equal(f, 1, got.Attempts, "Attempts are kept")
		require.NotEmpty(f, got.LastError, "LastError is kept")
	}
	sameTime(f, at(5*time.Minute), f.get(ofA[2].ID).NextAttemptAt, "a retry due before at is left alone")
	require.Equal(f, store.StateFailed, f.get(ofA[3].ID).State)
	require.Equal(f, store.StateLeased, f.get(leased.ID).State)
	sameTime(f, at(time.Hour), f.get(f.deliveryOf(early.ID, a.ID).ID).NextAttemptAt, "attempted before since")
	sameTime(f, at(time.Hour), f.get(f.deliveryOf(ofB.ID, b.ID).ID).NextAttemptAt, "another endpoint's")
	sameTime(f, at(time.Hour), f.get(f.deliveryOf(later.ID, a.ID).ID).NextAttemptAt, "never attempted")

	// The advanced retries are leased at their new time, with the one due
	// before it, oldest due first.
	got := f.lease(at(10*time.Minute), 10)
	require.Len(f, got, 3)
	require.Equal(f, ofA[2].ID, got[0].ID)
	require.ElementsMatch(f, []string{ofA[0].ID, ofA[1].ID}, []string{got[1].ID, got[2].ID})
	for _, d := range got {
		require.Equal(f, 2, d.Attempts)
	}

	n, err = adv.AdvanceRetries(f.ctx, a.ID, at(time.Minute), at(10*time.Minute))
	require.NoError(f, err)
	require.Zero(f, n, "nothing left to advance")
}

func testAdvanceRetriesPaused(f *outboxFixture) {
	adv := f.advancer()
	a := f.endpoint()
	f.publish("ping", at(0), a)
	d := f.leaseOne(at(0))
	f.settleOne(retried(d.Ref(), at(time.Hour), "502 Bad Gateway"))
	_, err := f.s.SetDisabled(f.ctx, a.ID, true, "manual", at(time.Minute))
	require.NoError(f, err)

	n, err := adv.AdvanceRetries(f.ctx, a.ID, at(0), at(2*time.Minute))
	require.NoError(f, err)
	require.Zero(f, n, "a paused delivery is left alone")
	got := f.get(d.ID)
	require.Equal(f, store.StatePaused, got.State)
}
