package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// TestNotMigrated checks that a store used before Migrate says so: its
// methods' errors wrap store.ErrNotMigrated and name Migrate, and a
// sender's and a receiver's Start fail at once with it instead of
// starting and logging the failure of every poll. The schema is fresh
// (created empty by the test helper), and also entirely absent.
func TestNotMigrated(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	for _, schema := range []string{randomSchema(t), "whk_absent_" + uuid.NewString()[:8]} {
		t.Run(schema, func(t *testing.T) {
			open := func(tb testing.TB) *postgres.Store {
				s, err := postgres.New(pool, &postgres.Config{Schema: schema, Logger: quiet, PlaintextSecrets: true})
				require.NoError(tb, err)
				return s
			}
			storetest.RunNotMigrated(t, func(tb testing.TB) storetest.UnmigratedStore { return open(tb) })

			s := open(t)

			snd, err := sender.New(s, &sender.Config{Logger: quiet})
			require.NoError(t, err)
			require.ErrorIs(t, snd.Start(ctx), store.ErrNotMigrated)
			require.NoError(t, snd.Close())

			rcv, err := receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error { return nil }),
				&receiver.Config{Keys: []receiver.Key{{Text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, Inbox: s, Logger: quiet})
			require.NoError(t, err)
			require.ErrorIs(t, rcv.Start(ctx), store.ErrNotMigrated)
			require.NoError(t, rcv.Close())
		})
	}
}

// TestCheckSchemaMigrated checks that CheckSchema passes once Migrate ran,
// and that a sender then starts.
func TestCheckSchemaMigrated(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	require.NoError(t, s.CheckSchema(ctx))
	snd, err := sender.New(s, &sender.Config{Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, snd.Start(ctx))
	require.NoError(t, snd.Close())
}
