package webhookapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/webhookkit/webhookkit/access"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// Defaults used for the zero fields of a [Config].
const (
	// DefaultMaxBodyBytes bounds a request body when Config.MaxBodyBytes is
	// zero: 64 KiB, far more than a webhook needs.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultPageSize is the page size of a list without "limit".
	DefaultPageSize = 50
	// MaxPageSize is the largest page "limit" may ask for.
	MaxPageSize = 200
)

var (
	// ErrNoAuthorize is returned by [New] when Config.Authorize is nil: the
	// handler refuses to mount rather than let anyone manage every
	// organization's webhooks.
	ErrNoAuthorize = errors.New("webhookapi: Config.Authorize is required")
	// ErrNoSender is returned by [New] for a nil sender.
	ErrNoSender = errors.New("webhookapi: a sender is required")
	// ErrInvalidConfig is returned by [New], wrapped with the field's name,
	// for a configuration it cannot use.
	ErrInvalidConfig = errors.New("webhookapi: invalid config")
)

// Config configures the handler. Authorize is required; every other zero
// field takes the default documented on it.
type Config struct {
	// Authorize decides who may use the API and which organizations'
	// webhooks they see (see [access.AuthorizeFunc]). Required.
	Authorize access.AuthorizeFunc
	// Format is the body format of webhooks created without "format". Zero:
	// [store.BodyEventPayload], {"id", "event", "payload"}, this API's own
	// shape, which a receiver reads with receiver.EventPayload (its
	// default provider, receiver.Webhookkit, answers it 400); set
	// [store.BodyEnvelope] for webhookkit's envelope, the default of
	// sender.Endpoints.Create and of receivers. See "Body format" in the
	// package documentation.
	Format store.BodyFormat
	// MaxBodyBytes bounds a request body; a larger one is answered 413.
	// Zero: [DefaultMaxBodyBytes].
	MaxBodyBytes int64
	// Logger receives failures the answers do not show. Nil:
	// [slog.Default].
	Logger *slog.Logger
}

// handler is the http.Handler New returns.
type handler struct {
	s         *sender.Sender
	authorize access.AuthorizeFunc
	format    store.BodyFormat
	maxBody   int64
	log       *slog.Logger
	mux       *http.ServeMux
}

// New returns the management handler for the webhooks (endpoints) of s,
// administered through [sender.Sender.Endpoints]. It returns [ErrNoSender]
// for a nil s, [ErrNoAuthorize] without cfg.Authorize (a nil cfg too), and
// an error wrapping [ErrInvalidConfig] naming the field for an unknown
// Format or a negative MaxBodyBytes. The handler starts nothing and is safe
// for concurrent use; it serves the paths listed in the package
// documentation relative to its mount point.
func New(s *sender.Sender, cfg *Config) (http.Handler, error) {
	if s == nil {
		return nil, ErrNoSender
	}
	if cfg == nil || cfg.Authorize == nil {
		return nil, ErrNoAuthorize
	}
	h := &handler{s: s, authorize: cfg.Authorize, format: cfg.Format, maxBody: cfg.MaxBodyBytes, log: cfg.Logger}
	switch {
	case !h.format.Valid():
		return nil, fmt.Errorf("%w: Format %q: want %q or %q", ErrInvalidConfig, h.format, store.BodyEventPayload, store.BodyEnvelope)
	case h.maxBody < 0:
		return nil, fmt.Errorf("%w: MaxBodyBytes %d is negative", ErrInvalidConfig, h.maxBody)
	}
	if h.format == "" {
		h.format = store.BodyEventPayload
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	m := http.NewServeMux()
	m.HandleFunc("POST /webhooks", h.withBody(h.create))
	m.HandleFunc("GET /webhooks", h.list)
	m.HandleFunc("GET /webhooks/{id}", h.webhook(h.get))
	m.HandleFunc("PATCH /webhooks/{id}", h.withBody(h.webhook(h.patch)))
	m.HandleFunc("DELETE /webhooks/{id}", h.webhook(h.delete))
	m.HandleFunc("POST /webhooks/{id}/rotate-secret", h.optionalBody(h.webhook(h.rotate)))
	m.HandleFunc("POST /webhook-events", h.withBody(h.events))
	m.HandleFunc("/webhooks", methodNotAllowed("GET, HEAD, POST"))
	m.HandleFunc("/webhooks/{id}", methodNotAllowed("DELETE, GET, HEAD, PATCH"))
	m.HandleFunc("/webhooks/{id}/rotate-secret", methodNotAllowed("POST"))
	m.HandleFunc("/webhook-events", methodNotAllowed("POST"))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such path", "")
	})
	h.mux = m
	return h, nil
}

// ServeHTTP authorizes the request, then routes it with its scope.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	scope, err := h.authorize(r)
	if err != nil {
		status := access.Status(err)
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "webhookapi: request not authorized",
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("error", err.Error()))
		writeError(w, status, codeFor(status), http.StatusText(status), "")
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(withScope(r.Context(), scope)))
}

// methodNotAllowed answers 405 with the methods the path serves.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; allowed: "+allow, "")
	}
}
