package receiver

import "errors"

var (
	// ErrClosed is returned by [Receiver.Start], [Receiver.Shutdown] and
	// [Receiver.Close] once the receiver has been shut down or closed. A
	// receiver cannot be restarted: build a new one.
	ErrClosed = errors.New("receiver: closed")

	// ErrNoKeys is returned by [New] when [Config.Keys] holds no key. The
	// receiver fails closed: there is no mode that accepts unverified
	// requests.
	ErrNoKeys = errors.New("receiver: no secret or public key configured")

	// ErrInvalidConfig is returned by [New], wrapped with the name of the
	// field, for a configuration it cannot use: a malformed key, a negative
	// size or duration, a key mode other than test or live. It is also
	// returned, wrapped, by [Receiver.RunRetries] on a receiver without
	// [Config].ManualRetries.
	ErrInvalidConfig = errors.New("receiver: invalid config")

	// ErrNoRoute is returned by [Mux.HandleEvent], wrapped with the event
	// type, when no pattern matches the event and no default handler is set.
	// A [Receiver] treats a callback error matching ErrNoRoute as "not
	// subscribed": the event is acknowledged, marked handled and dropped,
	// without retries, and counted in [Stats].Dropped and by
	// [Hooks].Dropped.
	ErrNoRoute = errors.New("receiver: no handler for event type")
)
