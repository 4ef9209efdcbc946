package dashboard

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/access"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// Defaults used for the zero fields of a [Config].
const (
	// DefaultBasePath is the mount prefix when Config.BasePath is empty.
	DefaultBasePath = "/"
	// DefaultWarnAt is the number of consecutive failed attempts at which
	// an endpoint shows the yellow warning banner: half of the sender's
	// default auto-disable threshold ([sender.DefaultDisableAfterFailures]).
	DefaultWarnAt = sender.DefaultDisableAfterFailures / 2
	// DefaultPageSize is how many rows a page of endpoints, deliveries or
	// attempts shows.
	DefaultPageSize = 50
	// MaxPageSize is the largest page a "limit" query parameter may ask for.
	MaxPageSize = 200
	// DefaultRotationOverlap is how long the previous secrets keep signing
	// after a rotation from the dashboard.
	DefaultRotationOverlap = sender.DefaultRotationOverlap
	// MaxFormBytes bounds the body of an HTML form or JSON API request.
	MaxFormBytes = 1 << 20
	// DefaultChartWindow is how far back the delivery charts go: the
	// attempt log's default retention, 15 days.
	DefaultChartWindow = store.DefaultRetention
	// MaxChartWindow is the longest chart window [New] accepts: 366 days.
	MaxChartWindow = 366 * 24 * time.Hour
)

var (
	// ErrNoAuthorize is returned by [New] when Config.Authorize is nil: the
	// dashboard refuses to mount rather than expose every tenant's data.
	ErrNoAuthorize = errors.New("dashboard: Config.Authorize is required")
	// ErrNoSender is returned by [New] when Config.Sender is nil: the
	// dashboard reads the sender's store and acts through the sender. A
	// read-only dashboard takes an unstarted sender and Config.ReadOnly.
	ErrNoSender = errors.New("dashboard: Config.Sender is required")
	// ErrInvalidConfig is returned by [New], wrapped with the field's name,
	// for a configuration it cannot use (a bad BasePath, a negative WarnAt).
	ErrInvalidConfig = errors.New("dashboard: invalid config")
	// ErrForbidden may be returned (wrapped or not) by an [AuthorizeFunc]
	// to answer 403 Forbidden instead of 401 Unauthorized: the caller is
	// known but may not use the dashboard. It is [access.ErrForbidden].
	ErrForbidden = access.ErrForbidden
)

// Scope is what one request may see and change: the endpoints, deliveries
// and attempts of one tenant (an organization, with all its accounts), or,
// with All set, of every tenant (operators). The zero Scope is the empty
// tenant "", which is a tenant of its own (for single-tenant applications),
// not a wildcard. It is [access.Scope], shared with the webhookapi handler.
type Scope = access.Scope

// AuthorizeFunc authenticates a request and returns its [Scope]. It is
// called for every request, including static assets, possibly from many
// goroutines at once, so it must be safe for concurrent use. A non-nil error
// rejects the request: with 403 Forbidden when the error matches
// [ErrForbidden], otherwise with 401 Unauthorized. The error text is logged,
// never shown. It is [access.AuthorizeFunc], so one function can guard the
// dashboard and the webhookapi handler alike.
type AuthorizeFunc = access.AuthorizeFunc

