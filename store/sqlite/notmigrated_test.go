package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// openUnmigrated opens a fresh SQLite file without calling Migrate.
func openUnmigrated(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "unmigrated.db"), &sqlite.Config{PlaintextSecrets: true})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	return s
}

// TestNotMigrated checks that a store used before Migrate says so: its
// methods' errors wrap store.ErrNotMigrated and name Migrate, and a
// sender's and a receiver's Start fail at once with it instead of
// starting and logging the failure of every poll.
func TestNotMigrated(t *testing.T) {
	storetest.RunNotMigrated(t, func(tb testing.TB) storetest.UnmigratedStore { return openUnmigrated(tb) })

	ctx := context.Background()
	s := openUnmigrated(t)
	snd, err := sender.New(s, &sender.Config{Logger: quietLog})
	require.NoError(t, err)
	err = snd.Start(ctx)
	require.ErrorIs(t, err, store.ErrNotMigrated)
	require.NoError(t, snd.Close())

	rcv, err := receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error { return nil }),
		&receiver.Config{Keys: []receiver.Key{{Text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, Inbox: s, Logger: quietLog})
	require.NoError(t, err)
	err = rcv.Start(ctx)
	require.ErrorIs(t, err, store.ErrNotMigrated)
	require.NoError(t, rcv.Close())

	// Once migrated, both start.
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.CheckSchema(ctx))
	snd, err = sender.New(s, &sender.Config{Logger: quietLog})
	require.NoError(t, err)
	require.NoError(t, snd.Start(ctx))
	require.NoError(t, snd.Close())
	rcv, err = receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error { return nil }),
		&receiver.Config{Keys: []receiver.Key{{Text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, Inbox: s, Logger: quietLog})
	require.NoError(t, err)
	require.NoError(t, rcv.Start(ctx))
	require.NoError(t, rcv.Close())
}
