package crashtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// crashKills is how many times each crash test SIGKILLs its child.
const crashKills = 3

// fastRetry retries every failure 10 ms later, forever: in these tests a
// failure is a timeout or a killed connection, and giving up would hide a
// lost event.
var fastRetry = retry.PolicyFunc(func(retry.Failure) (time.Duration, bool) {
	return 10 * time.Millisecond, true
})

// runSender is the sender child: it opens the store named by the
// environment and delivers until it is killed.
func runSender() error {
	ctx := context.Background()
	sp, err := specFromEnv()
	if err != nil {
		return err
	}
	st, _, err := sp.open(ctx, 6)
	if err != nil {
		return err
	}
	var ss store.SenderStore = st
	if v := os.Getenv(envTrap); v != "" {
		after, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s: %w", envTrap, err)
		}
		ss = &settleTrap{SenderStore: st, after: after}
	}
	s, err := sender.New(ss, senderConfig(senderRequestTimeout, childLogger()))
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	if _, err := os.Stdout.WriteString("READY -\n"); err != nil {
		return err
	}
	select {} // until SIGKILL, or until stdin closes
}

// senderConfig is the configuration of the tests' senders: failures
// retried quickly and forever, endpoints never disabled, nothing pruned.
func senderConfig(requestTimeout time.Duration, log *slog.Logger) *sender.Config {
	return &sender.Config{
		Workers:              8,
		RequestTimeout:       requestTimeout,
		LeaseDuration:        senderLease,
		PollInterval:         50 * time.Millisecond,
		Retry:                fastRetry,
		DisableAfterFailures: -1,
		AllowPrivateNetworks: true,
		OmitBodies:           true,
		Retention:            -1,
		Logger:               log,
	}
}

// holdGate sits in front of the parent's receiver. Once armed, it lets the
// receiver process each request (claim the event, queue it for the
// callback) but holds the answer back, so the sender in the child has
// deliveries in flight that the endpoint accepted and the sender never saw
// acknowledged: the case a crash must not turn into a lost or a doubly
// handled event.
type holdGate struct {
	next     http.Handler
	accepted func() uint64

	mu      sync.Mutex
	at      uint64        // hold answers once accepted >= at; 0: never
	release chan struct{} // closed by disarm
	held    chan struct{} // closed when the first answer is held
	isHeld  bool
}

func newHoldGate(next http.Handler, accepted func() uint64) *holdGate {
	return &holdGate{next: next, accepted: accepted, release: make(chan struct{}), held: make(chan struct{})}
}

func (g *holdGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	g.next.ServeHTTP(rec, r)
	g.mu.Lock()
	var wait chan struct{}
	if g.at > 0 && g.accepted() >= g.at {
		wait = g.release
		if !g.isHeld {
			g.isHeld = true
			close(g.held)
		}
	}
	g.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-r.Context().Done(): // the child timed out or died
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// arm makes the gate hold answers once the receiver has accepted at events,
// and returns a channel closed when it first does.
func (g *holdGate) arm(at uint64) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.at = at
	return g.held
}

// disarm lets every held answer go and stops holding.
func (g *holdGate) disarm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.at = 0
	close(g.release)
	g.release = make(chan struct{})
	g.held = make(chan struct{})
	g.isHeld = false
}

// TestSenderCrash: a sender in a child process, SIGKILLed mid-run three
// times and restarted, delivers every event at least once, and the
// de-duplicating receiver hands each to its callback exactly once.
func TestSenderCrash(t *testing.T) {
	t.Parallel()
	eachKind(t, testSenderCrash)
}

func testSenderCrash(t *testing.T, sp spec) {
	start := time.Now()
	ctx := context.Background()
	n := events()

	// The endpoint: a real receiver (in-memory inbox) behind the gate.
	secret, err := signature.NewSecret()
	require.NoError(t, err)
	recv, tl := startEndpoint(t, secret, receiver.Config{QueueSize: n + 64})
	gate := newHoldGate(recv, func() uint64 { return recv.Stats().Accepted })
	srv := httptest.NewServer(gate)
	t.Cleanup(srv.Close)
	t.Cleanup(gate.disarm) // let held handlers return before srv.Close waits for them

	// The durable store, seeded with the endpoint and n events.
	st := sp.openT(t, 4)
	ids := seed(t, st, srv.URL, secret, n, "crash.sender")
	seeded := time.Since(start)

	// Kill the child crashKills times, each time while answers are held,
	// at a quarter, half and three quarters of the events.
	deadWorkers := make(map[string]bool) // LeasedBy of the killed children
	for k := 1; k <= crashKills; k++ {
		c := startChild(t, "sender", "sender", sp.env()...)
		held := gate.arm(uint64(k * n / (crashKills + 1)))
		select {
		case <-held:
		case <-time.After(deadline()):
			t.Fatalf("kill %d: no delivery reached the gate within %v (accepted %d)", k, deadline(), recv.Stats().Accepted)
		}
		c.kill(t)
		acc := recv.Stats().Accepted
		leased, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, State: store.StateLeased, Page: store.Page{Limit: store.MaxPageSize}})
		require.NoError(t, err)
		t.Logf("kill %d: child SIGKILLed with %d of %d events accepted and %d deliveries leased", k, acc, n, len(leased))
		require.Less(t, acc, uint64(n), "kill %d came after every event was delivered: not mid-run", k)
		// The dead child left leases behind (held by a worker no earlier
		// child was): they must run out before anyone sends those
		// deliveries again, the path a crash takes.
		fresh := 0
		for _, d := range leased {
			if !deadWorkers[d.LeasedBy] {
				fresh++
			}
		}
		require.Positive(t, fresh, "kill %d left no leased delivery behind", k)
		for _, d := range leased {
			deadWorkers[d.LeasedBy] = true
		}
		gate.disarm()
	}

	// The last run delivers the rest: the receiver has every event and the
	// store nothing left to do.
	c := startChild(t, "sender", "sender", sp.env()...)
	waitFor(t, deadline(), "every event handled and every delivery settled", func() bool {
		return tl.handled() >= n && settled(t, st)
	})
	c.kill(t)

	// Every event reached the endpoint, and the callback ran once for each.
	tl.mu.Lock()
	defer tl.mu.Unlock()
	redelivered := 0
	for id := range ids {
		require.GreaterOrEqual(t, tl.reached[id], 1, "event %s never reached the endpoint", id)
		require.Equal(t, 1, tl.calls[id], "event %s: callback runs", id)
		redelivered += tl.reached[id] - 1
	}
	require.Len(t, tl.calls, n, "the callback saw events that were never published")
	// The held answers were lost with the killed children, so those events
	// were sent again; had none been, the test would prove nothing.
	require.Positive(t, redelivered, "no event was delivered twice: the kills did not interrupt acknowledged work")
	stats := recv.Stats()
	require.Equal(t, uint64(n), stats.Accepted)
	require.Equal(t, uint64(n), stats.Handled)

	// The store agrees: every delivery succeeded, none failed.
	require.Equal(t, n, countDeliveries(t, st, store.StateSucceeded))
	require.Zero(t, countDeliveries(t, st, store.StateFailed))
	t.Logf("%s: %d events, %d kills, %d redeliveries answered as duplicates; seeding %v, total %v",
		sp.kind, n, crashKills, redelivered, seeded.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
