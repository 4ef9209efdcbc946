package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/webhookkit/webhookkit/event"
)

// Endpoint is a URL subscribed to event types, owned by a tenant. The sender
// delivers matching events to it, signed with its secrets.
type Endpoint struct {
	// ID identifies the endpoint. CreateEndpoint assigns a UUID when empty.
	ID string
	// Tenant is the owner: the organization. Events are published to a
	// tenant's endpoints; the dashboard scopes by it. Empty is a valid
	// tenant of its own, not a wildcard. It cannot change after creation.
	// [Endpoint.Validate] accepts at most [MaxScopeName] bytes of UTF-8
	// text without control characters.
	Tenant string
	// Account narrows the endpoint to one account of the organization
	// (Tenant); empty means organization-wide. An event published for
	// (organization, account) reaches the organization's organization-wide
	// endpoints and that account's; an event published for the organization
	// alone reaches its organization-wide endpoints only (see
	// [EndpointFilter].Accounts). It cannot change after creation: stores
	// keep it on update, as Tenant. The same rules as Tenant's apply.
	Account string
	// Format is the shape of the request body of every delivery: the
	// standard envelope (zero value, or [BodyEnvelope]) or
	// [BodyEventPayload]. It is chosen at creation: stores keep it on
	// update, so a receiver never sees the shape change under it.
	Format BodyFormat
	// Mode is the API mode the endpoint receives: [event.ModeTest] or
	// [event.ModeLive]. A sender delivers only its own mode's deliveries.
	Mode event.Mode
	// URL is where deliveries are POSTed: an absolute http or https URL with
	// a host name (see [Endpoint.Validate]).
	URL string
	// Description is free text for people.
	Description string
	// EventTypes are the [event.Pattern]s the endpoint subscribes to, such as
	// "patient.ehi_export_success", "patient.*" or "*". At least one is
	// required: there is no implicit "everything".
	EventTypes []string
	// Secrets sign every delivery; during a rotation there are several and
	// each request carries a signature per secret. At least one is required,
	// and each must be a key that signs (see [SigningKey.Key]).
	Secrets []SigningKey
	// Headers are extra request headers sent with every delivery. They cannot
	// override Content-Type, User-Agent or the webhook-* headers.
	Headers map[string]string
	// RateLimit caps deliveries per second to this endpoint; zero means the
	// sender's default (unlimited unless configured).
	RateLimit float64
	// Burst is the rate limiter's burst; zero means 1 when RateLimit is set.
	Burst int
	// MaxInFlight caps concurrent requests to this endpoint; zero means the
	// sender's default.
	MaxInFlight int
	// Metadata is free-form key/value data for the application.
	Metadata map[string]string
	// OAuth2, when set, makes every delivery carry an access token obtained
	// with these client credentials (see [OAuth2]). Nil: none.
	OAuth2 *OAuth2
	// TLS, when set, holds a client certificate for mutual TLS and a CA
	// bundle for the endpoint (see [ClientTLS]). Nil: no client
	// certificate, the system's roots.
	TLS *ClientTLS

	// Disabled stops deliveries: publishing skips the endpoint and its queued
	// deliveries wait (paused) until it is enabled again.
	Disabled bool
	// DisabledReason says why, for people ("20 consecutive failures", "410 Gone").
	DisabledReason string
	// DisabledAt is when it was disabled; zero while enabled.
	DisabledAt time.Time

	// Health is maintained by the health deltas of [Outbox.Settle], once
	// per endpoint per batch; SetDisabled resets it on enable.
	Health Health

	// CreatedAt and UpdatedAt are maintained by the store.
	CreatedAt, UpdatedAt time.Time
}

// BodyFormat is the shape of the JSON body a delivery is POSTed with. Both
// carry the event's data bytes exactly as published, and the same signature
// headers (webhook-id, webhook-timestamp, webhook-signature) sign the body as
// sent. The zero value "" is [BodyEnvelope].
type BodyFormat string

// The body formats.
const (
	// BodyEnvelope is the standard envelope, [event.Event] on the wire:
	// {"api_mode", "date", "id", "type", "data"}.
	BodyEnvelope BodyFormat = "envelope"
	// BodyEventPayload is {"id": "<event id>", "event": "<type>",
	// "payload": {...}}: the event's id, its type and its data, with
	// "payload" left out when the data is an empty object ({}, as a
	// ping's). The date travels in the webhook-timestamp header only.
	BodyEventPayload BodyFormat = "event-payload"
)

