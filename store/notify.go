package store

import "context"

// Notifier is implemented by outboxes that can tell a sender, without
// polling, that deliveries may have become due: typically a store shared by
// several processes, where a delivery enqueued by one process (or in a
// caller's own transaction) should be picked up at once by the others
// rather than at their next poll. It is an optional capability: find it with
// a type assertion on the store, as a started sender does:
//
//	if n, ok := st.(store.Notifier); ok {
//		ch, err := n.Subscribe(ctx)
//		...
//		for range ch {
//			// look for due deliveries now
//		}
//	}
//
// A notification is a hint, never a promise: it carries no data, may be
// spurious, and may be missed (while a connection is being re-established,
// say), so a caller still polls, only less urgently. Implementations must be
// safe for concurrent use.
type Notifier interface {
	// Subscribe returns a channel that receives a value whenever
	// deliveries may have become due: after a committed Enqueue that created
	// deliveries, a Requeue or RequeueFailed that requeued some, or the
	// enabling of an endpoint, made through any handle on the same shared
	// store. Values coalesce: the channel has a buffer of one and a value is
	// dropped when one is already waiting, so a slow reader sees one value
	// for a burst, never a backlog. The channel also receives a value each
	// time listening starts or starts again after an interruption, since
	// deliveries may have become due meanwhile; a caller that must know that
	// listening has begun waits for that first value.
	//
	// Subscribe does not wait for the network: it arranges listening and
	// returns. Problems met later (a lost connection) are handled by the
	// implementation, which keeps trying until ctx ends. When ctx ends, the
	// implementation releases what it holds and then closes the channel;
	// the caller should keep receiving until the channel is closed, which
	// tells it that the subscription is over. An error means that no
	// subscription was made (ctx was already done, say) and no channel is
	// returned.
	Subscribe(ctx context.Context) (<-chan struct{}, error)
}
