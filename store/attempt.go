package store

import (
	"context"
	"net/http"
	"time"

	"github.com/webhookkit/webhookkit/event"
)

// DefaultRetention is how long the attempt log keeps attempts: 15 days, as
// the delivery logs of the provider webhookkit grew from.
const DefaultRetention = 15 * 24 * time.Hour

// DefaultMaxResponseBody is how much of a response body an attempt keeps:
// 64 KiB. Longer bodies are cut and ResponseTruncated is set.
const DefaultMaxResponseBody = 64 << 10

// DefaultMaxResponseHeaders is how many bytes of response headers an
// attempt keeps: 64 KiB, counted as on the wire (name, ": ", value and CRLF
// per value). When a response's headers are larger, the sender keeps the
// values that fit and records the cut under [TruncatedHeaderKey].
const DefaultMaxResponseHeaders = 64 << 10

// TruncatedHeaderKey is the key under which an attempt's ResponseHeaders
// record that headers were left out, with one value such as
// "65502 of 9612345 bytes kept". It is not a valid HTTP field name (field
// names cannot contain parentheses), so no response can send it, and every
// store keeps it as it keeps any header: marking the cut this way needs no
// column of its own. See [Attempt.ResponseHeadersTruncated].
const TruncatedHeaderKey = "(truncated)"

// Attempt is one HTTP request of a delivery and what came back.
type Attempt struct {
	// ID is assigned by the store when empty.
	ID         string
	DeliveryID string
	EndpointID string
	Tenant     string
	EventID    string
	EventType  string
	Mode       event.Mode
	// Number is the delivery's attempt number, from 1.
	Number int
	// At is when the request started; Duration how long until the response
	// headers and body were read or the attempt failed.
	At       time.Time
	Duration time.Duration

	// Request: the URL, headers and body as sent, except that the sender
	// stores the values of an endpoint's extra headers (which often carry
	// credentials) as "(redacted)", and the URL's whole userinfo (user name
	// and password, sent as basic auth) too:
	// https://(redacted)@example.com/hook. Signature headers are kept: they
	// are not secrets.
	URL            string
	RequestHeaders http.Header
	RequestBody    []byte

	// Response: status 0 when no response arrived. The body is cut to the
	// sender's limit (DefaultMaxResponseBody), and the headers to theirs
	// (DefaultMaxResponseHeaders), which [TruncatedHeaderKey] then marks.
	StatusCode        int
	ResponseHeaders   http.Header
	ResponseBody      []byte
	ResponseTruncated bool

	// Error is the transport error or the reason the attempt failed, empty on
	// success. The sender redacts the URL's userinfo in it as in URL.
	Error string
	// Success reports whether the attempt delivered the event.
	Success bool

	// Format is the shape of RequestBody, the endpoint's [BodyFormat] at the
	// attempt: "" (or [BodyEnvelope]) for the standard envelope.
	Format BodyFormat
}

// ResponseHeadersTruncated reports whether ResponseHeaders were cut to the
// sender's limit: whether they hold [TruncatedHeaderKey].
func (a *Attempt) ResponseHeadersTruncated() bool {
	_, ok := a.ResponseHeaders[TruncatedHeaderKey]
	return ok
}

// Clone returns a deep copy.
func (a *Attempt) Clone() *Attempt {
	if a == nil {
		return nil
	}
	c := *a
	c.RequestHeaders = a.RequestHeaders.Clone()
	c.ResponseHeaders = a.ResponseHeaders.Clone()
	c.RequestBody = append([]byte(nil), a.RequestBody...)
	c.ResponseBody = append([]byte(nil), a.ResponseBody...)
	return &c
}

// AttemptFilter selects attempts to list. Zero fields do not filter.
type AttemptFilter struct {
	// Tenant and AllTenants work as in [EndpointFilter].
	Tenant     string
	AllTenants bool
	EndpointID string
	EventID    string
	DeliveryID string
	// Since and Until bound At: Since <= At < Until.
	Since, Until time.Time
	Page         Page
}

// Attempts is the attempt log. Implementations must be safe for concurrent
// use.
type Attempts interface {
	// AddAttempt stores a copy of a, assigning a.ID when empty.
	AddAttempt(ctx context.Context, a *Attempt) error
	// GetAttempt returns a copy of the attempt, or [ErrNotFound].
	GetAttempt(ctx context.Context, id string) (*Attempt, error)
	// ListAttempts returns attempts newest first (by At, then ID), one page
	// at a time.
	ListAttempts(ctx context.Context, f AttemptFilter) ([]*Attempt, string, error)
	// PruneAttempts deletes attempts that started before the given time and
	// returns how many.
	PruneAttempts(ctx context.Context, before time.Time) (int, error)
}