// Valid reports whether f is "", [BodyEnvelope] or [BodyEventPayload].
func (f BodyFormat) Valid() bool { return f == "" || f == BodyEnvelope || f == BodyEventPayload }

// Name returns the format's name for people and APIs: "envelope" for the
// zero value, f otherwise.
func (f BodyFormat) Name() string {
	if f == "" {
		return string(BodyEnvelope)
	}
	return string(f)
}

// Health is an endpoint's recent delivery record.
type Health struct {
	// ConsecutiveFailures counts failed attempts since the last success.
	ConsecutiveFailures int
	// FailingSince is the time of the first failure of the current run of
	// failures; zero when the last attempt succeeded.
	FailingSince time.Time
	// LastSuccessAt and LastFailureAt are the times of the latest attempts
	// with those outcomes; zero when there has been none.
	LastSuccessAt, LastFailureAt time.Time
	// Breaker is the state of the endpoint's circuit breaker as a sender
	// last recorded it (see [HealthDelta].SetBreaker), and BreakerSince
	// when it took that state. The zero value is [BreakerClosed]. Enabling
	// a disabled endpoint closes it.
	Breaker      BreakerState
	BreakerSince time.Time
}

// BreakerState is the state of an endpoint's circuit breaker.
type BreakerState string

// Breaker states.
const (
	// BreakerClosed: deliveries flow (the zero value).
	BreakerClosed BreakerState = ""
	// BreakerOpen: the endpoint failed too often; its deliveries wait,
	// unattempted, while a single probe is sent now and then.
	BreakerOpen BreakerState = "open"
	// BreakerHalfOpen: a probe is in flight; its outcome closes the
	// breaker or opens it again.
	BreakerHalfOpen BreakerState = "half-open"
)

// String returns "closed", "open" or "half-open" (or the value itself, for
// one that is not a state).
func (b BreakerState) String() string {
	if b == BreakerClosed {
		return "closed"
	}
	return string(b)
}

// SigningKey is one signing key of an endpoint, in its textual form
// ("whsec_..." or "whsk_..."), with the window in which it signs.
type SigningKey struct {
	// Key is the secret's text: "whsec_" and the base64 of 24 to 64 random
	// bytes, or "whsk_" and the base64 of a 64-byte Ed25519 private key (see
	// [signature.ParseSigningKey]), or "whkms_" and the name of an Ed25519
	// key held in a KMS or HSM, which signs through the sender's
	// signature.KMS (see [signature.ParseKeyRef]). A public key ("whpk_")
	// cannot sign and is refused. Stores check it and keep it as given
	// (sealed, by a store that encrypts secrets at rest); it must never be
	// logged.
	Key string
	// CreatedAt is when the secret was added. A store that stores a secret
	// without one (zero) sets it to its clock's time, the time it stamps on
	// the endpoint (see [Endpoint.Prepare]); a CreatedAt that is set is kept.
	CreatedAt time.Time
	// ExpiresAt is when the secret stops signing (the end of a rotation's
	// overlap); zero means it does not expire.
	ExpiresAt time.Time
}

// Active reports whether the secret signs at time t.
func (s SigningKey) Active(t time.Time) bool { return s.ExpiresAt.IsZero() || t.Before(s.ExpiresAt) }

// String keeps the key out of formatted output; read Key explicitly.
func (s SigningKey) String() string { return "whsec_(redacted)" }

// LogValue keeps the key out of logs.
func (s SigningKey) LogValue() slog.Value { return slog.StringValue("(redacted)") }

// GoString keeps the key out of %#v output.
func (s SigningKey) GoString() string { return "store.SigningKey{redacted}" }

