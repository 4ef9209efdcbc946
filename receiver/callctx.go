package receiver

import (
	"context"
	"sync"
	"time"
)

// callCtx is the context of one callback: its parent's values and
// cancellation, bounded by a deadline, and cancelled when the callback
// returns, as context.WithDeadline's would be. It arms no timer and
// registers nothing with its parent until something asks for Done (or
// derives a context from it): a callback that never waits on its context,
// as many do not, then costs one small allocation instead of a timer and
// a registration with the parent, which are most of the worker's overhead
// per event. Once asked, it is backed by a real context.WithDeadline.
type callCtx struct {
	parent   context.Context
	deadline time.Time
	job      *job // its Delivery is the value of deliveryKey

	mu     sync.Mutex
	inner  context.Context // made on demand, then fixed
	cancel context.CancelFunc
	ended  bool // the callback returned
}

// newCallCtx returns the context of a callback that must end by deadline.
func newCallCtx(parent context.Context, deadline time.Time) *callCtx {
	c := new(callCtx)
	c.init(parent, deadline)
	return c
}

// init sets up a zero callCtx.
func (c *callCtx) init(parent context.Context, deadline time.Time) {
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.parent, c.deadline = parent, deadline
}

// real returns the context.WithDeadline behind c, making it on the first
// call (already cancelled if the callback returned).
func (c *callCtx) real() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner == nil {
		c.inner, c.cancel = context.WithDeadline(c.parent, c.deadline)
		if c.ended {
			c.cancel()
		}
	}
	return c.inner
}

// end cancels c: the callback returned.
func (c *callCtx) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	if c.cancel != nil {
		c.cancel()
	}
}

// Deadline returns the callback's deadline.
func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done returns a channel closed when the deadline passes, the parent is
// cancelled or the callback returned.
func (c *callCtx) Done() <-chan struct{} { return c.real().Done() }

// Err returns nil while none of Done's conditions holds, and otherwise
// what the context.WithDeadline behind c returns.
func (c *callCtx) Err() error {
	c.mu.Lock()
	inner, ended := c.inner, c.ended
	c.mu.Unlock()
	if inner == nil && !ended && c.parent.Err() == nil && time.Now().Before(c.deadline) {
		return nil
	}
	return c.real().Err()
}

// Value returns the parent's values (once made, through the real context,
// so that contexts derived from c find it as their parent).
func (c *callCtx) Value(key any) any {
	if _, ok := key.(deliveryKey); ok && c.job != nil {
		return c.job.delivery()
	}
	c.mu.Lock()
	inner, ended := c.inner, c.ended
	c.mu.Unlock()
	if inner == nil && (ended || !time.Now().Before(c.deadline)) {
		inner = c.real() // done: context.Cause looks for it here
	}
	if inner != nil {
		return inner.Value(key)
	}
	return c.parent.Value(key)
}

// AfterFunc arranges for f to run once c is done, as context.AfterFunc
// does; the context package uses it for contexts derived from c instead of
// a goroutine each.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) { return context.AfterFunc(c.real(), f) }

// String names the context for debugging.
func (c *callCtx) String() string { return "receiver.callbackContext" }
