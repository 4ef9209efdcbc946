package oauth2_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/webhookkit/webhookkit/oauth2"
	"github.com/webhookkit/webhookkit/store"
)

// A Source fetches an endpoint's token once and reuses it until shortly
// before it expires. Give it to a sender as sender.Config.OAuth2; here it
// is called directly, against a stand-in token endpoint.
func Example() {
	requests := 0
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"eyJhbGciOi","token_type":"Bearer","expires_in":3600}`)
	}))
	defer tokens.Close()

	ep := &store.Endpoint{ID: "ep_1", OAuth2: &store.OAuth2{
		TokenURL: tokens.URL, ClientID: "webhooks", ClientSecret: "s3cret", Scopes: []string{"events:write"},
	}}
	src := oauth2.New(nil)
	for range 3 {
		h, err := src.Authorization(context.Background(), tokens.Client(), ep)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(h)
	}
	fmt.Println("token requests:", requests)
	// Output:
	// Bearer eyJhbGciOi
	// Bearer eyJhbGciOi
	// Bearer eyJhbGciOi
	// token requests: 1
}
