package receiver_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
)

// One receiver takes GitHub's and Stripe's webhooks on two paths, with one
// handler: each event is de-duplicated under its source's namespace and
// routed by its type.
func ExampleSource() {
	var mu sync.Mutex
	var seen []string
	record := func(ctx context.Context, ev event.Event) error {
		d, _ := receiver.DeliveryFrom(ctx)
		mu.Lock()
		seen = append(seen, d.Source+" "+ev.ID+" "+ev.Type)
		mu.Unlock()
		return nil
	}
	mux := receiver.NewMux()
	_ = mux.HandleFunc("pull_request.*", record)
	_ = mux.HandleFunc("payment_intent.*", record)

	r, err := receiver.New(mux, &receiver.Config{
		Sources: []receiver.Source{
			{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "github webhook secret"}}},
			{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: "whsec_stripe_endpoint_secret"}}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	routes := http.NewServeMux()
	routes.Handle("/webhooks/github", r.Source("github"))
	routes.Handle("/webhooks/stripe", r.Source("stripe"))

	// What GitHub and Stripe send.
	gh := post([]byte(`{"action":"opened","number":7}`))
	gh.Header.Set("X-GitHub-Event", "pull_request")
	gh.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	gh.Header.Set("X-Hub-Signature-256", "sha256="+hexMAC("github webhook secret", `{"action":"opened","number":7}`))

	body := `{"id":"evt_1","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"pi_1"}}}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	st := post([]byte(body))
	st.Header.Set("Stripe-Signature", "t="+ts+",v1="+hexMAC("whsec_stripe_endpoint_secret", ts+"."+body))

	for _, req := range []*http.Request{gh, st} {
		w := httptest.NewRecorder()
		routes.ServeHTTP(w, req)
		fmt.Println(req.URL.Path, w.Code)
	}
	_ = r.Shutdown(context.Background()) // handles what was accepted
	sort.Strings(seen)
	for _, s := range seen {
		fmt.Println(s)
	}
	// Output:
	// /webhooks/github 200
	// /webhooks/stripe 200
	// github 72d3162e-cc78-11e3-81ab-4c9367dc0958 pull_request.opened
	// stripe evt_1 payment_intent.succeeded
}

// post is a JSON POST of body to the path its provider's source is on.
func post(body []byte) *http.Request {
	path := "/webhooks/stripe"
	if bytes.Contains(body, []byte(`"action"`)) {
		path = "/webhooks/github"
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func hexMAC(secret, content string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(content))
	return hex.EncodeToString(m.Sum(nil))
}
