package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// Sender settings for the runs through the faulty endpoint: short request
// timeouts and millisecond backoff, so a run takes seconds, and enough
// attempts that giving up cannot happen by chance.
const (
	requestTimeout = 200 * time.Millisecond
	leaseDuration  = 2 * time.Second
	pollInterval   = 10 * time.Millisecond
	maxAttempts    = 25
	senderWorkers  = 16
)

// ids makes event ids that carry a sequence number, so a run tracks
// callbacks in a slice instead of a growing map: a UUIDv4 whose last 12 hex
// digits are the number.
type ids struct{ prefix string }

func newIDs() ids {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return ids{prefix: fmt.Sprintf("%08x-0000-4000-8000-", binary.BigEndian.Uint32(b[:]))}
}

func (x ids) id(seq int) string { return fmt.Sprintf("%s%012x", x.prefix, seq) }

func (x ids) seq(id string) (int, bool) {
	if len(id) != 36 || id[:24] != x.prefix {
		return 0, false
	}
	n, err := strconv.ParseUint(id[24:], 16, 48)
	return int(n), err == nil
}

// pipeline is a sender, with a store, delivering to a de-duplicating
// receiver behind a faulty endpoint, all in this process over loopback.
type pipeline struct {
	ids      ids
	st       *loadtest.Store
	snd      *sender.Sender
	rcv      *receiver.Receiver
	inbox    *memory.Store // the receiver's inbox
	faults   *faulty
	stopSrv  context.CancelFunc
	data     []byte
	handled  []atomic.Int32 // callbacks per sequence number
	unknown  atomic.Int64   // callbacks for ids not from this run
	ok       atomic.Int64   // successful attempts
	attempts atomic.Int64
	given    atomic.Int64  // deliveries given up
	progress chan struct{} // poked after every attempt

	reasonsMu sync.Mutex
	reasons   map[string]int // why deliveries were given up

	errs logTail // the sender's error logs
}

// logTail keeps the first lines written to it, for failure reports.
type logTail struct {
	mu    sync.Mutex
	lines []string
	more  int
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) < 5 {
		l.lines = append(l.lines, strings.TrimSpace(string(p)))
	} else {
		l.more++
	}
	return len(p), nil
}

// String returns the lines kept, or "none".
func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "none"
	}
	s := strings.Join(l.lines, "\n      ")
	if l.more > 0 {
		s += fmt.Sprintf("\n      (%d more)", l.more)
	}
	return s
}

// pipelineConfig shapes a pipeline.
type pipelineConfig struct {
	kind      string
	storeOpts loadtest.StoreOptions
	inboxCap  int // the receiver's inbox cap; zero: the default
	mix       faultMix
	maxFaults int
	forget    bool
	seed      uint64
	capacity  int // events that can be tracked
}

