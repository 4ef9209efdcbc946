package webhookapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/access"
	"github.com/webhookkit/webhookkit/internal/jsonapi"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// webhookJSON is a webhook as the API shows it: never a secret, except
// Secret in the answer to its creation and to a rotation of its secret.
type webhookJSON struct {
	ID             string    `json:"id"`
	Organization   string    `json:"organization"`
	Account        string    `json:"account,omitempty"`
	Active         bool      `json:"active"`
	URL            string    `json:"url"`
	Events         []string  `json:"events"`
	Format         string    `json:"format"`
	Description    string    `json:"description,omitempty"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Secret         string    `json:"secret,omitempty"`
}

func webhookOf(ep *store.Endpoint) webhookJSON {
	return webhookJSON{
		ID:             ep.ID,
		Organization:   ep.Tenant,
		Account:        ep.Account,
		Active:         !ep.Disabled,
		URL:            sender.RedactURL(ep.URL), // its userinfo is a credential
		Events:         append([]string{}, ep.EventTypes...),
		Format:         ep.Format.Name(),
		Description:    ep.Description,
		DisabledReason: ep.DisabledReason,
		CreatedAt:      ep.CreatedAt.UTC(),
		UpdatedAt:      ep.UpdatedAt.UTC(),
	}
}

// attemptJSON is a ping's attempt.
type attemptJSON struct {
	ID           string    `json:"id"`
	Webhook      string    `json:"webhook"`
	EventID      string    `json:"event_id"`
	Event        string    `json:"event"`
	Format       string    `json:"format"`
	At           time.Time `json:"at"`
	DurationMS   float64   `json:"duration_ms"`
	URL          string    `json:"url"`
	StatusCode   int       `json:"status_code"`
	Delivered    bool      `json:"delivered"`
	Error        string    `json:"error,omitempty"`
	RequestBody  string    `json:"request_body"`
	ResponseBody string    `json:"response_body"`
}

func attemptOf(a *store.Attempt) attemptJSON {
	return attemptJSON{
		ID:           a.ID,
		Webhook:      a.EndpointID,
		EventID:      a.EventID,
		Event:        a.EventType,
		Format:       a.Format.Name(),
		At:           a.At.UTC(),
		DurationMS:   float64(a.Duration.Microseconds()) / 1000,
		URL:          a.URL, // redacted by the sender
		StatusCode:   a.StatusCode,
		Delivered:    a.Success,
		Error:        a.Error,
		RequestBody:  string(a.RequestBody),
		ResponseBody: string(a.ResponseBody),
	}
}

// events is the "events" of a request: one pattern as a JSON string, or a
// list of them.
type events []string

// UnmarshalJSON accepts "ping" or ["ping", ...].
func (e *events) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = events{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("events: want a string or a list of strings")
	}
	*e = l
	return nil
}

// listJSON is a page of webhooks.
type listJSON struct {
	Data       []webhookJSON `json:"data"`
	NextCursor string        `json:"next_cursor"`
}

func codeFor(status int) string { return jsonapi.Code(status) }

func writeJSON(w http.ResponseWriter, status int, v any) { jsonapi.WriteJSON(w, status, v) }

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	jsonapi.WriteError(w, status, code, msg, field)
}

// requestField is a store.FieldError's field as the request names it.
func requestField(field string) string {
	switch {
	case strings.HasPrefix(field, "event types"):
		return "events" + strings.TrimPrefix(field, "event types")
	case field == "tenant":
		return "organization"
	}
	return field
}

// fail answers an error of the sender's endpoint owner or store: an invalid
// field 400 with the field; not found (or of the other mode) 404; an
// invalid argument (a cursor) 400; a conflict 409; a stopped sender 503;
// anything else 500, logged.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *store.FieldError
	switch {
	case errors.As(err, &fe):
		f := requestField(fe.Field)
		writeError(w, http.StatusBadRequest, "invalid", f+": "+fe.Reason, f)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, sender.ErrModeMismatch):
		writeError(w, http.StatusNotFound, "not_found", "no such webhook", "")
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", "invalid argument", "")
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "the request conflicts with the current state", "")
	case errors.Is(err, sender.ErrClosed):
		h.logFailure(r, slog.LevelWarn, err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the sender is stopped; try again later", "")
	default:
		h.logFailure(r, slog.LevelError, err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error", "")
	}
}

func (h *handler) logFailure(r *http.Request, level slog.Level, err error) {
	h.log.LogAttrs(r.Context(), level, "webhookapi: request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
}

// withBody wraps a handler of a request with a JSON body: the Content-Type
// must be application/json (which no HTML form can send across origins
// without a preflight) and the body is capped at Config.MaxBodyBytes.
// optionalBody is withBody for a request that may have no body at all (no
// Content-Type, Content-Length 0), which next then reads as empty.
func (h *handler) optionalBody(next http.HandlerFunc) http.HandlerFunc {
	withBody := h.withBody(next)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
			r.Body = http.NoBody
			next(w, r)
			return
		}
		withBody(w, r)
	}
}

func (h *handler) withBody(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "the request body must be application/json", "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
		next(w, r)
	}
}

// readBody reads the whole (capped) body. It answers 413 itself and
// returns false when the body is too large.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit), "")
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "bad_request", "reading the request body failed", "")
		return nil, false
	}
	return b, true
}

// decode reads one JSON object from b into v, refusing unknown fields and
// trailing data. It answers 400 itself and returns false on failure.
func decode(w http.ResponseWriter, b []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data after the JSON object")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "invalid JSON body: "+jsonapi.Problem(err), "")
		return false
	}
	return true
}

type scopeKey struct{}

func withScope(ctx context.Context, s access.Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// scopeOf returns the request's scope; ServeHTTP always sets one, and a
// request without sees the empty organization only.
func scopeOf(r *http.Request) access.Scope {
	s, _ := r.Context().Value(scopeKey{}).(access.Scope)
	return s
}
