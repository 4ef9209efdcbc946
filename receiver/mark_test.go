package receiver_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/store"
)

var errInboxDown = errors.New("test: inbox down")

// flakyMarks is a durable batching inbox whose mark-handled writes fail
// while failures are left (MarkHandled and MarkHandledBatch alike).
type flakyMarks struct {
	*batchInbox
	left  atomic.Int64 // failures left; negative: fail until set otherwise
	tries atomic.Int64 // mark-handled writes tried
}

func newFlakyMarks(fails int64) *flakyMarks {
	f := &flakyMarks{batchInbox: newBatchInbox()}
	f.left.Store(fails)
	return f
}

// fail counts a try and reports whether it fails.
func (f *flakyMarks) fail() error {
	f.tries.Add(1)
	for {
		n := f.left.Load()
		switch {
		case n == 0:
			return nil
		case n < 0:
			return errInboxDown
		case f.left.CompareAndSwap(n, n-1):
			return errInboxDown
		}
	}
}

func (f *flakyMarks) MarkHandledBatch(ctx context.Context, keys []string, at time.Time) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.batchInbox.MarkHandledBatch(ctx, keys, at)
}

func (f *flakyMarks) MarkHandled(ctx context.Context, key string, at time.Time) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.batchInbox.MarkHandled(ctx, key, at)
}

// unbatched hides an inbox's store.InboxBatcher, not its recovery.
type unbatched struct {
	store.Inbox
	store.InboxRecovery
}

// markPaths are the two ways a receiver writes mark-handled records: one
// MarkHandled per event on the worker, or batches on the marker.
var markPaths = []struct {
	name  string
	inbox func(*flakyMarks) store.Inbox
}{
	{"single", func(f *flakyMarks) store.Inbox { return unbatched{f, f} }},
	{"batched", func(f *flakyMarks) store.Inbox { return f }},
}

// errorLog collects a receiver's error records.
type errorLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *errorLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *errorLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *errorLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelError}))
}

// startFlaky builds and starts a receiver on f (through path), with budget
// as its mark retry budget unless zero; Close runs in t.Cleanup.
func startFlaky(t *testing.T, k keyPair, ib store.Inbox, rc *recorder, log *slog.Logger, clk func() time.Time, budget time.Duration) *receiver.Receiver {
	t.Helper()
	if clk == nil {
		clk = fixedNow
	}
	r, err := receiver.New(rc, &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib, Logger: log, Now: clk})
	require.NoError(t, err)
	if budget > 0 {
		receiver.SetMarkBudget(r, budget)
	}
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// TestMarkRetried: a mark-handled write that fails is tried again until it
// lands; the callback runs once.
func TestMarkRetried(t *testing.T) {
	for _, p := range markPaths {
		t.Run(p.name, func(t *testing.T) {
			k, rc, f := newKeyPair(t), newRecorder(), newFlakyMarks(3)
			r := startFlaky(t, k, p.inbox(f), rc, quiet, nil, 0)
			ev := newEvent(t, event.ModeTest, "ping")
			require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
			rc.Next(t)
			require.Eventually(t, func() bool { return f.state(ev.ID) == store.InboxHandled }, waitTimeout, time.Millisecond,
				"the record lands")
			drain(t, r)
			require.EqualValues(t, 1, rc.Calls.Load(), "callback runs")
			require.EqualValues(t, 4, f.tries.Load(), "three failures, then the write that landed")
			st := r.Stats()
			require.EqualValues(t, 3, st.MarkFailures)
			require.Zero(t, st.MarksGivenUp)
			require.Zero(t, st.Recovered)
		})
	}
}

