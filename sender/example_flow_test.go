package sender_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// Events of one order published with its id as the ordering key: the
// endpoint gets them in publish order, one at a time, even though the
// first attempt of the first one fails; the event of another order is not
// held up.
func ExamplePublishOptions_orderingKey() {
	ctx := context.Background()
	var requests atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, _ := event.Decode(body)
		if requests.Add(1) == 1 {
			fmt.Printf("503 for %s\n", ev.Data)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Printf("200 for %s\n", ev.Data)
	}))
	defer receiver.Close()

	st := memory.New(nil)
	secret, _ := signature.NewSecret()
	ep := &store.Endpoint{Mode: event.ModeTest, URL: receiver.URL, EventTypes: []string{"order.*"},
		Secrets: []store.SigningKey{{Key: secret.String()}}}
	_ = st.CreateEndpoint(ctx, ep)
	clock := new(exampleClock)
	s, _ := sender.New(st, &sender.Config{
		Workers:              1,
		Now:                  clock.Now,
		AllowPrivateNetworks: true, // the example's receiver is on loopback
		Logger:               slog.New(slog.DiscardHandler),
	})
	defer s.Close()

	publish := func(order, status string) {
		ev, _ := event.New(event.ModeTest, "order.updated", map[string]string{"order": order, "status": status})
		_, _ = s.Publish(ctx, ev, sender.ToEndpoint(ep.ID), &sender.PublishOptions{OrderingKey: order})
	}
	publish("o-1", "paid")
	publish("o-1", "shipped")
	publish("o-2", "paid")

	_, _ = s.ProcessDue(ctx) // o-1's first event fails; o-2 goes on
	clock.advance()          // past the retry's delay
	_, _ = s.ProcessDue(ctx)
	// Output:
	// 503 for {"order":"o-1","status":"paid"}
	// 200 for {"order":"o-2","status":"paid"}
	// 200 for {"order":"o-1","status":"paid"}
	// 200 for {"order":"o-1","status":"shipped"}
}

// exampleClock is a fake clock for examples: it starts at a fixed instant
// and moves an hour at a time.
type exampleClock struct{ hours atomic.Int64 }

func (c *exampleClock) Now() time.Time {
	return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c.hours.Load()) * time.Hour)
}

func (c *exampleClock) advance() { c.hours.Add(1) }
