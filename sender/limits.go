package sender

import (
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/webhookkit/webhookkit/store"
)

// admit reserves a request slot and a rate-limit token at now for the
// endpoint, which must have been observed, and returns its freshest copy.
// When the endpoint is at a limit, its breaker is open (or probing) or a
// Retry-After pauses it, it returns false and the time the delivery should
// be due again, and the endpoint is skipped until then. A request admitted
// while the breaker is open and its probe due is the probe.
func (l *perEndpoint) admit(id string, now time.Time) (*store.Endpoint, bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(id)
	ep := es.ep
	if ep == nil {
		return nil, false, now // not observed: a bug, but do no harm
	}
	l.configure(es, ep, now)
	probe := false
	if !l.cfg.Breaker.Disabled {
		ok, p, until := es.brk.allow(now)
		if !ok {
			l.skipped[ep.ID] = struct{}{}
			return ep, false, later(now, until)
		}
		probe = p
	}
	refuse := func(until time.Time) (*store.Endpoint, bool, time.Time) {
		if probe {
			es.brk.cancel(now)
		}
		l.skipped[ep.ID] = struct{}{}
		return ep, false, until
	}
	if es.ramp.pauseUntil.After(now) {
		return refuse(es.ramp.pauseUntil)
	}
	if es.maxInFlight > 0 && es.inFlight >= es.maxInFlight {
		return refuse(now)
	}
	if es.limiter != nil {
		r := es.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); !r.OK() || d > 0 {
			r.CancelAt(now)
			es.blockedUntil = now.Add(d)
			return refuse(es.blockedUntil)
		}
	}
	es.inFlight++
	es.probing = probe
	es.lastSeen = now
	if es.maxInFlight > 0 && es.inFlight >= es.maxInFlight || probe {
		l.skipped[ep.ID] = struct{}{}
	}
	return ep, true, time.Time{}
}

// capacity returns the requests in flight the endpoint may have at full
// speed: its cap, or Workers when it has none. A ramp climbs to it.
func (l *perEndpoint) capacity(ep *store.Endpoint) int {
	if mif := l.maxInFlight(ep); mif > 0 {
		return mif
	}
	return l.cfg.Workers
}

// maxInFlight returns the endpoint's own cap (or the default); 0: none.
func (l *perEndpoint) maxInFlight(ep *store.Endpoint) int {
	if ep.MaxInFlight != 0 {
		return ep.MaxInFlight
	}
	return max(l.cfg.DefaultMaxInFlight, 0)
}

