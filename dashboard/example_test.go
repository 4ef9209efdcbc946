package dashboard_test

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store/memory"
)

// ExampleNew mounts the dashboard under /webhooks/ for the customers of an
// application: each request's session names one customer, who sees only
// their own endpoints and logs. The dashboard takes the sender: it reads
// the sender's store, administers endpoints through the sender's owner (so
// a typo in a subscription is refused as the application's own code would
// refuse it) and offers the types of the sender's catalog.
func ExampleNew() {
	catalog, err := event.NewCatalog(
		event.TypeInfo{Type: "order.paid", Description: "An order was paid",
			Sample: json.RawMessage(`{"order_id":"ord_1042","amount":4200}`)},
		event.TypeInfo{Type: "invoice.finalized", Description: "An invoice can no longer change"},
	)
	if err != nil {
		panic(err)
	}
	snd, err := sender.New(memory.New(nil), &sender.Config{Catalog: catalog}) // test mode; Start it in a real program
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
		BasePath:  "/webhooks/",
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", h)

	call := func(method, path, token, body string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	call(http.MethodGet, "/webhooks/api/endpoints", "", "")
	call(http.MethodGet, "/webhooks/api/endpoints", "token-acme", "")
	call(http.MethodPost, "/webhooks/api/endpoints", "token-acme",
		`{"url":"https://acme.example/hooks","event_types":["order.payed"]}`)

	_, err = dashboard.New(&dashboard.Config{Sender: snd})
	fmt.Println(err)
	// Output:
	// 401 {"error":{"code":"unauthorized","message":"Unauthorized"}}
	// 200 {"data":[],"next_cursor":""}
	// 400 {"error":{"code":"invalid","message":"event types[0]: \"order.payed\" selects no event type of the catalog (it lists invoice.finalized, order.paid, ping)","field":"event_types[0]"}}
	// dashboard: Config.Authorize is required
}

// ExampleTheme brands a tenant's dashboard with the application's name,
// logo and accent colour. The colours are served as CSS variables in the
// handler's theme.css; a theme that is not plainly a colour, a name or a
// logo URL is refused, so one taken from a customer's settings cannot
// inject CSS or HTML.
func ExampleTheme() {
	snd, err := sender.New(memory.New(nil), nil)
	if err != nil {
		panic(err)
	}
	defer snd.Close()
	authorize := func(*http.Request) (dashboard.Scope, error) { return dashboard.Scope{Tenant: "acme"}, nil }

	_, err = dashboard.New(&dashboard.Config{Authorize: authorize, Sender: snd,
		Theme: dashboard.Theme{Accent: "red; } body { display: none"}})
	fmt.Println(errors.Is(err, dashboard.ErrInvalidConfig))

	h, err := dashboard.New(&dashboard.Config{Authorize: authorize, Sender: snd, BasePath: "/webhooks/",
		Theme: dashboard.Theme{Name: "Acme", LogoURL: "https://cdn.acme.example/logo.svg", Accent: "#7a2ff0"}})
	if err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/theme.css", nil))
	fmt.Print(rec.Body.String())
	fmt.Println(strings.Contains(rec.Header().Get("Content-Security-Policy"), "img-src 'self' data: https://cdn.acme.example;"))
	// Output:
	// true
	// :root { --accent:#7a2ff0; }
	// true
}
