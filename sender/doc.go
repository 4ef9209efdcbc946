// Package sender delivers webhook events: durable fan-out to subscribed
// endpoints, Standard Webhooks signatures, retries with backoff, per-endpoint
// rate and concurrency limits, an attempt log, and endpoint health with
// automatic disabling.
//
// # Publishing
//
// [Sender.Publish] enqueues an event for an [Audience]: the active endpoints
// of a tenant ([ToTenant]), of one account of a tenant ([ToAccount]) or of
// all tenants ([ToAllTenants]) whose patterns match its type, or one
// endpoint ([ToEndpoint]). It writes to the store
// (durably when the store is durable), wakes the workers and returns;
// [PublishOptions] schedule the first attempt for later. Publishing an event
// id again is idempotent per (event id, endpoint). [Sender.PublishTx] does the
// same in the application's own transaction, through a view of the store
// bound to it ([store.Tx]): the transactional outbox, with the same checks
// and errors, since both go through one path. [Sender.Simulate] (test mode
// only) publishes a payload of the caller's choosing to one endpoint;
// [Sender.Ping] sends a "ping" event synchronously and returns the attempt.
//
// A sender given an [event.Catalog] (Config.Catalog) publishes only the
// types it lists ("ping" among them), refusing others with an error
// wrapping [event.ErrUnknownType], and its [Endpoints] refuse subscriptions
// that select none of them, so a typo on either side fails at once rather
// than silently reaching no one. [Sender.Catalog] gives the catalog to
// dashboards and tools. Without one, any valid type is published.
//
// # Organizations and accounts
//
// An endpoint belongs to an organization, its store.Endpoint.Tenant, and may
// be narrowed to one account of it, store.Endpoint.Account (empty: the
// endpoint is organization-wide). The rule: an event published for
// (organization, account), with [ToAccount], reaches the organization's
// organization-wide endpoints and that account's endpoints, never another
// account's; an event published for the organization alone, with [ToTenant]
// (or for every organization, with [ToAllTenants]), reaches organization-wide
// endpoints only. The dashboard scopes by organization.
//
// # Subscriptions
//
// An endpoint subscribes with [event.Pattern] values: an exact type
// ("medical-encounters.create"), a service ("medical-encounters", matching
// every method of it: ".create", ".update", ".remove"), a prefix
// ("medical-encounters.*") or "*". "ping" is an exact type, not a service:
// every other one-segment pattern is a service. The receiver routes with the
// same matcher.
//
// # Endpoints
//
// [Sender.Endpoints] is the one owner of the sender's endpoints: it creates
// them (generating a "whsec_" secret, shown once, when none is given),
// edits, enables, disables and deletes them and rotates their secrets, and
// it refuses what the sender would not deliver to: an invalid endpoint
// ([store.Endpoint.Validate]), a URL against the sender's policy (private
// addresses, plain http in live mode with Config.RequireHTTPSInLive),
// another mode, patterns that select no type of Config.Catalog, or extra
// headers that are not valid HTTP or that the
// sender sets itself. Refusals are *[store.FieldError] values naming the
// field. The same owner keeps endpoint health (see below) and calls the
// endpoint hooks. [Sender.Store] exposes the store for reading deliveries
// and the attempt log.
//
// # Several instances, and publishing from elsewhere
//
// Any number of senders, in any number of processes, may work one durable
// store: leasing hands each delivery to one of them at a time. A started
// sender that has nothing to do looks for due deliveries every
// Config.PollInterval (a second by default), at once when this sender
// publishes, replays or enables something itself, and when a retry it
// scheduled sooner than that falls due. Deliveries written
// elsewhere (by another instance, or by [Sender.PublishTx] in a transaction
// that commits later) wake it at once when the store says so: when the store
// implements [store.Notifier], [Sender.Start] subscribes for the sender's
// lifetime and every notification (sent when the writing transaction
// commits) wakes the workers. store/postgres notifies every instance with
// LISTEN/NOTIFY; store/sqlite and store/memory notify in the process. Notifications are
// hints; polling goes on, so one that is lost (while the store reconnects,
// say) costs at most a poll interval, and a failure to subscribe is logged
// and leaves polling alone. Shutdown and Close end the subscription before
// they return. With a store that does not notify, call [Sender.Notify] after
// committing a transactional publish, or rely on the poll.
//
// # Delivering
//
// [Sender.Start] runs up to Config.Workers deliveries at once in the
// background; [Sender.ProcessDue] does one pass synchronously, for tests
// with a fake clock and for cron-style use. A started sender leases in
// batches and keeps up to Config.Workers more deliveries leased in a queue
// beside those in flight; a queued delivery whose lease would run out before
// its attempt could finish, or that is still queued at shutdown, is
// released unattempted. Endpoints are loaded once per batch, and a change
// this sender makes (disabling an endpoint, recording its health) is seen
// at once by the deliveries queued. Each attempt POSTs the envelope
// with Content-Type application/json, a User-Agent, the endpoint's extra
// headers (which cannot override ours), and webhook-id, webhook-timestamp and
// webhook-signature, signed with every secret of the endpoint that is active
// at the attempt's time. The envelope's id is the same on every attempt, its
// date is the attempt's time (the same instant as webhook-timestamp), and the
// data bytes are sent exactly as published, never re-encoded.
//
// An endpoint whose store.Endpoint.Format is [store.BodyEventPayload] is
// sent {"id": "<event id>", "event": "<type>", "payload": {...}} instead of
// the envelope: the same id, the data bytes as published under "payload"
// (left out when the data is an empty object, as a ping's), the date in
// webhook-timestamp only, and the same headers and signatures over the body
// as sent. The format is chosen when the endpoint is created, and each
// attempt records it (store.Attempt.Format).
//
// The response is classified by Config.Classifier (see
// [retry.Classifier.Classify]): 2xx succeeds; 410 Gone fails the delivery and
// disables the endpoint; a retryable failure (network errors, timeouts, 3xx
// since redirects are never followed, 4xx, 5xx) is scheduled again by
// Config.Retry, which honours Retry-After on 429 and 503, until it gives up.
// Every attempt is written to the attempt log (request and response headers
// and bodies, the response's headers cut to Config.MaxResponseHeaders bytes
// and its body to Config.MaxResponseBody, or without bodies under
// Config.OmitBodies; the values of the endpoint's extra headers and the
// userinfo of its URL are replaced by [RedactedValue]) and passed to
// Hooks.OnAttempt. An attempt cut short by
// the sender's own shutdown is neither logged nor counted: the delivery is
// released, due again.
//
// # Settling
//
// What an attempt leads to (the delivery succeeded, retried, given up or
// released; the attempt record; the endpoint's health) is not written on
// its own. The worker hands it over and goes on with its next delivery, and
// the outcomes are written in batches: one [store.Outbox.Settle] call, one
// transaction, per batch, with each endpoint's health written once per
// batch. A batch is written as soon as the previous one is done (or after
// Config.SettleLinger), up to Config.SettleBatchSize outcomes, so under
// light load an outcome is one commit away and under heavy load a batch
// holds what finished while the previous one was written. This is what
// keeps a durable store near the speed of the wire: the cost of a commit
// is shared by a batch. Lease tokens are checked per delivery, and a lost
// lease (another worker took the delivery after this one's lease ended) is
// logged per delivery; its attempt is still recorded.
//
// Hooks.OnAttempt and OnDeliveryExhausted run once the outcome is written,
// and [Sender.WaitIdle] and [Sender.ProcessDue] wait for it too. A batch
// the store refuses (a lost connection) is tried again for up to ten
// seconds; if it still fails, its deliveries stay leased until their
// leases end and are then attempted again, as after a crash: an attempt is
// made at least once, and its receiver de-duplicates by webhook-id. When
// the store falls behind, workers wait for room in the queue of outcomes,
// so attempts slow down to what the store can record.
//
// # Fairness and limits
//
// Each endpoint has a token-bucket rate limit (Endpoint.RateLimit and Burst,
// or Config.DefaultRateLimit) and a cap on requests in flight
// (Endpoint.MaxInFlight, or Config.DefaultMaxInFlight, 8 by default). A
// delivery whose endpoint is at a limit is released untouched, due when the
// limiter allows, and the endpoint is left out of leasing until then, so a
// slow or limited endpoint never holds workers that others could use. The
// limits are per Sender: several processes sharing a store each apply them.
//
// # Endpoint health
//
// Failed attempts are counted per endpoint and a success resets the count.
// (Successes to an endpoint that is healthy and had a success recorded in
// the last second are not written again: Health.LastSuccessAt of a busy
// endpoint is accurate to a second.)
// When the count reaches half of Config.DisableAfterFailures,
// Hooks.OnEndpointWarning fires once; when it reaches DisableAfterFailures
// and the endpoint has been failing for at least DisableAfterDuration, the
// endpoint is disabled (Hooks.OnEndpointDisabled). Its queued deliveries
// wait, paused, and resume when [Endpoints.Enable] re-enables it, or
// give up at the retry policy's age limit. [Sender.Retry] and
// [Sender.ReplayFailed] replay given-up deliveries.
//
// # Ordering keys, circuit breaking and slow start
//
// An event published with [PublishOptions].OrderingKey is delivered to
// each endpoint after the earlier events with the same key, one at a time:
// the store leases a keyed delivery only while no earlier delivery of its
// endpoint and key is unfinished and none of them is leased (in every
// store, and across processes sharing a PostgreSQL store). A failing
// delivery holds up its key only; the endpoint's other keys and unkeyed
// events go on. When it is given up, Config.OnKeyGiveUp decides: the next
// goes ([KeySkip], the default) or the key waits until the failed one is
// replayed ([KeyHold]). An ordered endpoint is the special case of one key:
// publish all its events with the same OrderingKey.
//
// Each endpoint has a circuit breaker (Config.Breaker, on by default): after
// BreakerConfig.Failures consecutive failed attempts (10; or a failure rate
// over a window), the endpoint's deliveries are no longer attempted. They
// wait, due, with their attempt counts untouched (those already leased are
// released; requests already in flight finish, so an endpoint may see up
// to its MaxInFlight more failures), while one probe goes through after
// ProbeInterval (5 s), then after twice as long after each failed probe,
// up to MaxProbeInterval (5 min). A probe that does not fail closes the breaker. Its transitions
// are recorded on the endpoint (store.Health.Breaker, shown by the
// dashboard), reported to Hooks.OnBreakerChange and readable with
// [Sender.Flow]. Failed probes still count towards disabling the endpoint
// after Config.DisableAfterFailures and DisableAfterDuration. The breaker is
// per Sender, as the limits are.
//
// A failed attempt, a probe included, schedules its delivery's retry by
// Config.Retry (5 s, 5 min, 30 min, ... by default), so a long outage
// pushes the deliveries it failed far ahead. When the breaker closes, the
// endpoint's pending deliveries that wait for the retry of an attempt that
// failed in the run that opened it (since its last success) are made due at
// once, when the store is a [store.RetryAdvancer] (the memory, SQLite and
// PostgreSQL stores are): they do not wait behind an endpoint that is up
// again. They keep their attempt counts. BreakerConfig.KeepRetrySchedule
// turns this off.
//
// When a breaker closes, an endpoint is enabled again, or a backlog falls due
// on an endpoint this sender left idle, a slow start (Config.SlowStart, on
// by default) ramps the endpoint's requests in flight, and its rate limit in
// proportion, from one up to its limits while successes hold: one more
// after each round of successes; a 429, a 503 or a timeout halves them, and a
// Retry-After pauses the endpoint for as long. An endpoint never sees more
// than its MaxInFlight requests at once.
//
// # Safety
//
// By default the sender refuses to connect to loopback, private, link-local,
// CGNAT, unique-local, multicast, unspecified and documentation addresses.
// The check runs before each connection is dialled, on the resolved address,
// so DNS rebinding cannot bypass it, and no connection is ever opened to a
// refused address, not even through a user's dial function (see
// Config.Transport); IPv4-mapped, NAT64 and 6to4 IPv6 forms are judged by
// the IPv4 address inside. A refusal reads the same whatever the port's
// state and names no resolved address, so the attempt log cannot be used to
// map the private network (the debug log has the address).
// [CheckURL] and [Endpoints.CheckURL] apply the same rules to a URL, without
// resolving it, and [Endpoints] applies them when an endpoint is created or
// its URL changed. Config.AllowPrivateNetworks
// turns both off for development and tests. Redirects are never followed.
// Envelopes larger than Config.MaxPayload are refused. Config.RequireHTTPSInLive refuses
// plain http in live mode. Secrets never appear in logs or in the attempt
// log: neither signing secrets, nor the values of the endpoint's extra
// headers, which often carry credentials (they are logged as
// [RedactedValue]), nor the userinfo of its URL (see [RedactURL]), in the
// attempt's URL and error and the delivery's LastError alike; logs never
// contain bodies or headers. What a response may cost is bounded too: its
// headers by [DefaultMaxResponseHeaderBytes] (read) and
// Config.MaxResponseHeaders (kept), its body by Config.MaxResponseBody.
//
// # Credentials, TLS, proxies and KMS keys
//
// An endpoint with OAuth2 settings (store.Endpoint.OAuth2) gets an access
// token from Config.OAuth2, a [TokenSource] (module
// github.com/webhookkit/webhookkit/oauth2), before each attempt; token
// requests use the sender's client, guard and proxy included; a failure is a
// failed attempt ([ErrOAuth2Token]) and no request is made. An endpoint with
// TLS settings (store.Endpoint.TLS: a client certificate, a CA bundle) gets
// a transport of its own, cloned from the guarded one, kept while its
// settings stay the same. Config.Proxy tunnels every request through an HTTP
// CONNECT proxy, to addresses the guard resolved and checked. A "whkms_"
// signing key signs through Config.KMS. [Endpoints] refuses what this sender
// could not use ([ErrNoTokenSource], [ErrNoKMS], [ErrClientTLS]). The
// OAuth2 Authorization header is redacted in the attempt log, and the client
// secret in token errors.
//
// # Waiting for quiet
//
// [Sender.Backlog] counts the unfinished deliveries of the sender's mode by
// the sender's clock: due, scheduled for later, leased, paused and waiting
// for their ordering key, and of the due ones those this sender holds back
// ([Backlog].Held: an open circuit breaker, a Retry-After pause).
// [Sender.WaitIdle] waits until nothing is due (but held) or leased and none
// of this sender's attempts is in flight (hooks included): everything due
// has been delivered or given up, while retries scheduled for later, the
// deliveries behind them on their key, and those held back wait.
// [Sender.NextAttempt] tells when the sender may next attempt something,
// which webhooktest.DeliverAll advances a fake clock to. Tests
// publish, wait and assert; a process can drain what is due before
// [Sender.Shutdown], which leaves queued deliveries in the store (with
// store/memory, they vanish with the process).
//
// # Lifecycle
//
// [New] starts nothing. [Sender.Start] starts the workers, the
// attempt-log pruner and, for a [store.Notifier] store, the subscription; [Sender.Shutdown] stops leasing, lets attempts in
// flight finish until its context ends, then cancels and releases the rest;
// [Sender.Close] does that at once. Afterwards every method returns
// [ErrClosed]. Leases outlive a crash: a delivery whose worker died is due
// again when its lease (Config.LeaseDuration) expires, and that attempt
// counts, so a delivery that kills its worker still gives up eventually.
//
// # Test and live
//
// A sender works in one API mode (Config.Mode, test by default): it stamps
// events that have none, refuses events and endpoints of the other mode, and
// leases only its own mode's deliveries.
package sender
