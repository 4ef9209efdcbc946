// Package receiver is the consuming side of webhookkit: an [http.Handler]
// that verifies Standard Webhooks signatures (or GitHub's, Stripe's,
// Shopify's, Slack's and others', see Providers), de-duplicates events by id,
// answers at once, and hands the events to your [Handler] on a bounded pool
// of workers, with retries and a dead-letter hook.
//
//	mux := receiver.NewMux()
//	mux.HandleFunc("patient.*", onPatient)
//	r, err := receiver.New(mux, &receiver.Config{
//		Keys: []receiver.Key{{Text: os.Getenv("WEBHOOK_SECRET")}},
//	})
//	...
//	http.Handle("/webhooks", r) // the receiver answers other methods itself (405)
//	if err := r.Start(ctx); err != nil { ... }
//	defer r.Shutdown(shutdownCtx)
//
// # Answers
//
// Each request is checked in this order; the first failing check decides
// the answer, whose body is a short fixed [Reason] and a newline (never
// anything from the request, a secret or an expected signature), except
// an accepted event's, which is empty, and a verified body of the other
// body format's shape, refused with a fixed second line naming the fix
// (see Body formats), and the few other refusals with a hint below:
//
//	check                                                   status
//	Receiver.ServeHTTP without Config.Keys (no own source)  404
//	method is not POST                                      405, Allow: POST (body not read)
//	Content-Type not JSON, or Content-Encoding not identity 415
//	Content-Length over MaxBodyBytes (before reading),
//	  or the body runs over while reading                   413
//	body unreadable: read deadline / other error            408 / 400
//	webhook-id, -timestamp, -signature missing, empty,
//	  repeated or malformed (non-canonical timestamp)       400
//	timestamp outside Tolerance                             401
//	no signature matches any key                            401
//	signed, but the envelope is invalid (strict decoding)   400 (see Body formats)
//	signed only by keys restricted to another api_mode      400
//	not started, shutting down, queue full                  503, Retry-After (inbox not asked)
//	inbox failing, or full (store.ErrInboxFull)             503, Retry-After
//	duplicate id                                            200, Webhookkit-Duplicate: true,
//	                                                          body "duplicate"; not handled again
//	accepted                                                200, empty body
//
// The table is that of the default provider, [Webhookkit]; every [Provider]
// is answered by the same rules, reading its own headers (see Providers).
//
// A 2xx is never sent for a request that was not verified, nor for an event
// the receiver does not hold. A duplicate's 200 carries the header
// [HeaderDuplicate], so a sender, a tool or a test tells it from an
// accepted event's by the response alone. 410 (which Standard Webhooks
// senders take as "disable this endpoint") and redirects are never sent,
// and neither is a 5xx for a malformed request. Content-Type may be application/json or any
// application/*+json type, with parameters and in any case.
//
// The signature is verified over the raw bytes before any JSON parsing, so
// unauthenticated requests cost a bounded read and one HMAC per key (see
// the signature package for the bounds). Then the envelope is decoded once,
// strictly ([event.Decode]: duplicate or case-variant keys, invalid UTF-8
// and deep nesting are refused). Only verified ids ever reach the inbox.
//
// # Body formats
//
// Webhookkit's senders POST one of two bodies, chosen per endpoint at its
// creation (store.Endpoint.Format): the envelope, {"api_mode", "date",
// "id", "type", "data"}, the default of sender.Endpoints.Create, the
// dashboard and the CLI; or the event-payload format, {"id", "event",
// "payload"}, the default of the webhookapi package's management API. The
// default provider, [Webhookkit], reads the envelope only; receive the
// other with [EventPayload], as the receiver's own provider
// ([Config].Provider) or as a [Source]. A crossed pair is answered 400
// ([ReasonInvalidEvent]) whose body, for a verified request with the other
// format's shape, has a second line saying so and naming the provider to
// use; for a Webhookkit source sent {"id", "event", "payload"}:
//
//	invalid event
//	the body has the event-payload format {"id", "event", "payload"}, not webhookkit's envelope: receive it with the provider receiver.EventPayload (named "event-payload"; webhook listen --provider event-payload), or create the endpoint with "format": "envelope"
//
// The status, the [Reason] (and so [Hooks].OnResponse and the metrics),
// and what is accepted do not change. Likewise, a request refused 400
// ([ReasonHeaders]) for missing headers that carries another provider's
// signature header (GitHub's X-Hub-Signature-256 sent to the envelope's
// path, say) gets a second line naming the provider to serve it with, and a
// form-encoded request refused 415 ([ReasonMediaType]) by a GitHub source
// gets one saying to set the webhook's "Content type" to application/json
// (GitHub's settings offer both), by a Slack source one saying that
// interactive payloads and slash commands, which Slack form-encodes, are
// not Events API requests.
//
// # Providers
//
// A receiver accepts the webhooks of other senders through a [Provider], which
// says how a request is verified and where its idempotency key, event type,
// time, mode and data are found; everything else (the answers, de-duplication,
// the inbox, the queue, retries, the [Handler]) is the same for all. The
// receiver's own source, served by the Receiver itself, uses [Config].Provider
// ([Webhookkit] by default) and [Config].Keys; each of [Config].Sources is
// one more sender with its provider and keys, served by the handler
// [Receiver.Source] returns, on a path of its own, sharing the inbox, the queue
// and the handler:
//
//	r, err := receiver.New(mux, &receiver.Config{
//		Keys: []receiver.Key{{Text: os.Getenv("WEBHOOK_SECRET")}}, // webhookkit's envelope
//		Sources: []receiver.Source{
//			{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: os.Getenv("GITHUB_WEBHOOK_SECRET")}}},
//			{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: os.Getenv("STRIPE_WEBHOOK_SECRET")}}},
//		},
//	})
//	http.Handle("/webhooks", r)
//	http.Handle("/webhooks/github", r.Source(receiver.NameGitHub)) // "github"
//	http.Handle("/webhooks/stripe", r.Source(receiver.NameStripe)) // "stripe"
//
// A source is named by [Source].Name or, without one, by its provider's
// name: the constants [NameWebhookkit], [NameStandardWebhooks],
// [NameEventPayload], [NameGitHub], [NameStripe], [NameShopify] and
// [NameSlack] (an [HMAC]'s is its ProviderName). The name finds the
// source's handler ([Receiver.Source], which panics for a name no source
// has, listing those it has; [Receiver.Sources] lists them), namespaces its
// keys in the inbox (below), is [Delivery].Source, and, for the built-in
// providers, is what the webhook command's --provider flag takes
// (webhook listen --provider github).
//
// The providers (the [Provider] of each says more), with the headers whose
// absence or malformation is answered 400 and whose signature mismatch, or
// timestamp outside the tolerance, 401, besides the common checks (method,
// media type, size, body read: 405, 415, 413, 408/400):
//
//	Webhookkit        webhook-id, -timestamp, -signature (Standard Webhooks);
//	                  key, type, time, mode, data: the envelope's
//	StandardWebhooks  the same, or svix-id, -timestamp, -signature; key webhook-id,
//	                  type the body's "type" or "event", data the body (any JSON)
//	EventPayload      the same; key, type, data: the body's id, event, payload
//	GitHub            X-Hub-Signature-256 "sha256=" hex HMAC of the body, no time;
//	                  key X-GitHub-Delivery, type X-GitHub-Event[.action]
//	Stripe            Stripe-Signature "t=...,v1=..." over t.body, t in tolerance;
//	                  key, type: the body's id, type; mode from livemode
//	Shopify           X-Shopify-Hmac-Sha256 base64 HMAC of the body, no time;
//	                  key X-Shopify-Webhook-Id, type X-Shopify-Topic with / as .
//	Slack             X-Slack-Signature "v0=" hex HMAC of v0:ts:body,
//	                  X-Slack-Request-Timestamp in tolerance; key event_id,
//	                  type the inner event's type; url_verification answered
//	HMAC              header, encoding, prefix, signed content, key and type
//	                  as configured, with an optional timestamp header that
//	                  Content must sign
//
// After the signature, the body of every provider but Webhookkit (which
// [event.Decode] reads as strictly) must be strict JSON, or the request is
// answered 400 ([ReasonInvalidEvent]): one JSON value, valid UTF-8, no escaped
// lone surrogate, no object with a key twice (also differing only in case), at
// most [event.MaxDepth] deep; a key, or a field the provider needs, that is
// missing or malformed is 400 too ([ReasonHeaders] when it is a header). An
// event whose Mode no verifying key may sign is 400 ([ReasonMode]); a key with
// a Mode verifies no event of a provider without modes. Slack's
// url_verification is answered 200 with its challenge ([ReasonChallenge]) and
// is no event.
//
// GitHub and Shopify sign the body alone, with no timestamp: the
// de-duplication window ([Config].DedupWindow) is then the only protection
// against a signed request sent again, and their key and type headers are not
// signed. Such a replay needs a copy of a request that travelled over TLS;
// handlers that must not act twice should also be idempotent on the body's
// own ids.
//
// Each source's keys are claimed in the inbox under its own namespace, its
// name, a dot and the provider's key ("github.7c9f..."), so a GitHub delivery
// id never collides with a Stripe event id; the receiver's own Webhookkit
// source claims bare keys (a UUID or a webhook-id, which never hold a dot), as
// before providers existed. The handler sees the provider's key as the
// event's ID, and [DeliveryFrom] gives it the source, the provider, and the
// request's headers and body (except for the receiver's own Webhookkit source,
// whose envelope is the event). [Typed] decodes the data of every provider:
// the whole body, except Webhookkit's data and EventPayload's payload. A
// durable inbox stores for these sources a record of the request (its source,
// time, headers without Authorization, Cookie and Proxy-Authorization, and its
// body), enough to parse the event again with its provider when it is
// re-driven after a crash; an entry whose source is no longer configured is
// then marked dead. Header values that are not valid UTF-8 are stored with
// U+FFFD in their place.
//
// # De-duplication
//
// Events are de-duplicated by the envelope id (or, with
// [Config].DedupByHeader, the signed webhook-id header), never by a hash of
// the body, whose date changes on every retry. The [store.Inbox] claims each
// id atomically, so among any number of concurrent deliveries of one event
// exactly one is handed to the callback, and later ones within
// [Config].DedupWindow (7 days by default, longer than senders retry) are
// answered 200 and dropped.
//
// A duplicate is answered 200 only for an event the receiver holds. A
// request takes its place in the queue before it claims the event, and
// refuses with 503 and Retry-After when there is none (queue full) or the
// receiver is not running; so a claim it wins always finds its place, and
// is never released after a concurrent copy of the event, which lost the
// claim to it, was told the event is held. (A copy arriving while the
// queue is full is refused too, duplicate or not: the sender's retry is
// answered once there is room.) [Receiver.Shutdown] waits for the events
// being claimed as for the queued ones. Only [Receiver.Close], or a
// Shutdown deadline, can fall between a claim and the queue: a durable
// inbox then keeps the event claimed for re-drive (answered 200), a
// non-durable one releases the claim and the request is answered 503.
//
// A copy of an event that another process sharing a durable inbox claimed
// is a duplicate: that process holds it, and if it dies the event is
// re-driven (see Durability).
//
// # Group commit
//
// An inbox that implements [store.InboxBatcher] (store/sqlite,
// store/postgres) is written in batches: the claims of concurrent requests
// go to the store together, in one ClaimBatch (one statement, one commit),
// and each request is answered only once the batch holding its claim has
// returned, so never 200 before its claim is durable. Copies of one event
// in one batch are settled there: the first is accepted, the others are
// duplicates, all answered after the batch. A batch that fails answers 503
// with Retry-After to every request in it (claiming nothing, releasing
// nothing); their senders retry.
//
// The batches need no goroutine and no timer of their own: the first
// request to find no batch being written writes its claim at once, with
// whatever claims are waiting (after letting the goroutines that are ready
// to run, such as requests about to claim, go first), and the claims that
// arrive meanwhile make the next batch, written as soon as that one
// returns. So under light load a request waits for one commit, and under
// heavy load the batches grow with the load (up to [Config].InboxBatchSize)
// while the commits per second stay what the store can do.
//
// Two knobs trade latency for throughput, and both are off by default
// because, measured at 32 connections on SQLite and PostgreSQL, neither
// helped: [Config].ClaimLinger makes each batch wait a little for more
// claims (larger batches, fewer commits, every request answered that much
// later), and [Config].ClaimFlushes lets several batches be written at
// once, for a store with several connections (smaller batches, more
// commits in parallel). The queue slot of each request is reserved before
// its claim joins a batch, as without batching.
//
// Workers record handled events the same way: a worker hands the key to a
// marker goroutine, which writes the waiting keys in one MarkHandledBatch as
// soon as its previous batch returned, and goes on with its next event. An
// event whose record is not yet written stays held by this receiver (its
// lease running out does not make a recovery pass re-drive it here);
// [Receiver.Shutdown], [Receiver.Close] and [Receiver.RunRetries] write the
// waiting records before they return. Dead events are recorded one at a
// time. The memory inbox, whose Claim is a map insert, is not batched.
//
// # Processing
//
// Accepted events wait in a bounded queue ([Config].QueueSize) for one of
// [Config].Workers workers, which call the [Handler] on a context of its own
// (the request's has ended by then) bounded by [Config].CallbackTimeout. A
// [Mux] routes by event type and typed handlers decode the data ([Typed]).
//
// A callback error, a timeout or a panic fails the attempt. Failed
// attempts are retried after the delays of [Config].Retry ([DefaultRetry]:
// a few quick attempts); [retry.Permanent] skips the retries and
// [retry.After] sets the next delay. After the last attempt the event is
// marked dead in the inbox and [Hooks].OnDead is called once. Success
// marks the event handled.
//
// # Retries under a fake clock
//
// Retries normally run on real timers, whatever [Config].Now says. A test
// that drives the receiver with a fake clock sets [Config].ManualRetries:
// a failed attempt's retry then waits, due at Now plus its delay, and
// [Receiver.RunRetries] runs the due ones synchronously, so the test needs
// no sleeps:
//
//	r.RunRetries(ctx)               // settles the first attempt: it failed, its retry waits
//	clock.Advance(time.Second)      // past the retry's delay
//	n, err := r.RunRetries(ctx)     // runs the retry before returning
//
// The webhooktest package's Endpoint works this way when given a clock.
//
// # Durability
//
// The default inbox is in memory: fast, bounded (store/memory's default
// cap and rules: at the cap the key finished longest ago is forgotten, and
// with every key claimed new events are refused with 503), and lost with
// the process. It keeps one map entry per event id and nothing else, so it
// costs a request no allocation. An event accepted (answered 200) but not yet handled
// when the process dies is lost, and its sender will not retry it; a
// graceful [Receiver.Shutdown] drains the queue first to avoid that.
//
// An inbox that implements [store.InboxRecovery] (store/sqlite,
// store/postgres) is durable: the raw body is stored with the claim before
// the 200, and claimed events whose lease ([Config].Lease) ended without
// their being handled, because a process died or an operator replayed a
// dead event, are re-driven by [Receiver.Start] and then every
// [Config].RecoveryInterval, by whichever receiver sharing the inbox gets
// there first. Delivery to the callback is then at-least-once: a callback
// may run again for an event whose success was not recorded, so make it
// idempotent. That window lies between the callback's return and the write
// of its mark-handled record; with a batching inbox (see Group commit) it
// includes the wait for the marker's next batch, usually one commit, so a
// process that dies there (SIGKILL, power loss) re-drives every event
// handled in its last moments, once their lease ends. A graceful Shutdown
// or Close writes the waiting records first.
//
// A mark-handled write that fails (the database restarted, a connection
// was cut) is tried again, batched or not: 10 ms later, the pause doubling
// up to 1 s, for about 10 s; during a Shutdown until its context ends,
// and after Close once more. A record given up is logged at error level
// with its key, and [Stats].MarksGivenUp counts it: its event stays
// claimed, and is re-driven once its lease ends (by this receiver, or the
// next one after a restart), its callback run again. Only an event whose
// record never landed is re-driven. (A store/memory Store given as [Config].Inbox implements
// InboxRecovery too: its events outlive a receiver, for the next one in the
// same process, but not the process.)
//
// # Lifecycle
//
// [New] starts nothing; the receiver answers 503 until [Receiver.Start].
// [Receiver.Shutdown] stops accepting at once (503), drains the queue and
// pending retries until its context ends, and reports how many events were
// left. [Receiver.Close] stops immediately, and so does the end of the
// context given to Start. Any of them is final: Start then returns
// [ErrClosed] (and a second Start [ErrStarted]); a further Shutdown or
// Close waits for the stop to finish and returns nil, like the sender's.
//
// # Observability
//
// [Hooks] report every answered request (OnResponse: status and
// [Reason]) and every call of the handler (OnCallback, with its
// [Result]), for metrics and tracing without imports, and dead events
// (OnDead); each hook takes a context first. [Receiver.Stats] returns
// counters. [Hooks].OnAccepted hands over each accepted request's raw body
// and headers with its key and event, for tools that relay or archive the
// original request. Logs go to [Config].Logger
// through log/slog, with the keys event_id, event_type and attempt; request
// bodies and secrets are never logged.
package receiver