func newPipeline(ctx context.Context, pc pipelineConfig) (p *pipeline, err error) {
	p = &pipeline{ids: newIDs(), handled: make([]atomic.Int32, pc.capacity), progress: make(chan struct{}, 1), reasons: map[string]int{}}
	if p.st, err = loadtest.OpenStore(ctx, pc.kind, pc.storeOpts); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	sec, err := signature.NewSecret()
	if err != nil {
		return nil, err
	}
	src, err := loadtest.NewEventSource(sec, loadtest.BodySize, pc.seed)
	if err != nil {
		return nil, err
	}
	p.data = src.Data()

	p.inbox = memory.New(&memory.Config{MaxInboxEntries: pc.inboxCap, Logger: loadtest.Discard()})
	p.rcv, err = receiver.New(receiver.HandlerFunc(func(_ context.Context, ev event.Event) error {
		if n, ok := p.ids.seq(ev.ID); ok && n < len(p.handled) {
			p.handled[n].Add(1)
		} else {
			p.unknown.Add(1)
		}
		return nil
	}), &receiver.Config{Keys: []receiver.Key{{Text: sec.String()}}, Inbox: p.inbox, QueueSize: 4096, Logger: loadtest.Discard()})
	if err != nil {
		return nil, err
	}
	if err = p.rcv.Start(context.WithoutCancel(ctx)); err != nil { // drained by shutdown
		return nil, err
	}
	p.faults = newFaulty(p.rcv, pc.seed, pc.maxFaults, pc.mix, pc.forget)
	ln, err := loadtest.Listen(ctx, "")
	if err != nil {
		return nil, err
	}
	srvCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	p.stopSrv = stop
	go loadtest.Serve(srvCtx, ln, p.faults) //nolint:errcheck // ends with stopSrv

	ep := &store.Endpoint{Mode: event.ModeTest, URL: "http://" + ln.Addr().String() + "/", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: sec.String()}}, MaxInFlight: senderWorkers}
	if err = p.st.Sender.CreateEndpoint(ctx, ep); err != nil {
		return nil, err
	}
	p.snd, err = sender.New(p.st.Sender, &sender.Config{
		Workers:              senderWorkers,
		RequestTimeout:       requestTimeout,
		LeaseDuration:        leaseDuration,
		PollInterval:         pollInterval,
		Retry:                retry.Exponential{Base: 2 * time.Millisecond, Max: 50 * time.Millisecond, MaxAttempts: maxAttempts, MaxRetryAfter: 100 * time.Millisecond},
		DisableAfterFailures: -1,
		AllowPrivateNetworks: true,
		OmitBodies:           true,
		Logger:               slog.New(slog.NewTextHandler(&p.errs, &slog.HandlerOptions{Level: slog.LevelError})),
		Hooks: sender.Hooks{
			OnAttempt: func(_ context.Context, a *store.Attempt) {
				p.attempts.Add(1)
				if a.Success {
					p.ok.Add(1)
				}
				p.poke()
			},
			OnDeliveryExhausted: func(_ context.Context, d *store.Delivery, reason string) {
				p.reasonsMu.Lock()
				p.reasons[fmt.Sprintf("%s (attempts %d, last error %q)", reason, d.Attempts, d.LastError)]++
				p.reasonsMu.Unlock()
				p.given.Add(1)
				p.poke()
			},
		},
	})
	if err != nil {
		return nil, err
	}
	if err = p.snd.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// publish publishes the event with sequence number seq.
func (p *pipeline) publish(ctx context.Context, seq int) error {
	ev := event.Event{APIMode: event.ModeTest, ID: p.ids.id(seq), Type: loadtest.EventType, Date: time.Now(), Data: p.data}
	_, err := p.snd.Publish(ctx, ev, sender.ToTenant(""), nil)
	return err
}

func (p *pipeline) poke() {
	select {
	case p.progress <- struct{}{}:
	default:
	}
}

// waitDelivered waits until n attempts succeeded, a delivery was given up,
// or timeout passed.
func (p *pipeline) waitDelivered(ctx context.Context, n int64, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for p.ok.Load() < n {
		if p.given.Load() > 0 {
			p.reasonsMu.Lock()
			defer p.reasonsMu.Unlock()
			return fmt.Errorf("%d deliveries given up: %v", p.given.Load(), p.reasons)
		}
		select {
		case <-p.progress:
		case <-t.C:
			return fmt.Errorf("%d of %d delivered after %v", p.ok.Load(), n, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// shutdown stops the sender, then drains the receiver.
func (p *pipeline) shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.snd.Shutdown(ctx); err != nil {
		return fmt.Errorf("sender shutdown: %w", err)
	}
	if err := p.rcv.Shutdown(ctx); err != nil {
		return fmt.Errorf("receiver shutdown: %w", err)
	}
	return nil
}

// handledCounts returns, over the first n sequence numbers, how many were
// handled exactly once, never, and more than once.
func (p *pipeline) handledCounts(n int) (once, never, more int) {
	for i := range n {
		switch p.handled[i].Load() {
		case 0:
			never++
		case 1:
			once++
		default:
			more++
		}
	}
	return once, never, more
}

func (p *pipeline) close() {
	if p.snd != nil {
		_ = p.snd.Close()
	}
	if p.rcv != nil {
		_ = p.rcv.Close()
	}
	if p.stopSrv != nil {
		p.stopSrv()
	}
	_ = p.st.Close()
}
