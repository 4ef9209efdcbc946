package receiver

// ClaimsWaiting returns how many claims wait for a batch to take them: for
// tests that need every claim of a batch to be waiting before it is taken.
func ClaimsWaiting(r *Receiver) int {
	r.claims.mu.Lock()
	defer r.claims.mu.Unlock()
	return len(r.claims.waiting)
}
