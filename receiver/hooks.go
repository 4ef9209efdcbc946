package receiver

import (
	"net/http"
	"time"

	"github.com/webhookkit/webhookkit/event"
)

// Hooks observe a [Receiver] for metrics and tracing without the core
// importing a metrics library. Every field is optional. Hooks are called
// synchronously (Accepted and Response on the request's goroutine, the
// others on a worker), concurrently with each other: they must be safe for
// concurrent use and quick. A panic in Accepted, Attempt or Dropped is
// recovered and logged; one in Response is left to net/http, as for any
// handler. The zero value observes nothing.
type Hooks struct {
	// Accepted, if set, is called once for each request whose event was
	// accepted: verified, decoded, newly claimed and queued (not for
	// duplicates, refusals, or events re-driven from a durable inbox). It
	// runs before the 200 is written and before the first callback attempt
	// for the event starts: a worker that picks the event up waits for
	// Accepted to return. Setting it costs a copy of the body and of the
	// header per accepted request.
	Accepted func(AcceptedInfo)
	// Response is called once per request, after the answer was written.
	Response func(ResponseInfo)
	// Attempt is called after every callback attempt, before its outcome
	// is recorded (so a graceful Shutdown waits for it).
	Attempt func(AttemptInfo)
	// Dropped is called for an event acknowledged without a handler: the
	// callback returned an error matching [ErrNoRoute] (as [Mux] does for
	// types nothing subscribes to).
	Dropped func(ev event.Event)
}

// AcceptedInfo describes one accepted request, for [Hooks].Accepted: the
// verified event with the request that carried it, for tools that relay or
// archive the original (such as a "listen --forward-to" that re-posts it
// with its signatures intact).
type AcceptedInfo struct {
	// Key is the de-duplication key the event was claimed under: the
	// envelope id, or the webhook-id header with [Config].DedupByHeader.
	// It is the Key of the event's [AttemptInfo].
	Key string
	// Event is the decoded event handed to the callback. Its Data must not
	// be modified.
	Event event.Event
	// Body is the raw request body as received and verified: a copy of its
	// own, which the hook may keep and modify.
	Body []byte
	// Header is the request's header, webhook-* signature headers
	// included: a copy of its own, which the hook may keep and modify.
	Header http.Header
}

// ResponseInfo describes one answered request, for [Hooks].Response.
type ResponseInfo struct {
	// Status is the HTTP status code sent.
	Status int
	// Reason says why.
	Reason Reason
	// EventID and EventType are set once the request was verified and its
	// envelope decoded; empty otherwise (never taken from unverified input).
	EventID, EventType string
	// Duration is the time spent in ServeHTTP.
	Duration time.Duration
}

// Result is what became of one callback attempt.
type Result string

// Results of a callback attempt.
const (
	ResultHandled     Result = "handled"     // the callback succeeded
	ResultDropped     Result = "dropped"     // no route for the type ([ErrNoRoute]): acknowledged
	ResultRetry       Result = "retry"       // failed; another attempt is scheduled
	ResultDead        Result = "dead"        // failed for good; dead-lettered
	ResultInterrupted Result = "interrupted" // cut short by Close or a Shutdown deadline
)

// AttemptInfo describes one callback attempt, for [Hooks].Attempt.
type AttemptInfo struct {
	// Event is the event handled. Its Data must not be modified.
	Event event.Event
	// Key is the de-duplication key of the event.
	Key string
	// Attempt is the 1-based attempt number.
	Attempt int
	// Err is the callback's error (a panic becomes an error); nil on success.
	Err error
	// Result is what became of the attempt.
	Result Result
	// Retry is the delay before the next attempt when Result is ResultRetry.
	Retry time.Duration
	// Duration is how long the callback ran.
	Duration time.Duration
}
