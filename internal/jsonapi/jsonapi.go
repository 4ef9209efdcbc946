// Package jsonapi holds what the JSON APIs of the dashboard and of
// webhookapi share: the error body {"error": {"code", "message", "field"}},
// the code of each status, and what to tell a client about a JSON body
// that does not decode.
package jsonapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Error is an error answer: {"error": {...}}.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is what an API client is told: a code per kind of failure, a
// message for people and, for an invalid field, the field's name.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Code is the error code of an HTTP status.
func Code(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnprocessableEntity:
		return "invalid"
	case http.StatusNotImplemented:
		return "read_only"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}

// WriteJSON answers v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // escapes <, > and & too
}

// WriteError answers {"error": {"code", "message", "field"?}} with the
// status. msg is the API's own text or a field's reason, never an error's
// whole text.
func WriteError(w http.ResponseWriter, status int, code, msg, field string) {
	WriteJSON(w, status, Error{ErrorBody{Code: code, Message: msg, Field: field}})
}

// Problem says what is wrong with a JSON body that did not decode, from the
// decoder's typed errors where it has them, without repeating the body.
func Problem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("%s: a JSON %s is not allowed here", te.Field, te.Value)
	case errors.As(err, &te):
		return "the body must be a JSON object"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends before the value is complete"
	}
	// encoding/json has no typed error for an unknown field; its text,
	// `json: unknown field "x"`, names it; other errors name theirs.
	return strings.TrimPrefix(err.Error(), "json: ")
}
