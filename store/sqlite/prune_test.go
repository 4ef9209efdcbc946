package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// TestPruneDeliveriesBatches prunes more deliveries than one batch holds,
// with a batch boundary landing exactly on the last row, and checks that
// the events went with them and that unfinished rows stay.
func TestPruneDeliveriesBatches(t *testing.T) {
	for _, tc := range []struct {
		name     string
		batch    int
		finished int
	}{
		{"several batches", 3, 10},
		{"exact multiple", 5, 10},
		{"one batch", 100, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := open(t)
			ctx := context.Background()
			sqlite.SetPruneBatch(s, tc.batch)
			a, b := newEndpoint(t, s, "acme"), newEndpoint(t, s, "acme")
			for i := range tc.finished {
				_, err := s.Enqueue(ctx, enqueueAt(newEvent("ping", at(time.Duration(i)*time.Second)), targets(a)))
				require.NoError(t, err)
			}
			ds, err := s.Lease(ctx, store.LeaseRequest{Now: at(time.Hour), Limit: 100, Duration: time.Hour})
			require.NoError(t, err)
			require.Len(t, ds, tc.finished)
			var batch store.SettleBatch
			for i, d := range ds {
				st := store.Settlement{Ref: d.Ref(), Outcome: store.OutcomeSucceeded, At: at(time.Hour)}
				if i%2 == 1 {
					st.Outcome, st.Error = store.OutcomeFailed, "x"
				}
				batch.Settlements = append(batch.Settlements, st)
			}
			res, err := s.Settle(ctx, batch)
			require.NoError(t, err)
			require.NotContains(t, res.Lost, true)
			pending := newEvent("ping", at(0))
			_, err = s.Enqueue(ctx, enqueueAt(pending, targets(b)))
			require.NoError(t, err)

			n, err := s.PruneDeliveries(ctx, at(2*time.Hour))
			require.NoError(t, err)
			require.Equal(t, tc.finished, n)
			var deliveries, events int
			require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM webhookkit_deliveries`).Scan(&deliveries))
			require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM webhookkit_events`).Scan(&events))
			require.Equal(t, 1, deliveries, "only the pending delivery stays")
			require.Equal(t, 1, events, "only the pending delivery's event stays")
		})
	}
}

func TestPruneDeliveriesCanceled(t *testing.T) {
	s, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := s.PruneDeliveries(ctx, at(time.Hour))
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
}

func TestPruneUsesFinishedIndex(t *testing.T) {
	s, _ := open(t)
	joined := queryPlan(t, s, `SELECT id FROM webhookkit_deliveries
WHERE state IN ('succeeded', 'failed') AND finished_at < ? ORDER BY finished_at LIMIT ?`, 0, 10)
	require.Contains(t, joined, "USING INDEX webhookkit_deliveries_finished", joined)
	require.NotContains(t, joined, "TEMP B-TREE", joined)
}
