package webhooktest

import (
	"sync"
	"time"
)

// Clock is a fake clock for tests: it stands still until it is set or
// advanced. Pass its Now method as the clock of a sender, a receiver or a
// store (sender.Config.Now, receiver.Config.Now, memory.Config.Now).
//
// The zero Clock is ready to use and starts at [DefaultStart]. A Clock is safe
// for concurrent use; it must not be copied after first use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// DefaultStart returns the time a Clock starts at when given none:
// 2024-06-13 00:08:31 UTC, a fixed instant so that tests are reproducible.
func DefaultStart() time.Time {
	return time.Date(2024, time.June, 13, 0, 8, 31, 0, time.UTC)
}

// NewClock returns a Clock set to start, or to [DefaultStart] when start is
// the zero time.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current()
}

// current returns the time; c.mu must be held.
func (c *Clock) current() time.Time {
	if c.now.IsZero() {
		return DefaultStart()
	}
	return c.now
}

// Set sets the clock to t (the zero time means [DefaultStart]). Setting it
// backwards is allowed, though a sender or receiver driven by it may then see
// times out of order.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d (backward for a negative d) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.current().Add(d)
	return c.now
}
