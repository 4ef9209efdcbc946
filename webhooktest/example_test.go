package webhooktest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// A delivery that fails once, then succeeds on the retry, with no sleep: the
// fake clock jumps to the retry. In a test, NewEndpoint(t, cfg),
// NewSender(t, ...) and ep.Register(t, s, patterns...) replace the setup and
// the Close calls; outside a test, NewServer and Registration take their
// place.
func Example() {
	ctx := context.Background()
	clock := webhooktest.NewClock(time.Date(2024, 6, 13, 0, 0, 0, 0, time.UTC))

	ep, err := webhooktest.NewServer(&webhooktest.EndpointConfig{Clock: clock})
	if err != nil {
		log.Fatal(err)
	}
	defer ep.Close()

	st := memory.New(&memory.Config{Now: clock.Now})
	s, err := sender.New(st, &sender.Config{
		Now:                  clock.Now,
		AllowPrivateNetworks: true, // the endpoint listens on 127.0.0.1
		Retry:                retry.Schedule{Delays: []time.Duration{time.Minute}},
		Logger:               slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// Register the endpoint as an application registers a customer's URL:
	// through the sender's endpoint owner, with the endpoint's URL and secret.
	if _, err := s.Endpoints().Create(ctx, ep.Registration("patient.*")); err != nil {
		log.Fatal(err)
	}

	ep.FailNext(1, http.StatusServiceUnavailable)
	sample, _ := fasten.Catalog().Lookup(fasten.TypeEHIExportSuccess)
	ev, err := event.New(event.ModeTest, sample.Type, sample.Sample)
	if err != nil {
		log.Fatal(err)
	}
	// Publish ignores ev.Date: each attempt is dated by the sender's clock.
	if _, err := s.Publish(ctx, ev, sender.ToTenant(""), nil); err != nil {
		log.Fatal(err)
	}

	attempts, err := webhooktest.DeliverAll(ctx, s, clock)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range ep.Requests() {
		fmt.Println("answered", r.Status, "at", r.At.Format(time.TimeOnly))
	}
	fmt.Println("attempts:", attempts)
	fmt.Println("received:", len(ep.Events()), ep.Events()[0].Type)
	// Output:
	// answered 503 at 00:00:00
	// answered 200 at 00:01:00
	// attempts: 2
	// received: 1 patient.ehi_export_success
}

func ExampleClock() {
	clock := webhooktest.NewClock(time.Date(2024, 6, 13, 9, 0, 0, 0, time.UTC))
	fmt.Println(clock.Now().Format(time.Kitchen))
	clock.Advance(90 * time.Minute)
	fmt.Println(clock.Now().Format(time.Kitchen))
	// Output:
	// 9:00AM
	// 10:30AM
}

// The receiver's retry of a failing callback follows the fake clock too: it
// runs in RunRetries once the clock has passed the retry delay.
func ExampleEndpoint_RunRetries() {
	ctx := context.Background()
	clock := webhooktest.NewClock(time.Date(2024, 6, 13, 0, 0, 0, 0, time.UTC))

	var calls atomic.Int32
	ep, err := webhooktest.NewServer(&webhooktest.EndpointConfig{
		Clock: clock,
		Handler: receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if calls.Add(1) == 1 {
				return errors.New("database unavailable") // the first callback fails
			}
			return nil
		}),
		Receiver: receiver.Config{
			Retry:  retry.Schedule{Delays: []time.Duration{time.Second}},
			Logger: slog.New(slog.DiscardHandler),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ep.Close()

	st := memory.New(&memory.Config{Now: clock.Now})
	s, err := sender.New(st, &sender.Config{Now: clock.Now, AllowPrivateNetworks: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Endpoints().Create(ctx, ep.Registration()); err != nil {
		log.Fatal(err)
	}
	ev, err := event.New(event.ModeTest, "ping", map[string]string{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Publish(ctx, ev, sender.ToTenant(""), nil); err != nil {
		log.Fatal(err)
	}

	attempts, err := webhooktest.DeliverAll(ctx, s, clock)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sender attempts:", attempts, "callback calls:", len(ep.Events()))

	clock.Advance(time.Second) // past the receiver's retry delay
	retried, err := ep.RunRetries(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("retries run:", retried, "callback calls:", len(ep.Events()), "handled:", ep.Receiver().Stats().Handled)
	// Output:
	// sender attempts: 1 callback calls: 1
	// retries run: 1 callback calls: 2 handled: 1
}
