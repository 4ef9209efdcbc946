package sender

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
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

// check applies the rules of [Endpoints] to ep, an edit of cur (nil for a
// new endpoint). What cur had already, its URL and its event-type
// patterns, is not held to the URL policy and the catalog again, so an
// endpoint stored before a stricter policy or a smaller catalog can still
// be edited.
func (e *Endpoints) check(ep, cur *store.Endpoint) error {
	if err := ep.Validate(); err != nil {
		return err
	}
	if ep.Mode != e.s.cfg.Mode {
		return &store.FieldError{Field: "mode", Err: ErrModeMismatch,
			Reason: fmt.Sprintf("%q, but the sender's mode is %q", ep.Mode, e.s.cfg.Mode)}
	}
	if cur == nil || ep.URL != cur.URL {
		if err := e.CheckURL(ep.URL); err != nil {
			return err
		}
	}
	var had []string
	if cur != nil {
		had = cur.EventTypes
	}
	if err := checkPatterns(e.s.cfg.Catalog, ep.EventTypes, had); err != nil {
		return err
	}
	if err := e.checkCredentials(ep); err != nil {
		return err
	}
	return checkHeaders(ep.Headers)
}

// checkCredentials refuses what the sender could not use: OAuth2 settings
// without a Config.OAuth2 or whose token URL the URL policy refuses, KMS
// keys without a Config.KMS, and TLS settings without an *http.Transport.
func (e *Endpoints) checkCredentials(ep *store.Endpoint) error {
	cfg := e.s.cfg
	if ep.OAuth2 != nil {
		if cfg.OAuth2 == nil {
			return &store.FieldError{Field: "oauth2", Reason: "the sender has no OAuth2 token source (Config.OAuth2)", Err: ErrNoTokenSource}
		}
		if err := CheckURL(ep.OAuth2.TokenURL, cfg.AllowPrivateNetworks); err != nil {
			var fe *store.FieldError
			if errors.As(err, &fe) {
				fe.Field = "oauth2.token_url"
			}
			return err
		}
	}
	for i, k := range ep.Secrets {
		if strings.HasPrefix(k.Key, signature.KeyRefPrefix) && cfg.KMS == nil {
			return &store.FieldError{Field: fmt.Sprintf("secrets[%d]", i), Reason: "a KMS key needs the sender's Config.KMS", Err: ErrNoKMS}
		}
	}
	if ep.TLS != nil && e.s.base == nil {
		return &store.FieldError{Field: "tls", Reason: "the sender's transport is not an *http.Transport, so it cannot present a client certificate", Err: ErrClientTLS}
	}
	return nil
}

// maxListedTypes is how many catalog types a refused pattern's reason
// names.
const maxListedTypes = 10

// checkPatterns refuses an event-type pattern that selects no type of the
// catalog (a typo such as "order.payed", or a type the application does
// not publish), unless it is among had. A nil catalog accepts every
// pattern. The error names the pattern's index and, up to
// maxListedTypes, the catalog's types.
func checkPatterns(cat *event.Catalog, patterns, had []string) error {
	for i, p := range patterns {
		if cat.Match(p) || slices.Contains(had, p) {
			continue
		}
		var known []string
		for _, t := range cat.Types() {
			known = append(known, t.Type)
		}
		list := strings.Join(known, ", ")
		if len(known) > maxListedTypes {
			list = strings.Join(known[:maxListedTypes], ", ") + ", ..."
		}
		return &store.FieldError{Field: fmt.Sprintf("event types[%d]", i), Err: event.ErrUnknownType,
			Reason: fmt.Sprintf("%.64q selects no event type of the catalog (it lists %s)", p, list)}
	}
	return nil
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