// configure applies the endpoint's (or the defaults') limits to es, held
// down in proportion by a ramp in progress.
func (l *perEndpoint) configure(es *endpointState, ep *store.Endpoint, now time.Time) {
	mif := l.maxInFlight(ep)
	r, burst := ep.RateLimit, ep.Burst
	if r == 0 {
		r = l.cfg.DefaultRateLimit
	}
	if burst == 0 {
		burst = max(l.cfg.DefaultBurst, 1)
	}
	if es.ramp.active {
		c := l.capacity(ep)
		lim := es.ramp.limit(c)
		mif = lim
		r = r * float64(lim) / float64(c)
		burst = max(burst*lim/c, 1)
	}
	es.maxInFlight = mif
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
// the endpoint is no longer at a limit.
func (l *perEndpoint) done(id string, now time.Time) {
	l.mu.Lock()
	es := l.state(id)
	es.inFlight--
	_, wasSkipped := l.skipped[id]
	freed := wasSkipped && !l.held(es, now)
	if freed {
		delete(l.skipped, id)
	}
	l.mu.Unlock()
	if freed {
		l.wake()
	}
}

// held reports whether the endpoint may start no request at now: at its
// cap, rate limited, paused, or its breaker open or probing. l.mu must be
// held.
func (l *perEndpoint) held(es *endpointState, now time.Time) bool {
	return (es.maxInFlight > 0 && es.inFlight >= es.maxInFlight) || es.blockedUntil.After(now) ||
		es.ramp.pauseUntil.After(now) || (!l.cfg.Breaker.Disabled && es.brk.blocked(now))
}

// breakerChange is a breaker transition, recorded on the endpoint with the
// batch that settles the attempt that caused it.
type breakerChange struct {
	state store.BreakerState
	since time.Time
	// failedFrom, when the breaker closed, is the earliest lease time of
	// the attempts that failed in the run that opened it (zero: none
	// known): their retries may go at once.
	failedFrom time.Time
}

// feedback folds the feedback of an attempt to the endpoint that ended at
// now into its breaker and its ramp, and returns the breaker's transition,
// if any. Call it before done, so the dispatcher woken by done sees it.
func (l *perEndpoint) feedback(id string, now time.Time, fb feedback) (breakerChange, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(id)
	probe := es.probing
	es.probing = false
	capacity := l.cfg.Workers
	if es.ep != nil {
		capacity = l.capacity(es.ep)
	}
	var ch breakerChange
	changed := false
	if !l.cfg.Breaker.Disabled {
		from := es.brk.from
		changed = es.brk.record(&l.cfg.Breaker, now, fb, probe)
		ch = breakerChange{state: es.brk.state, since: es.brk.since}
		if changed && es.brk.state == store.BreakerClosed {
			ch.failedFrom = from
		}
	}
	switch {
	case l.cfg.SlowStart.Disabled:
	case changed && es.brk.state == store.BreakerClosed:
		es.ramp.start(l.cfg.SlowStart.Initial, capacity) // the probe does not count
	default:
		es.ramp.record(now, fb, capacity)
	}
	if l.held(es, now) {
		l.skipped[id] = struct{}{}
	}
	return ch, changed
}

// cancelProbe takes back the probe of a request admitted but not attempted
// (its endpoint disabled meanwhile, or the attempt interrupted).
func (l *perEndpoint) cancelProbe(id string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if es := l.eps[id]; es != nil && es.probing {
		es.probing = false
		es.brk.cancel(now)
	}
}

// backlog starts a ramp for an endpoint that gets n deliveries in one
// lease at now after this sender left it idle (see SlowStartConfig).
func (l *perEndpoint) backlog(id string, n int, now time.Time) {
	if l.cfg.SlowStart.Disabled || n < l.cfg.SlowStart.Backlog {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(id)
	if es.ep == nil || es.ramp.active || es.inFlight > 0 ||
		(!es.lastSeen.IsZero() && now.Sub(es.lastSeen) < l.cfg.SlowStart.Idle) {
		return
	}
	es.ramp.start(l.cfg.SlowStart.Initial, l.capacity(es.ep))
}

// skipList returns the endpoints at a limit at now, and the earliest time
// one of them is free again (zero if none but those at their cap).
func (l *perEndpoint) skipList(now time.Time) ([]string, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.skipped) == 0 {
		return nil, time.Time{}
	}
	ids := make([]string, 0, len(l.skipped))
	var next time.Time
	soonest := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for id := range l.skipped {
		es := l.eps[id]
		if !l.held(es, now) {
			delete(l.skipped, id)
			continue
		}
		ids = append(ids, id)
		soonest(es.blockedUntil)
		soonest(es.ramp.pauseUntil)
		if !l.cfg.Breaker.Disabled && es.brk.state == store.BreakerOpen {
			soonest(es.brk.probeAt)
		}
	}
	slices.Sort(ids)
	return ids, next
}

// flow returns the endpoint's delivery control (see [Sender.Flow]).
func (l *perEndpoint) flow(id string) Flow {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.eps[id]
	if es == nil {
		return Flow{}
	}
	f := Flow{
		Breaker:       es.brk.state,
		BreakerSince:  es.brk.since,
		Ramping:       es.ramp.active,
		InFlightLimit: es.maxInFlight,
		InFlight:      es.inFlight,
		PausedUntil:   es.ramp.pauseUntil,
	}
	if es.brk.state == store.BreakerOpen {
		f.NextProbe = es.brk.probeAt
	}
	if es.ep != nil {
		f.Capacity = l.maxInFlight(es.ep)
		if es.ramp.active {
			f.InFlightLimit = es.ramp.limit(l.capacity(es.ep))
		}
	}
	if es.brk.state == store.BreakerHalfOpen {
		f.InFlightLimit = 1 // the probe
	}
	return f
}

// hold is how a sender holds an endpoint back at an instant (see holds).
type hold struct {
	// until is when the endpoint lets requests go again; zero when that
	// waits for a request in flight to end (a probe, or its in-flight cap).
	until time.Time
	// paused: its breaker is open or probing, or a Retry-After pauses it:
	// its due deliveries count as held ([Backlog].Held), not due.
	paused bool
}

// holds returns the endpoints that may start no request at now, and how
// each is held.
func (l *perEndpoint) holds(now time.Time) map[string]hold {
	l.mu.Lock()
	defer l.mu.Unlock()
	var hs map[string]hold
	for id, es := range l.eps {
		if !l.held(es, now) {
			continue
		}
		var h hold
		brk := !l.cfg.Breaker.Disabled && es.brk.blocked(now)
		h.paused = brk || es.ramp.pauseUntil.After(now)
		atCap := es.maxInFlight > 0 && es.inFlight >= es.maxInFlight
		if !atCap && (!brk || es.brk.state == store.BreakerOpen) {
			if brk {
				h.until = es.brk.probeAt
			}
			h.until = later(h.until, later(es.blockedUntil, es.ramp.pauseUntil))
		}
		if hs == nil {
			hs = make(map[string]hold)
		}
		hs[id] = h
	}
	return hs
}
