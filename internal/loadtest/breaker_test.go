package loadtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// TestBreakerCloseDeliversBacklog is BenchmarkSlowStartRamp's story, small
// and on every store: a started sender's endpoint is down (502) while a
// backlog is published and its breaker opens and probes; the probes burn
// retry steps of the deliveries they take (a second failure waits 10
// minutes here). Once a delivery has failed twice the endpoint comes back,
// and every delivery must be made within seconds of the close: the ones
// that failed while it was down are due again when the breaker closes.
func TestBreakerCloseDeliversBacklog(t *testing.T) {
	for _, kind := range flowKinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			var up atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !up.Load() {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			st, err := loadtest.OpenStore(ctx, kind, loadtest.StoreOptions{MaxConns: 16})
			require.NoError(t, err)
			defer st.Close() //nolint:errcheck // a temporary store
			sec, err := signature.NewSecret()
			require.NoError(t, err)
			ep := &store.Endpoint{Mode: event.ModeTest, URL: srv.URL, EventTypes: []string{"*"},
				Secrets: []store.SigningKey{{Key: sec.String()}}, MaxInFlight: 4}
			require.NoError(t, st.Sender.CreateEndpoint(ctx, ep))

			var (
				mu        sync.Mutex
				fails     = make(map[string]int) // failed attempts per delivery
				twice     = make(chan struct{})
				delivered atomic.Int64
			)
			const backlog = 50
			s, err := sender.New(st.Sender, &sender.Config{
				Workers:              8,
				AllowPrivateNetworks: true,
				PollInterval:         10 * time.Millisecond,
				Logger:               loadtest.Discard(),
				DisableAfterFailures: -1,
				Retry:                retry.Schedule{Delays: []time.Duration{time.Second, 10 * time.Minute}},
				Breaker: sender.BreakerConfig{Failures: 3, ProbeInterval: 20 * time.Millisecond,
					MaxProbeInterval: 100 * time.Millisecond},
				Hooks: sender.Hooks{OnAttempt: func(_ context.Context, a *store.Attempt) {
					if a.Success {
						delivered.Add(1)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if fails[a.DeliveryID]++; fails[a.DeliveryID] == 2 {
						select {
						case <-twice:
						default:
							close(twice)
						}
					}
				}},
			})
			require.NoError(t, err)
			defer s.Close() //nolint:errcheck // after Shutdown it returns nil
			require.NoError(t, s.Start(ctx))
			publishConcurrently(t, s, backlog)
			select {
			case <-twice:
			case <-time.After(time.Minute):
				t.Fatal("no delivery failed twice in a minute")
			}
			require.Equal(t, store.BreakerOpen, s.Flow(ep.ID).Breaker)
			up.Store(true)

			end := time.Now().Add(30 * time.Second)
			for delivered.Load() < backlog && time.Now().Before(end) {
				time.Sleep(10 * time.Millisecond)
			}
			require.NoError(t, s.Shutdown(ctx))
			left, err := st.Sender.Backlog(ctx, "", time.Now())
			require.NoError(t, err)
			require.Zero(t, left.Pending(), "deliveries left unfinished 30 s after the endpoint came back: %+v", left)
			require.EqualValues(t, backlog, delivered.Load())
		})
	}
}