// Validate checks the fields a store requires: mode, an absolute http(s)
// URL with a host name (a port, if any, from 1 to 65535, and no spaces),
// at least one valid event-type pattern, at least one secret, each a key
// that signs (a "whsec_" secret or a "whsk_" private key, parsed by
// [signature.ParseSigningKey], or a "whkms_" key reference; a "whpk_"
// public key is refused), limits that are not negative, and OAuth2 and TLS
// settings that are complete and parse (fields "oauth2.*", "tls", "tls.*"). It stops at the first field at fault and returns
// a *[FieldError] naming it (find it with errors.As; it wraps [ErrInvalid]
// and, for a pattern or a secret, the event or signature package's error),
// whose text never repeats a secret or a URL's credentials. A nil endpoint
// is invalid too (an error wrapping ErrInvalid, without a field). Every
// store applies this rule, through [Endpoint.Prepare], when it creates or
// updates an endpoint.
func (e *Endpoint) Validate() error {
	if e == nil {
		return fmt.Errorf("%w: nil endpoint", ErrInvalid)
	}
	if !e.Mode.Valid() {
		return &FieldError{Field: "mode", Reason: fmt.Sprintf("%q: want %q or %q", e.Mode, event.ModeTest, event.ModeLive)}
	}
	if reason := checkScopeName(e.Tenant); reason != "" {
		return &FieldError{Field: "tenant", Reason: reason}
	}
	if reason := checkScopeName(e.Account); reason != "" {
		return &FieldError{Field: "account", Reason: reason}
	}
	if err := CheckURL(e.URL); err != nil {
		return err
	}
	if !e.Format.Valid() {
		return &FieldError{Field: "format", Reason: fmt.Sprintf("%.64q: want %q or %q", e.Format, BodyEnvelope, BodyEventPayload)}
	}
	if len(e.EventTypes) == 0 {
		return &FieldError{Field: "event types", Reason: `at least one pattern is required ("*" for all)`}
	}
	for i, p := range e.EventTypes {
		if _, err := event.ParsePattern(p); err != nil {
			return &FieldError{Field: fmt.Sprintf("event types[%d]", i), Reason: reasonOf(err, "event: "), Err: err}
		}
	}
	if len(e.Secrets) == 0 {
		return &FieldError{Field: "secrets", Reason: "at least one is required"}
	}
	for i, s := range e.Secrets {
		if err := checkSigningKey(s.Key); err != nil {
			return &FieldError{Field: fmt.Sprintf("secrets[%d]", i), Reason: reasonOf(err, "signature: "), Err: err}
		}
	}
	switch {
	case !(e.RateLimit >= 0): // NaN too
		return &FieldError{Field: "limits", Reason: "the rate limit must be a number, not negative"}
	case e.Burst < 0:
		return &FieldError{Field: "limits", Reason: "the burst must not be negative"}
	case e.MaxInFlight < 0:
		return &FieldError{Field: "limits", Reason: "the cap on requests in flight must not be negative"}
	}
	return e.validateCredentials()
}

// MaxScopeName is the longest [Endpoint].Tenant or Account, in bytes.
const MaxScopeName = 200

// checkScopeName returns why v is not a valid tenant or account name (too
// long, not UTF-8, or holding a control character), or "". The reason
// never repeats v.
func checkScopeName(v string) string {
	switch {
	case len(v) > MaxScopeName:
		return fmt.Sprintf("%d bytes: at most %d", len(v), MaxScopeName)
	case !utf8.ValidString(v):
		return "not valid UTF-8"
	case strings.ContainsFunc(v, unicode.IsControl):
		return "holds a control character"
	}
	return ""
}

// reasonOf is err's text without the name of the package that made it
// (prefix), for a [FieldError]'s Reason: the event and signature packages'
// errors say nothing secret.
func reasonOf(err error, prefix string) string {
	return strings.TrimPrefix(err.Error(), prefix)
}

// CheckURL checks the shape of an endpoint URL: absolute http or https with
// a host name, a port (if any) from 1 to 65535, and no spaces (which HTTP
// request lines cannot carry). It returns nil or a *[FieldError] for the
// field "url" (wrapping [ErrInvalid]) that says what is wrong without
// repeating the URL, so no credentials in it can leak. Where the URL may
// point (public addresses only, say) is the sender's policy, not the
// store's.
func CheckURL(raw string) error {
	if reason := checkURL(raw); reason != "" {
		return &FieldError{Field: "url", Reason: reason}
	}
	return nil
}

// checkURL says what is wrong with an endpoint URL, or "".
func checkURL(raw string) string {
	if raw == "" {
		return "empty"
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return "not a URL: " + err.Error()
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "want an absolute http or https URL"
	case u.Hostname() == "":
		return "want an absolute http or https URL with a host name"
	case strings.ContainsRune(raw, ' '):
		return "spaces must be escaped (%20)"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %s is out of range", p)
		}
	}
	return ""
}

