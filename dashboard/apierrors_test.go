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
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// internalPrefixes are package names error texts start their parts with;
// none may reach an API client.
var internalPrefixes = []string{"store:", "memory:", "sqlite:", "postgres:", "sender:", "event:", "json:", "dashboard:"}

// TestAPIErrorMessages checks that API error messages say what is wrong
// without the package and operation prefixes of the errors behind them.
func TestAPIErrorMessages(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "one")
	c := e.client("operator")
	tests := []struct {
		name         string
		method, path string
		body         any
		status       int
		want         string
	}{
		{"invalid URL on create", http.MethodPost, "endpoints", map[string]any{"url": "ftp://example.com", "event_types": []string{"*"}},
			http.StatusUnprocessableEntity, `endpoint url: want an absolute http or https URL`},
		{"invalid pattern on update", http.MethodPatch, "endpoints/" + ep.ID, map[string]any{"event_types": []string{"order.*.x"}},
			http.StatusUnprocessableEntity, `endpoint event types[0]: invalid pattern "order.*.x": '*' is allowed only as the whole last segment, as in "order.*", or as the whole pattern "*"`},
		{"bad cursor", http.MethodGet, "endpoints?cursor=bogus", nil,
			http.StatusUnprocessableEntity, `invalid argument: page cursor "bogus"`},
		{"bad type filter", http.MethodGet, "endpoints/" + ep.ID + "/deliveries?type=order.*.x", nil,
			http.StatusBadRequest, `invalid pattern "order.*.x": '*' is allowed only as the whole last segment, as in "order.*", or as the whole pattern "*"`},
		{"unknown JSON field", http.MethodPatch, "endpoints/" + ep.ID, map[string]any{"colour": "red"},
			http.StatusBadRequest, `invalid JSON body: unknown field "colour"`},
		{"not found", http.MethodGet, "endpoints/nope", nil, http.StatusNotFound, "not found"},
	}
	for _, tt := range tests {
		r, m := c.api(tt.method, tt.path, tt.body)
		require.Equal(t, tt.status, r.status, "%s: %s", tt.name, r.body)
		msg := m["error"].(map[string]any)["message"].(string)
		// Contains: the create and update handlers may add to their messages.
		require.Contains(t, msg, tt.want, tt.name)
		for _, p := range internalPrefixes {
			require.NotContains(t, msg, p, tt.name)
		}
	}
}

// failingStore fails every endpoint list with an error naming the driver.
type failingStore struct{ store.SenderStore }

var errDriver = errors.New("postgres: list endpoints: connection refused")

func (failingStore) ListEndpoints(context.Context, store.EndpointFilter) ([]*store.Endpoint, string, error) {
	return nil, "", errDriver
}

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

// TestAPIInternalErrorGeneric checks that an internal error is logged and
// answered with a generic message.
func TestAPIInternalErrorGeneric(t *testing.T) {
	var logs syncBuffer
	h, err := dashboard.New(&dashboard.Config{Authorize: authorize, Store: failingStore{memory.New(nil)},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/endpoints", nil)
	req.Header.Set("Authorization", "Bearer operator")
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	var body struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.Equal(t, "internal", body.Error.Code)
	require.Equal(t, "internal error", body.Error.Message)
	require.Contains(t, logs.String(), errDriver.Error(), "the error is logged")
	require.True(t, strings.Contains(logs.String(), "level=ERROR"))
}
