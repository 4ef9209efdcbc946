package sender

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// The canonical names of the Standard Webhooks headers (signature.HeaderID
// and the others), as http.Header.Set would store them.
const (
	headerID        = "Webhook-Id"
	headerTimestamp = "Webhook-Timestamp"
	headerSignature = "Webhook-Signature"
)

// reserved are the request headers an endpoint's extra Headers cannot set:
// ours, and those net/http manages itself. Endpoints refuses them; an
// attempt skips them in an endpoint stored by other means.
var reserved = map[string]bool{
	"Content-Type":      true,
	"User-Agent":        true,
	headerID:            true,
	headerTimestamp:     true,
	headerSignature:     true,
	"Host":              true,
	"Content-Length":    true,
	"Content-Encoding":  true,
	"Transfer-Encoding": true,
	"Connection":        true,
	"Keep-Alive":        true,
	"Te":                true,
	"Trailer":           true,
	"Upgrade":           true,
	"Expect":            true,
}

// check applies the rules of [Endpoints] to ep, whose URL was current
// before this edit ("" for a new endpoint; an unchanged URL is not held to
// the URL policy again).
func (e *Endpoints) check(ep *store.Endpoint, current string) error {
	if err := ep.Validate(); err != nil {
		return err
	}
	if ep.Mode != e.s.cfg.Mode {
		return &store.FieldError{Field: "mode", Err: ErrModeMismatch,
			Reason: fmt.Sprintf("%q, but the sender's mode is %q", ep.Mode, e.s.cfg.Mode)}
	}
	if current == "" || ep.URL != current {
		if err := e.CheckURL(ep.URL); err != nil {
			return err
		}
	}
	return checkHeaders(ep.Headers)
}

// checkHeaders refuses extra headers that are not valid HTTP, that the
// sender sets itself, or that name one header twice (in different cases).
// Errors name the header as given and never show a value.
func checkHeaders(h map[string]string) error {
	seen := make(map[string]string, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		field := fmt.Sprintf("headers[%q]", name)
		if !validHeaderName(name) {
			return &store.FieldError{Field: field, Reason: "not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)"}
		}
		ck := http.CanonicalHeaderKey(name)
		if reserved[ck] {
			return &store.FieldError{Field: field, Reason: "set by the sender; it cannot be overridden"}
		}
		if prev, ok := seen[ck]; ok {
			return &store.FieldError{Field: field, Reason: fmt.Sprintf("the same header as %q", prev)}
		}
		seen[ck] = name
		if !validHeaderValue(h[name]) {
			return &store.FieldError{Field: field, Reason: "the value must not contain control characters such as CR or LF"}
		}
	}
	return nil
}

// validHeaderName reports whether name is an HTTP token (RFC 9110, 5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v may be sent as a header value: no
// control characters but horizontal tab (RFC 9110, 5.5), so no CR, LF or
// NUL.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// requireHTTPS reports whether the sender refuses plain-http endpoint URLs:
// Config.RequireHTTPSInLive on a live-mode sender.
func (s *Sender) requireHTTPS() bool {
	return s.cfg.RequireHTTPSInLive && s.cfg.Mode == event.ModeLive
}

// isHTTPS reports whether rawURL's scheme is https, in any case.
func isHTTPS(rawURL string) bool {
	const p = "https://"
	return len(rawURL) >= len(p) && strings.EqualFold(rawURL[:len(p)], p)
}
