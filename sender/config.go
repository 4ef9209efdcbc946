package sender

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// Defaults used for the zero fields of a [Config].
const (
	// DefaultWorkers is how many deliveries a sender makes at once.
	DefaultWorkers = 32
	// DefaultRequestTimeout bounds one attempt: connecting, sending, and
	// reading the response headers and the kept part of the body.
	DefaultRequestTimeout = 15 * time.Second
	// DefaultLeaseDuration is how long a leased delivery belongs to this
	// sender before another may take it. It exceeds the request timeout.
	DefaultLeaseDuration = 60 * time.Second
	// DefaultPollInterval is how often an idle sender asks the store for due
	// deliveries. Publish, Simulate, Retry, ReplayFailed and
	// Endpoints.Enable wake it at once, so this only bounds how late a
	// delivery scheduled for later (a retry) or enqueued by another process
	// starts.
	DefaultPollInterval = time.Second
	// DefaultMaxPayload is the largest envelope Publish accepts, 256 KiB:
	// well under the receiver's default 1 MiB limit.
	DefaultMaxPayload = 256 << 10
	// DefaultMaxResponseBody is how much of each response body the attempt
	// log keeps.
	DefaultMaxResponseBody = store.DefaultMaxResponseBody
	// DefaultMaxResponseHeaders is how many bytes of each response's
	// headers the attempt log keeps, 64 KiB.
	DefaultMaxResponseHeaders = store.DefaultMaxResponseHeaders
	// DefaultMaxResponseHeaderBytes, 256 KiB, is the MaxResponseHeaderBytes
	// of the sender's own transport, and of a Config.Transport (or
	// HTTPClient.Transport) that leaves it zero: a response whose header
	// section is larger fails the attempt (net/http's own default is 10 MB).
	DefaultMaxResponseHeaderBytes = 256 << 10
	// DefaultRetention is how long the attempt log keeps attempts.
	DefaultRetention = store.DefaultRetention
	// DefaultPruneInterval is how often a started sender prunes the attempt
	// log.
	DefaultPruneInterval = time.Hour
	// DefaultDisableAfterFailures and DefaultDisableAfterDuration: an
	// endpoint is disabled after this many consecutive failed attempts once
	// it has also been failing for at least this long. The warning hook
	// fires at half the failures.
	DefaultDisableAfterFailures = 20
	DefaultDisableAfterDuration = 24 * time.Hour
	// DefaultMaxInFlight is the per-endpoint cap on concurrent requests when
	// neither the endpoint nor the Config sets one: a quarter of
	// DefaultWorkers, so one slow endpoint cannot occupy every worker.
	DefaultMaxInFlight = 8
	// DefaultRotationOverlap is how long the old secrets keep signing after
	// Endpoints.RotateSecret, so receivers have time to install the new one.
	DefaultRotationOverlap = 24 * time.Hour
	// DefaultSettleBatchSize caps the outcomes one Settle call writes.
	DefaultSettleBatchSize = 256
)

