package receiver

import (
	"context"
	"net/http"
	"time"

	"github.com/webhookkit/webhookkit/event"
)

// Hooks observe a [Receiver] for metrics, tracing and dead-lettering
// without the core importing a metrics library. Every field is optional
// and named for the moment it reports; every hook takes a context first.
// Hooks are called synchronously (OnAccepted and OnResponse on the
// request's goroutine with the request's context; the others on a worker,
// or in [Receiver.RunRetries], with a context that carries the values of
// the context given to [Receiver.Start] and is cancelled by
// [Receiver.Close]), concurrently with each other: they must be safe for
// concurrent use and quick. A panic in any hook but OnResponse is
// recovered and logged; one in OnResponse is left to net/http, as for any
// handler. The zero value observes nothing.
type Hooks struct {
	// OnAccepted, if set, is called once for each request whose event was
	// accepted: verified, decoded, newly claimed and queued (not for
	// duplicates, refusals, or events re-driven from a durable inbox). It
	// runs before the 200 is written and before the first callback for
	// the event starts: a worker that picks the event up waits for
	// OnAccepted to return. Setting it costs a copy of the body and of the
	// header per accepted request.
	OnAccepted func(ctx context.Context, info AcceptedInfo)
	// OnResponse is called once per request, after the answer was written.
	OnResponse func(ctx context.Context, info ResponseInfo)
	// OnCallback is called after every call of the [Handler], before its
	// outcome is recorded (so a graceful Shutdown waits for it).
	OnCallback func(ctx context.Context, info CallbackInfo)
	// OnDropped is called for an event acknowledged without a handler: the
	// callback returned an error matching [ErrNoRoute] (as [Mux] does for
	// types nothing subscribes to).
	OnDropped func(ctx context.Context, ev event.Event)
	// OnDead is called once for an event whose callback failed for good,
	// after the event is marked dead in the inbox, with the last error. Its
	// context is also bounded by [Config].CallbackTimeout, for a hook that
	// files the event somewhere, and carries the event's [Delivery] (see
	// [DeliveryFrom]), with the original request of a provider's event.
	OnDead func(ctx context.Context, ev event.Event, err error)
}

// AcceptedInfo describes one accepted request, for [Hooks].OnAccepted: the
// verified event with the request that carried it, for tools that relay or
// archive the original (such as a "listen --forward-to" that re-posts it
// with its signatures intact).
type AcceptedInfo struct {
	// Source is the name of the source the request came to (see
	// [Source]; "webhookkit" for the receiver's own, by default).
	Source string
	// Key is the de-duplication key the event was claimed under: the
	// envelope id, or the webhook-id header with [Config].DedupByHeader;
	// for a source other than the receiver's own webhookkit one, its name,
	// a dot and the provider's key.
	// It is the Key of the event's [CallbackInfo].
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

// ResponseInfo describes one answered request, for [Hooks].OnResponse.
type ResponseInfo struct {
	// Source is the name of the source the request came to; empty for a
	// request to a Receiver without its own source ([ReasonNoSource]).
	Source string
	// Status is the HTTP status code sent.
	Status int
	// Reason says why.
	Reason Reason
	// EventID and EventType are set once the request was verified and its
	// envelope decoded; empty otherwise (never taken from unverified input).
	EventID, EventType string
	// Hint is the second line of a refusal's body that says what to fix
	// (a body of the other format, another provider's headers, a
	// form-encoded body; see the package documentation), without its
	// newline; empty for the other answers. It is fixed text, never taken
	// from the request.
	Hint string
	// Duration is the time spent in ServeHTTP.
	Duration time.Duration
}

// Result is what became of one call of the [Handler].
type Result string

// Results of a callback.
const (
	ResultHandled     Result = "handled"     // the callback succeeded
	ResultDropped     Result = "dropped"     // no route for the type ([ErrNoRoute]): acknowledged
	ResultRetry       Result = "retry"       // failed; another attempt is scheduled
	ResultDead        Result = "dead"        // failed for good; dead-lettered
	ResultInterrupted Result = "interrupted" // cut short by Close or a Shutdown deadline
)

// CallbackInfo describes one call of the [Handler] for an event, for
// [Hooks].OnCallback.
type CallbackInfo struct {
	// Event is the event handled. Its Data must not be modified.
	Event event.Event
	// Key is the de-duplication key of the event.
	Key string
	// Number is the 1-based number of this call for the event: 1 for the
	// first, 2 for the first retry, and so on (counting calls made before a
	// crash, for an event re-driven from a durable inbox).
	Number int
	// Err is the callback's error (a panic becomes an error); nil on success.
	Err error
	// Result is what became of the call.
	Result Result
	// Retry is the delay before the next call when Result is ResultRetry.
	Retry time.Duration
	// Duration is how long the callback ran.
	Duration time.Duration
}
