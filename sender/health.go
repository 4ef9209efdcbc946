package sender

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

// healthResolution: a success to an endpoint that is healthy and had a
// success recorded less than this long ago is not recorded again, so a busy
// endpoint costs one health write a second, not one per delivery. Failures
// are always recorded.
const healthResolution = time.Second

// recordResult keeps the endpoint's health after an attempt classified as
// class at now: a success resets its failures (and reports a recovery from
// the warning); a failure is counted, warns at half the threshold and
// disables the endpoint once both thresholds are met; 410 Gone disables it
// at once. Errors are logged: the delivery is settled already or will be.
func (e *Endpoints) recordResult(ctx context.Context, ep *store.Endpoint, class retry.Class, now time.Time) {
	switch class {
	case retry.ClassSuccess:
		e.recordSuccess(ctx, ep, now)
	case retry.ClassGone:
		e.recordFailure(ctx, ep, now, false)
		if _, err := e.disable(ctx, ep.ID, "410 Gone"); err != nil {
			e.s.log.LogAttrs(ctx, slog.LevelError, "sender: disabling endpoint failed", slog.String("endpoint_id", ep.ID), slog.Any("error", err))
		}
	default:
		e.recordFailure(ctx, ep, now, true)
	}
}

// recordSuccess resets the endpoint's failure count and reports a recovery
// from the warning. It judges by the freshest copy of the endpoint this
// sender has seen (a failure recorded by another worker since ep was
// loaded counts), not by ep.
func (e *Endpoints) recordSuccess(ctx context.Context, ep *store.Endpoint, now time.Time) {
	s := e.s
	before := s.per.latest(ep)
	if h := before.Health; h.ConsecutiveFailures == 0 && h.FailingSince.IsZero() &&
		!h.LastSuccessAt.IsZero() && now.Sub(h.LastSuccessAt) < healthResolution && !now.Before(h.LastSuccessAt) {
		// Healthy and recorded recently: spare the store a write per success.
		return
	}
	seq := s.per.seq()
	after, err := s.st.RecordResult(ctx, ep.ID, true, now)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sender: recording endpoint health failed", slog.String("endpoint_id", ep.ID), slog.Any("error", err))
		return
	}
	s.per.observe(seq, after)
	if s.cfg.warnAt > 0 && before.Health.ConsecutiveFailures >= s.cfg.warnAt {
		s.log.LogAttrs(ctx, slog.LevelInfo, "sender: endpoint recovered", slog.String("endpoint_id", ep.ID))
		e.recovered(ctx, after.Clone())
	}
}

// recordFailure counts a failed attempt against the endpoint, warns at half
// the threshold and disables it once both thresholds are met (when
// mayDisable).
func (e *Endpoints) recordFailure(ctx context.Context, before *store.Endpoint, now time.Time, mayDisable bool) {
	s := e.s
	seq := s.per.seq()
	ep, err := s.st.RecordResult(ctx, before.ID, false, now)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sender: recording endpoint health failed", slog.String("endpoint_id", before.ID), slog.Any("error", err))
		return
	}
	s.per.observe(seq, ep)
	if ep.Disabled || s.cfg.warnAt == 0 {
		return
	}
	n := ep.Health.ConsecutiveFailures
	if n == s.cfg.warnAt {
		s.log.LogAttrs(ctx, slog.LevelWarn, "sender: endpoint failing, will be disabled if it goes on",
			slog.String("endpoint_id", ep.ID), slog.Int("consecutive_failures", n))
		if h := s.cfg.Hooks.OnEndpointWarning; h != nil {
			c := ep.Clone()
			s.safeHook(ctx, "OnEndpointWarning", func() { h(ctx, c) })
		}
	}
	if mayDisable && n >= s.cfg.DisableAfterFailures && now.Sub(ep.Health.FailingSince) >= s.cfg.DisableAfterDuration {
		reason := fmt.Sprintf("%d consecutive failed attempts since %s", n, ep.Health.FailingSince.UTC().Format(time.RFC3339))
		if _, err := e.disable(ctx, ep.ID, reason); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "sender: disabling endpoint failed", slog.String("endpoint_id", ep.ID), slog.Any("error", err))
		}
	}
}

// disable disables the endpoint with reason and, if it was enabled, logs
// that and calls Hooks.OnEndpointDisabled. It serves Disable and the
// automatic disabling alike.
func (e *Endpoints) disable(ctx context.Context, id, reason string) (*store.Endpoint, error) {
	s := e.s
	e.disableMu.Lock()
	defer e.disableMu.Unlock()
	before, err := s.st.GetEndpoint(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("sender: disable endpoint %q: %w", id, err)
	}
	seq := s.per.seq()
	ep, err := s.st.SetDisabled(ctx, id, true, reason, s.now())
	if err != nil {
		return nil, fmt.Errorf("sender: disable endpoint %q: %w", id, err)
	}
	// Deliveries leased before, still queued, see it disabled.
	s.per.observe(seq, ep)
	ep = ep.Clone()
	if !before.Disabled {
		s.log.LogAttrs(ctx, slog.LevelWarn, "sender: endpoint disabled", slog.String("endpoint_id", id), slog.String("reason", reason))
		if h := s.cfg.Hooks.OnEndpointDisabled; h != nil {
			s.safeHook(ctx, "OnEndpointDisabled", func() { h(ctx, ep) })
		}
	}
	return ep, nil
}

// recovered calls Hooks.OnEndpointRecovered with ep, a copy the hook may
// keep.
func (e *Endpoints) recovered(ctx context.Context, ep *store.Endpoint) {
	if h := e.s.cfg.Hooks.OnEndpointRecovered; h != nil {
		e.s.safeHook(ctx, "OnEndpointRecovered", func() { h(ctx, ep) })
	}
}
