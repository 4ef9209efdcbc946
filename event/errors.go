package event

import "errors"

// Sentinel errors returned (wrapped in a [*FieldError]) by [New], [Decode],
// [Event.Validate], [Event.UnmarshalJSON] and [DataAs]. Test for them with
// [errors.Is]; use [errors.As] with a *FieldError to learn which field was at
// fault.
var (
	// ErrInvalidJSON reports input that is not exactly one well-formed JSON
	// object, or that is ambiguous: a duplicate key at any depth, two keys
	// of one object that differ only in case, a top-level key that differs
	// only in case from an envelope field (such as "ID"), invalid UTF-8, a
	// lone UTF-16 surrogate escape, nesting deeper than [MaxDepth], or data
	// after the object.
	ErrInvalidJSON = errors.New("event: invalid JSON")
	// ErrInvalidMode reports an api_mode that is missing or neither "test"
	// nor "live".
	ErrInvalidMode = errors.New("event: invalid api_mode")
	// ErrInvalidDate reports a date that is missing, not a JSON string, not
	// an RFC 3339 timestamp, or outside the years 0000-9999.
	ErrInvalidDate = errors.New("event: invalid date")
	// ErrInvalidID reports an id that is missing or not a UUIDv4 in its
	// canonical 36-character form.
	ErrInvalidID = errors.New("event: invalid id")
	// ErrInvalidType reports a type that is missing or does not follow the
	// grammar of [ValidType]. A missing type is ErrInvalidType with the
	// reason "missing".
	ErrInvalidType = errors.New("event: invalid type")
	// ErrInvalidData reports data that is missing, null, or not a JSON
	// object, or (from [DataAs]) that does not decode into the requested
	// type.
	ErrInvalidData = errors.New("event: invalid data")
	// ErrInvalidPattern reports a string that is not an event-type pattern;
	// see [ParsePattern].
	ErrInvalidPattern = errors.New("event: invalid pattern")
)

// FieldError is the error type behind every validation and decoding failure
// of this package. Err is one of the package's sentinels, so
// errors.Is(err, ErrInvalidID) works on a *FieldError, and Field names the
// envelope field at fault.
//
// Field is "api_mode", "date", "id", "type" or "data" ("type" for
// [ErrUnknownType], from [Catalog.Check]); for [ErrInvalidJSON]
// it is the top-level field whose value (or key) was malformed, or "" when
// the problem is not inside one envelope field (syntax outside the known
// fields, trailing data, an input that is not an object). Reason is a short
// human-readable explanation; its wording is not part of the API.
type FieldError struct {
	Field  string
	Err    error
	Reason string
}

// Error returns the sentinel's text followed by the reason, for example
// `event: invalid id: not a UUIDv4: "abc"`.
func (e *FieldError) Error() string {
	msg := "event: <nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap returns Err, so errors.Is and errors.As see the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, err error, reason string) error {
	return &FieldError{Field: field, Err: err, Reason: reason}
}
