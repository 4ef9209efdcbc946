package sender

import (
	"context"
	"log/slog"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// pruner deletes attempts older than the retention period, and finished
// deliveries older than it when the store is a [store.DeliveryPruner], at
// start and every PruneInterval.
func (s *Sender) pruner(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.PruneInterval)
	defer t.Stop()
	dp, _ := s.st.(store.DeliveryPruner)
	for {
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
		select {
		case <-t.C:
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		}
	}
}
