package receiver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// TestCallCtx: the callback context behaves as context.WithDeadline's
// would, whether or not Done was asked for before it ended.
func TestCallCtx(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	defer cancelParent()

	t.Run("values and deadline", func(t *testing.T) {
		dl := time.Now().Add(time.Hour)
		c := newCallCtx(parent, dl)
		defer c.end()
		require.Equal(t, "v", c.Value(ctxKey{}))
		got, ok := c.Deadline()
		require.True(t, ok)
		require.Equal(t, dl, got)
		require.NoError(t, c.Err())
		select {
		case <-c.Done():
			t.Fatal("done before its deadline")
		default:
		}
		require.Equal(t, "v", c.Value(ctxKey{}), "through the real context too")
	})

	t.Run("deadline passes", func(t *testing.T) {
		c := newCallCtx(parent, time.Now().Add(time.Millisecond))
		defer c.end()
		<-c.Done()
		require.ErrorIs(t, c.Err(), context.DeadlineExceeded)
		require.ErrorIs(t, context.Cause(c), context.DeadlineExceeded)
	})

	t.Run("deadline passed before Done is asked", func(t *testing.T) {
		c := newCallCtx(parent, time.Now().Add(-time.Second))
		defer c.end()
		require.ErrorIs(t, c.Err(), context.DeadlineExceeded)
		<-c.Done()
	})

	t.Run("ended", func(t *testing.T) {
		c := newCallCtx(parent, time.Now().Add(time.Hour))
		derived, cancel := context.WithCancel(c)
		defer cancel()
		c.end()
		<-derived.Done()
		require.ErrorIs(t, c.Err(), context.Canceled)
		require.ErrorIs(t, derived.Err(), context.Canceled)

		late := newCallCtx(parent, time.Now().Add(time.Hour))
		late.end()
		require.ErrorIs(t, late.Err(), context.Canceled, "ended before Done was asked")
		<-late.Done()
		require.ErrorIs(t, context.Cause(late), context.Canceled)
	})

	t.Run("parent cancelled", func(t *testing.T) {
		p, cancel := context.WithCancel(parent)
		c := newCallCtx(p, time.Now().Add(time.Hour))
		defer c.end()
		stopped := make(chan struct{})
		context.AfterFunc(c, func() { close(stopped) })
		cancel()
		<-c.Done()
		<-stopped
		require.True(t, errors.Is(c.Err(), context.Canceled))

		c2 := newCallCtx(p, time.Now().Add(time.Hour))
		defer c2.end()
		require.ErrorIs(t, c2.Err(), context.Canceled, "parent cancelled before Done was asked")
		<-c2.Done()
	})

	t.Run("parent deadline first", func(t *testing.T) {
		p, cancel := context.WithDeadline(parent, time.Now().Add(time.Minute))
		defer cancel()
		c := newCallCtx(p, time.Now().Add(time.Hour))
		defer c.end()
		pd, _ := p.Deadline()
		got, _ := c.Deadline()
		require.Equal(t, pd, got)
	})
}
