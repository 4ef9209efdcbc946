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
