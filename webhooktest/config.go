package webhooktest

import (
	"time"

	"github.com/webhookkit/webhookkit/receiver"
)

// DefaultCallbackWait is how long an Endpoint holds the answer to an accepted
// event while it waits for the callback to return (see
// [EndpointConfig].CallbackWait).
const DefaultCallbackWait = 10 * time.Second

// EndpointConfig configures an Endpoint built by [NewEndpoint] or
// [NewServer]. The zero value, or a nil pointer, selects every default: a
// fresh secret, the empty tenant, the real clock, a callback that accepts
// every event, a default receiver, and [DefaultCallbackWait]. The
// constructors copy it: changing it afterwards has no effect.
type EndpointConfig struct {
	// Secret is the endpoint's signing secret ("whsec_..."). Empty: a fresh
	// one is generated ([Endpoint.Secret] returns it). A malformed secret
	// makes NewServer fail (and NewEndpoint fail the test).
	Secret string

	// Tenant is the tenant [Endpoint.Register] registers the endpoint
	// under, for a test of a sender's fan-out to one tenant. Empty: the
	// empty tenant.
	Tenant string

	// Clock, if set, is read by the endpoint's receiver (for the signature
	// tolerance, the de-duplication window, the inbox and its callback
	// retries) and stamps [Request].At. Give the sender the same clock:
	// with a fake clock here left out, the receiver refuses the sender's
	// timestamps as too old or too new.
	//
	// The receiver's callback retries then follow the clock too (it is
	// built with receiver.Config.ManualRetries): a callback that fails is
	// retried only by [Endpoint.RunRetries], once the clock has passed the
	// retry's delay, and never by a real timer. To keep real-time retries
	// beside a fake clock, leave Clock nil and set Receiver.Now instead.
	// Nil: the real clock, and retries on real timers.
	Clock *Clock

	// Handler, if set, is called for every event after it is recorded, such
	// as the application's own receiver.Mux. Its error fails the callback
	// as in a receiver (retried by the receiver's retry policy, then
	// dead-lettered). Nil: every event is handled successfully.
	Handler receiver.Handler

	// Receiver is the base configuration of the endpoint's receiver. The
	// endpoint's secret is added to Receiver.Keys; Receiver.Now defaults to
	// Clock's, which also turns Receiver.ManualRetries on; Receiver.Hooks
	// are kept (the endpoint wraps OnCallback, calling the given one
	// first). The other fields take effect as in any receiver.Config:
	// Receiver.Retry sets the delays [Endpoint.RunRetries] waits for. The
	// zero value: a default receiver.
	Receiver receiver.Config

	// CallbackWait is how long the endpoint holds the 200 answer to an
	// accepted event while the callback runs. Holding it makes delivery
	// synchronous: when a sender's attempt ends, the event is already in
	// [Endpoint.Events]. The answer is held until the callback's outcome
	// is decided (including when a retry is due), so a clock moved after
	// it does not shift the retry. Retries of a failed callback are not
	// waited for; with a Clock they run in [Endpoint.RunRetries]. Zero:
	// [DefaultCallbackWait]. Negative: the endpoint answers as soon as the
	// receiver does, like a production receiver.
	CallbackWait time.Duration
}

// settings returns a copy of c with the defaults filled in.
func (c *EndpointConfig) settings() *EndpointConfig {
	s := &EndpointConfig{}
	if c != nil {
		*s = *c
	}
	if s.CallbackWait == 0 {
		s.CallbackWait = DefaultCallbackWait
	}
	return s
}