// Config configures a [Sender]. The zero value (or a nil *Config) is ready to
// use: every zero field takes the default documented on it. New copies the
// Config; changing it afterwards has no effect.
type Config struct {
	// Mode is the API mode this sender stamps on events without one and the
	// only mode whose deliveries it processes. Zero: [event.ModeTest].
	Mode event.Mode

	// Workers is how many deliveries run at once. Zero: [DefaultWorkers].
	Workers int

	// RequestTimeout bounds each attempt. Zero: [DefaultRequestTimeout].
	RequestTimeout time.Duration

	// LeaseDuration is how long a delivery stays leased to this sender; if
	// the process dies, another sender may take it after this. It must
	// exceed RequestTimeout. Zero: [DefaultLeaseDuration], or, when that is
	// not longer than RequestTimeout, twice RequestTimeout.
	LeaseDuration time.Duration

	// PollInterval is how often an idle started sender looks for due
	// deliveries. A sender is idle after a lease that found fewer due
	// deliveries than it asked for; Publish, a store notification (see
	// [store.Notifier]) or a delivery released for later wakes it before
	// the interval ends, and a retry this sender scheduled sooner than the
	// interval is made when it falls due, not at the next poll. Zero:
	// [DefaultPollInterval].
	PollInterval time.Duration

	// SettleBatchSize caps the outcomes of attempts written together in
	// one call of the store's Settle (one transaction): each delivery's new
	// state, its attempt record, and one health change per endpoint (see
	// "Settling" in the package documentation). It also bounds the outcomes
	// waiting to be written: a worker with an outcome to hand over waits
	// while twice as many (or 2 x Workers, if more) are waiting. Zero:
	// [DefaultSettleBatchSize].
	SettleBatchSize int

	// SettleLinger is how long a batch of outcomes waits for more before it
	// is written, unless it is full already. Zero, the default, writes at
	// once: under light load each outcome is one commit away, and under
	// heavy load batches fill while the previous one is written. A linger
	// trades latency for fewer, larger commits at moderate load: the time
	// from an attempt to its record in the store grows by up to
	// SettleLinger, while the workers go on with other deliveries
	// meanwhile.
	SettleLinger time.Duration

	// Retry decides whether and when a failed delivery is tried again.
	// Nil: [retry.Default]: 10 attempts over about 75 hours, jittered,
	// giving up at 4 days.
	Retry retry.Policy

	// Classifier classifies each attempt's result (success, retry,
	// permanent failure, gone). Zero: the default rules of
	// [retry.Classifier.Classify].
	Classifier retry.Classifier

	// MaxPayload is the largest envelope, in bytes, Publish, PublishTx and
	// Simulate accept; larger events are refused with [ErrPayloadTooLarge].
	// Zero: [DefaultMaxPayload].
	MaxPayload int

	// MaxResponseBody is how many bytes of each response body the attempt
	// log keeps (the rest is read and discarded, up to as much again, so
	// the connection can be reused). Zero: [DefaultMaxResponseBody].
	MaxResponseBody int

	// MaxResponseHeaders is how many bytes of each response's headers the
	// attempt log keeps, counted as on the wire (name, ": ", value and
	// CRLF per value). When they are larger, the log keeps the values that
	// fit, in header-name order, and records the cut under
	// [store.TruncatedHeaderKey] (see [store.Attempt]). The retry policy
	// still sees every header (Retry-After). The transport's limit
	// ([DefaultMaxResponseHeaderBytes]) bounds what is read at all. Zero:
	// [DefaultMaxResponseHeaders].
	MaxResponseHeaders int

	// Retention is how long the attempt log keeps attempts; a started sender
	// prunes older ones every PruneInterval, and, when the store implements
	// [store.DeliveryPruner], deliveries that finished longer ago. Zero:
	// [DefaultRetention]. Negative: never prune.
	Retention time.Duration

	// PruneInterval is how often a started sender prunes the attempt log
	// and forgets what it keeps in memory about endpoints it has not
	// delivered to since the last time (their limiter, breaker, signer and
	// TLS client). Zero: [DefaultPruneInterval].
	PruneInterval time.Duration

	// DisableAfterFailures and DisableAfterDuration decide when an endpoint
	// is disabled automatically: after DisableAfterFailures consecutive
	// failed attempts AND at least DisableAfterDuration since the first of
	// them. Hooks.OnEndpointWarning fires once when the failures reach half
	// of DisableAfterFailures. Zero: [DefaultDisableAfterFailures] and
	// [DefaultDisableAfterDuration]. A negative DisableAfterFailures never
	// disables (and never warns).
	DisableAfterFailures int
	DisableAfterDuration time.Duration

	// DefaultRateLimit is the per-endpoint rate limit, in requests per
	// second, for endpoints whose RateLimit is zero. Zero: unlimited.
	DefaultRateLimit float64
	// DefaultBurst is the rate limiter's burst for endpoints whose Burst is
	// zero. Zero: 1.
	DefaultBurst int
	// DefaultMaxInFlight caps concurrent requests to one endpoint whose
	// MaxInFlight is zero. Zero: [DefaultMaxInFlight]. Negative: no cap
	// (only Workers bounds it).
	DefaultMaxInFlight int

	// AllowPrivateNetworks lets the sender connect to loopback, private,
	// link-local, CGNAT, unique-local, multicast and unspecified addresses.
	// Leave it false in production: the check runs before each connection
	// is dialled, on the resolved address, so DNS tricks cannot bypass it.
	// Errors are reported as attempts failing with [ErrPrivateAddress],
	// whose text names no resolved address and is the same whether the
	// refused port is open, closed or filtered (the debug log has the
	// address). [Endpoints] applies the same setting to URLs as endpoints
	// are created and edited ([Endpoints.CheckURL]).
	AllowPrivateNetworks bool

	// RequireHTTPSInLive refuses plain http in live mode: a live-mode
	// sender's [Endpoints] refuses http URLs as endpoints are created and
	// edited, and attempts of live-mode events to an http URL (an endpoint
	// stored by other means) fail with [ErrInsecureURL] without a request.
	RequireHTTPSInLive bool

	// Transport is the HTTP transport. Nil: a transport tuned for the
	// sender (keep-alive pool sized to Workers, no proxy, response headers
	// capped at [DefaultMaxResponseHeaderBytes]). An *http.Transport is
	// cloned, its MaxResponseHeaderBytes set to
	// [DefaultMaxResponseHeaderBytes] when zero, and the private-address
	// guard installed in its dialer. Without a dial function it gets a
	// dialer that checks each address before connecting. A DialContext (or
	// Dial) function is called with checked IP addresses, not host names:
	// the guard resolves the host with [net.DefaultResolver] and dials its
	// public addresses in turn, so the function never connects to a
	// private one. A DialTLSContext (or DialTLS) function needs the host
	// name for TLS, so it is called with it after the guard has resolved
	// the name and found every address public; the address it connected
	// to is checked again, and the connection closed unused if it is not
	// public. An IP-literal host that is not public is refused before any
	// function is called. One with a Proxy (as http.DefaultTransport
	// has) cannot be guarded, since the guard would see the proxy's
	// address, and neither can any other RoundTripper: New refuses them
	// with [ErrUnguardedTransport] unless AllowPrivateNetworks is set; to add middleware
	// (tracing, metrics) to a guarded transport use WrapTransport.
	// At most one of Transport and HTTPClient may be set.
	Transport http.RoundTripper

	// HTTPClient is a client whose Transport, Jar and Timeout are used (its
	// Transport under the same rules as the Transport field). The sender
	// works on a copy whose CheckRedirect never follows a redirect: a 3xx
	// is a failed attempt.
	HTTPClient *http.Client

	// WrapTransport, when set, wraps the final (guarded) transport, for
	// middleware such as tracing or metrics.
	WrapTransport func(http.RoundTripper) http.RoundTripper

	// Proxy, when set, sends every request (deliveries and OAuth2 token
	// requests) through this forward proxy, an "http://host:port" URL,
	// with HTTP CONNECT; its userinfo, if any, is sent as basic
	// Proxy-Authorization. The proxy's own address is allowed whatever
	// AllowPrivateNetworks says. The private-address guard still applies to
	// every destination: the sender resolves and checks the destination
	// itself, asks the proxy to CONNECT to the checked IP address (so the
	// proxy's DNS cannot be used to reach a private one), and speaks TLS
	// through the tunnel with the URL's host name. Nil: no proxy (the
	// environment's HTTP_PROXY is never used). A Transport with a Proxy of
	// its own, or with a DialTLSContext, cannot be combined with it.
	Proxy *url.URL

	// OAuth2 obtains the access tokens of endpoints with OAuth2 settings
	// (store.Endpoint.OAuth2); module github.com/webhookkit/webhookkit/oauth2
	// provides one built on golang.org/x/oauth2. Nil: [Endpoints] refuses
	// such endpoints and attempts to those stored by other means fail with
	// [ErrNoTokenSource].
	OAuth2 TokenSource

	// KMS signs with the endpoint keys held in a KMS or HSM ("whkms_"
	// signing keys, see signature.KMS). Nil: [Endpoints] refuses such keys
	// and attempts of endpoints stored with one fail with [ErrNoKMS].
	KMS signature.KMS

	// UserAgent is the User-Agent header. Zero: "webhookkit/<version>".
	UserAgent string

	// OmitBodies keeps request and response bodies out of the attempt log
	// (status, headers and timings are still kept).
	OmitBodies bool

	// Logger receives the sender's logs, with the attributes event_id,
	// endpoint_id, delivery_id and attempt; bodies and secrets are never
	// logged. Nil: [slog.Default]. The levels are chosen so that a busy
	// sender's log at INFO (slog's default) shows only what changes:
	//
	//   - DEBUG: each successful attempt ("sender: attempt"), a publish
	//     that reached no endpoint, pruning, a refused private address.
	//   - INFO: each failed attempt, an endpoint enabled
	//     or recovered, a circuit breaker half-open or closed again.
	//   - WARN: a delivery given up, an endpoint failing, disabled or its
	//     breaker opened, a lost lease, a store write being retried.
	//   - ERROR: the store failing (leasing, settling, pruning), a hook
	//     that panicked.
	//
	// To follow every attempt, use a handler at DEBUG, or Hooks.OnAttempt.
	Logger *slog.Logger

	// Hooks observe deliveries and endpoint health.
	Hooks Hooks

	// Catalog lists the event types this sender publishes (see
	// [event.Catalog]). Set, it guards against typos on both sides:
	// Publish, PublishTx and Simulate refuse an event whose type it does
	// not list, with an error wrapping [event.ErrUnknownType] ("ping" is in
	// every catalog, so pings are always allowed), and [Endpoints] refuses
	// an event-type pattern that selects none of its types (a
	// *[store.FieldError] for "event types[i]" wrapping
	// event.ErrUnknownType). Dashboards and tools read it back with
	// [Sender.Catalog] for their type choices and samples. Nil (or an
	// empty Catalog): every valid type and pattern is accepted.
	Catalog *event.Catalog

	// Now is the clock. Nil: [time.Now]. With a fake clock, drive the
	// sender with ProcessDue; rate limits, due times, attempt dates and
	// signature timestamps all follow it, while request timeouts and
	// attempt durations use real time.
	Now func() time.Time

	// WorkerID names this sender in leases (Delivery.LeasedBy). Zero: the
	// host name, process id and a random suffix.
	WorkerID string

	// OnKeyGiveUp says what becomes of an ordering key (see
	// [PublishOptions].OrderingKey) whose head delivery is given up: the
	// key's next delivery goes ([KeySkip], the zero value) or waits until
	// the failed one is replayed ([KeyHold]).
	OnKeyGiveUp KeyGiveUp
	// Breaker configures the per-endpoint circuit breaker. The zero value
	// is on, with the defaults of [BreakerConfig].
	Breaker BreakerConfig
	// SlowStart configures the ramp that brings an endpoint back up to its
	// limits. The zero value is on, with the defaults of
	// [SlowStartConfig].
	SlowStart SlowStartConfig

	// allowAddr, set by tests only, replaces the guard's rule of which
	// addresses are public.
	allowAddr func(netip.Addr) bool
}