// Config configures the dashboard handler. Authorize and Sender are
// required; every other zero field takes the default documented on it. New
// copies the Config; changing it afterwards has no effect.
type Config struct {
	// Authorize decides who may use the dashboard and what they see.
	// Required: New returns [ErrNoAuthorize] without it.
	Authorize AuthorizeFunc

	// Sender is the one thing the dashboard works on. Its store
	// ([sender.Sender.Store]) serves the pages and lists; its endpoint
	// owner ([sender.Sender.Endpoints]) creates, edits, enables, disables
	// and deletes endpoints and rotates their secrets, with the sender's
	// checks; the sender itself retries, replays, pings and simulates. Its
	// mode is the dashboard's: endpoints of the other mode are invisible
	// (404), and the simulator is refused in live mode. Its catalog
	// ([sender.Sender.Catalog]) lists the event types offered as
	// subscriptions and in the simulator, with their samples; without one,
	// types are typed in freely. Start the sender so that what the
	// dashboard queues is delivered. Required: New returns [ErrNoSender]
	// without it.
	Sender *sender.Sender

	// ReadOnly shows the pages and lists only: action forms are hidden, and
	// every state-changing request, page or API, answers 501 Not
	// Implemented. The Sender need not be started then (the command-line
	// tool's "dashboard --read-only" gives it an unstarted one).
	ReadOnly bool

	// DeliveredElsewhere says that the Sender is not started in this
	// process: what the dashboard queues (a retry, a replay, a simulated
	// event) waits in the store for the application's senders that share
	// it. The pages' messages and the API's answers to those actions then
	// say so (a "note" field in the JSON, see the package doc), so an
	// operator does not wait for a delivery this process will never make.
	// A ping, sent synchronously by the Sender itself, is unaffected. The
	// command-line tool's "dashboard" over a durable store sets it unless
	// given --deliver. Zero: the Sender is started and delivers what the
	// dashboard queues.
	DeliveredElsewhere bool

	// BasePath is the path prefix the handler is mounted at, such as
	// "/webhooks/"; every link the pages contain, and every redirect the
	// handler answers, starts with it. A missing leading or trailing slash
	// is added; empty, "." and ".." segments are refused. The handler
	// needs the full request path: mount it without http.StripPrefix.
	// Zero: [DefaultBasePath].
	BasePath string

	// CSRFKey is the HMAC key of CSRF tokens. Set the same key on every
	// instance behind a load balancer. Nil: 32 random bytes per process
	// (tokens then stop working when the process restarts; the form just
	// needs reloading).
	CSRFKey []byte

	// WarnAt is the number of consecutive failed attempts at which an
	// endpoint shows the yellow "about to be disabled" banner. Zero: the
	// Sender's warning threshold (see [sender.Sender.Thresholds]), so the
	// banner appears when Hooks.OnEndpointWarning fires; [DefaultWarnAt]
	// when the Sender never warns.
	WarnAt int

	// PageSize is how many rows a page shows when the request does not ask
	// for a "limit" (at most [MaxPageSize]). Zero: [DefaultPageSize].
	PageSize int

	// RotationOverlap is how long old secrets keep signing after a rotation
	// started from the dashboard (the JSON API may ask for another
	// overlap). Zero: [DefaultRotationOverlap].
	RotationOverlap time.Duration

	// Logger receives the errors the pages and the API do not show (store
	// failures, and any error that is not an invalid field, a missing
	// resource or a conflict). Nil: [slog.Default].
	Logger *slog.Logger

	// Now is the clock for displayed ages, replay windows and the charts'
	// window. Nil: [time.Now].
	Now func() time.Time

	// ChartWindow is how far back the delivery charts go, rounded up to
	// whole hours; set it to the sender's Retention when that is not the
	// default, since older hours are pruned. The charts need a store with
	// [store.AttemptStats] (all of webhookkit's stores have it); without
	// one they are not shown. Zero: [DefaultChartWindow]. Negative or
	// longer than [MaxChartWindow]: New returns an error wrapping
	// [ErrInvalidConfig].
	ChartWindow time.Duration

	// Theme brands the pages: a name, a logo and colours (see [Theme] for
	// what New accepts). Zero: the default look, named [DefaultName].
	Theme Theme
}

// handler is the http.Handler New returns. It is immutable after New and
// safe for concurrent use.
type handler struct {
	authorize AuthorizeFunc
	sender    *sender.Sender
	st        store.SenderStore // the sender's, for reading
	mode      event.Mode        // the sender's
	catalog   *event.Catalog    // the sender's; nil: types are free text
	readOnly  bool
	// elsewhere is Config.DeliveredElsewhere.
	elsewhere bool
	base      string // with leading and trailing slash
	// outside logs, once, the first request for a path outside base: a
	// handler mounted at another path or behind http.StripPrefix.
	outside  sync.Once
	csrfKey  []byte
	warnAt   int
	pageSize int
	overlap  time.Duration
	log      *slog.Logger
	now      func() time.Time

	chartWindow time.Duration
	theme       Theme
	themeCSS    string // theme.css
	csp         string // the Content-Security-Policy header

	mux   *http.ServeMux
	pages map[string]*template.Template
}

