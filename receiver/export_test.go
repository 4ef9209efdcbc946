package receiver

import "time"

// ClaimsWaiting returns how many claims wait for a batch to take them: for
// tests that need every claim of a batch to be waiting before it is taken.
func ClaimsWaiting(r *Receiver) int {
	r.claims.mu.Lock()
	defer r.claims.mu.Unlock()
	return len(r.claims.waiting)
}

// SetMarkBudget sets how long r tries a failing mark-handled record before
// it gives it up (10 s by default). Call it before Start.
func SetMarkBudget(r *Receiver, d time.Duration) { r.markBudget = d }
