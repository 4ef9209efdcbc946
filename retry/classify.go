package retry

import (
	"net/http"
	"strconv"
)

// Class is the classification of one attempt's result; see [Classify].
type Class int

const (
	// ClassSuccess: the receiver accepted the delivery (a 2xx status, or a
	// callback that returned nil).
	ClassSuccess Class = iota
	// ClassRetry: a failure worth retrying; ask the [Policy] when.
	ClassRetry
	// ClassPermanent: a failure that retrying will not fix; give up now.
	ClassPermanent
	// ClassGone: the receiver answered 410 Gone and wants no more deliveries;
	// give up and disable the endpoint.
	ClassGone
)

// String returns "success", "retry", "permanent" or "gone", or
// "Class(n)" for any other value.
func (c Class) String() string {
	switch c {
	case ClassSuccess:
		return "success"
	case ClassRetry:
		return "retry"
	case ClassPermanent:
		return "permanent"
	case ClassGone:
		return "gone"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Classifier classifies attempt results. Its zero value implements the
// default rules described on [Classifier.Classify]. It is safe for
// concurrent use when PermanentStatus is.
type Classifier struct {
	// PermanentStatus, when not nil, is asked about every failed HTTP status
	// except 410 (always [ClassGone]); returning true makes that status
	// [ClassPermanent] instead of [ClassRetry]. Use [ClientError] to make
	// the 4xx statuses that cannot heal by themselves permanent. Nil: every
	// failed status is retried.
	PermanentStatus func(code int) bool
}

// Classify classifies the result of one attempt: status is the HTTP status
// (0 when there was no response, or for a callback), err the transport or
// callback error. The rules, in order:
//
//   - a 2xx status is [ClassSuccess], whatever err says (an error reading
//     the rest of the response does not undo the receiver's acknowledgement);
//   - 410 Gone is [ClassGone]: the endpoint should be disabled;
//   - an err marked with [Permanent] is [ClassPermanent];
//   - status 0 is [ClassSuccess] when err is nil (a callback that returned
//     nil) and [ClassRetry] otherwise (network errors, timeouts, resets,
//     context deadlines, callback errors);
//   - any other status for which PermanentStatus returns true is
//     [ClassPermanent];
//   - everything else is [ClassRetry]: 408, 429 and 5xx; 3xx, because
//     redirects are never followed and a moved endpoint is a failure until
//     its URL is updated; and the other 4xx, because receivers misconfigure
//     auth and routes, then fix them.
//
// A sender should check its own context before classifying: an attempt cut
// short by the sender's shutdown is not the endpoint's failure.
func (c Classifier) Classify(status int, err error) Class {
	switch {
	case status >= 200 && status <= 299:
		return ClassSuccess
	case status == http.StatusGone:
		return ClassGone
	case IsPermanent(err):
		return ClassPermanent
	case status == 0:
		if err == nil {
			return ClassSuccess
		}
		return ClassRetry
	case c.PermanentStatus != nil && c.PermanentStatus(status):
		return ClassPermanent
	}
	return ClassRetry
}

// Classify classifies an attempt's result with the default rules; it is
// Classifier{}.Classify(status, err).
func Classify(status int, err error) Class {
	return Classifier{}.Classify(status, err)
}

// ClientError reports whether code is a 4xx status that retrying will not
// fix on its own: every 4xx except 408 Request Timeout, 425 Too Early and
// 429 Too Many Requests. Use it as [Classifier.PermanentStatus] to give up on
// client errors at once instead of retrying them on schedule.
func ClientError(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return code >= 400 && code <= 499
}
