package retry_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
)

var errBase = errors.New("base failure")

func TestPermanent(t *testing.T) {
	require.NoError(t, retry.Permanent(nil))
	require.False(t, retry.IsPermanent(nil))
	require.False(t, retry.IsPermanent(errBase))

	err := retry.Permanent(errBase)
	require.True(t, retry.IsPermanent(err))
	require.ErrorIs(t, err, errBase)
	require.Equal(t, errBase.Error(), err.Error())

	wrapped := fmt.Errorf("handler: %w", err)
	require.True(t, retry.IsPermanent(wrapped))
	require.ErrorIs(t, wrapped, errBase)

	pathErr := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	var target *fs.PathError
	require.ErrorAs(t, retry.Permanent(pathErr), &target)
	require.Same(t, pathErr, target)
	require.ErrorIs(t, retry.Permanent(pathErr), fs.ErrNotExist)

	// Inside errors.Join too.
	require.True(t, retry.IsPermanent(errors.Join(errors.New("a"), err)))
}

func TestAfter(t *testing.T) {
	_, ok := retry.RetryAfterOf(nil)
	require.False(t, ok)
	_, ok = retry.RetryAfterOf(errBase)
	require.False(t, ok)

	err := retry.After(90*time.Second, errBase)
	d, ok := retry.RetryAfterOf(err)
	require.True(t, ok)
	require.Equal(t, 90*time.Second, d)
	require.ErrorIs(t, err, errBase)
	require.Equal(t, errBase.Error(), err.Error())
	require.False(t, retry.IsPermanent(err))

	d, ok = retry.RetryAfterOf(fmt.Errorf("handler: %w", err))
	require.True(t, ok)
	require.Equal(t, 90*time.Second, d)

	pathErr := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	var target *fs.PathError
	require.ErrorAs(t, retry.After(time.Second, pathErr), &target)
	require.Same(t, pathErr, target)

	// nil err still means "not yet".
	err = retry.After(5*time.Second, nil)
	require.Error(t, err)
	require.Equal(t, "retry: retry after 5s", err.Error())
	require.NoError(t, errors.Unwrap(err))

	// Negative is zero.
	d, ok = retry.RetryAfterOf(retry.After(-time.Second, errBase))
	require.True(t, ok)
	require.Zero(t, d)

	// The outermost After wins.
	d, _ = retry.RetryAfterOf(retry.After(time.Minute, retry.After(time.Hour, errBase)))
	require.Equal(t, time.Minute, d)
}
