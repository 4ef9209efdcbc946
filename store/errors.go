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

	// ErrLeaseLost is returned when a lease token no longer holds the
	// delivery: the lease expired and the delivery was leased again, or it
	// was settled already.
	ErrLeaseLost = errors.New("store: lease lost")

	// ErrInvalid is returned for arguments a store cannot accept, such as an
	// endpoint without a URL. The wrapping error names the field.
	ErrInvalid = errors.New("store: invalid argument")
)
