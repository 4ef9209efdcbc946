package sqlite_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// TestPublishOutsideOpenTx checks the outbox pattern's classic mistake:
// with a transaction begun on Store.DB open, Publish (not PublishTx) waits
// for the write connection until its context ends, and the error wraps
// context.DeadlineExceeded and names PublishTx. The same publish through
// the transaction then succeeds.
func TestPublishOutsideOpenTx(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	ep := newEndpoint(t, s, "acme")
	snd, err := sender.New(s, &sender.Config{Logger: quietLog})
	require.NoError(t, err)
	ev, err := event.New(event.ModeTest, "user.created", json.RawMessage(`{}`))
	require.NoError(t, err)

	tx, err := s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = snd.Publish(tctx, ev, sender.ToEndpoint(ep.ID), nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "PublishTx")
	require.Contains(t, err.Error(), "Store.DB")

	n, err := snd.PublishTx(ctx, s.Tx(tx), ev, sender.ToEndpoint(ep.ID), nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, tx.Commit())
	// The write connection is free again.
	n, err = snd.Publish(ctx, ev, sender.ToEndpoint(ep.ID), nil)
	require.NoError(t, err)
	require.Equal(t, 0, n, "the event's delivery exists already")
}

// TestCanceledWriteBlamesNoTransaction checks that a write whose context
// is done, with no transaction of the caller's open, does not blame one.
func TestCanceledWriteBlamesNoTransaction(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wait.db")
	s, err := sqlite.Open(path, &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Migrate(ctx))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = s.CreateEndpoint(cctx, &store.Endpoint{Tenant: "t", Mode: event.ModeTest, URL: "https://hooks.example.com/in",
		EventTypes: []string{"*"}, Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}})
	require.ErrorIs(t, err, context.Canceled)
	require.NotContains(t, err.Error(), "Store.DB is open")
}
