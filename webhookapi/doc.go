// Package webhookapi is a mountable JSON API through which an application's
// customers manage their webhooks: create, list, read, change and delete
// them, and test one with a ping. Its shape is that of webhook systems where
// a webhook is installed on an organization, or on one account of it, and
// subscribes to events named "<service-name>.<method>":
//
//	POST /webhooks
//	{"organization": "org_1", "active": true, "url": "https://example.com/webhook", "events": "ping"}
//
//	POST /webhook-events
//	{"webhook": "<webhook id>", "event": "ping"}
//
// # Body format: event-payload by default
//
// A webhook created here without "format" is POSTed {"id": "<event id>",
// "event": "<type>", "payload": {...}}, the event-payload format, as this
// API's shape has it ([Config].Format changes the default). Elsewhere in
// webhookkit (sender.Endpoints.Create, the dashboard) the default is the
// envelope, {"api_mode", "date", "id", "type", "data"}, and so is what a
// receiver.Receiver with its default provider (receiver.Webhookkit) and
// webhook listen read: the receiver answers an event-payload body 400 "invalid event", with a
// second line naming the fix. Either receive these webhooks with the
// provider for them,
//
//	r, err := receiver.New(h, &receiver.Config{
//		Provider: receiver.EventPayload{},
//		Keys:     []receiver.Key{{Text: secret}}, // the "secret" of the create response
//	})
//
// (or, from the command line, webhook listen --provider event-payload), or
// create the webhook with the envelope:
//
//	POST /webhooks
//	{"url": "https://example.com/webhook", "events": "ping", "format": "envelope"}
//
// The format is chosen at creation and cannot be changed (see Webhooks).
//
// [New] returns an [http.Handler] serving, relative to where it is mounted
// (mount it at the root of a path prefix with [http.StripPrefix]):
//
//	POST   /webhooks          create a webhook => 201, with its "secret" (shown this once)
//	GET    /webhooks          list ({"data": [...], "next_cursor": ""}), by id; ?organization= &account= &cursor= &limit=
//	GET    /webhooks/{id}     one webhook
//	PATCH  /webhooks/{id}     change any of active, url, events, description; sets updated_at
//	DELETE /webhooks/{id}     delete it => 204
//	POST   /webhooks/{id}/rotate-secret
//	                          a new signing secret => 201, the webhook with its new "secret" (shown this once)
//	POST   /webhook-events    {"webhook": id, "event": "ping"}: send a ping now => 201, the attempt
//
// # Secrets
//
// A webhook's signing secret ("whsec_...") is shown twice only: in the
// answer to its creation and in the answer to a rotation. A customer who
// lost it, or wants it replaced, rotates it:
//
//	POST /webhooks/{id}/rotate-secret
//	{"overlap_seconds": 3600}
//
// Every request is then signed with the new secret and, for the overlap,
// with the old ones too (one signature each in webhook-signature), so the
// receiver can switch to the new secret at its pace. The body is optional:
// without overlap_seconds the overlap is [sender.DefaultRotationOverlap]
// (24 hours); 0 stops the old secrets at once (a leaked secret); at most
// [MaxRotationOverlap] (30 days).
//
// # Webhooks
//
// A webhook is a [store.Endpoint] of the sender, shown as
//
//	{"id", "organization", "account"?, "active", "url", "events": [...],
//	 "format", "description"?, "disabled_reason"?, "created_at", "updated_at"}
//
// "organization" is the endpoint's Tenant and "account", when present, its
// Account: a webhook without an account is organization-wide. An event the
// application publishes for (organization, account), with
// [sender.ToAccount], reaches the organization-wide webhooks and that
// account's; one published for the organization alone, with
// [sender.ToTenant], reaches the organization-wide webhooks only.
//
// "events" is a single pattern ("ping") or a list of them, each an
// [event.Pattern]: an exact type ("medical-encounters.create"), a service
// ("medical-encounters": all its methods, created, updated, removed), a
// prefix ("medical-encounters.*") or "*". "ping" is exact. Responses always
// give a list.
//
// "active": false creates a disabled webhook (publishing skips it);
// PATCH {"active": true} enables it, {"active": false} disables it. Omitted
// at creation, a webhook is active.
//
// "updated_at" is set by every PATCH that names a field, "active"
// included, as "created_at" is at creation.
//
// GET /webhooks lists webhooks in one stable order, by "id" (the order in
// which the sender's store lists endpoints; ids are random UUIDs, so it is
// not the order of creation): the same on every call, and pages follow it,
// "next_cursor" continuing after the page's last id, so a webhook is on
// exactly one page however many are created meanwhile (those created
// meanwhile appear on the page their id falls on).
//
// "format" is the body every delivery is POSTed with, chosen at creation
// and fixed: "event-payload", {"id": "<event id>", "event": "<type>",
// "payload": {...}} (the default here, Config.Format; receive it with
// receiver.EventPayload), or "envelope", webhookkit's envelope {"api_mode",
// "date", "id", "type", "data"} (receive it with receiver.Webhookkit, a
// receiver's default). See "Body format" above. Either is signed with the webhook's secret under the
// same webhook-id, webhook-timestamp and webhook-signature headers. The
// secret is a "whsec_" key generated at creation and returned in that
// response only.
//
// "organization", "account" and "format" cannot be changed by PATCH; the
// same value is accepted, another is refused with 400.
//
// The POST /webhook-events body may also be a webhook (no "webhook" key):
// it is created as by POST /webhooks, since that is where some
// documentation of this API shape sends it.
//
// # Ping
//
// POST /webhook-events with {"webhook": id, "event": "ping"} ("event" may be
// left out; no other event can be sent this way: the application publishes
// events) sends a ping to the webhook synchronously with
// [sender.Sender.Ping], even to an inactive one, and answers 201 with the
// attempt, whether or not the webhook answered 2xx:
//
//	{"id", "webhook", "event_id", "event": "ping", "format", "at",
//	 "duration_ms", "url", "status_code", "delivered", "error"?,
//	 "request_body", "response_body"}
//
// "delivered" is true when the webhook answered 2xx; the attempt is in the
// sender's attempt log too.
//
// # Authorization
//
// Every request is first passed to Config.Authorize, an
// [access.AuthorizeFunc], the same type that guards the dashboard, so one
// function can serve both. A request may see and change the webhooks of
// its scope's organization, or of every organization with [access.Scope].All.
// A webhook outside the scope is answered exactly like an unknown one, 404;
// creating one for an organization outside the scope is 403. Without an
// "organization", a request creates and lists in its scope's organization;
// an operator (All) must name one to create, and lists every organization's
// webhooks without one.
//
// # Errors
//
// Errors are JSON, {"error": {"code", "message", "field"?}}, with the
// status: 400 for a malformed body or an invalid field (the field named as
// in the request: "url", "events[0]", "organization", "account", "format"),
// 401 and 403 from Config.Authorize, 404 for an unknown path or webhook,
// 405 for a method a path does not serve (with an Allow header), 413 for a
// body larger than Config.MaxBodyBytes, 415 for a request body that is not
// application/json, 503 while the sender is stopped and 500, logged, for
// anything else. Messages never repeat a secret or a URL's credentials.
//
// # Ownership
//
// The handler administers webhooks through [sender.Sender.Endpoints], the
// one owner of the sender's endpoints: the same checks (URL policy, the
// catalog, valid patterns), secret generation and hooks as the
// application's own code. It works on the sender's mode only.
package webhookapi
