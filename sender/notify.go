package sender

import (
	"context"
	"log/slog"
	"sync"

	"github.com/webhookkit/webhookkit/store"
)

// listen wakes the dispatcher whenever the store, a [store.Notifier], says
// that deliveries may have become due: deliveries enqueued by another
// process, or in a transaction of the application's, are then picked up at
// once rather than at the next poll. It subscribes for the sender's lifetime
// and returns once the subscription has ended (the store has closed its
// channel), so Shutdown and Close wait for the store to let go of what the
// subscription held. A failure to subscribe is logged and leaves polling
// alone to find new deliveries.
func (s *Sender) listen(ctx context.Context, n store.Notifier) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	var stopped sync.WaitGroup
	stopped.Go(func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	})
	defer stopped.Wait()
	defer cancel()
	ch, err := n.Subscribe(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "sender: subscribing to the store's notifications failed; polling only",
				slog.Any("error", err))
		}
		return
	}
	for range ch {
		s.signal()
	}
}
