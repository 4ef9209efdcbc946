package store

import "context"

// SenderStore is everything a sender needs. The drivers implement it; to
// keep roles in different places, embed one value per role in a struct.
type SenderStore interface {
	Endpoints
	EndpointHealth
	Outbox
	Deliveries
	Attempts
}

// Tx is a view of a store bound to one transaction of the caller's: what
// publishing an event needs, reading the endpoints and enqueueing the
// deliveries, so that the deliveries exist if and only if the caller's own
// writes commit (the transactional outbox). The durable drivers make one from
// their transaction type (store/postgres from a pgx.Tx, store/sqlite from a
// *sql.Tx) and store/memory offers one for unit tests; a sender's PublishTx
// publishes through it with the same rules as its Publish.
//
// A Tx is used by one goroutine at a time, as the transaction beneath it is,
// and only until that transaction ends. Writes are visible to other
// connections, and to the store's Notifier, only once the caller commits.
type Tx interface {
	// GetEndpoint is [Endpoints.GetEndpoint], read in the transaction.
	GetEndpoint(ctx context.Context, id string) (*Endpoint, error)
	// ListEndpoints is [Endpoints.ListEndpoints], read in the transaction.
	ListEndpoints(ctx context.Context, f EndpointFilter) ([]*Endpoint, string, error)
	// Enqueue is [Outbox.Enqueue], written in the transaction. An error
	// leaves the transaction usable where the driver can undo the failed
	// part alone (a savepoint); the driver's documentation says.
	Enqueue(ctx context.Context, req EnqueueRequest) (int, error)
}
