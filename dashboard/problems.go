package dashboard

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// problem is what the pages and the API tell a person about an error: the
// status, a message of the dashboard's own or built from the fields of a
// structured error (never an error's text, whose wrapped chain names
// packages, operations and sometimes stores), and the invalid field, if
// any.
type problem struct {
	status  int
	message string
	field   string // for an invalid field: store.FieldError.Field, or the event field
}

// invalidField returns the field at fault and "Field: Reason" for an error
// that carries them: a *store.FieldError (an endpoint refused by the
// sender's endpoint owner or the store), or a *event.FieldError with a
// reason (an event refused by the sender: its type, its data). It returns
// false for any other error.
func invalidField(err error) (field, message string, ok bool) {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return fe.Field, fe.Field + ": " + fe.Reason, true
	}
	var ee *event.FieldError
	if errors.As(err, &ee) && ee.Reason != "" {
		// A JSON error's reason names its field already ("data: duplicate
		// key ...").
		if ee.Field == "" || strings.HasPrefix(ee.Reason, ee.Field+": ") {
			return ee.Field, ee.Reason, true
		}
		return ee.Field, ee.Field + ": " + ee.Reason, true
	}
	return "", "", false
}

// classify sorts an error for an answer (the API turns its 422 into 400,
// see apiFail). An invalid field is 422 with its
// "Field: Reason"; not found (or outside the scope) 404; a conflict with the
// current state 409. Everything else gets a generic message and is logged:
// another invalid argument (a page cursor the store refuses, say) 422, a
// stopped sender 503, and any other failure 500, logged as an error.
func (h *handler) classify(r *http.Request, err error) problem {
	if field, msg, ok := invalidField(err); ok {
		return problem{status: http.StatusUnprocessableEntity, message: msg, field: field}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem{status: http.StatusNotFound, message: "not found"}
	case errors.Is(err, store.ErrConflict):
		return problem{status: http.StatusConflict, message: "the request conflicts with the current state"}
	case errors.Is(err, store.ErrInvalid):
		h.logFailure(r, slog.LevelInfo, err)
		return problem{status: http.StatusUnprocessableEntity, message: "invalid argument"}
	case errors.Is(err, sender.ErrClosed):
		h.logFailure(r, slog.LevelWarn, err)
		return problem{status: http.StatusServiceUnavailable, message: "the sender is stopped; try again later"}
	}
	h.logFailure(r, slog.LevelError, err)
	return problem{status: http.StatusInternalServerError, message: "internal error"}
}

// logFailure logs an error the answer does not show.
func (h *handler) logFailure(r *http.Request, level slog.Level, err error) {
	h.log.LogAttrs(r.Context(), level, "dashboard: request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
}

// apiField is a field as the JSON API names it: the store's "event
// types[1]" is the request's "event_types[1]".
func apiField(field string) string {
	if rest, ok := strings.CutPrefix(field, "event types"); ok {
		return "event_types" + rest
	}
	return field
}
