package webhookapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/webhookkit/webhookkit/access"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/webhookapi"
)

// Mount the API under /api/ of the producer's server, guarded by the same
// kind of function as the dashboard, and create a webhook on an
// organization as its customers would.
func Example() {
	snd, err := sender.New(memory.New(nil), nil)
	if err != nil {
		panic(err)
	}
	defer snd.Close()
	api, err := webhookapi.New(snd, &webhookapi.Config{
		Authorize: func(r *http.Request) (access.Scope, error) {
			// Your authentication: here a bearer token naming the organization.
			org, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				return access.Scope{}, fmt.Errorf("no token")
			}
			return access.Scope{Tenant: org}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", api))

	req := httptest.NewRequest(http.MethodPost, "/api/webhooks", strings.NewReader(
		`{"organization": "org_1", "active": true, "url": "https://example.com/webhook", "events": "medical-encounters"}`))
	req.Header.Set("Authorization", "Bearer org_1")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)

	var wh struct {
		Organization string   `json:"organization"`
		Active       bool     `json:"active"`
		Events       []string `json:"events"`
		Format       string   `json:"format"`
		Secret       string   `json:"secret"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &wh); err != nil {
		panic(err)
	}
	fmt.Println(rec.Code, wh.Organization, wh.Active, wh.Events, wh.Format, strings.HasPrefix(wh.Secret, "whsec_"))
	// Output:
	// 201 org_1 true [medical-encounters] event-payload true
}