// New returns an [http.Handler] serving the dashboard pages, their assets
// and the JSON API under cfg.BasePath (see the package doc for the routes).
// Mount it at the same prefix, for example with
// mux.Handle("/webhooks/", h) and BasePath "/webhooks/".
//
// New returns [ErrNoAuthorize] without cfg.Authorize, [ErrNoSender]
// without cfg.Sender, and an error wrapping [ErrInvalidConfig] for a bad
// field. A nil cfg is ErrNoAuthorize. The handler is safe for concurrent use
// and starts no goroutines.
func New(cfg *Config) (http.Handler, error) {
	if cfg == nil || cfg.Authorize == nil {
		return nil, ErrNoAuthorize
	}
	if cfg.Sender == nil {
		return nil, ErrNoSender
	}
	h := &handler{
		authorize: cfg.Authorize,
		sender:    cfg.Sender,
		st:        cfg.Sender.Store(),
		mode:      cfg.Sender.Mode(),
		catalog:   cfg.Sender.Catalog(),
		readOnly:  cfg.ReadOnly,
		elsewhere: cfg.DeliveredElsewhere,
		base:      cfg.BasePath,
		warnAt:    cfg.WarnAt,
		pageSize:  cfg.PageSize,
		overlap:   cfg.RotationOverlap,
		log:       cfg.Logger,
		now:       cfg.Now,

		chartWindow: cfg.ChartWindow,
		theme:       cfg.Theme,
	}
	if h.base == "" {
		h.base = DefaultBasePath
	}
	if strings.ContainsAny(h.base, "?#\"'<> \t\r\n") {
		return nil, fmt.Errorf("%w: BasePath %q: want a plain path such as /webhooks/", ErrInvalidConfig, h.base)
	}
	if !strings.HasPrefix(h.base, "/") {
		h.base = "/" + h.base
	}
	if !strings.HasSuffix(h.base, "/") {
		h.base += "/"
	}
	if cleanPath(h.base) != h.base {
		return nil, fmt.Errorf("%w: BasePath %q: want a clean path, without empty, \".\" or \"..\" segments", ErrInvalidConfig, cfg.BasePath)
	}
	if h.warnAt < 0 || h.pageSize < 0 || h.overlap < 0 {
		return nil, fmt.Errorf("%w: WarnAt, PageSize and RotationOverlap must not be negative", ErrInvalidConfig)
	}
	if h.warnAt == 0 {
		h.warnAt, _ = h.sender.Thresholds()
	}
	if h.warnAt == 0 {
		h.warnAt = DefaultWarnAt
	}
	if h.pageSize == 0 {
		h.pageSize = DefaultPageSize
	}
	h.pageSize = min(h.pageSize, MaxPageSize)
	if h.overlap == 0 {
		h.overlap = DefaultRotationOverlap
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.chartWindow < 0 || h.chartWindow > MaxChartWindow {
		return nil, fmt.Errorf("%w: ChartWindow %v: want up to %v", ErrInvalidConfig, h.chartWindow, MaxChartWindow)
	}
	if h.chartWindow == 0 {
		h.chartWindow = DefaultChartWindow
	}
	if r := h.chartWindow % time.Hour; r != 0 {
		h.chartWindow += time.Hour - r
	}
	logoOrigin, err := h.theme.check()
	if err != nil {
		return nil, err
	}
	if h.theme.Name == "" {
		h.theme.Name = DefaultName
	}
	h.themeCSS = h.theme.css()
	h.csp = contentSecurityPolicy(logoOrigin)
	if h.now == nil {
		h.now = time.Now
	}
	if len(cfg.CSRFKey) > 0 {
		h.csrfKey = append([]byte(nil), cfg.CSRFKey...)
	} else {
		h.csrfKey = make([]byte, 32)
		if _, err := rand.Read(h.csrfKey); err != nil {
			return nil, fmt.Errorf("dashboard: generating CSRF key: %w", err)
		}
	}
	pages, err := parsePages(h.funcs())
	if err != nil {
		return nil, fmt.Errorf("dashboard: parsing templates: %w", err)
	}
	h.pages = pages
	h.mux = http.NewServeMux()
	h.routes()
	return h, nil
}

// ServeHTTP authorizes the request, sets the security headers and serves it.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header(), h.csp)
	// The mux below sees paths without the base path, so its own redirects
	// (to a cleaned path, or to a subtree's trailing slash) would leave the
	// base path. Unclean paths are redirected here instead, to the cleaned
	// path when it stays under the base path (else they are not found), and
	// no route needs a trailing-slash redirect.
	if p := r.URL.Path; strings.HasPrefix(p, "/") {
		if clean := cleanPath(p); clean != p {
			if !strings.HasPrefix(clean, h.base) && clean+"/" != h.base {
				http.NotFound(w, r)
				return
			}
			// 307 keeps the method and body, as the ServeMux's redirect does.
			u := url.URL{Path: clean, RawQuery: r.URL.RawQuery}
			http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
			return
		}
	}
	rest, ok := strings.CutPrefix(r.URL.Path, h.base)
	if !ok {
		if r.URL.Path+"/" == h.base {
			http.Redirect(w, r, h.base, http.StatusMovedPermanently)
			return
		}
		h.outside.Do(func() {
			h.log.LogAttrs(r.Context(), slog.LevelWarn, "dashboard: a request for a path outside Config.BasePath: mount the handler at BasePath, without http.StripPrefix",
				slog.String("path", r.URL.Path), slog.String("base_path", h.base))
		})
		http.Error(w, "404 page not found: this dashboard serves the paths under "+h.base, http.StatusNotFound)
		return
	}
	scope, err := h.authorize(r)
	if err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, ErrForbidden) {
			status = http.StatusForbidden
		}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "dashboard: request not authorized",
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("error", err.Error()))
		if isAPI(rest) {
			writeJSONError(w, status, codeFor(status), http.StatusText(status))
			return
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	r2 := r.Clone(withScope(r.Context(), scope))
	r2.URL.Path = "/" + rest
	r2.URL.RawPath = ""
	h.mux.ServeHTTP(w, r2)
}

// cleanPath is p with "//", "." and ".." segments resolved and a trailing
// slash kept, as http.ServeMux cleans paths.
func cleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

func isAPI(rest string) bool { return rest == "api" || strings.HasPrefix(rest, "api/") }

// setSecurityHeaders applies to every response: csp (no inline script or
// style, images only from the handler and the theme's logo), no framing, no sniffing, no referrer to other sites, no caching of tenant
// data.
func setSecurityHeaders(hd http.Header, csp string) {
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" with form posts, which the origin check must refuse.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
}
