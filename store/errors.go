package store

import "errors"

var (
	// ErrNotFound is returned when the endpoint, delivery, attempt or inbox
	// entry named by an id does not exist.
	ErrNotFound = errors.New("store: not found")

	// ErrConflict is returned when a write contradicts what is stored: an
	// endpoint id that already exists, or an event id enqueued again with a
	// different type, mode or data.
	ErrConflict = errors.New("store: conflict")

	// ErrInvalid is returned for arguments a store cannot accept, such as an
	// endpoint without a URL. The wrapping error names the field.
	ErrInvalid = errors.New("store: invalid argument")

	// ErrSchemaMismatch is returned by the Migrate method of a SQL store
	// (store/sqlite, store/postgres) when a table with one of the store's
	// names exists but is not the store's: a column the store needs is
	// missing or has another type. Migrate then changes nothing and records
	// no schema version. The wrapping error names the table and the
	// difference; give the store a schema or database of its own, or rename
	// the other table. See [CheckColumns].
	ErrSchemaMismatch = errors.New("store: schema mismatch")

	// ErrNotMigrated is returned, wrapped, by a SQL store (store/sqlite,
	// store/postgres) used before its Migrate method created its tables,
	// or after they were dropped: by [SchemaChecker.CheckSchema], which a
	// sender's and a receiver's Start call, and by any method whose
	// statement meets a missing table. Call the store's Migrate once at
	// startup (it is idempotent) before handing the store to a sender or
	// receiver.
	ErrNotMigrated = errors.New("store: not migrated: call the store's Migrate method before use")

	// ErrInboxFull is returned, wrapped, by an [Inbox] whose size is
	// capped when it cannot take a new claim without forgetting an entry
	// still claimed (accepted, not yet handled): forgetting one would let
	// a redelivery of its event through as new. A receiver answers such a
	// request 503 with Retry-After, so the sender retries once entries are
	// handled, released or pruned.
	ErrInboxFull = errors.New("store: inbox full")
)

// FieldError is an invalid field of an endpoint: [Endpoint.Validate] and
// [CheckURL] return one, and so do the checks a sender adds when it creates
// or updates an endpoint (its URL policy, its mode, the extra headers it
// refuses). Find it with errors.As to show "Field: Reason" beside the
// field that is wrong, without parsing error text. It wraps [ErrInvalid],
// and Err when set, so errors.Is finds both.
//
// Neither Field nor Reason ever holds a secret's text, a URL's credentials
// or a header's value.
type FieldError struct {
	// Field names the field at fault as people read it, in lower case:
	// "mode", "url", "event types", "event types[1]" (the second pattern),
	// "secrets", "secrets[0]", "limits", "tenant", or headers["X-Name"]
	// (with the header name quoted as given).
	Field string
	// Reason says what is wrong with it, for the person who typed it, such
	// as "want an absolute http or https URL".
	Reason string
	// Err is the error beneath, for errors.Is and errors.As (an
	// event.ErrInvalidPattern, a signature.ErrInvalidKey, a sender's
	// ErrPrivateAddress), or nil.
	Err error
}

// Error returns "store: invalid argument: endpoint <Field>: <Reason>".
func (e *FieldError) Error() string {
	return ErrInvalid.Error() + ": endpoint " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalid] and, when set, Err.
func (e *FieldError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}
