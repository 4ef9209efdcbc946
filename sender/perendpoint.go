package sender

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// endpointState is what a sender keeps per endpoint: the freshest copy of
// it the sender has seen (this file), its limiter and the requests in
// flight (limits.go), and the signer built from its active secrets
// (signers.go).
type endpointState struct {
	// ep is the copy read or returned by the store call that started
	// last (epSeq) among those that answered: each lease round reloads it,
	// and health and disable results replace it, so queued deliveries see
	// an endpoint disabled by this sender, and health decisions see the
	// failures other workers recorded. It is shared: never modified.
	ep    *store.Endpoint
	epSeq uint64

	limiter      *rate.Limiter // nil: no rate limit
	maxInFlight  int           // 0: no cap; the ramp's limit while it is active
	inFlight     int
	blockedUntil time.Time // rate limited until then

	// delivery control (flow.go): the breaker (probing: the request in
	// flight is its probe), the slow start, and when this sender last
	// started a request to the endpoint.
	brk      breaker
	probing  bool
	ramp     ramp
	lastSeen time.Time

	// signing cache: the key texts the signer was built from, and the time
	// at which one of them expires (zero: none expires).
	keys       []string
	signer     *signature.Signer
	kmsKeys    []string // names of the active "whkms_" keys
	validUntil time.Time

	// tls is the client of an endpoint with TLS settings (credentials.go).
	tls *endpointClient

	// unused is set by each sweep and cleared by every use (state): a
	// state still unused at the next sweep is dropped.
	unused bool
}

// perEndpoint holds every endpoint's state, and the set of endpoints that
// are at a limit (handed to the store as LeaseRequest.SkipEndpoints). It is
// safe for concurrent use.
type perEndpoint struct {
	cfg  *settings
	wake func()

	calls atomic.Uint64 // numbers the store calls that return endpoints

	mu      sync.Mutex
	eps     map[string]*endpointState
	skipped map[string]struct{}
}

func newPerEndpoint(cfg *settings, wake func()) *perEndpoint {
	return &perEndpoint{cfg: cfg, wake: wake, eps: make(map[string]*endpointState), skipped: make(map[string]struct{})}
}

// state returns the endpoint's state; l.mu must be held.
func (l *perEndpoint) state(id string) *endpointState {
	es := l.eps[id]
	if es == nil {
		es = &endpointState{}
		l.eps[id] = es
	}
	es.unused = false
	return es
}

// seq numbers a store call that will return an endpoint; call it before
// the call, and pass the number to observe with the result.
func (l *perEndpoint) seq() uint64 { return l.calls.Add(1) }

// observe records ep, returned by the store call numbered seq, as the
// endpoint's freshest copy unless a later call's answer is recorded
// already. ep must not be modified afterwards.
func (l *perEndpoint) observe(seq uint64, ep *store.Endpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(ep.ID)
	if es.ep == nil || seq > es.epSeq {
		if es.ep != nil && es.ep.Disabled && !ep.Disabled {
			// Enabled again: a fresh breaker, and a ramp up.
			es.brk, es.probing = breaker{}, false
			if !l.cfg.SlowStart.Disabled {
				es.ramp.start(l.cfg.SlowStart.Initial, l.capacity(ep))
			}
		}
		es.ep, es.epSeq = ep, seq
	}
}

// latest returns the freshest copy of ep this sender has seen.
func (l *perEndpoint) latest(ep *store.Endpoint) *store.Endpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	if es := l.eps[ep.ID]; es != nil && es.ep != nil {
		return es.ep
	}
	return ep
}

// forget drops the state of a deleted endpoint, unless requests to it are
// still in flight (their done needs it; a later lease round may bring it
// back, harmlessly).
func (l *perEndpoint) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if es := l.eps[id]; es != nil && es.inFlight == 0 {
		if es.tls != nil {
			es.tls.t.CloseIdleConnections()
		}
		delete(l.eps, id)
		delete(l.skipped, id)
	}
}

// sweep drops the state of endpoints no one has used since the previous
// sweep (deleted by another instance or in the store, say, which forget
// never hears of), so a long-running sender does not keep every endpoint
// it ever saw. A state with requests in flight, a breaker that is not
// closed or a place in the skip list stays: it is not idle. Dropping an
// idle state loses nothing that matters: the next delivery to the
// endpoint reloads it, builds its signer again and, after that long idle,
// would start a ramp anyway. It returns how many states it dropped.
func (l *perEndpoint) sweep() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, es := range l.eps {
		_, skipped := l.skipped[id]
		switch {
		case es.inFlight > 0 || es.probing || es.brk.state != store.BreakerClosed || skipped:
			es.unused = false
		case !es.unused:
			es.unused = true
		default:
			if es.tls != nil {
				es.tls.t.CloseIdleConnections()
			}
			delete(l.eps, id)
			n++
		}
	}
	return n
}
