package webhooktest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// MaxRounds bounds the rounds of [DeliverAll]: each round either makes
// attempts or advances the clock to the next due delivery, so only a retry
// policy that never gives up against an endpoint that always fails reaches it.
const MaxRounds = 10_000

// LogLevel is the lowest level the loggers [NewSender] and [NewEndpoint]
// give a sender or receiver configured without one write to the test's
// output: warnings and errors (a delivery given up, a failing callback) are
// shown, routine lines (every attempt, every retry) are dropped, so "go test
// -v" stays readable. Set Logger in the config to see more.
const LogLevel = slog.LevelWarn

// testLogger is the logger of a sender or receiver configured without one:
// lines of LogLevel and above, written to tb's output (shown for a failed
// test, or with go test -v).
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: LogLevel}))
}

// ErrStalled is returned (wrapped) by [DeliverAll] when deliveries are due
// but the sender attempts none of them, or when MaxRounds is reached.
// Deliveries due but not attempted usually belong to another sender, or to
// this sender's own background workers (Sender.Start), which DeliverAll must
// not run beside.
var ErrStalled = errors.New("webhooktest: deliveries are due but none was attempted")

// DeliverAll delivers everything s has to deliver, synchronously and without
// sleeping: it calls s.ProcessDue until no attempt is made, then advances c
// to the next time s may attempt a delivery of its mode
// (sender.Sender.NextAttempt: a retry, a lease that ran out, the retry of
// the head an ordering key's deliveries wait behind, an open circuit
// breaker's next probe, the end of a Retry-After pause) and repeats, until
// nothing is left to attempt. It returns the number of attempts made.
//
// s must read c (sender.Config.Now = c.Now, as [NewSender] does). Paused
// deliveries (of disabled endpoints), and those waiting behind a failed
// delivery that holds their key (sender.KeyHold), are left waiting. The
// clock only moves forward; a retry policy's jitter is harmless. With a
// sender on the real clock, use sender.Sender.WaitIdle instead.
//
// Errors: those of s.ProcessDue (ctx's error when it is cancelled) and of
// s.NextAttempt, wrapped; ErrStalled, wrapped, when a delivery may be
// attempted and none was, or after MaxRounds rounds.
func DeliverAll(ctx context.Context, s *sender.Sender, c *Clock) (int, error) {
	total := 0
	for range MaxRounds {
		n, err := s.ProcessDue(ctx)
		total += n
		if err != nil {
			return total, fmt.Errorf("webhooktest: deliver: %w", err)
		}
		if n > 0 {
			continue
		}
		next, ok, err := s.NextAttempt(ctx)
		if err != nil {
			return total, fmt.Errorf("webhooktest: deliver: %w", err)
		}
		if !ok {
			return total, nil
		}
		now := c.Now()
		if !next.After(now) {
			return total, fmt.Errorf("%w (a delivery was due at %s, the clock says %s)",
				ErrStalled, next.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
		}
		c.Set(next)
	}
	return total, fmt.Errorf("%w: still delivering after %d rounds", ErrStalled, MaxRounds)
}

// NewSender returns a sender for tests on st, reading the clock c, for use with
// [DeliverAll] (register endpoints with it through [Endpoint.Register]), and
// closes it when the test ends (tb.Cleanup). cfg may be nil;
// it is copied, and NewSender sets Now to c.Now (when Now is nil and c is
// not; with neither, the sender reads the real clock), turns
// AllowPrivateNetworks on (test endpoints listen on loopback) and, when Logger is
// nil, logs warnings and errors to the test's output (see [LogLevel]). An
// invalid cfg fails the test (tb.Fatal).
func NewSender(tb testing.TB, st store.SenderStore, c *Clock, cfg *sender.Config) *sender.Sender {
	tb.Helper()
	var conf sender.Config
	if cfg != nil {
		conf = *cfg
	}
	if conf.Now == nil && c != nil {
		conf.Now = c.Now
	}
	conf.AllowPrivateNetworks = true
	if conf.Logger == nil {
		conf.Logger = testLogger(tb)
	}
	s, err := sender.New(st, &conf)
	if err != nil {
		tb.Fatalf("webhooktest: new sender: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, sender.ErrClosed) {
			tb.Errorf("webhooktest: close sender: %v", err)
		}
	})
	return s
}
