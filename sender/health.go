package sender

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// healthResolution: a batch whose attempts to an endpoint all succeeded,
// when the endpoint is healthy and had a success recorded less than this
// long before, does not record it again, so a busy endpoint costs one
// health write a second, not one per batch. Failures are always recorded.
const healthResolution = time.Second

// healthBatch is the health changes of a batch of outcomes: one delta per
// endpoint attempted, and the endpoint's health as this sender last saw it
// before the batch.
type healthBatch struct {
	deltas []store.HealthDelta
	before []store.Health
}

// healthOf folds the attempts of batch into one health change per
// endpoint, in the order they were made, leaving out the endpoints that
// healthResolution spares.
func (s *Sender) healthOf(batch []*outcome) healthBatch {
	var h healthBatch
	for _, o := range batch {
		if o.ep == nil {
			continue
		}
		i := len(h.deltas) - 1
		for i >= 0 && h.deltas[i].EndpointID != o.ep.ID {
			i-- // most batches hold one or a few endpoints: a short list beats a map
		}
		if i < 0 {
			i = len(h.deltas)
			h.deltas = append(h.deltas, store.HealthDelta{EndpointID: o.ep.ID})
			h.before = append(h.before, s.per.latest(o.ep).Health)
		}
		h.deltas[i].Add(o.success, o.set.At)
		if o.brk != nil {
			h.deltas[i].SetBreaker, h.deltas[i].Breaker, h.deltas[i].BreakerSince = true, o.brk.state, o.brk.since
		}
	}
	n := 0
	for i, d := range h.deltas {
		if b := h.before[i]; !d.SetBreaker && d.Failures == 0 && d.LastFailure.IsZero() &&
			b.ConsecutiveFailures == 0 && b.FailingSince.IsZero() && !b.LastSuccessAt.IsZero() &&
			d.LastSuccess.Sub(b.LastSuccessAt) < healthResolution && !d.LastSuccess.Before(b.LastSuccessAt) {
			continue // healthy and recorded recently: spare the store a write
		}
		h.deltas[n], h.before[n] = d, h.before[i]
		n++
	}
	h.deltas, h.before = h.deltas[:n], h.before[:n]
	return h
}

// afterHealth acts on the endpoints' health after a batch wrote h: after
// holds each endpoint as the store left it (nil: deleted meanwhile), read
// at seq. A success after the warning threshold reports a recovery;
// reaching the threshold warns; and an endpoint whose failures meet both
// disabling thresholds is disabled.
func (e *Endpoints) afterHealth(ctx context.Context, h healthBatch, after []*store.Endpoint, seq uint64) {
	s := e.s
	for i, ep := range after {
		if ep == nil {
			continue
		}
		s.per.observe(seq, ep)
		d, warnAt := h.deltas[i], s.cfg.warnAt
		if d.SetBreaker {
			e.breakerChanged(ctx, ep)
		}
		if warnAt == 0 {
			continue
		}
		if !d.LastSuccess.IsZero() && h.before[i].ConsecutiveFailures >= warnAt {
			s.log.LogAttrs(ctx, slog.LevelInfo, "sender: endpoint recovered", slog.String("endpoint_id", ep.ID))
			e.recovered(ctx, ep.Clone())
		}
		if ep.Disabled || d.Failures == 0 {
			continue
		}
		n := ep.Health.ConsecutiveFailures
		if n-d.Failures < warnAt && n >= warnAt {
			s.log.LogAttrs(ctx, slog.LevelWarn, "sender: endpoint failing, will be disabled if it goes on",
				slog.String("endpoint_id", ep.ID), slog.Int("consecutive_failures", n))
			if hook := s.cfg.Hooks.OnEndpointWarning; hook != nil {
				c := ep.Clone()
				s.safeHook(ctx, "OnEndpointWarning", func() { hook(ctx, c) })
			}
		}
		if n >= s.cfg.DisableAfterFailures && d.LastFailure.Sub(ep.Health.FailingSince) >= s.cfg.DisableAfterDuration {
			reason := fmt.Sprintf("%d consecutive failed attempts since %s", n, ep.Health.FailingSince.UTC().Format(time.RFC3339))
			if _, err := e.disable(ctx, ep.ID, reason); err != nil {
				s.log.LogAttrs(ctx, slog.LevelError, "sender: disabling endpoint failed", slog.String("endpoint_id", ep.ID), slog.Any("error", err))
			}
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

// breakerChanged logs the breaker transition recorded on ep and calls
// Hooks.OnBreakerChange.
func (e *Endpoints) breakerChanged(ctx context.Context, ep *store.Endpoint) {
	s := e.s
	lvl := slog.LevelInfo
	if ep.Health.Breaker == store.BreakerOpen {
		lvl = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, lvl, "sender: endpoint circuit breaker "+ep.Health.Breaker.String(),
		slog.String("endpoint_id", ep.ID), slog.Int("consecutive_failures", ep.Health.ConsecutiveFailures))
	if h := s.cfg.Hooks.OnBreakerChange; h != nil {
		c := ep.Clone()
		s.safeHook(ctx, "OnBreakerChange", func() { h(ctx, c, c.Health.Breaker) })
	}
}
