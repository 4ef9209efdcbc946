package sqlite

// SetPruneBatch sets how many deliveries one PruneDeliveries transaction
// deletes, so tests can cross batch boundaries with few rows.
func SetPruneBatch(s *Store, n int) { s.pruneBatch = n }
