package receiver

import "errors"

var (
	// ErrClosed is returned by [Receiver.Start] and [Receiver.RunRetries]
	// once Shutdown or Close has begun (or Start's context ended), and
	// wrapped by a Shutdown whose drain Close cut short. A receiver cannot
	// be restarted: build a new one. A second Shutdown or Close returns nil.
	ErrClosed = errors.New("receiver: closed")

	// ErrStarted is returned by [Receiver.Start] when the receiver is
	// already started.
	ErrStarted = errors.New("receiver: already started")

	// ErrNoKeys is returned by [New], wrapped together with
	// [ErrInvalidConfig], when [Config].Keys holds no key and there are no
	// [Config].Sources, or a Source has no key. The receiver fails closed:
	// there is no mode that accepts unverified requests.
	ErrNoKeys = errors.New("receiver: no secret or public key configured")

	// ErrInvalidConfig is returned by [New], wrapped with the name of the
	// field, for a configuration it cannot use: no key (with [ErrNoKeys]), a
	// malformed key, a negative size or duration, a DedupWindow not longer
	// than twice the longest Tolerance, a key mode other than test or
	// live, a nil Handler. It is also
	// returned, wrapped, by [Receiver.RunRetries] on a receiver without
	// [Config].ManualRetries.
	ErrInvalidConfig = errors.New("receiver: invalid config")

	// ErrNoRoute is returned by [Mux.HandleEvent], wrapped with the event
	// type, when no pattern matches the event and no default handler is set.
	// A [Receiver] treats a callback error matching ErrNoRoute as "not
	// subscribed": the event is acknowledged, marked handled and dropped,
	// without retries, and counted in [Stats].Dropped and by
	// [Hooks].OnDropped.
	ErrNoRoute = errors.New("receiver: no handler for event type")
)
