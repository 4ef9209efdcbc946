package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
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
		Keys: []receiver.Key{{Secret: secret.String()}},
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
