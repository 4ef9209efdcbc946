package sender

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// endpointState is what a sender keeps per endpoint: the freshest copy of
// it the sender has seen, its limiter, the requests in flight, and the
// signer built from its active secrets.
type endpointState struct {
	// ep is the copy read or returned by the store call that started
	// last (epSeq) among those that answered: each lease round reloads it,
	// and health and disable results replace it, so queued deliveries see
	// an endpoint disabled by this sender, and health decisions see the
	// failures other workers recorded. It is shared: never modified.
	ep    *store.Endpoint
	epSeq uint64

	limiter      *rate.Limiter // nil: no rate limit
	maxInFlight  int           // 0: no cap
	inFlight     int
	blockedUntil time.Time // rate limited until then

	// signing cache: the key texts the signer was built from, and the time
	// at which one of them expires (zero: none expires).
	keys       []string
	signer     *signature.Signer
	validUntil time.Time
}

// limits tracks every endpoint's state and the set of endpoints that are at
// a limit (handed to the store as LeaseRequest.SkipEndpoints). It is safe
// for concurrent use.
type limits struct {
	cfg  *settings
	wake func()

	calls atomic.Uint64 // numbers the store calls that return endpoints

	mu      sync.Mutex
	eps     map[string]*endpointState
	skipped map[string]struct{}
}

// seq numbers a store call that will return an endpoint; call it before
// the call, and pass the number to observe with the result.
func (l *limits) seq() uint64 { return l.calls.Add(1) }

// observe records ep, returned by the store call numbered seq, as the
// endpoint's freshest copy unless a later call's answer is recorded
// already. ep must not be modified afterwards.
func (l *limits) observe(seq uint64, ep *store.Endpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(ep.ID)
	if es.ep == nil || seq > es.epSeq {
		es.ep, es.epSeq = ep, seq
	}
}

// latest returns the freshest copy of ep this sender has seen.
func (l *limits) latest(ep *store.Endpoint) *store.Endpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	if es := l.eps[ep.ID]; es != nil && es.ep != nil {
		return es.ep
	}
	return ep
}

func newLimits(cfg *settings, wake func()) *limits {
	return &limits{cfg: cfg, wake: wake, eps: make(map[string]*endpointState), skipped: make(map[string]struct{})}
}

// state returns the endpoint's state; l.mu must be held.
func (l *limits) state(id string) *endpointState {
	es := l.eps[id]
	if es == nil {
		es = &endpointState{}
		l.eps[id] = es
	}
	return es
}

// admit reserves a request slot and a rate-limit token at now for the
// endpoint, which must have been observed, and returns its freshest copy.
// When the endpoint is at a limit it returns false and the time the
// delivery should be due again, and the endpoint is skipped until then.
func (l *limits) admit(id string, now time.Time) (*store.Endpoint, bool, time.Time) {
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
func (l *limits) configure(es *endpointState, ep *store.Endpoint, now time.Time) {
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
func (l *limits) done(id string, now time.Time) {
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
func (l *limits) skipList(now time.Time) ([]string, time.Time) {
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

// signer returns a signer over ep's secrets that are active at now, built
// once and reused until the endpoint's active keys change or one of them
// expires.
func (l *limits) signer(ep *store.Endpoint, now time.Time) (*signature.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(ep.ID)
	if es.signer != nil && (es.validUntil.IsZero() || now.Before(es.validUntil)) && sameActiveKeys(es.keys, ep.Secrets, now) {
		return es.signer, nil
	}
	var (
		secrets    []signature.Secret
		keys       []signature.PrivateKey
		texts      []string
		validUntil time.Time
	)
	for i, sec := range ep.Secrets {
		if !sec.Active(now) {
			continue
		}
		if len(sec.Key) >= len(signature.PrivateKeyPrefix) && sec.Key[:len(signature.PrivateKeyPrefix)] == signature.PrivateKeyPrefix {
			k, err := signature.ParsePrivateKey(sec.Key)
			if err != nil {
				return nil, errSecret(i, err)
			}
			keys = append(keys, k)
		} else {
			s, err := signature.ParseSecret(sec.Key)
			if err != nil {
				return nil, errSecret(i, err)
			}
			secrets = append(secrets, s)
		}
		texts = append(texts, sec.Key)
		if !sec.ExpiresAt.IsZero() && (validUntil.IsZero() || sec.ExpiresAt.Before(validUntil)) {
			validUntil = sec.ExpiresAt
		}
	}
	if len(texts) == 0 {
		return nil, ErrNoActiveSecret
	}
	sg, err := signature.NewSigner(secrets, keys...)
	if err != nil {
		return nil, err
	}
	es.keys, es.signer, es.validUntil = texts, sg, validUntil
	return sg, nil
}

func sameActiveKeys(keys []string, secrets []store.Secret, now time.Time) bool {
	i := 0
	for _, s := range secrets {
		if !s.Active(now) {
			continue
		}
		if i >= len(keys) || keys[i] != s.Key {
			return false
		}
		i++
	}
	return i == len(keys)
}
