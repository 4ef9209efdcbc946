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
// reason "missing". [Catalog.Check] returns a *FieldError for "type" too,
// wrapping [ErrUnknownType] for a type the catalog does not list; building
// a catalog fails with an error wrapping [ErrInvalidCatalog].
//
// # Patterns
//
// A [Pattern] is an exact type ("patient.ehi_export_success"), a service
// ("medical-encounters", one segment: the type of that name and all its
// methods, "medical-encounters.create", ".update", ".remove"), a prefix
// wildcard ("patient.*", matching types with one or more segments after the
// prefix) or "*" (every type). "ping" ([TypePing]) is the one one-segment
// pattern that is not a service: it matches only itself. The same matcher
// serves endpoint subscriptions in the sender, handler routing in the
// receiver and the stores' delivery filters.
//
// # Catalog
//
// A [Catalog] declares the event types an application publishes, each with
// a description, a sample data object and, optionally, a JSON Schema of its
// data. It is the one list the rest of the system reads: customers choose
// their subscriptions from it (and a pattern that selects none of its types,
// such as "order.payed", is a typo), simulators and dashboards show and
// send its samples, and a sender configured with it refuses to publish a
// type it does not list ([Catalog.Check], [ErrUnknownType]). Build one in
// Go with [NewCatalog], or read one from JSON with [ParseCatalog]:
//
//	{"types": [
//	  {"type": "order.paid", "description": "An order was paid in full",
//	   "sample": {"order_id": "ord_1042", "amount": 4200, "currency": "EUR"}},
//	  {"type": "invoice.finalized", "description": "An invoice can no longer change"}
//	]}
//
// [TypePing], the event sent to test an endpoint, is in every catalog so
// that pings are always allowed: NewCatalog adds it when the list lacks it.
// A nil *Catalog is open, accepting every valid type, as is a sender with
// no catalog. Sub-packages such as event/fasten provide the catalog of a
// particular provider, with typed payloads for its data.
//
// Schemas are documentation: nothing in webhookkit validates published data
// against them. The core packages take no JSON Schema library (they depend
// only on the standard library, github.com/google/uuid and
// golang.org/x/time). An application that wants its data checked validates
// it before Publish, with the JSON Schema library of its choice, compiling
// each [TypeInfo.Schema] from [Catalog.Types] once at start.
package event
