package receiver

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
)

// Handler handles one verified, de-duplicated event. A [Receiver] calls it
// on a worker goroutine, after the request was answered, with a context of
// its own bounded by [Config].CallbackTimeout.
//
// Returning nil marks the event handled. Returning an error fails the
// attempt: it is retried according to [Config].Retry, unless marked with
// [retry.Permanent], and after the last attempt the event is dead-lettered.
// [retry.After] asks for the next attempt after a given delay. A panic is a
// failed attempt. An error matching [ErrNoRoute] acknowledges the event
// without handling it. HandleEvent may be called concurrently by several
// workers; an event may be handled more than once after a crash or a failed
// inbox write, so handlers should be idempotent.
type Handler interface {
	HandleEvent(ctx context.Context, ev event.Event) error
}

// HandlerFunc adapts an ordinary function to a [Handler].
type HandlerFunc func(ctx context.Context, ev event.Event) error

// HandleEvent calls f(ctx, ev).
func (f HandlerFunc) HandleEvent(ctx context.Context, ev event.Event) error { return f(ctx, ev) }

// Typed returns a [HandlerFunc] that decodes the event's data into a T (with
// [event.DataAs]) and calls fn with it. Data that does not decode is a
// permanent failure ([retry.Permanent]): retrying cannot fix it, so the
// event goes straight to the dead-letter hook. Unknown fields in the data are
// ignored, so senders may add fields.
func Typed[T any](fn func(ctx context.Context, ev event.Event, data T) error) HandlerFunc {
	return func(ctx context.Context, ev event.Event) error {
		data, err := event.DataAs[T](ev)
		if err != nil {
			return retry.Permanent(fmt.Errorf("receiver: decoding data of %s event: %w", ev.Type, err))
		}
		return fn(ctx, ev, data)
	}
}

// Mux routes events to handlers by type. Patterns are [event.Pattern]s: an
// exact type ("patient.ehi_export_success", or "ping"), a service
// ("medical-encounters": its own type and all its methods), a prefix
// ("patient.*") or everything ("*"). The most specific pattern wins: an
// exact match, else the longest matching prefix or service (a service is
// shorter than its own "service.*", which therefore wins), else "*", else the
// default handler. An event that
// nothing matches is acknowledged and dropped: HandleEvent returns an error
// matching [ErrNoRoute], which a [Receiver] counts ([Stats].Dropped,
// [Hooks].OnDropped), logs at debug level and does not retry. Subscribe the
// sender's endpoint to the types you route, so such events are rare.
//
// The zero Mux is an empty Mux ready to use. A Mux is safe for concurrent
// use: handlers may be registered while events are routed.
type Mux struct {
	mu       sync.RWMutex
	exact    map[string]Handler
	prefixes []prefixRoute // longest first
	star     Handler
	def      Handler
}

type prefixRoute struct {
	pattern event.Pattern
	h       Handler
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return new(Mux) }

// Handle registers h for pattern. It returns an error wrapping
// [event.ErrInvalidPattern] for an invalid pattern, and an error for a nil
// handler or a pattern already registered.
func (m *Mux) Handle(pattern string, h Handler) error {
	p, err := event.ParsePattern(pattern)
	if err != nil {
		return fmt.Errorf("receiver: mux: %w", err)
	}
	if h == nil {
		return fmt.Errorf("receiver: mux: nil handler for %q", pattern)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := string(p)
	switch {
	case s == "*":
		if m.star != nil {
			return fmt.Errorf("receiver: mux: pattern %q registered twice", s)
		}
		m.star = h
	case strings.HasSuffix(s, "*") || p.Service():
		if slices.ContainsFunc(m.prefixes, func(r prefixRoute) bool { return r.pattern == p }) {
			return fmt.Errorf("receiver: mux: pattern %q registered twice", s)
		}
		m.prefixes = append(m.prefixes, prefixRoute{p, h})
		slices.SortStableFunc(m.prefixes, func(a, b prefixRoute) int {
			return cmp.Compare(len(b.pattern), len(a.pattern))
		})
	default:
		if _, ok := m.exact[s]; ok {
			return fmt.Errorf("receiver: mux: pattern %q registered twice", s)
		}
		if m.exact == nil {
			m.exact = make(map[string]Handler)
		}
		m.exact[s] = h
	}
	return nil
}

// HandleFunc registers fn for pattern; see [Mux.Handle].
func (m *Mux) HandleFunc(pattern string, fn func(ctx context.Context, ev event.Event) error) error {
	if fn == nil {
		return fmt.Errorf("receiver: mux: nil handler for %q", pattern)
	}
	return m.Handle(pattern, HandlerFunc(fn))
}

// Default sets the handler for events no pattern matches (nil removes it).
func (m *Mux) Default(h Handler) {
	m.mu.Lock()
	m.def = h
	m.mu.Unlock()
}

// Handler returns the handler the event type routes to, and the pattern
// that matched ("" for the default handler). It returns nil when nothing
// matches.
func (m *Mux) Handler(typ string) (h Handler, pattern string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if h, ok := m.exact[typ]; ok {
		return h, typ
	}
	for _, r := range m.prefixes {
		if r.pattern.Match(typ) {
			return r.h, string(r.pattern)
		}
	}
	if m.star != nil {
		return m.star, "*"
	}
	return m.def, ""
}

// HandleEvent implements [Handler]: it calls the handler ev.Type routes to,
// or returns an error matching [ErrNoRoute] when there is none.
func (m *Mux) HandleEvent(ctx context.Context, ev event.Event) error {
	h, _ := m.Handler(ev.Type)
	if h == nil {
		return fmt.Errorf("%w %q", ErrNoRoute, ev.Type)
	}
	return h.HandleEvent(ctx, ev)
}
