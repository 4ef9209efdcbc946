package memory

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

func addAttempt(t *testing.T, s *Store, id, delivery string, at time.Time) {
	t.Helper()
	require.NoError(t, s.AddAttempt(context.Background(), &store.Attempt{
		ID: id, DeliveryID: delivery, EndpointID: "ep-" + delivery[:1], EventID: "ev-" + delivery, At: at,
	}))
}

// A cursor stays valid when its row, and rows around it, are evicted
// between pages: the next page starts below it, as if it were still there.
func TestListAttemptsCursorSurvivesEviction(t *testing.T) {
	ctx := context.Background()
	s := New(&Config{MaxAttempts: 20, Logger: slog.New(slog.DiscardHandler)})
	for i := range 20 {
		addAttempt(t, s, fmt.Sprintf("a%02d", i), []string{"x1", "y1"}[i%2], t0.Add(time.Duration(i)*time.Second))
	}
	f := store.AttemptFilter{AllTenants: true, DeliveryID: "x1", Page: store.Page{Limit: 4}}
	page, next, err := s.ListAttempts(ctx, f)
	require.NoError(t, err)
	require.Equal(t, []string{"a18", "a16", "a14", "a12"}, attemptIDs(page))

	// Evict the 14 oldest (a00..a13), among them the cursor's row a12, with
	// newer attempts of both deliveries.
	for i := 20; i < 34; i++ {
		addAttempt(t, s, fmt.Sprintf("a%02d", i), []string{"x1", "y1"}[i%2], t0.Add(time.Duration(i)*time.Second))
	}
	f.Page.Cursor = next
	page, next, err = s.ListAttempts(ctx, f)
	require.NoError(t, err)
	require.Empty(t, page, "everything below the cursor was evicted")
	require.Empty(t, next)

	f.Page.Cursor = ""
	all, _, err := s.ListAttempts(ctx, store.AttemptFilter{AllTenants: true, EndpointID: "ep-x", Page: store.Page{Limit: 100}})
	require.NoError(t, err)
	require.Equal(t, []string{"a32", "a30", "a28", "a26", "a24", "a22", "a20", "a18", "a16", "a14"}, attemptIDs(all))
	checkAttemptIndexes(t, s)

	n, err := s.PruneAttempts(ctx, t0.Add(30*time.Second))
	require.NoError(t, err)
	require.Equal(t, 16, n)
	checkAttemptIndexes(t, s)
	require.Len(t, s.attemptsByDelivery, 2)
	n, err = s.PruneAttempts(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 4, n)
	checkAttemptIndexes(t, s)
	require.Empty(t, s.attemptsByDelivery, "pruned indexes are dropped")
	require.Empty(t, s.attemptsByEndpoint)
	require.Empty(t, s.attemptsByEvent)
}

func attemptIDs(as []*store.Attempt) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

// Readers paging through a delivery's attempts while writers add attempts
// (evicting the oldest) always get pages in strict newest-first order that
// continue below their cursor, with no row twice; the indexes end
// consistent with the log. Run with -race. The goroutines use assert, not
// require (FailNow must run on the test's goroutine).
func TestListAttemptsConcurrentWithEviction(t *testing.T) {
	ctx := context.Background()
	s := New(&Config{MaxAttempts: 300, Logger: slog.New(slog.DiscardHandler)})
	const writers, perWriter = 2, 3000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				d := fmt.Sprintf("%c%d", 'a'+w, i%3)
				// Times mostly grow, with some out of order.
				at := t0.Add(time.Duration(i)*time.Millisecond - time.Duration(i%5)*3*time.Millisecond)
				err := s.AddAttempt(ctx, &store.Attempt{
					ID: fmt.Sprintf("w%d-%05d", w, i), DeliveryID: d, EndpointID: "ep", EventID: "ev" + d, At: at,
				})
				if !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for _, f := range []store.AttemptFilter{
		{AllTenants: true, DeliveryID: "a1", Page: store.Page{Limit: 7}},
		{AllTenants: true, EndpointID: "ep", Page: store.Page{Limit: 13}},
		{AllTenants: true, Page: store.Page{Limit: 50}},
	} {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				seen := map[string]bool{}
				var last *store.Attempt
				f.Page.Cursor = ""
				for {
					page, next, err := s.ListAttempts(ctx, f)
					if !assert.NoError(t, err) {
						return
					}
					for _, a := range page {
						ok := assert.False(t, seen[a.ID], "%s listed twice", a.ID) &&
							(last == nil || assert.Negative(t, keyOf(a.At, a.ID).cmp(keyOf(last.At, last.ID)), "newest first, below the cursor")) &&
							(f.DeliveryID == "" || assert.Equal(t, f.DeliveryID, a.DeliveryID))
						if !ok {
							return
						}
						seen[a.ID] = true
						last = a
					}
					if next == "" {
						break
					}
					f.Page.Cursor = next
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	require.Equal(t, 300, s.Stats().Attempts)
	checkAttemptIndexes(t, s)
}
