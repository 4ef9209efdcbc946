package receiver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/signature"
)

func ExampleReceiver() {
	// The endpoint's signing secret, shared with the sender.
	secret, err := signature.NewSecret()
	if err != nil {
		log.Fatal(err)
	}

	// Route the types the application cares about.
	handled := make(chan string, 1)
	events := receiver.NewMux()
	_ = events.HandleFunc("patient.*", func(ctx context.Context, ev event.Event) error {
		handled <- ev.Type // runs on a worker, after the 200
		return nil
	})

	r, err := receiver.New(events, &receiver.Config{
		Keys: []receiver.Key{{Text: secret.String()}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/webhooks", r)

	// What a sender does: a signed POST of the event's envelope.
	signer, err := signature.NewSigner([]signature.Secret{secret})
	if err != nil {
		log.Fatal(err)
	}
	ev, err := event.New(event.ModeTest, "patient.ehi_export_success", map[string]string{"org_connection_id": "c-1"})
	if err != nil {
		log.Fatal(err)
	}
	body, _ := ev.MarshalJSON()
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	signer.SignHeader(req.Header, ev.ID, time.Now(), body)

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code)
	fmt.Println(<-handled)
	// Output:
	// 200
	// patient.ehi_export_success
}

func ExampleTyped() {
	type exportSuccess struct {
		OrgConnectionID string `json:"org_connection_id"`
	}
	events := receiver.NewMux()
	_ = events.Handle("patient.ehi_export_success", receiver.Typed(
		func(ctx context.Context, ev event.Event, data exportSuccess) error {
			fmt.Println("export ready for", data.OrgConnectionID)
			return nil
		}))

	ev, _ := event.New(event.ModeTest, "patient.ehi_export_success", map[string]string{"org_connection_id": "c-1"})
	_ = events.HandleEvent(context.Background(), ev)
	// Output: export ready for c-1
}

// A test drives callback retries with a fake clock: ManualRetries leaves
// each retry waiting until RunRetries finds it due, so nothing sleeps.
func ExampleReceiver_RunRetries() {
	var mu sync.Mutex
	now := time.Date(2024, 6, 13, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	var calls atomic.Int32
	handler := receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		if calls.Add(1) == 1 {
			fmt.Println("first attempt failed at", clock().Format(time.TimeOnly))
			return errors.New("database unavailable")
		}
		fmt.Println("handled at", clock().Format(time.TimeOnly))
		return nil
	})
	secret, err := signature.NewSecret()
	if err != nil {
		log.Fatal(err)
	}
	r, err := receiver.New(handler, &receiver.Config{
		Keys:          []receiver.Key{{Text: secret.String()}},
		Now:           clock,
		ManualRetries: true,
		Retry:         retry.Schedule{Delays: []time.Duration{time.Second}},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	signer, err := signature.NewSigner([]signature.Secret{secret})
	if err != nil {
		log.Fatal(err)
	}
	ev, err := event.New(event.ModeTest, "ping", map[string]string{})
	if err != nil {
		log.Fatal(err)
	}
	body, _ := ev.MarshalJSON()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	signer.SignHeader(req.Header, ev.ID, clock(), body)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req) // 200 at once; a worker makes the first attempt

	n, _ := r.RunRetries(ctx) // settles the first attempt; its retry waits
	fmt.Println("answered", w.Code, "and retries run:", n)
	advance(999 * time.Millisecond)
	n, _ = r.RunRetries(ctx)
	fmt.Println("retries run:", n)
	advance(time.Millisecond)
	n, _ = r.RunRetries(ctx)
	fmt.Println("retries run:", n)
	// Output:
	// first attempt failed at 09:00:00
	// answered 200 and retries run: 0
	// retries run: 0
	// handled at 09:00:01
	// retries run: 1
}
