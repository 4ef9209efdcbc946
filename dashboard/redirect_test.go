package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// TestRedirectsKeepBasePath checks that the redirects the handler answers
// for unclean paths stay under BasePath, whether the handler serves the
// requests itself or sits behind a ServeMux (which cleans paths itself but
// hands "/dash/api" on as it is).
func TestRedirectsKeepBasePath(t *testing.T) {
	snd, err := sender.New(memory.New(&memory.Config{Logger: quiet}), &sender.Config{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { _ = snd.Close() })
	ep := &store.Endpoint{URL: "https://example.com/hook", EventTypes: []string{"*"}}
	_, err = snd.Endpoints().Create(context.Background(), ep)
	require.NoError(t, err)
	h, err := dashboard.New(&dashboard.Config{Authorize: authorize, Sender: snd, BasePath: "/dash/", Logger: quiet})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/dash/", h)

	id := ep.ID
	redirects := []struct{ path, want string }{
		{"/dash/endpoints//" + id, "/dash/endpoints/" + id},
		{"/dash//endpoints/" + id + "?state=failed", "/dash/endpoints/" + id + "?state=failed"},
		{"/dash/endpoints/./" + id, "/dash/endpoints/" + id},
		{"/dash/endpoints/nope/../" + id, "/dash/endpoints/" + id},
		{"/dash/../dash/endpoints/" + id, "/dash/endpoints/" + id},
		{"/dash//", "/dash/"},
		{"/dash/api//endpoints", "/dash/api/endpoints"},
		{"/dash", "/dash/"},
	}
	for name, srv := range map[string]http.Handler{"direct": h, "behind a ServeMux": mux} {
		for _, tc := range redirects {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Header.Set("Authorization", "Bearer operator")
			srv.ServeHTTP(rec, req)
			require.Contains(t, []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect}, rec.Code, "%s: %s", name, tc.path)
			require.Equal(t, tc.want, rec.Header().Get("Location"), "%s: %s", name, tc.path)
		}

		// No other answer of the handler redirects: "/dash/api" is an
		// unknown API route, not a redirect to "/api/".
		for _, p := range []string{"/dash/api", "/dash/api/", "/dash/endpoints", "/dash/static", "/dash/endpoints/" + id + "/"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.Header.Set("Authorization", "Bearer operator")
			srv.ServeHTTP(rec, req)
			loc := rec.Header().Get("Location")
			require.True(t, loc == "" || strings.HasPrefix(loc, "/dash/"), "%s: %s redirects to %q", name, p, loc)
			if name == "direct" {
				require.GreaterOrEqual(t, rec.Code, 400, "%s: %s", name, p)
			}
		}
	}

	// A path that cleans to outside the base path is not found (a
	// ServeMux in front would redirect it itself).
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/dash/../other", nil)
	req.Header.Set("Authorization", "Bearer operator")
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Empty(t, rec.Header().Get("Location"))

	// The cleaned path is served.
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodGet, "/dash/endpoints/"+id, nil)
	req.Header.Set("Authorization", "Bearer operator")
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)

	// BasePath must be clean: links under "/a//b/" would not reach it.
	for _, base := range []string{"/a//b/", "/a/./b/", "/a/../b/"} {
		_, err := dashboard.New(&dashboard.Config{Authorize: authorize, Sender: snd, BasePath: base})
		require.ErrorIs(t, err, dashboard.ErrInvalidConfig, base)
	}
}
