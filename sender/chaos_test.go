package sender_test

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

type fault int

const (
	faultNone fault = iota
	fault5xx
	faultTimeout
	faultReset
)

// faults is a deterministic fault generator: the fault of the n-th request
// for an event id depends only on the seed, the id and n, so the run's
// outcome does not depend on scheduling. Each id gets at most max faults.
type faults struct {
	seed uint64
	max  int

	mu     sync.Mutex
	seen   map[string]int // requests per id
	faults map[string]int // faults injected per id
	counts [4]int         // by kind
}

func (f *faults) next(id string) fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.seen[id]
	f.seen[id]++
	if f.faults[id] >= f.max {
		f.counts[faultNone]++
		return faultNone
	}
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], f.seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	h.Write(b[:])
	h.Write([]byte(id))
	var k fault
	switch p := h.Sum64() % 100; {
	case p < 30:
		k = fault5xx
	case p < 40:
		k = faultTimeout
	case p < 45:
		k = faultReset
	}
	if k != faultNone {
		f.faults[id]++
	}
	f.counts[k]++
	return k
}

// TestChaos delivers 200 events to an endpoint that answers 5xx 30% of the
// time, hangs past the request timeout 10% and resets the connection 5%
// (at most 4 faults per event id). Every event must be delivered, none given
// up, and a de-duplicating receiver must handle each id exactly once.
func TestChaos(t *testing.T) {
	const events = 200
	ctx := context.Background()
	st := newStore()
	secret, err := signature.NewSecret()
	require.NoError(t, err)
	verifier, err := signature.NewVerifier([]signature.Secret{secret}, nil, nil)
	require.NoError(t, err)

	gen := &faults{seed: 20240613, max: 4, seen: map[string]int{}, faults: map[string]int{}}
	var (
		mu       sync.Mutex
		handled  = map[string]int{} // the receiver's de-duplicated handling
		accepted int                // 2xx answers, duplicates included
		badSig   atomic.Int32
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if err := verifier.Verify(r.Header, body); err != nil {
			badSig.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ev, err := event.Decode(body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch gen.next(ev.ID) {
		case fault5xx:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case faultTimeout:
			<-r.Context().Done() // hang until the sender gives up on us
			return
		case faultReset:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		mu.Lock()
		if handled[ev.ID] == 0 {
			handled[ev.ID] = 1 // first time: handle it
		}
		accepted++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	ep := &store.Endpoint{
		Mode: event.ModeTest, URL: srv.URL, EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: secret.String()}}, MaxInFlight: 16,
	}
	require.NoError(t, st.CreateEndpoint(ctx, ep))

	delays := make([]time.Duration, 30)
	for i := range delays {
		delays[i] = time.Duration(1+i%3) * time.Millisecond
	}
	var exhausted atomic.Int32
	s, err := sender.New(st, &sender.Config{
		AllowPrivateNetworks: true,
		Workers:              16,
		RequestTimeout:       200 * time.Millisecond,
		LeaseDuration:        5 * time.Second,
		PollInterval:         5 * time.Millisecond,
		Retry:                retry.Schedule{Delays: delays},
		// The breaker stays on (it must not lose or duplicate anything
		// either), but probes at the test's time scale: on a loaded machine
		// ten faults in a row open it, and the default probe interval (5 s,
		// doubling) would outlast the test's patience.
		Breaker: sender.BreakerConfig{ProbeInterval: 20 * time.Millisecond, MaxProbeInterval: 200 * time.Millisecond},
		Logger:  discardLogger(),
		Hooks: sender.Hooks{
			OnDeliveryExhausted: func(context.Context, *store.Delivery, string) { exhausted.Add(1) },
		},
	})
	require.NoError(t, err)
	require.NoError(t, s.Start(ctx))

	ids := make([]string, events)
	for i := range ids {
		ev, err := event.New(event.ModeTest, "chaos.test", map[string]int{"i": i})
		require.NoError(t, err)
		ids[i] = ev.ID
		n, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == events
	}, 60*time.Second, 10*time.Millisecond)
	// Let the last settlements land, then stop.
	require.Eventually(t, func() bool {
		ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{State: store.StateSucceeded, Page: store.Page{Limit: store.MaxPageSize}})
		require.NoError(t, err)
		return len(ds) == events
	}, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, s.Shutdown(ctx))

	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		require.Equal(t, 1, handled[id], "event %s", id)
	}
	require.GreaterOrEqual(t, accepted, events)
	require.Zero(t, exhausted.Load(), "nothing given up")
	require.Zero(t, badSig.Load(), "every request correctly signed")
	gen.mu.Lock()
	counts := gen.counts
	gen.mu.Unlock()
	t.Logf("requests: %d ok, %d 5xx, %d timeouts, %d resets; %d accepted", counts[faultNone], counts[fault5xx], counts[faultTimeout], counts[faultReset], accepted)
	require.Positive(t, counts[fault5xx])
	require.Positive(t, counts[faultTimeout])
	require.Positive(t, counts[faultReset])

	ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{State: store.StateFailed})
	require.NoError(t, err)
	require.Empty(t, ds)
}