// TestMarkGivenUp: a mark-handled write that always fails is given up once
// its retries run out, logged at error level with its key; the receiver
// stops cleanly (no goroutine left, see TestMain), and the event, still
// claimed in the durable inbox, is re-driven by the next receiver once its
// lease has ended: its callback runs again, and this time it is marked.
func TestMarkGivenUp(t *testing.T) {
	for _, p := range markPaths {
		t.Run(p.name, func(t *testing.T) {
			k, rc, f, log := newKeyPair(t), newRecorder(), newFlakyMarks(-1), new(errorLog)
			clk := newClock(testNow)
			r := startFlaky(t, k, p.inbox(f), rc, log.logger(), clk.Now, 30*time.Millisecond)
			ev := newEvent(t, event.ModeTest, "ping")
			require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
			rc.Next(t)
			require.Eventually(t, func() bool { return r.Stats().MarksGivenUp == 1 }, waitTimeout, time.Millisecond,
				"the record is given up")
			require.NoError(t, r.Close())
			st := r.Stats()
			require.GreaterOrEqual(t, st.MarkFailures, uint64(2), "tried again before giving up")
			require.EqualValues(t, 1, rc.Calls.Load())
			require.Equal(t, store.InboxClaimed, f.state(ev.ID))
			require.Contains(t, log.String(), "level=ERROR")
			require.Contains(t, log.String(), "key="+ev.ID)

			// The next receiver, once the lease has ended, runs it again.
			f.left.Store(0)
			clk.Add(receiver.DefaultLease + time.Second)
			r2 := startFlaky(t, k, p.inbox(f), rc, quiet, clk.Now, 0)
			rc.Next(t)
			require.Eventually(t, func() bool { return f.state(ev.ID) == store.InboxHandled }, waitTimeout, time.Millisecond,
				"the re-driven event is marked")
			drain(t, r2)
			require.EqualValues(t, 2, rc.Calls.Load(), "run again after the record was given up")
			require.EqualValues(t, 1, r2.Stats().Recovered)
		})
	}
}

// TestMarkStop: while a mark-handled write keeps failing, Close gives it
// up after one last try, and Shutdown keeps trying it until its context
// ends (then gives it up and says so in its error) or the write lands.
func TestMarkStop(t *testing.T) {
	for _, p := range markPaths {
		for _, stop := range []string{"Close", "ShutdownLands", "ShutdownEnds"} {
			t.Run(p.name+"/"+stop, func(t *testing.T) {
				k, rc, f, log := newKeyPair(t), newRecorder(), newFlakyMarks(-1), new(errorLog)
				r := startFlaky(t, k, p.inbox(f), rc, log.logger(), nil, 0) // the default budget, 10 s
				ev := newEvent(t, event.ModeTest, "ping")
				require.Equal(t, 200, serve(r, eventRequest(t, k.Signer, ev)).Code)
				rc.Next(t)
				require.Eventually(t, func() bool { return f.tries.Load() >= 1 }, waitTimeout, time.Millisecond)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := make(chan error, 1)
				go func() {
					if stop == "Close" {
						done <- r.Close()
						return
					}
					done <- r.Shutdown(ctx)
				}()
				switch stop {
				case "ShutdownLands":
					// Tries go on during the Shutdown until one lands.
					n := f.tries.Load()
					require.Eventually(t, func() bool { return f.tries.Load() >= n+3 }, waitTimeout, time.Millisecond,
						"tried again during Shutdown")
					f.left.Store(0)
				case "ShutdownEnds":
					n := f.tries.Load()
					require.Eventually(t, func() bool { return f.tries.Load() >= n+3 }, waitTimeout, time.Millisecond,
						"tried again during Shutdown")
					cancel()
				}
				err := recv(t, done)
				if stop == "ShutdownEnds" {
					// The record given up is reported, with ctx's error.
					require.ErrorIs(t, err, context.Canceled)
					require.ErrorContains(t, err, "receiver: shutdown: 1 events handled but not recorded as handled: context canceled")
				} else {
					require.NoError(t, err)
				}
				st := r.Stats()
				require.EqualValues(t, 1, rc.Calls.Load())
				if stop == "ShutdownLands" {
					require.Equal(t, store.InboxHandled, f.state(ev.ID))
					require.Zero(t, st.MarksGivenUp)
					require.NotContains(t, log.String(), "level=ERROR")
					return
				}
				require.Equal(t, store.InboxClaimed, f.state(ev.ID))
				require.EqualValues(t, 1, st.MarksGivenUp)
				require.True(t, strings.Contains(log.String(), "key="+ev.ID), "the key is logged")
			})
		}
	}
}
