// Package retry decides what happens after a webhook attempt: whether it
// succeeded, failed for good, or should be tried again, and when.
//
// It has two halves. [Classify] (or a configured [Classifier]) turns an
// attempt's HTTP status and error into a [Class]. A [Policy] answers the
// question for retryable failures: retry after how long, or give up. The
// sender uses both for outgoing deliveries; the receiver uses the policies
// to re-drive events whose callback failed. Everything here is computation
// on values: no goroutines, no I/O, no package state.
//
// # Classification
//
// A 2xx response succeeds. 410 Gone means the receiver wants no more
// deliveries: the endpoint is disabled. Network errors, timeouts, 408, 429
// and 5xx are retried. A 3xx is a failure and is retried: redirects are
// never followed, so a moved endpoint fails until its URL is updated. Other
// 4xx are retried too, because receivers misconfigure authentication and
// routes and then fix them; [Classifier.PermanentStatus] (for instance
// [ClientError]) makes them permanent instead.
//
// # Steering from a callback
//
// Anything that produces an attempt's error, typically a receiver's
// callback, can steer the policy by wrapping its error:
//
//   - [Permanent](err): never retry; the delivery or event is dead.
//   - [After](d, err): retry after exactly d instead of the scheduled delay
//     (within the policy's bounds and give-up rules).
//
// Both wrappers keep err reachable with [errors.Is] and [errors.As].
//
// # Retry-After
//
// On 429 and 503 responses the Retry-After header (seconds or HTTP-date, see
// [ParseRetryAfter]) is honoured when it asks for a LONGER wait than the
// schedule: we never retry sooner than our schedule says. It is capped at
// the policy's MaxRetryAfter ([DefaultMaxRetryAfter], one hour) so that one
// header cannot park a delivery for days. Every delay, from whatever source,
// is at least the policy's MinDelay: jitter is applied above that floor.
//
// # The default schedule
//
// [Default] returns a [Schedule] with these delays, each varied by ±20%
// ([DefaultJitter]):
//
//	attempt  delay before it  time since the first attempt
//	  1      immediately        0:00:00
//	  2      5 s                0:00:05
//	  3      5 min              0:05:05
//	  4      30 min             0:35:05
//	  5      2 h                2:35:05
//	  6      5 h                7:35:05
//	  7      10 h              17:35:05
//	  8      14 h              31:35:05
//	  9      20 h              51:35:05
//	 10      24 h              75:35:05
//
// It gives up after the 10th attempt or once the delivery is [DefaultMaxAge]
// (4 days) old, whichever comes first.
//
// Why this schedule. Svix documents a fixed schedule: immediately, 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h and 10 h again, 8 attempts over about
// 27.5 h. Stripe retries live-mode events with exponential backoff for up to
// three days (and only three times over a few hours in test mode) without
// publishing the exact intervals. We keep Svix's front half, because most
// failures are blips and deploys that the 5-second and 5-minute retries
// absorb while the event is still fresh, and stretch the back half to
// Stripe's three days, as the Standard Webhooks specification's example
// schedule does: a receiver that is down from Friday evening to Monday
// morning still gets its events without a manual replay. The long late gaps
// cost little load when an endpoint is truly down. A fixed list rather than
// a formula makes the schedule easy to state in a receiver's documentation,
// and the jitter (which the Standard Webhooks specification recommends)
// keeps the deliveries that failed together in an outage from returning
// together and knocking the receiver over again.
//
// Why 4 days. Even at the top of the jitter band the schedule ends within
// about 91 h, so the age limit only cuts deliveries that also waited for
// other reasons, such as a disabled endpoint or a backlog; and it ends
// before a receiver's 7-day de-duplication window, so even the last retry of
// an event the receiver already handled is recognised as a duplicate.
//
// [Exponential] is the alternative when a formula suits better, for example
// millisecond backoff in tests or a few quick retries in a CLI. It uses
// "full jitter": every delay is drawn uniformly between MinDelay and
// MinDelay plus the capped exponential bound, which spreads retries best.
// [Never] never retries, and [PolicyFunc] adapts a function.
package retry
