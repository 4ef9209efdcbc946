package sender

import (
	"context"
	"log/slog"

	"github.com/webhookkit/webhookkit/store"
)

// Hooks are optional callbacks for metrics, tracing and alerting. They are
// called synchronously from the goroutine that made the attempt, possibly
// from several goroutines at once, so they must be safe for concurrent use
// and must not block for long. Values passed to them are copies the hook
// may keep. A panicking hook is recovered and logged; the delivery is
// settled as if the hook had returned.
type Hooks struct {
	// OnAttempt is called after every attempt has been logged. The
	// attempt is the hook's own: it may keep it.
	OnAttempt func(ctx context.Context, a *store.Attempt)
	// OnDeliveryExhausted is called when a delivery is given up: the retry
	// policy said stop, the failure was permanent, or the endpoint answered
	// 410 Gone. reason says which.
	OnDeliveryExhausted func(ctx context.Context, d *store.Delivery, reason string)
	// OnEndpointWarning is called once per run of failures, when the
	// endpoint's consecutive failures reach half of DisableAfterFailures:
	// the "yellow banner" before it is disabled.
	OnEndpointWarning func(ctx context.Context, ep *store.Endpoint)
	// OnEndpointDisabled is called when the sender disables an endpoint,
	// automatically (failures, 410 Gone) or through [Endpoints.Disable].
	OnEndpointDisabled func(ctx context.Context, ep *store.Endpoint)
	// OnEndpointRecovered is called when an endpoint that had reached the
	// warning succeeds again, and when [Endpoints.Enable] re-enables a
	// disabled endpoint.
	OnEndpointRecovered func(ctx context.Context, ep *store.Endpoint)
	// OnBreakerChange is called when an endpoint's circuit breaker opens
	// (state [store.BreakerOpen]) or closes ([store.BreakerClosed]) in this
	// sender, once the change is recorded on the endpoint (ep.Health).
	OnBreakerChange func(ctx context.Context, ep *store.Endpoint, state store.BreakerState)
}

// safeHook runs a user hook; a panic in it is logged, not allowed to take
// down the worker (and the process) or leave a delivery unsettled.
func (s *Sender) safeHook(ctx context.Context, name string, call func()) {
	defer func() {
		if r := recover(); r != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "sender: hook panicked", slog.String("hook", name), slog.Any("panic", r))
		}
	}()
	call()
}
