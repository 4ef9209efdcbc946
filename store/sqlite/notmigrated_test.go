package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
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
	ctx := context.Background()
	s := openUnmigrated(t)

	err := s.CheckSchema(ctx)
	require.ErrorIs(t, err, store.ErrNotMigrated)
	require.Contains(t, err.Error(), "Migrate")

	ep := &store.Endpoint{Tenant: "t", Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
	ev := newEvent("user.created", time.Now())
	for name, call := range map[string]func() error{
		"CreateEndpoint": func() error { return s.CreateEndpoint(ctx, ep) },
		"GetEndpoint":    func() error { _, err := s.GetEndpoint(ctx, "ep_1"); return err },
		"Enqueue": func() error {
			_, err := s.Enqueue(ctx, store.EnqueueRequest{Event: ev, Now: time.Now(),
				Targets: []store.Target{{EndpointID: "ep_1", Tenant: "t"}}})
			return err
		},
		"Lease": func() error {
			_, err := s.Lease(ctx, store.LeaseRequest{Now: time.Now(), Limit: 1, Duration: time.Minute})
			return err
		},
		"Claim": func() error {
			_, err := s.Claim(ctx, store.Claim{Key: "k", Now: time.Now()})
			return err
		},
	} {
		err := call()
		require.ErrorIs(t, err, store.ErrNotMigrated, name)
		require.Contains(t, err.Error(), "Migrate", name)
	}

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
