package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// internalPrefixes are package names error texts start their parts with;
// none may reach an API client.
var internalPrefixes = []string{"store:", "memory:", "sqlite:", "postgres:", "sender:", "event:", "json:", "dashboard:"}

// TestAPIErrorMessages checks that API error messages say what is wrong:
// an invalid field as "Field: Reason" with the field named apart, other
// failures in the dashboard's own words, never with the package and
// operation prefixes of the errors behind them.
func TestAPIErrorMessages(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "one")
	c := e.client("operator")
	tests := []struct {
		name         string
		method, path string
		body         any
		status       int
		want, field  string
	}{
		{"invalid URL on create", http.MethodPost, "endpoints", map[string]any{"url": "ftp://example.com", "event_types": []string{"*"}},
			http.StatusBadRequest, `url: want an absolute http or https URL`, "url"},
		{"invalid pattern on update", http.MethodPatch, "endpoints/" + ep.ID, map[string]any{"event_types": []string{"*", "order.*.x"}},
			http.StatusBadRequest, `event types[1]: invalid pattern "order.*.x": '*' is allowed only as the whole last segment, as in "order.*", or as the whole pattern "*"`, "event_types[1]"},
		{"pattern outside the catalog", http.MethodPost, "endpoints", map[string]any{"url": "https://example.com/h", "event_types": []string{"patient.ehi_export_sucess"}},
			http.StatusBadRequest, `event types[0]: "patient.ehi_export_sucess" selects no event type of the catalog`, "event_types[0]"},
		{"reserved header", http.MethodPost, "endpoints", map[string]any{"url": "https://example.com/h", "event_types": []string{"*"}, "headers": map[string]string{"Content-Type": "text/plain"}},
			http.StatusBadRequest, `headers["Content-Type"]: set by the sender; it cannot be overridden`, `headers["Content-Type"]`},
		{"tenant change", http.MethodPatch, "endpoints/" + ep.ID, map[string]any{"tenant": "globex"},
			http.StatusBadRequest, `tenant: an endpoint's tenant cannot be changed`, "tenant"},
		{"type outside the catalog on simulate", http.MethodPost, "endpoints/" + ep.ID + "/simulate", map[string]any{"type": "order.paid"},
			http.StatusBadRequest, `type: "order.paid" is not in the catalog`, "type"},
		{"bad cursor", http.MethodGet, "endpoints?cursor=bogus", nil,
			http.StatusBadRequest, `invalid cursor: pass the next_cursor of the previous page`, ""},
		{"bad type filter", http.MethodGet, "endpoints/" + ep.ID + "/deliveries?type=order.*.x", nil,
			http.StatusBadRequest, `invalid type filter: use an event type or a pattern such as order.paid, order.* or *`, ""},
		{"unknown JSON field", http.MethodPatch, "endpoints/" + ep.ID, map[string]any{"colour": "red"},
			http.StatusBadRequest, `invalid JSON body: unknown field "colour"`, ""},
		{"wrong JSON type", http.MethodPatch, "endpoints/" + ep.ID, map[string]any{"event_types": "order.*"},
			http.StatusBadRequest, `invalid JSON body: event_types: a JSON string is not allowed here`, ""},
		{"not found", http.MethodGet, "endpoints/nope", nil, http.StatusNotFound, "not found", ""},
	}
	for _, tt := range tests {
		r, m := c.api(tt.method, tt.path, tt.body)
		require.Equal(t, tt.status, r.status, "%s: %s", tt.name, r.body)
		apiErr := m["error"].(map[string]any)
		msg := apiErr["message"].(string)
		require.True(t, strings.HasPrefix(msg, tt.want), "%s: %q", tt.name, msg)
		if tt.field == "" {
			require.NotContains(t, apiErr, "field", tt.name)
		} else {
			require.Equal(t, tt.field, apiErr["field"], tt.name)
		}
		for _, p := range internalPrefixes {
			require.NotContains(t, msg, p, tt.name)
		}
	}
	got, err := e.st.GetEndpoint(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"*"}, got.EventTypes, "refused updates change nothing")
	require.Equal(t, "acme", got.Tenant)
}

// failingStore fails every endpoint list and creation with an error naming
// the driver.
type failingStore struct{ store.SenderStore }

var errDriver = errors.New("postgres: list endpoints: connection refused")

func (failingStore) ListEndpoints(context.Context, store.EndpointFilter) ([]*store.Endpoint, string, error) {
	return nil, "", errDriver
}

func (failingStore) CreateEndpoint(context.Context, *store.Endpoint) error { return errDriver }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAPIInternalErrorGeneric checks that an internal error, on a read and
// on an endpoint owner's write, is logged and answered with a generic
// message, and that a stopped sender is 503.
func TestAPIInternalErrorGeneric(t *testing.T) {
	var logs syncBuffer
	snd, err := sender.New(failingStore{memory.New(nil)}, &sender.Config{Logger: quiet})
	require.NoError(t, err)
	h, err := dashboard.New(&dashboard.Config{Authorize: authorize, Sender: snd,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	call := func(method, path, body string) (int, apiBody) {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer operator")
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		var b apiBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b), rec.Body.String())
		return rec.Code, b
	}
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/endpoints", ""},
		{http.MethodPost, "/api/endpoints", `{"url":"https://example.com/h","event_types":["*"]}`},
	} {
		code, body := call(c.method, c.path, c.body)
		require.Equal(t, http.StatusInternalServerError, code, c.path)
		require.Equal(t, "internal", body.Error.Code)
		require.Equal(t, "internal error", body.Error.Message)
	}
	require.Equal(t, 2, strings.Count(logs.String(), errDriver.Error()), "each error is logged")
	require.True(t, strings.Contains(logs.String(), "level=ERROR"))

	require.NoError(t, snd.Close())
	code, body := call(http.MethodPost, "/api/endpoints", `{"url":"https://example.com/h","event_types":["*"]}`)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "unavailable", body.Error.Code)
	require.NotContains(t, body.Error.Message, "sender:")
}

// apiBody is an API error answer.
type apiBody struct {
	Error struct{ Code, Message, Field string }
}
