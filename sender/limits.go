package sender

import (
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/webhookkit/webhookkit/store"
)

// admit reserves a request slot and a rate-limit token at now for the
// endpoint, which must have been observed, and returns its freshest copy.
// When the endpoint is at a limit it returns false and the time the
// delivery should be due again, and the endpoint is skipped until then.
func (l *perEndpoint) admit(id string, now time.Time) (*store.Endpoint, bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(id)
	ep := es.ep
	if ep == nil {
		return nil, false, now // not observed: a bug, but do no harm
	}
	l.configure(es, ep, now)
	if es.maxInFlight > 0 && es.inFlight >= es.maxInFlight {
		l.skipped[ep.ID] = struct{}{}
		return ep, false, now
	}
	if es.limiter != nil {
		r := es.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); !r.OK() || d > 0 {
			r.CancelAt(now)
			es.blockedUntil = now.Add(d)
			l.skipped[ep.ID] = struct{}{}
			return ep, false, es.blockedUntil
		}
	}
	es.inFlight++
	if es.maxInFlight > 0 && es.inFlight >= es.maxInFlight {
		l.skipped[ep.ID] = struct{}{}
	}
	return ep, true, time.Time{}
}

// configure applies the endpoint's (or the defaults') limits to es.
func (l *perEndpoint) configure(es *endpointState, ep *store.Endpoint, now time.Time) {
	mif := ep.MaxInFlight
	if mif == 0 {
		mif = max(l.cfg.DefaultMaxInFlight, 0)
	}
	es.maxInFlight = mif

	r, burst := ep.RateLimit, ep.Burst
	if r == 0 {
		r = l.cfg.DefaultRateLimit
	}
	if burst == 0 {
		burst = max(l.cfg.DefaultBurst, 1)
	}
	switch {
	case r <= 0:
		es.limiter = nil
	case es.limiter == nil:
		es.limiter = rate.NewLimiter(rate.Limit(r), burst)
		// A new limiter starts full; take it to now so the injected clock,
		// not the zero time, is its reference.
		es.limiter.SetLimitAt(now, rate.Limit(r))
	default:
		if es.limiter.Limit() != rate.Limit(r) {
			es.limiter.SetLimitAt(now, rate.Limit(r))
		}
		if es.limiter.Burst() != burst {
			es.limiter.SetBurstAt(now, burst)
		}
	}
}

// done returns the request slot taken by admit and wakes the dispatcher if
// the endpoint is no longer at its cap.
func (l *perEndpoint) done(id string, now time.Time) {
	l.mu.Lock()
	es := l.state(id)
	es.inFlight--
	_, wasSkipped := l.skipped[id]
	freed := wasSkipped && (es.maxInFlight == 0 || es.inFlight < es.maxInFlight) && !es.blockedUntil.After(now)
	if freed {
		delete(l.skipped, id)
	}
	l.mu.Unlock()
	if freed {
		l.wake()
	}
}

// skipList returns the endpoints at a limit at now, and the earliest time a
// rate-limited one is free again (zero if none).
func (l *perEndpoint) skipList(now time.Time) ([]string, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.skipped) == 0 {
		return nil, time.Time{}
	}
	ids := make([]string, 0, len(l.skipped))
	var next time.Time
	for id := range l.skipped {
		es := l.eps[id]
		atCap := es.maxInFlight > 0 && es.inFlight >= es.maxInFlight
		blocked := es.blockedUntil.After(now)
		if !atCap && !blocked {
			delete(l.skipped, id)
			continue
		}
		ids = append(ids, id)
		if blocked && (next.IsZero() || es.blockedUntil.Before(next)) {
			next = es.blockedUntil
		}
	}
	slices.Sort(ids)
	return ids, next
}
