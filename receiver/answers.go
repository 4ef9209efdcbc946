package receiver

// Reason says why a request got its answer. Its values are short, stable
// and few, fit for a metrics label; they are also the plain-text body of
// every answer but an accepted event's, which is empty (never anything
// from the request).
type Reason string

// Reasons, in the order the receiver checks them.
const (
	ReasonNoSource     Reason = "no source here"          // 404: Receiver.ServeHTTP without Config.Keys
	ReasonMethod       Reason = "method not allowed"      // 405
	ReasonMediaType    Reason = "unsupported media type"  // 415
	ReasonTooLarge     Reason = "body too large"          // 413
	ReasonReadTimeout  Reason = "body read timed out"     // 408
	ReasonUnreadable   Reason = "body unreadable"         // 400
	ReasonHeaders      Reason = "invalid webhook headers" // 400
	ReasonTimestamp    Reason = "timestamp out of range"  // 401
	ReasonSignature    Reason = "invalid signature"       // 401
	ReasonInvalidEvent Reason = "invalid event"           // 400
	ReasonMode         Reason = "api mode not allowed"    // 400
	ReasonUnavailable  Reason = "not accepting events"    // 503: before Start, after Shutdown
	ReasonQueueFull    Reason = "queue full"              // 503
	ReasonInbox        Reason = "inbox unavailable"       // 503: the inbox's Claim failed
	ReasonInboxFull    Reason = "inbox full"              // 503: Claim returned store.ErrInboxFull
	ReasonChallenge    Reason = "challenge answered"      // 200, the challenge as body (Slack's url_verification)
	ReasonDuplicate    Reason = "duplicate"               // 200, with HeaderDuplicate
	ReasonAccepted     Reason = "accepted"                // 200, empty body
)

// HeaderDuplicate is the header of the answer to a duplicate: a 200 with
// "Webhookkit-Duplicate: true" and the body "duplicate\n" says the event
// was already claimed (and is held or was handled) and will not be handed
// to the callback again. An accepted event's 200 has neither the header
// nor a body, so a tool or a test tells the two apart from the response
// alone.
const HeaderDuplicate = "Webhookkit-Duplicate"
