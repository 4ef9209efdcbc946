package sender_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// A sender publishing one event to a receiver, delivered synchronously with
// ProcessDue (use Start and Shutdown to deliver in the background).
func ExampleSender() {
	ctx := context.Background()

	// The receiving side: verifies the signature with the endpoint's secret.
	secret, _ := signature.NewSecret()
	verifier, _ := signature.NewVerifier([]signature.Secret{secret}, nil, nil)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.Verify(r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		ev, _ := event.Decode(body)
		fmt.Printf("received %s %s\n", ev.Type, ev.Data)
	}))
	defer receiver.Close()

	// The sending side: an endpoint subscribed to patient events.
	st := memory.New(nil)
	ep := &store.Endpoint{
		Tenant:     "acme",
		Mode:       event.ModeTest,
		URL:        receiver.URL,
		EventTypes: []string{"patient.*"},
		Secrets:    []store.SigningKey{{Key: secret.String()}},
	}
	if err := st.CreateEndpoint(ctx, ep); err != nil {
		panic(err)
	}
	s, err := sender.New(st, &sender.Config{
		AllowPrivateNetworks: true, // the example's receiver is on 127.0.0.1
		Logger:               slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	ev, _ := event.New(event.ModeTest, "patient.ehi_export_success", map[string]string{"task_id": "t-1"})
	n, err := s.Publish(ctx, ev, sender.ToTenant("acme"), nil)
	fmt.Println("deliveries:", n, err)

	attempts, err := s.ProcessDue(ctx)
	fmt.Println("attempts:", attempts, err)

	logged, _, _ := st.ListAttempts(ctx, store.AttemptFilter{Tenant: "acme", EventID: ev.ID})
	fmt.Println("status:", logged[0].StatusCode, "success:", logged[0].Success)
	// Output:
	// deliveries: 1 <nil>
	// received patient.ehi_export_success {"task_id":"t-1"}
	// attempts: 1 <nil>
	// status: 200 success: true
}