// settings is a Config with defaults filled in and checked.
type settings struct {
	Config
	warnAt int // failures at which OnEndpointWarning fires; 0: never
}

func (c *Config) settings() (*settings, error) {
	s := &settings{}
	if c != nil {
		s.Config = *c
	}
	if err := s.checkSigns(); err != nil {
		return nil, err
	}
	if err := s.fillDelivery(); err != nil {
		return nil, err
	}
	s.fillHealth()
	s.fillIdentity()
	if err := s.fillFlow(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkSigns refuses a mode that is not one and the negative values that
// have no meaning.
func (s *settings) checkSigns() error {
	cf := &s.Config
	if cf.Mode == "" {
		cf.Mode = event.ModeTest
	}
	if !cf.Mode.Valid() {
		return fmt.Errorf("%w: Config.Mode %q: want %q or %q", ErrInvalidConfig, cf.Mode, event.ModeTest, event.ModeLive)
	}
	nonNeg := []struct {
		name string
		bad  bool
	}{
		{"Workers", cf.Workers < 0},
		{"RequestTimeout", cf.RequestTimeout < 0},
		{"LeaseDuration", cf.LeaseDuration < 0},
		{"PollInterval", cf.PollInterval < 0},
		{"SettleBatchSize", cf.SettleBatchSize < 0},
		{"SettleLinger", cf.SettleLinger < 0},
		{"MaxPayload", cf.MaxPayload < 0},
		{"MaxResponseBody", cf.MaxResponseBody < 0},
		{"MaxResponseHeaders", cf.MaxResponseHeaders < 0},
		{"PruneInterval", cf.PruneInterval < 0},
		{"DisableAfterDuration", cf.DisableAfterDuration < 0},
		{"DefaultRateLimit", cf.DefaultRateLimit < 0},
		{"DefaultBurst", cf.DefaultBurst < 0},
	}
	for _, f := range nonNeg {
		if f.bad {
			return fmt.Errorf("%w: Config.%s must not be negative", ErrInvalidConfig, f.name)
		}
	}
	return nil
}

// fillDelivery fills the defaults of the delivery machinery: workers,
// timeouts, leases, polling, retries, sizes, pruning and the HTTP client's
// fields.
func (s *settings) fillDelivery() error {
	cf := &s.Config
	if cf.Workers == 0 {
		cf.Workers = DefaultWorkers
	}
	if cf.RequestTimeout == 0 {
		cf.RequestTimeout = DefaultRequestTimeout
	}
	if cf.LeaseDuration == 0 {
		cf.LeaseDuration = DefaultLeaseDuration
		if cf.LeaseDuration <= cf.RequestTimeout {
			cf.LeaseDuration = 2 * cf.RequestTimeout
		}
	}
	if cf.LeaseDuration <= cf.RequestTimeout {
		return fmt.Errorf("%w: Config.LeaseDuration (%v) must exceed RequestTimeout (%v)", ErrInvalidConfig, cf.LeaseDuration, cf.RequestTimeout)
	}
	if cf.PollInterval == 0 {
		cf.PollInterval = DefaultPollInterval
	}
	if cf.SettleBatchSize == 0 {
		cf.SettleBatchSize = DefaultSettleBatchSize
	}
	if cf.Retry == nil {
		cf.Retry = retry.Default()
	}
	if cf.MaxPayload == 0 {
		cf.MaxPayload = DefaultMaxPayload
	}
	if cf.MaxResponseBody == 0 {
		cf.MaxResponseBody = DefaultMaxResponseBody
	}
	if cf.MaxResponseHeaders == 0 {
		cf.MaxResponseHeaders = DefaultMaxResponseHeaders
	}
	if cf.Retention == 0 {
		cf.Retention = DefaultRetention
	}
	if cf.PruneInterval == 0 {
		cf.PruneInterval = DefaultPruneInterval
	}
	if cf.DefaultMaxInFlight == 0 {
		cf.DefaultMaxInFlight = DefaultMaxInFlight
	}
	if p := cf.Proxy; p != nil && (p.Scheme != "http" || p.Host == "") {
		return fmt.Errorf("%w: Config.Proxy: want an http://host:port URL (HTTP CONNECT)", ErrInvalidConfig)
	}
	if cf.Transport != nil && cf.HTTPClient != nil {
		return fmt.Errorf("%w: Config.Transport and Config.HTTPClient: set at most one", ErrInvalidConfig)
	}
	return nil
}

// fillHealth fills the endpoint-health thresholds and derives the warning
// threshold from them.
func (s *settings) fillHealth() {
	cf := &s.Config
	if cf.DisableAfterFailures == 0 {
		cf.DisableAfterFailures = DefaultDisableAfterFailures
	}
	if cf.DisableAfterDuration == 0 {
		cf.DisableAfterDuration = DefaultDisableAfterDuration
	}
	if cf.DisableAfterFailures > 0 {
		s.warnAt = max((cf.DisableAfterFailures+1)/2, 1)
	}
}

// fillIdentity fills what the sender says about itself and where it
// reports: user agent, logger, clock and worker id.
func (s *settings) fillIdentity() {
	cf := &s.Config
	if cf.UserAgent == "" {
		cf.UserAgent = "webhookkit/" + moduleVersion()
	}
	if cf.Logger == nil {
		cf.Logger = slog.Default()
	}
	if cf.Now == nil {
		cf.Now = time.Now
	}
	if cf.WorkerID == "" {
		host, _ := os.Hostname()
		cf.WorkerID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8])
	}
}

// moduleVersion returns the webhookkit module's version from the build
// information, or "dev" when it is not known (tests, a replaced module).
func moduleVersion() string {
	const path = "github.com/webhookkit/webhookkit"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	mods := append([]*debug.Module{&bi.Main}, bi.Deps...)
	for _, m := range mods {
		if m.Path == path && m.Version != "" && m.Version != "(devel)" {
			return m.Version
		}
	}
	return "dev"
}
