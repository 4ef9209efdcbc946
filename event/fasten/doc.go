// Package fasten describes the webhook events of Fasten Connect, the health
// records provider whose documentation webhookkit grew from: the event type
// names, typed structs for their data, and the provider's [event.Catalog]
// ([Catalog]) with a description and a realistic sample payload per type,
// which the CLI's simulate command uses when given no catalog of its own.
//
// Decode an event's data with [event.DataAs]:
//
//	d, err := event.DataAs[fasten.EHIExportSuccess](e)
//
// The structs follow the provider's published field names; unknown fields
// are ignored, so newer payloads still decode. The payloads carry links and
// identifiers, never bulk records, but some fields may still hold protected
// health information: do not log them by default.
//
// Everything in this package is immutable or returns fresh copies, and is
// safe for concurrent use.
package fasten