// Prepare returns the copy of e that a store keeps when it creates or
// updates e at time now: e is checked with [Endpoint.Validate], and each
// secret without a CreatedAt gets now (a set CreatedAt is kept). It does not
// change e. Drivers call it first, with the time they stamp on the
// endpoint, so they all refuse and stamp alike. An invalid endpoint returns
// nil and an error wrapping [ErrInvalid].
func (e *Endpoint) Prepare(now time.Time) (*Endpoint, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	c := e.Clone()
	for i := range c.Secrets {
		if c.Secrets[i].CreatedAt.IsZero() {
			c.Secrets[i].CreatedAt = now
		}
	}
	return c, nil
}

// Clone returns a deep copy, so callers and stores never share slices or maps.
func (e *Endpoint) Clone() *Endpoint {
	if e == nil {
		return nil
	}
	c := *e
	c.EventTypes = append([]string(nil), e.EventTypes...)
	c.Secrets = append([]SigningKey(nil), e.Secrets...)
	c.Headers = cloneMap(e.Headers)
	c.Metadata = cloneMap(e.Metadata)
	c.OAuth2, c.TLS = e.OAuth2.clone(), e.TLS.clone()
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// EndpointFilter selects endpoints to list. Zero fields do not filter.
type EndpointFilter struct {
	// Tenant selects one tenant's endpoints; AllTenants must be set to list
	// across tenants (an empty Tenant alone means the empty tenant).
	Tenant     string
	AllTenants bool
	// Accounts, when not empty, selects the endpoints whose Account is one
	// of these, "" standing for the organization-wide ones. The fan-out of
	// an event published for (organization, account) lists with
	// {"", account}; for the organization alone, with {""}. Empty: every
	// account's and the organization-wide endpoints.
	Accounts []string
	// Mode selects one API mode; empty means both.
	Mode event.Mode
	// ActiveOnly skips disabled endpoints.
	ActiveOnly bool
	// Page is the cursor and page size.
	Page Page
}

// Endpoints stores endpoints. Implementations must be safe for concurrent use.
type Endpoints interface {
	// CreateEndpoint validates and stores ep (see [Endpoint.Prepare]),
	// assigning ep.ID (a UUID) when empty and setting CreatedAt and
	// UpdatedAt, and the CreatedAt of secrets that have none to the same
	// time, also on ep. An invalid endpoint is [ErrInvalid] and an existing
	// ID [ErrConflict].
	CreateEndpoint(ctx context.Context, ep *Endpoint) error
	// GetEndpoint returns a copy of the endpoint, or [ErrNotFound].
	GetEndpoint(ctx context.Context, id string) (*Endpoint, error)
	// UpdateEndpoint validates ep (see [Endpoint.Prepare]) and replaces the
	// user-editable fields of the stored endpoint (everything but ID, Tenant,
	// Account, Format, Disabled*, Health and CreatedAt), setting UpdatedAt, and the CreatedAt
	// of secrets that have none to the same time, also on ep. An invalid
	// endpoint is [ErrInvalid]; a missing one [ErrNotFound].
	UpdateEndpoint(ctx context.Context, ep *Endpoint) error
	// DeleteEndpoint removes the endpoint and its pending and paused
	// deliveries; its attempt log stays until pruned. [ErrNotFound] when
	// missing.
	DeleteEndpoint(ctx context.Context, id string) error
	// ListEndpoints returns endpoints ordered by ID, one page at a time.
	ListEndpoints(ctx context.Context, f EndpointFilter) ([]*Endpoint, string, error)
}

// EndpointHealth keeps endpoints' enabled state: the bookkeeping a sender
// does after attempts (it disables an endpoint that keeps failing), apart
// from the administration in [Endpoints]. The health itself is written by
// [Outbox.Settle], with the attempts that change it. Implementations must be
// safe for concurrent use.
type EndpointHealth interface {
	// SetDisabled atomically disables the endpoint (disabled true, with a
	// reason) or enables it again (health reset). A store that also holds the
	// outbox pauses the endpoint's pending deliveries on disable and makes
	// paused ones due at time at on enable, in the same transaction. It
	// returns the updated endpoint, or [ErrNotFound].
	SetDisabled(ctx context.Context, id string, disabled bool, reason string, at time.Time) (*Endpoint, error)
}
