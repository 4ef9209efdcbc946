package store

import "context"

// SchemaChecker is implemented by stores whose schema must be created
// before use (the SQL drivers, whose Migrate creates it): a cheap probe
// that tells a missing schema from a working store, so a sender's or
// receiver's Start fails at once with a clear error instead of failing
// every poll in the background. It is an optional capability, found by
// type assertion; a store that needs no setup (store/memory) does not
// implement it, and a caller treats its absence as ready. Implementations
// must be safe for concurrent use.
type SchemaChecker interface {
	// CheckSchema returns nil when the store's schema is installed, at a
	// version the store can use. It returns an error wrapping
	// [ErrNotMigrated] when the schema is missing or older than the
	// store needs (call Migrate), another error when it is newer than the
	// store knows, and the database's error when it cannot tell. It only
	// reads.
	CheckSchema(ctx context.Context) error
}

// KeyChecker is implemented by stores that encrypt endpoint credentials at
// rest under keys the application gives them (the SQL drivers, with their
// Config.Keys): a cheap probe that the keys can open the credentials the
// store holds, so a sender's Start fails at once with a clear error
// instead of every delivery failing in the background. It is an optional
// capability, found by type assertion, separate from [SchemaChecker]: a
// store used only as a receiver's inbox needs no endpoint keys, and
// receiver.Start does not call it. Implementations must be safe for
// concurrent use.
type KeyChecker interface {
	// CheckKeys returns nil when the store's keys can open the endpoint
	// credentials it holds (or it holds none sealed). Otherwise it returns
	// an error naming the key ids at fault, never key material, and what
	// to configure: in the SQL drivers, a *seal.KeysError wrapping
	// seal.ErrUnknownKey for ids the keys lack (or sealed values and no
	// keys) and seal.ErrWrongKey for an id given another key. It returns
	// the database's error when it cannot tell, and the schema's
	// ([ErrNotMigrated]) when there is none. It only reads, and its cost
	// does not grow with the number of endpoints.
	CheckKeys(ctx context.Context) error
}
