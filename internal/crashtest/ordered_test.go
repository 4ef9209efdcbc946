package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// orderedKeys is how many ordering keys TestOrderingKeysChaos spreads its
// events over.
const orderedKeys = 20

// TestOrderingKeysChaos: three senders on one durable store (a SQLite
// file; a PostgreSQL schema, each sender with its own pool) deliver events with ordering keys to an endpoint that
// fails a fifth of its requests at random and answers after a random
// pause. Each key's events carry sequence numbers in their data, published
// in order by one instance; the endpoint checks that each key's requests
// arrive one at a time, in order (a retry repeats the last number, never
// skips ahead), and that each number succeeds exactly once.
func TestOrderingKeysChaos(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, sp spec) {
		ctx := context.Background()
		n := events()
		perKey := n / orderedKeys

		type payload struct {
			Key string `json:"key"`
			Seq int    `json:"seq"`
		}
		var (
			mu        sync.Mutex
			inFlight  = make(map[string]bool)
			last      = make(map[string]int) // last number received per key
			succeeded = make(map[string]int) // numbers succeeded per key
			problems  []string
			failures  int
		)
		for k := range orderedKeys {
			last[fmt.Sprint("key-", k)] = -1
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			var env struct {
				Data payload `json:"data"`
			}
			if err == nil {
				err = json.Unmarshal(body, &env)
			}
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			p := env.Data
			mu.Lock()
			if inFlight[p.Key] {
				problems = append(problems, fmt.Sprintf("%s: %d arrived while another request of the key was in flight", p.Key, p.Seq))
			}
			inFlight[p.Key] = true
			if p.Seq != last[p.Key] && p.Seq != last[p.Key]+1 {
				problems = append(problems, fmt.Sprintf("%s: %d arrived after %d", p.Key, p.Seq, last[p.Key]))
			}
			last[p.Key] = p.Seq
			fail := rand.IntN(5) == 0
			mu.Unlock()

			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			mu.Lock()
			inFlight[p.Key] = false
			if fail {
				failures++
			} else if p.Seq == succeeded[p.Key] {
				succeeded[p.Key]++
			} else {
				problems = append(problems, fmt.Sprintf("%s: %d succeeded with %d succeeded before", p.Key, p.Seq, succeeded[p.Key]))
			}
			mu.Unlock()
			if fail {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)

		// PostgreSQL: a pool and Store per instance. SQLite: the senders
		// share one Store (one writer per file is SQLite's model).
		stores := make([]durable, instances)
		for i := range stores {
			if i == 0 || sp.kind == "postgres" {
				stores[i] = sp.openT(t, 6)
			} else {
				stores[i] = stores[0]
			}
		}
		ep := &store.Endpoint{
			Mode:        event.ModeTest,
			URL:         srv.URL,
			EventTypes:  []string{"order.*"},
			Secrets:     []store.SigningKey{{Key: "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
			MaxInFlight: 16,
		}
		require.NoError(t, stores[0].CreateEndpoint(ctx, ep))

		senders := make([]*sender.Sender, instances)
		for i := range senders {
			cfg := senderConfig(5*time.Second, logger(t, fmt.Sprint("sender ", i)))
			cfg.LeaseDuration, cfg.WorkerID = 0, fmt.Sprint("instance-", i)
			s, err := sender.New(stores[i], cfg)
			require.NoError(t, err)
			require.NoError(t, s.Start(ctx))
			t.Cleanup(func() { _ = s.Close() })
			senders[i] = s
		}

		// Each key is published in order by one instance, while all of
		// them deliver.
		var wg sync.WaitGroup
		for k := range orderedKeys {
			wg.Go(func() {
				s := senders[k%instances]
				key := fmt.Sprint("key-", k)
				for j := range perKey {
					ev, err := event.New(event.ModeTest, "order.updated", payload{Key: key, Seq: j})
					if err == nil {
						_, err = s.Publish(ctx, ev, sender.ToTenant(""), &sender.PublishOptions{OrderingKey: key})
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		require.False(t, t.Failed())

		waitFor(t, deadline(), "every event delivered", func() bool {
			mu.Lock()
			defer mu.Unlock()
			total := 0
			for _, c := range succeeded {
				total += c
			}
			return total >= orderedKeys*perKey
		})
		for _, s := range senders {
			require.NoError(t, s.Shutdown(ctx))
		}
		mu.Lock()
		defer mu.Unlock()
		require.Empty(t, problems)
		for k := range orderedKeys {
			require.Equal(t, perKey, succeeded[fmt.Sprint("key-", k)], "key-%d", k)
		}
		require.Positive(t, failures, "the endpoint failed some requests")
		t.Logf("%d keys x %d events, %d failed requests retried, order kept", orderedKeys, perKey, failures)
	})
}
