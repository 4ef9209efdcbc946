package dashboard_test

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store/memory"
)

// ExampleNew mounts the dashboard under /webhooks/ for the customers of an
// application: each request's session names one customer, who sees only
// their own endpoints and logs.
func ExampleNew() {
	st := memory.New(nil)
	snd, err := sender.New(st, nil) // test mode; Start it in a real program
	if err != nil {
		panic(err)
	}
	defer snd.Close()

	// The application's own authentication; here a token per customer.
	sessions := map[string]string{"token-acme": "acme"}
	authorize := func(r *http.Request) (dashboard.Scope, error) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		for t, tenant := range sessions {
			if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
				return dashboard.Scope{Tenant: tenant}, nil
			}
		}
		return dashboard.Scope{}, errors.New("unknown session")
	}

	h, err := dashboard.New(&dashboard.Config{
		Authorize: authorize,
		Sender:    snd,
		Store:     st,
		BasePath:  "/webhooks/",
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", h)

	for _, tok := range []string{"", "token-acme"} {
		req := httptest.NewRequest(http.MethodGet, "/webhooks/api/endpoints", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}

	_, err = dashboard.New(&dashboard.Config{Store: st})
	fmt.Println(err)
	// Output:
	// 401 {"error":{"code":"unauthorized","message":"Unauthorized"}}
	// 200 {"data":[],"next_cursor":""}
	// dashboard: Config.Authorize is required
}
