package sender

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/webhookkit/webhookkit/internal/netguard"
)

var (
	// ErrClosed is returned by every method of a Sender after Close or
	// Shutdown has begun.
	ErrClosed = errors.New("sender: closed")

	// ErrInvalidConfig is returned by New, wrapped with the name of the
	// field at fault, for a configuration it cannot use: a nil store, an
	// unknown mode, a negative size or duration, a lease no longer than the
	// request timeout, both Transport and HTTPClient set.
	// [ErrUnguardedTransport] is a case of its own.
	ErrInvalidConfig = errors.New("sender: invalid config")

	// ErrStarted is returned by Start when the sender is already started.
	ErrStarted = errors.New("sender: already started")

	// ErrNoAudience is returned by Publish and PublishTx for an [Audience]
	// that names no one (the zero value): publishing must say which tenant
	// or endpoint it is for, or that it is for all tenants.
	ErrNoAudience = errors.New("sender: publish needs an audience: a tenant, all tenants or an endpoint")

	// ErrInvalidOptions is returned (wrapped, saying which) by Publish and
	// PublishTx for [PublishOptions] that contradict each other or make no
	// sense, and for a nil transaction.
	ErrInvalidOptions = errors.New("sender: invalid publish options")

	// ErrPayloadTooLarge is returned (wrapped, with the sizes) when an
	// event's envelope exceeds Config.MaxPayload.
	ErrPayloadTooLarge = errors.New("sender: payload too large")

	// ErrModeMismatch is returned when an event's api_mode, or an
	// endpoint's mode, is not the sender's mode.
	ErrModeMismatch = errors.New("sender: api mode does not match the sender's")

	// ErrLiveMode is returned by Simulate on a live-mode sender: simulated
	// events exist in test mode only.
	ErrLiveMode = errors.New("sender: simulate is available in test mode only")

	// ErrEndpointDisabled is returned by Publish to [ToEndpoint], and by
	// Simulate, for a disabled
	// endpoint.
	ErrEndpointDisabled = errors.New("sender: endpoint is disabled")

	// ErrNoActiveSecret is the error of an attempt (and of Ping) when the
	// endpoint has no secret that signs at the attempt's time: nothing is
	// sent unsigned.
	ErrNoActiveSecret = errors.New("sender: endpoint has no active secret")

	// ErrInsecureURL is the error of an attempt to a plain-http URL in live
	// mode when Config.RequireHTTPSInLive is set; no request is made.
	ErrInsecureURL = errors.New("sender: live mode requires an https endpoint URL")

	// ErrPrivateAddress is the error of an attempt whose endpoint resolved
	// to a loopback, private, link-local or other non-public address, when
	// Config.AllowPrivateNetworks is false. Ping returns it wrapped; in the
	// attempt log it appears as text, the same for every refusal (no
	// resolved address, nothing about the port). [CheckURL] wraps it for
	// a URL whose host is such an address or localhost.
	ErrPrivateAddress = netguard.ErrPrivateAddress

	// ErrUnguardedTransport is returned by New for a Config.Transport (or
	// HTTPClient.Transport) that is not an *http.Transport while
	// AllowPrivateNetworks is false: the private-address guard cannot be
	// installed in it. Use Config.WrapTransport to add middleware instead.
	ErrUnguardedTransport = errors.New("sender: cannot install the private-address guard in this transport")

	// ErrNoTokenSource is the error of an attempt to an endpoint with
	// OAuth2 settings when Config.OAuth2 is nil, and wrapped in the
	// *store.FieldError with which Endpoints refuses such an endpoint.
	ErrNoTokenSource = errors.New("sender: the endpoint uses OAuth2 but Config.OAuth2 is nil: set it to a token source (module github.com/webhookkit/webhookkit/oauth2)")

	// ErrOAuth2Token wraps the error of an attempt whose OAuth2 access
	// token could not be obtained: no request is made to the endpoint.
	ErrOAuth2Token = errors.New("sender: obtaining an OAuth2 access token")

	// ErrNoKMS is the error of an attempt, and wrapped in the
	// *store.FieldError of Endpoints, for an endpoint with a "whkms_"
	// signing key when Config.KMS is nil.
	ErrNoKMS = errors.New("sender: the endpoint signs with a KMS key but Config.KMS is nil")

	// ErrClientTLS is the error of an attempt, and wrapped in the
	// *store.FieldError of Endpoints, for an endpoint with TLS settings
	// that the sender cannot apply: its transport is not an
	// *http.Transport, or the settings do not parse.
	ErrClientTLS = errors.New("sender: cannot apply the endpoint's TLS settings")
)

// StatusError is the error Ping returns when the endpoint answered with a
// status that is not 2xx.
type StatusError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
}

// Error returns "sender: endpoint answered <code> <text>".
func (e *StatusError) Error() string {
	return fmt.Sprintf("sender: endpoint answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}
