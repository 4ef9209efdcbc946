package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// UnmigratedStore is what [RunNotMigrated] tests: a store with a schema to
// migrate, whose schema check and methods report a missing migration.
type UnmigratedStore interface {
	Store
	store.SchemaChecker
}

// RunNotMigrated checks a store whose Migrate was never called (newStore
// returns one, over an empty or missing schema) says so: CheckSchema and
// the methods of every role (endpoints, outbox, inbox) fail with errors
// that wrap [store.ErrNotMigrated] and name Migrate, rather than the
// database's "no such table". Each case gets a fresh store. RunNotMigrated
// does not call t.Parallel.
func RunNotMigrated(t *testing.T, newStore Factory[UnmigratedStore]) {
	ctx := context.Background()
	now := time.Now()
	ep := &store.Endpoint{Tenant: "t", Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: testSecret}}}
	ev := event.Event{APIMode: event.ModeTest, ID: uuid.NewString(), Type: "user.created", Date: now, Data: []byte(`{}`)}
	for _, c := range []struct {
		name string
		call func(s UnmigratedStore) error
	}{
		{"CheckSchema", func(s UnmigratedStore) error { return s.CheckSchema(ctx) }},
		{"CreateEndpoint", func(s UnmigratedStore) error { return s.CreateEndpoint(ctx, ep.Clone()) }},
		{"GetEndpoint", func(s UnmigratedStore) error { _, err := s.GetEndpoint(ctx, "ep_1"); return err }},
		{"Enqueue", func(s UnmigratedStore) error {
			_, err := s.Enqueue(ctx, store.EnqueueRequest{Event: ev, Now: now,
				Targets: []store.Target{{EndpointID: "ep_1", Tenant: "t"}}})
			return err
		}},
		{"Lease", func(s UnmigratedStore) error {
			_, err := s.Lease(ctx, store.LeaseRequest{Now: now, Limit: 1, Duration: time.Minute})
			return err
		}},
		{"Claim", func(s UnmigratedStore) error {
			_, err := s.Claim(ctx, store.Claim{Key: "k", Now: now})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call(newStore(t))
			require.ErrorIs(t, err, store.ErrNotMigrated)
			require.Contains(t, err.Error(), "Migrate")
		})
	}
}
