package crashtest

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// tally is the handler and response hook of a test endpoint: it counts,
// per event id, the requests answered 200 (accepted or duplicate) and the
// callback runs, and the requests answered 503. Safe for concurrent use;
// lock mu to read the maps.
type tally struct {
	mu          sync.Mutex
	reached     map[string]int
	calls       map[string]int
	unavailable atomic.Int64
}

// startEndpoint starts a receiver on cfg that verifies secret's
// signatures and reports to a new tally: cfg's Keys and
// Hooks.OnResponse are set, and Logger when nil. The receiver is closed
// in tb.Cleanup.
func startEndpoint(tb testing.TB, secret signature.Secret, cfg receiver.Config) (*receiver.Receiver, *tally) {
	tb.Helper()
	c := &tally{reached: make(map[string]int), calls: make(map[string]int)}
	cfg.Keys = []receiver.Key{{Text: secret.String()}}
	cfg.Hooks.OnResponse = c.onResponse
	if cfg.Logger == nil {
		cfg.Logger = logger(tb, "receiver")
	}
	r, err := receiver.New(c, &cfg)
	require.NoError(tb, err)
	require.NoError(tb, r.Start(context.Background()))
	tb.Cleanup(func() { _ = r.Close() })
	return r, c
}

// HandleEvent counts a callback run.
func (c *tally) HandleEvent(_ context.Context, ev event.Event) error {
	c.mu.Lock()
	c.calls[ev.ID]++
	c.mu.Unlock()
	return nil
}

func (c *tally) onResponse(_ context.Context, ri receiver.ResponseInfo) {
	switch ri.Status {
	case http.StatusOK:
		c.mu.Lock()
		c.reached[ri.EventID]++
		c.mu.Unlock()
	case http.StatusServiceUnavailable:
		c.unavailable.Add(1)
	}
}

// handled returns how many events' callbacks have run.
func (c *tally) handled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// seed creates an endpoint at url that accepts "crash.*" events signed
// with secret, and enqueues n events of type typ for it; it returns their
// ids.
func seed(tb testing.TB, st durable, url string, secret signature.Secret, n int, typ string) map[string]bool {
	tb.Helper()
	ctx := context.Background()
	ep := &store.Endpoint{
		Mode:       event.ModeTest,
		URL:        url,
		EventTypes: []string{"crash.*"},
		Secrets:    []store.SigningKey{{Key: secret.String(), CreatedAt: time.Now().Add(-time.Hour)}},
	}
	require.NoError(tb, st.CreateEndpoint(ctx, ep))
	ids := make(map[string]bool, n)
	for i := range n {
		ev, err := event.New(event.ModeTest, typ, map[string]int{"n": i})
		require.NoError(tb, err)
		created, err := st.Enqueue(ctx, store.EnqueueRequest{Event: ev, Targets: []store.Target{{EndpointID: ep.ID}}, Now: time.Now()})
		require.NoError(tb, err)
		require.Equal(tb, 1, created)
		ids[ev.ID] = true
	}
	return ids
}

// settled reports whether st has no delivery pending or leased.
func settled(tb testing.TB, st durable) bool {
	tb.Helper()
	for _, s := range []store.DeliveryState{store.StatePending, store.StateLeased} {
		ds, _, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{AllTenants: true, State: s, Page: store.Page{Limit: 1}})
		require.NoError(tb, err)
		if len(ds) > 0 {
			return false
		}
	}
	return true
}

// countDeliveries counts st's deliveries in state s.
func countDeliveries(tb testing.TB, st durable, s store.DeliveryState) int {
	tb.Helper()
	n := 0
	page := store.Page{Limit: store.MaxPageSize}
	for {
		ds, next, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{AllTenants: true, State: s, Page: page})
		require.NoError(tb, err)
		n += len(ds)
		if next == "" {
			return n
		}
		page.Cursor = next
	}
}
