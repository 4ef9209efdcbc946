package sender

import (
	"context"
	"log/slog"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// pruner deletes attempts older than the retention period, and finished
// deliveries older than it when the store is a [store.DeliveryPruner], at
// start and every PruneInterval (unless Retention is negative); and it
// drops the in-memory state of endpoints unused for a whole PruneInterval.
func (s *Sender) pruner(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.PruneInterval)
	defer t.Stop()
	dp, _ := s.st.(store.DeliveryPruner)
	for {
		if s.cfg.Retention > 0 {
			s.prune(ctx, dp)
		}
		if n := s.per.sweep(); n > 0 {
			s.log.LogAttrs(ctx, slog.LevelDebug, "sender: dropped the state of idle endpoints", slog.Int("endpoints", n))
		}
		select {
		case <-t.C:
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// prune deletes attempts, and finished deliveries when dp is not nil,
// older than the retention period.
func (s *Sender) prune(ctx context.Context, dp store.DeliveryPruner) {
	before := s.now().Add(-s.cfg.Retention)
	n, err := s.st.PruneAttempts(ctx, before)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.LogAttrs(ctx, slog.LevelError, "sender: pruning the attempt log failed", slog.Any("error", err))
	case n > 0:
		s.log.LogAttrs(ctx, slog.LevelDebug, "sender: pruned the attempt log", slog.Int("attempts", n))
	}
	if dp != nil {
		n, err := dp.PruneDeliveries(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.LogAttrs(ctx, slog.LevelError, "sender: pruning finished deliveries failed", slog.Any("error", err))
		case n > 0:
			s.log.LogAttrs(ctx, slog.LevelDebug, "sender: pruned finished deliveries", slog.Int("deliveries", n))
		}
	}
}
