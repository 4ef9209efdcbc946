package receiver

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// Mark-handled records that fail to write are tried again, by the marker
// (batching inboxes) and by the worker that ran the callback (the others)
// alike: markPause after the first failure, the pause doubling up to
// markMaxPause, until markBudget has passed since the first failure. While
// the receiver is closing they are tried until the closing is cut short:
// until the context of [Receiver.Shutdown] ends, or at once by
// [Receiver.Close] (a last try, then no more). A record given up leaves
// its event claimed but unhandled, as a crash after the callback would: a
// durable inbox re-drives it once its lease ends (LeaseClaimed takes
// claimed entries, handled ones never), here or after a restart, so its
// callback runs again.
const (
	markPause    = 10 * time.Millisecond
	markMaxPause = time.Second
	markBudget   = 10 * time.Second
)

// writeMarks writes the mark-handled records of keys with write, trying
// again after a failure (see markBudget). An error wrapping
// [store.ErrNotFound] is no failure: the inbox forgot those keys (evicted
// or pruned), and marked the others. A record given up is logged at error
// level with its key.
func (r *Receiver) writeMarks(keys []string, write func(ctx context.Context, keys []string, at time.Time) error) {
	at := r.now()
	pause := markPause
	var end time.Time // the budget's end, from the first failure
	for tries := 1; ; tries++ {
		ctx, cancel := r.storeCtx()
		err := write(ctx, keys, at)
		cancel()
		if err == nil {
			return
		}
		if errors.Is(err, store.ErrNotFound) {
			r.log.LogAttrs(r.storeBase, slog.LevelDebug, "receiver: marking events handled: some keys not found",
				slog.Int("events", len(keys)), slog.Any("error", err))
			return
		}
		r.stats.markFailures.Add(1)
		now := time.Now() // real time, not the injected clock: a pause
		if end.IsZero() {
			end = now.Add(r.markBudget)
		}
		if !now.Before(end) || r.givingUp() {
			for _, key := range keys {
				r.log.LogAttrs(r.storeBase, slog.LevelError,
					"receiver: marking event handled failed; giving up: it stays claimed, and a durable inbox re-drives it once its lease ends",
					slog.String("key", key), slog.Int("tries", tries), slog.Any("error", err))
			}
			r.stats.marksGivenUp.Add(uint64(len(keys)))
			return
		}
		r.markWait(min(pause, end.Sub(now)))
		pause = min(2*pause, markMaxPause)
	}
}

// givingUp reports whether the receiver is closing and the closing was cut
// short: Close, or the end of Shutdown's context.
func (r *Receiver) givingUp() bool {
	select {
	case <-r.stop:
		return r.giveUp.Err() != nil
	default:
		return false
	}
}

// markWait waits d, or until givingUp.
func (r *Receiver) markWait(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	stop := r.stop
	var giveUp <-chan struct{}
	for {
		select {
		case <-t.C:
			return
		case <-stop:
			stop, giveUp = nil, r.giveUp.Done()
		case <-giveUp:
			return
		}
	}
}
