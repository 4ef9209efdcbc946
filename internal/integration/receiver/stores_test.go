package receiver_test

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/receivertest"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/postgres/pgtest"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

// durableStore is what the SQL drivers implement for a receiver.
type durableStore interface {
	store.Inbox
	store.InboxRecovery
}

// openDurable returns a fresh, migrated store of kind: SQLite in a file of
// tb's, or PostgreSQL in a schema dropped at the end (skipped without the
// DSN).
func openDurable(tb testing.TB, kind string) durableStore {
	tb.Helper()
	ctx := context.Background()
	if kind == "sqlite" {
		s, err := sqlite.Open(filepath.Join(tb.TempDir(), "inbox.db"), &sqlite.Config{PlaintextSecrets: true})
		require.NoError(tb, err)
		tb.Cleanup(func() { _ = s.Close() })
		require.NoError(tb, s.Migrate(ctx))
		return s
	}
	dsn := pgtest.DSN(tb)
	schema := pgtest.Schema(tb, dsn, "whk_recv_")
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema, Logger: quiet})
	require.NoError(tb, err)
	require.NoError(tb, s.Migrate(ctx))
	return s
}

// TestDurableInboxes: on the SQL stores (which write claims and
// mark-handled records in batches when they implement
// store.InboxBatcher), concurrent copies of many events are each accepted
// once and handled once, and after Shutdown every event is recorded
// handled.
func TestDurableInboxes(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ib := openDurable(t, kind)
			_, batching := ib.(store.InboxBatcher)
			k := receivertest.NewKeyPair(t)
			const events, copies = 150, 3
			rc := receivertest.NewRecorder()
			rc.Got = nil
			r := receivertest.NewReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib})
			var ids []string
			var wg sync.WaitGroup
			var bad atomic.Int64
			sem := make(chan struct{}, 32)
			for range events {
				ev := receivertest.NewEvent(t, event.ModeTest, "ping")
				ids = append(ids, ev.ID)
				body := receivertest.EventBody(t, ev)
				for range copies {
					sem <- struct{}{}
					wg.Go(func() {
						defer func() { <-sem }()
						if receivertest.Serve(r, receivertest.SignedRequest(k.Signer, ev.ID, receivertest.Now(), body)).Code != http.StatusOK {
							bad.Add(1)
						}
					})
				}
			}
			wg.Wait()
			receivertest.Drain(t, r)
			require.Zero(t, bad.Load(), "every copy answered 200")
			st := r.Stats()
			require.Equal(t, uint64(events), st.Accepted)
			require.Equal(t, uint64(events*(copies-1)), st.Duplicates)
			require.EqualValues(t, events, rc.Calls.Load(), "each event handled once")
			for _, id := range ids {
				e, err := ib.GetInboxEntry(context.Background(), id)
				require.NoError(t, err)
				require.Equal(t, store.InboxHandled, e.State, "event %s recorded handled before Shutdown returned", id)
			}
			if batching {
				require.Positive(t, st.ClaimBatches)
				require.Positive(t, st.MarkBatches)
				t.Logf("%s: %d requests in %d claim batches, %d events in %d mark batches",
					kind, events*copies, st.ClaimBatches, events, st.MarkBatches)
			} else {
				t.Logf("%s does not implement store.InboxBatcher: claims one at a time", kind)
			}
		})
	}
}
