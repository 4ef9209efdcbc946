// Package event defines the webhook envelope webhookkit sends and receives,
// its strict decoding, and the event-type patterns used for subscriptions
// and routing.
//
// # The envelope
//
// Every webhook body is one JSON object with exactly these fields, in this
// order:
//
//	{
//	  "api_mode": "test",
//	  "date": "2024-06-13T00:08:31Z",
//	  "id": "c0ac7bc4-c6ef-4f0b-bba3-93506774eb74",
//	  "type": "patient.ehi_export_success",
//	  "data": { ... }
//	}
//
// api_mode is "test" or "live". date is the time of the delivery attempt in
// RFC 3339, UTC, whole seconds; it changes on every retry. id is a UUIDv4
// that stays the same on every retry, so receivers de-duplicate on it. type
// is one or more segments of [A-Za-z0-9_-] separated by dots. data is a
// JSON object whose bytes are kept verbatim: decoding and encoding never
// reorder its keys or touch its whitespace.
//
// Producers build events with [New] and encode them with [Event.AppendJSON]
// (allocation-free, with the attempt's date) or [Event.MarshalJSON].
// Consumers decode with [Decode] and read the payload with [DataAs].
//
// # Strict decoding
//
// [encoding/json] accepts duplicate keys (the last wins), matches keys
// case-insensitively and replaces invalid UTF-8 silently. Two parties that
// read such a body differently can be played against each other, for
// example a signature check against a handler. [Decode] therefore rejects
// ambiguous input with [ErrInvalidJSON]: duplicate keys and keys differing
// only in case at any depth, top-level keys that differ only in case from an
// envelope field ("ID", "Type"), invalid UTF-8 and lone surrogate escapes
// anywhere, nesting deeper than [MaxDepth], and trailing data. Unknown
// top-level fields are ignored, so producers can add fields.
//
// The check is a single hand-written pass over the bytes that allocates
// nothing for typical bodies; a decoded event costs a few small allocations
// (its strings and the copy of data).
//
// # Errors
//
// Validation and decoding errors are [*FieldError] values naming the field
// at fault and wrapping one of the sentinels [ErrInvalidJSON],
// [ErrInvalidMode], [ErrInvalidDate], [ErrInvalidID], [ErrInvalidType] or
// [ErrInvalidData]. A missing field wraps the sentinel of that field with the
// reason "missing".
//
// # Patterns
//
// A [Pattern] is an exact type ("patient.ehi_export_success"), a prefix
// wildcard ("patient.*", matching types with one or more segments after the
// prefix) or "*" (every type). The same matcher serves endpoint
// subscriptions in the sender and handler routing in the receiver.
//
// Event types of a particular provider, with typed payloads and sample
// data, live in sub-packages such as event/fasten.
package event
