package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// csrfCookie holds the random value CSRF tokens are derived from.
const csrfCookie = "webhookkit_csrf"

// csrfField is the form field carrying the token.
const csrfField = "csrf_token"

type scopeKey struct{}

func withScope(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// scopeOf returns the request's scope. ServeHTTP always sets it; a request
// that somehow lacks one sees the empty tenant only.
func scopeOf(r *http.Request) Scope {
	s, _ := r.Context().Value(scopeKey{}).(Scope)
	return s
}

// csrfToken returns the token for the request's CSRF cookie, setting a fresh
// cookie first when there is none. The token is an HMAC of the cookie value
// and the scope, so a token stolen from one tenant's page does not work in
// another's session (double-submit, signed).
func (h *handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	v := ""
	if c, err := r.Cookie(csrfCookie); err == nil && validCookieValue(c.Value) {
		v = c.Value
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
		v = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{
			Name:     csrfCookie,
			Value:    v,
			Path:     h.base,
			HttpOnly: true,
			Secure:   r.TLS != nil,
			SameSite: http.SameSiteStrictMode,
		})
		// Later calls in this request must see the same value.
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
	}
	return h.sign(v, scopeOf(r))
}

func validCookieValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

func (h *handler) sign(cookie string, s Scope) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte("webhookkit-dashboard-csrf\x00"))
	m.Write([]byte(cookie))
	if s.All {
		m.Write([]byte("\x00all"))
	} else {
		m.Write([]byte("\x00tenant\x00"))
		m.Write([]byte(s.Tenant))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a state-changing form request: same origin (by Origin
// and Sec-Fetch-Site when the browser sends them) and a token matching the
// cookie. The form must already be parsed.
func (h *handler) checkCSRF(r *http.Request) bool {
	if !sameOrigin(r) {
		return false
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validCookieValue(c.Value) {
		return false
	}
	got := r.PostFormValue(csrfField)
	want := h.sign(c.Value, scopeOf(r))
	return hmac.Equal([]byte(got), []byte(want))
}

// sameOrigin rejects requests a browser marks as cross-site: a
// Sec-Fetch-Site other than same-origin or none, or an Origin whose host is
// not the request's. Requests without either header (non-browser clients)
// pass; the token or the JSON content type protects them.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// jsonRequest reports whether the request declares a JSON body, which an
// HTML form cannot send.
func jsonRequest(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}
