package crashtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// instances is how many senders share the PostgreSQL outbox.
const instances = 3

// TestMultiInstancePostgres: three senders, each on its own Store and pgx
// pool over one schema, deliver every event to one endpoint, never two
// requests for one event at the same time, and share the work.
func TestMultiInstancePostgres(t *testing.T) {
	t.Parallel()
	start := time.Now()
	ctx := context.Background()
	sp := newPGSpec(t)
	n := events()

	secret, err := signature.NewSecret()
	require.NoError(t, err)
	verifier, err := signature.NewVerifier([]signature.Secret{secret}, nil, nil)
	require.NoError(t, err)

	// The endpoint verifies each request, records it per event id, and
	// flags any request that arrives while another for the same event is
	// still being answered.
	var (
		mu        sync.Mutex
		inFlight  = make(map[string]int)
		received  = make(map[string]int)
		overlaps  atomic.Int64
		badSigned atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || verifier.Verify(r.Header, body) != nil {
			badSigned.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		id := r.Header.Get(signature.HeaderID)
		mu.Lock()
		inFlight[id]++
		if inFlight[id] > 1 {
			overlaps.Add(1)
		}
		received[id]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		mu.Lock()
		inFlight[id]--
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)

	// Three instances: separate pools, separate Stores, one schema. They
	// migrate at once, as instances starting together would.
	stores := make([]durable, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			var closeFn func()
			stores[i], closeFn, errs[i] = sp.open(ctx, 6)
			if errs[i] == nil {
				t.Cleanup(closeFn)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	ep := &store.Endpoint{
		Mode:       event.ModeTest,
		URL:        srv.URL,
		EventTypes: []string{"multi.*"},
		Secrets:    []store.SigningKey{{Key: secret.String(), CreatedAt: time.Now().Add(-time.Hour)}},
	}
	require.NoError(t, stores[0].CreateEndpoint(ctx, ep))

	var (
		attempts  [instances]atomic.Int64
		smu       sync.Mutex
		successes = make(map[string]int) // successful attempts per event id, all instances
	)
	senders := make([]*sender.Sender, instances)
	for i := range senders {
		s, err := sender.New(stores[i], &sender.Config{
			Workers:              8,
			DefaultMaxInFlight:   -1,
			RequestTimeout:       5 * time.Second,
			PollInterval:         50 * time.Millisecond,
			Retry:                fastRetry,
			DisableAfterFailures: -1,
			AllowPrivateNetworks: true,
			OmitBodies:           true,
			Retention:            -1,
			WorkerID:             "instance-" + string(rune('a'+i)),
			Logger:               logger(t, "sender "+string(rune('a'+i))),
			Hooks: sender.Hooks{OnAttempt: func(_ context.Context, a *store.Attempt) {
				attempts[i].Add(1)
				if a.Success {
					smu.Lock()
					successes[a.EventID]++
					smu.Unlock()
				}
			}},
		})
		require.NoError(t, err)
		require.NoError(t, s.Start(ctx))
		t.Cleanup(func() { _ = s.Close() })
		senders[i] = s
	}

	// Each instance publishes a third of the events, as the instances of
	// an application would, while all of them deliver.
	published := make([]map[string]bool, instances)
	for i := range senders {
		published[i] = make(map[string]bool)
		wg.Go(func() {
			for j := i; j < n; j += instances {
				ev, err := event.New(event.ModeTest, "multi.instance", map[string]int{"n": j})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := senders[i].Publish(ctx, ev, sender.ToTenant(""), nil); err != nil {
					t.Error(err)
					return
				}
				published[i][ev.ID] = true
			}
		})
	}
	wg.Wait()
	require.False(t, t.Failed())
	publishedIn := time.Since(start)

	waitFor(t, deadline(), "every event delivered", func() bool {
		smu.Lock()
		defer smu.Unlock()
		return len(successes) >= n
	})
	for _, s := range senders {
		require.NoError(t, s.Shutdown(ctx))
	}

	mu.Lock()
	defer mu.Unlock()
	smu.Lock()
	defer smu.Unlock()
	require.Zero(t, badSigned.Load(), "requests that failed verification")
	require.Zero(t, overlaps.Load(), "requests for one event in flight at the same time")
	for i := range published {
		for id := range published[i] {
			require.GreaterOrEqual(t, received[id], 1, "event %s never reached the endpoint", id)
			require.Equal(t, 1, successes[id], "event %s: successful attempts across instances", id)
		}
	}
	require.Len(t, received, n, "the endpoint received events that were never published")
	require.Len(t, successes, n)

	var total int64
	for i := range attempts {
		total += attempts[i].Load()
	}
	for i := range attempts {
		share := float64(attempts[i].Load()) / float64(total)
		require.Greater(t, share, 0.10, "instance %d made %d of %d attempts", i, attempts[i].Load(), total)
	}
	left, _, err := stores[0].ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, State: store.StatePending})
	require.NoError(t, err)
	require.Empty(t, left)
	t.Logf("%d events, %d attempts by instance: %d %d %d; publishing %v, total %v",
		n, total, attempts[0].Load(), attempts[1].Load(), attempts[2].Load(),
		publishedIn.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
