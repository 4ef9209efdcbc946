// Package webhooktest provides helpers for testing code that sends or
// receives webhooks with webhookkit, in the spirit of net/http/httptest.
//
// # A recording endpoint
//
// [NewEndpoint] (or [NewServer], outside a test) starts an httptest server
// running a real [receiver.Receiver]: it verifies signatures with its own
// secret, de-duplicates by event id and records every event it hands to the
// callback. An [EndpointConfig] (nil: defaults) sets its secret, tenant,
// clock, handler, receiver configuration and callback wait, as a Config
// does for the sender and the receiver. [Endpoint.Register] registers it
// with a sender through the sender's endpoint owner (sender.Sender.Endpoints),
// as an application registers a customer's URL, so the sender's rules
// apply (outside a test, give [Endpoint.Registration] to the owner's Create
// yourself); [Endpoint.Events] and [Endpoint.WaitFor] return what it received;
// [Endpoint.FailNext] makes it answer the next requests with an error status
// before they reach the receiver, to exercise a sender's retries.
//
// By default the endpoint answers an accepted event only once its callback
// has returned (and the receiver has decided what follows, such as a
// retry), so when a sender's attempt is over the event is already in
// [Endpoint.Events]. With a driver that delivers synchronously, a test then
// needs neither sleeps nor waits.
//
// # Synchronous delivery with a fake clock
//
// A [Clock] is a settable clock, safe for concurrent use. Plug its Now method
// into sender.Config.Now (and give it to the endpoint as
// [EndpointConfig].Clock), and
// [DeliverAll] drives the sender with sender.Sender.ProcessDue: it delivers
// everything due, then advances the clock to the next retry and delivers
// again, until nothing is left. Retries become deterministic and instant:
//
//	clock := webhooktest.NewClock(time.Time{})
//	ep := webhooktest.NewEndpoint(t, &webhooktest.EndpointConfig{Clock: clock})
//	s := webhooktest.NewSender(t, memory.New(nil), clock, nil)
//	ep.Register(t, s, "order.*")
//
//	ep.FailNext(1, http.StatusServiceUnavailable)
//	_, _ = s.Publish(ctx, webhooktest.NewEvent(t, "order.paid", nil), sender.ToTenant(""), nil)
//	n, err := webhooktest.DeliverAll(ctx, s, clock) // 2 attempts: a 503, then the retry
//	require.Len(t, ep.Events(), 1)
//
// A published event is due at the sender's clock (its Date does not
// matter: every attempt is dated by the clock when it is made), so events
// from [NewEvent] (with the data given, or {}), from [SampleEvent] (the
// sample an event catalog declares) and from event.New alike go out in the
// first round.
//
// # Callback retries with a fake clock
//
// With a Clock, the receiver's own retries of a failing callback follow
// the clock as well: they wait until the clock has passed their delay and
// [Endpoint.RunRetries] runs them, synchronously, never on a real timer.
//
//	var calls atomic.Int32
//	ep := webhooktest.NewEndpoint(t, &webhooktest.EndpointConfig{
//		Clock: clock,
//		Handler: receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
//			if calls.Add(1) == 1 {
//				return errors.New("database unavailable") // the first callback fails
//			}
//			return nil
//		}),
//		Receiver: receiver.Config{Retry: retry.Schedule{Delays: []time.Duration{time.Second}}},
//	})
//	...
//	_, err := webhooktest.DeliverAll(ctx, s, clock) // 200: the receiver holds the event
//	clock.Advance(time.Second)                      // past the receiver's retry delay
//	n, err := ep.RunRetries(ctx)                    // 1: the retry ran, and succeeded
//
// # Signed requests for a handler under test
//
// [SignedRequest] builds an *http.Request signed like a webhookkit sender's,
// for calling a receiver's ServeHTTP with an httptest.ResponseRecorder.
//
// # Requests of other providers
//
// For a receiver with other providers (receiver.GitHub, receiver.Stripe and
// the others, see receiver.Provider), [GitHubRequest], [StripeRequest],
// [ShopifyRequest], [SlackRequest], [StandardRequest] and
// [EventPayloadRequest] build requests signed as those senders sign
// theirs, for the ServeHTTP of the receiver or of its source
// (receiver.Receiver.Source):
//
//	req := webhooktest.GitHubRequest(t, secret, "pull_request", "delivery-1", []byte(`{"action":"opened"}`))
//	w := httptest.NewRecorder()
//	r.Source("github").ServeHTTP(w, req) // 200; the handler gets type "pull_request.opened"
//
// Their signing is also available without a test, on any http.Header (a
// client request's, to send over the network): [SignGitHub], [SignStripe],
// [SignShopify], [SignSlack] and [SignStandard], with [EventPayloadBody]
// for the event-payload body. The webhook command signs with them (webhook
// sign --provider github).
//
// # Concurrency
//
// Clock and Endpoint are safe for concurrent use. Callbacks run on the
// receiver's workers and, for retries, on the goroutine calling
// [Endpoint.RunRetries]. DeliverAll must not run
// beside a started sender (Sender.Start) of the same store, whose workers
// would take the deliveries it waits for. With a started sender on the real
// clock, sender.Sender.WaitIdle waits until everything due is delivered.
package webhooktest
