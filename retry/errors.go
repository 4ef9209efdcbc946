package retry

import (
	"errors"
	"time"
)

// Permanent marks err as final: every [Policy] in this package gives up on it,
// and [Classify] reports [ClassPermanent]. A receiver callback returns
// Permanent(err) for a payload it will never accept, so the event goes
// straight to the dead state instead of being retried for days.
//
// The result wraps err: [errors.Is] and [errors.As] still reach it, and its
// Error text is err's unchanged (Permanent adds a meaning, not a message).
// The mark survives further wrapping with %w. Permanent(nil) returns nil,
// since nil means success.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err or any error it wraps was marked with
// [Permanent].
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// After asks for the next attempt to happen after exactly d instead of the
// policy's scheduled delay, like River's JobSnooze: a receiver callback
// returns After(time.Minute, err) when it knows its dependency is back in a
// minute. The policy still applies its give-up rules (attempts, age) and
// bounds: d is capped at the policy's MaxRetryAfter and raised to its
// MinDelay. A negative d is read as 0. If the error chain also carries
// [Permanent], Permanent wins.
//
// The result wraps err: [errors.Is] and [errors.As] still reach it, and its
// Error text is err's unchanged. After(d, nil) returns a non-nil error (text
// "retry: retry after <d>") so that "try again later" is never mistaken for
// success.
func After(d time.Duration, err error) error {
	return &afterError{delay: max(d, 0), err: err}
}

// RetryAfterOf returns the delay requested with [After] anywhere in err's
// chain (the outermost one when there are several), and whether there was
// one.
func RetryAfterOf(err error) (time.Duration, bool) {
	var a *afterError
	if !errors.As(err, &a) {
		return 0, false
	}
	return a.delay, true
}

type afterError struct {
	delay time.Duration
	err   error
}

func (e *afterError) Error() string {
	if e.err == nil {
		return "retry: retry after " + e.delay.String()
	}
	return e.err.Error()
}

func (e *afterError) Unwrap() error { return e.err }
