package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCookieHandoffStaysOnHost checks that the redirect that takes the
// token out of the address bar always stays on the dashboard's host: a
// path starting with "//" must not become a scheme-relative Location.
func TestCookieHandoffStaysOnHost(t *testing.T) {
	a := &tokenAuth{token: "tok", cookie: tokenCookie}
	h := a.cookieHandoff(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	tests := []struct {
		target, want string
	}{
		{"/?token=tok", "/"},
		{"/endpoints/x?token=tok&page=2", "/endpoints/x?page=2"},
		{"//evil.example/x?token=tok", "/evil.example/x"},
		{"///evil.example?token=tok", "/evil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+tt.target, nil))
			require.Equal(t, http.StatusSeeOther, w.Code)
			require.Equal(t, tt.want, w.Header().Get("Location"))
		})
	}
}
