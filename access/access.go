// Package access holds what the HTTP handlers that administer webhooks
// (the dashboard and the webhookapi management API) share about who may do
// what: a [Scope], the tenants one request may see and change, and an
// [AuthorizeFunc] that gives a request its scope. One function can guard
// both handlers.
//
// A tenant is an organization (store.Endpoint.Tenant); a scope covers all of
// an organization's endpoints, organization-wide and per account alike.
package access

import (
	"errors"
	"net/http"
)

// ErrForbidden may be returned (wrapped or not) by an [AuthorizeFunc] to
// answer 403 Forbidden instead of 401 Unauthorized: the caller is known but
// may not use the handler.
var ErrForbidden = errors.New("access: forbidden")

// Scope is what one request may see and change: the endpoints, deliveries
// and attempts of one tenant, or, with All set, of every tenant (operators).
// The zero Scope is the empty tenant "", which is a tenant of its own (for
// single-tenant applications), not a wildcard. A Scope is a plain value,
// safe for concurrent use.
type Scope struct {
	// Tenant is the one tenant visible when All is false.
	Tenant string
	// All makes every tenant visible; Tenant is then ignored.
	All bool
}

// Allows reports whether the scope covers the tenant.
func (s Scope) Allows(tenant string) bool { return s.All || s.Tenant == tenant }

// AuthorizeFunc authenticates a request and returns its [Scope]. Handlers
// call it for every request, possibly from many goroutines at once, so it
// must be safe for concurrent use. A non-nil error rejects the request:
// with 403 Forbidden when the error matches [ErrForbidden], otherwise with
// 401 Unauthorized. Handlers log the error's text and never show it.
type AuthorizeFunc func(r *http.Request) (Scope, error)

// Status is the HTTP status a handler answers an [AuthorizeFunc]'s error
// with: 403 Forbidden when err matches [ErrForbidden], 401 Unauthorized
// otherwise.
func Status(err error) int {
	if errors.Is(err, ErrForbidden) {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}
