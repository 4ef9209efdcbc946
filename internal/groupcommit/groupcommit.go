// Package groupcommit holds what the sender's and the receiver's group
// commits share: the goroutine writing a batch lets the goroutines about to
// join it run first.
package groupcommit

import "runtime"

// maxYields bounds the yields before a batch is taken.
const maxYields = 3

// Yield lets the goroutines that are ready to run go first, before a batch
// is taken, and again while that makes the batch grow (size reports it), a
// few times at most, or until it holds full. Where the store's work runs on
// the same processors as the goroutines that feed it (a pure Go SQLite, a
// process on one core), a batch would otherwise be taken before the
// goroutines about to join it could, and batches would stay of one; where
// nothing else is ready to run, it costs nothing.
func Yield(size func() int, full int) {
	n := size()
	if n >= full {
		return
	}
	for range maxYields {
		runtime.Gosched()
		m := size()
		if m == n || m >= full {
			return
		}
		n = m
	}
}
