// Package dashboard is an embeddable web dashboard for a webhookkit sender:
// the endpoints of a tenant with their health, the delivery logs with every
// attempt's request and response, and a webhook simulator, plus the same
// operations as a small JSON API. Mount the [http.Handler] that [New]
// returns in the producer's application, once for operators or once per
// customer: an [AuthorizeFunc] supplied by the application decides who may
// see what.
//
// The dashboard takes one thing, the [sender.Sender] (Config.Sender), and
// works only through it: it reads the sender's store
// ([sender.Sender.Store]), administers endpoints through the sender's
// endpoint owner ([sender.Sender.Endpoints]: the same checks, secret
// generation and hooks as the application's own code), and retries,
// replays, pings and simulates with the sender. It shows the sender's mode
// and offers the event types of the sender's catalog
// ([sender.Sender.Catalog]).
//
// # Pages
//
// Paths are relative to Config.BasePath.
//
//	GET  /                                   endpoints, their health and warnings, charts of them all; add an endpoint
//	POST /endpoints                          add an endpoint (its secret is shown once)
//	GET  /endpoints/{id}                     one endpoint, its charts and its delivery log (?state=&type=&from=&to=&cursor=)
//	POST /endpoints/{id}/edit                change URL, description and event types
//	POST /endpoints/{id}/rotate              add a new secret; the old one signs for the overlap
//	POST /endpoints/{id}/enable, /disable    re-enable (paused deliveries resume) or disable
//	POST /endpoints/{id}/delete              delete the endpoint
//	POST /endpoints/{id}/ping                send a ping now and show the result
//	POST /endpoints/{id}/replay              re-queue the failed deliveries of a recent window
//	GET  /endpoints/{id}/deliveries/{did}    one delivery and all its attempts
//	POST /endpoints/{id}/deliveries/{did}/retry  retry a failed delivery now
//	GET  /endpoints/{id}/simulate            the simulator (test mode only)
//	POST /endpoints/{id}/simulate            send a simulated event, then show the log
//	GET  /events?id=                         find an event by id: each of its deliveries in scope
//	GET  /catalog                            the event types with descriptions, samples and schemas
//	GET  /theme.css                          the theme's colours (see Theme)
//
// The pages are rendered on the server with html/template (all output
// escaped); the stylesheet and an optional five-line script are embedded.
// Everything works without JavaScript: attempts expand with <details>.
// Every list is read one page at a time from the store ([store.Page]), with
// a "next page" cursor link, so a log of any size costs one page of rows.
// The latest attempt of each delivery row comes from one bounded query of
// the endpoint's newest attempts, plus, for rows it misses (on later pages),
// one lookup per row by delivery id.
//
// # Tenancy
//
// Every request is first passed to Config.Authorize, which returns the
// [Scope] it may see: one tenant, or all tenants for operators. Lists are
// filtered by the scope in the store query, and every page or action that
// names an endpoint, delivery or attempt by id checks that it belongs to the
// scope. An id outside the scope is answered exactly like an unknown id, 404
// Not Found, so a tenant cannot even learn that another tenant's id exists.
// The dashboard shows only endpoints of the sender's mode; the other
// mode's endpoints are invisible too. A tenant is an organization: its scope
// covers the organization's endpoints, organization-wide and narrowed to one
// of its accounts alike, and each endpoint shows its account (or
// "organization-wide") and its body format. The add form (and the API)
// sets both, through the sender's endpoint owner: an account of the
// scope's tenant, and the envelope ([store.BodyEnvelope], the default) or
// [store.BodyEventPayload]; they are fixed from then on, so the edit form
// shows them disabled. [Scope] and [AuthorizeFunc] are
// those of package access, so the same function can guard the webhookapi
// management handler.
//
// # Request forgery and other browser attacks
//
// GET requests never change anything. State-changing pages are POST forms
// carrying a CSRF token: an HMAC, keyed with Config.CSRFKey, of a random
// value kept in an HttpOnly, SameSite=Strict cookie and of the scope
// (double-submit, signed). A missing or wrong token answers 403 and changes
// nothing. When the browser sends Origin or Sec-Fetch-Site, a cross-site
// value is refused as well.
//
// Every response carries a Content-Security-Policy without inline script
// and with frame-ancestors 'none', X-Frame-Options DENY,
// X-Content-Type-Options nosniff, Referrer-Policy same-origin and
// Cache-Control no-store. Secrets are shown once, at creation and rotation,
// and never again; request headers that usually hold credentials
// (Authorization, Cookie, X-Api-Key) are shown redacted, and so is the
// whole userinfo of an endpoint URL, user name and password
// (https://(redacted)@host/..., as [sender.RedactURL] writes it); saving
// that redacted URL back unchanged keeps the stored credentials. Signature
// headers are shown: they are not secrets. An endpoint's OAuth 2.0 client
// credentials and TLS settings ([store.OAuth2], [store.ClientTLS]) are
// shown as configured (token URL, client id, scopes and audience; whether
// a client certificate is set, with its subject and expiry, and how many
// certificates its CA bundle holds), while the client secret and the
// private key are never rendered, not even as a masked value of their
// length; the JSON API answers the client secret as
// [sender.RedactedValue]. The dashboard does not edit them: that is the Go
// API's (the sender's endpoint owner).
//
// Endpoints are created and edited by the sender's endpoint owner, which
// applies the sender's URL policy ([sender.Endpoints.CheckURL]): unless the
// sender allows private networks, a URL whose host is a loopback, private
// or other non-public IP address, or localhost, is refused at once (400 in
// the API, the form's error on the page) rather than failing every delivery
// later.
//
// # Event types
//
// With a catalog on the sender (sender.Config.Catalog), the forms offer its
// types as checkboxes (ping aside: every endpoint can be pinged), with a
// field for other patterns such as "order.*", and the simulator offers its
// types with their samples, pre-filled and editable. The sender's owner
// refuses a pattern that selects none of the catalog's types, so a typo
// such as "order.payed" is shown as an error rather than stored. Without
// a catalog, types and patterns are typed in freely, and the simulator
// takes a type and a payload starting at {}.
//
// # JSON API
//
// The same operations are served as JSON under api/, with the same scope:
//
//	GET    api/endpoints                              {"data":[...],"next_cursor":""}
//	POST   api/endpoints                              {"url","description","event_types","tenant"?,"account"?,"format"?,"headers"?,"metadata"?} => 201, with "secret" (once)
//	GET    api/endpoints/{id}
//	PATCH  api/endpoints/{id}                         any of url, description, event_types, headers, metadata
//	DELETE api/endpoints/{id}                         => 204
//	POST   api/endpoints/{id}/rotate                  {"overlap_seconds"?} => the endpoint with the new "secret"
//	POST   api/endpoints/{id}/enable, /disable        {"reason"?}
//	POST   api/endpoints/{id}/ping                    => {"ok","error","attempt"}
//	POST   api/endpoints/{id}/replay                  {"since":"RFC 3339"} => {"requeued":n}
//	POST   api/endpoints/{id}/simulate                {"type","data"?} => 202, the event (409 in live mode); without data, the catalog's sample
//	GET    api/endpoints/{id}/deliveries              ?state=&type=&cursor=&limit=
//	GET    api/endpoints/{id}/deliveries/{did}
//	GET    api/endpoints/{id}/deliveries/{did}/attempts
//	POST   api/endpoints/{id}/deliveries/{did}/retry  => 202, the delivery
//	GET    api/endpoints/{id}/attempts                ?cursor=&limit=
//	GET    api/endpoints/{id}/attempts/{aid}
//	GET    api/endpoints/{id}/stats                   the endpoint's chart numbers (see Charts)
//	GET    api/stats                                  the chart numbers of every endpoint in scope
//	GET    api/events/{event_id}/deliveries           ?cursor=&limit=, the event's deliveries in scope
//
// Errors are {"error":{"code","message"}} with the HTTP status, as in
// package webhookapi: 401/403 from Authorize, 400 for a malformed request
// (JSON, filters, a page cursor; code "bad_request") and for invalid input
// (code "invalid", with the field), 404 for anything unknown or outside the
// scope, 409 for a state conflict, 415 for a missing JSON content type, 501
// when the dashboard is read-only (code "read_only"; code "not_implemented"
// for the stats routes over a store without [store.AttemptStats]), 503 when
// the sender is stopped. An invalid field
// (a *[store.FieldError] from the sender's endpoint owner, or an
// *[event.FieldError] for a simulated event) is answered with its field
// and "Field: Reason" as the message:
//
//	{"error":{"code":"invalid","message":"url: want an absolute http or https URL","field":"url"}}
//
// (the field as the request names it: "event_types[1]" for the store's
// "event types[1]"). Messages are the dashboard's own or built from those
// fields, never an error's text; any other failure is answered with a
// generic message ("internal error" for a 500) and logged to Config.Logger.
//
// The API needs no CSRF token: every state-changing API request must have
// Content-Type: application/json, which an HTML form cannot send and a
// cross-site script cannot send without a CORS preflight the handler never
// grants; a cross-site Origin or Sec-Fetch-Site is refused as for forms.
// Authenticate API clients in Authorize (a bearer token, say) rather than
// with ambient cookies where possible.
//
// # Delivering elsewhere
//
// A retry, a replay or a simulated event only queues a delivery in the
// store; the Sender's workers make it. When the dashboard's Sender is not
// started, because the application's own senders share the store and
// deliver (the command-line tool's dashboard over a durable store),
// set Config.DeliveredElsewhere: the pages' messages then add that this
// dashboard does not deliver, and the API's answers to retry, replay and
// simulate carry a first field "note" saying so:
//
//	{"note":"This dashboard does not deliver: the application's senders that share the store will.","requeued":2}
//
// # Read-only mode
//
// With Config.ReadOnly the dashboard only shows: lists and logs work, the
// action forms are hidden, and every state-changing request answers 501
// Not Implemented. The sender need not be started.
//
// # Charts
//
// The endpoints page charts every endpoint in scope, and an endpoint's page
// that endpoint: attempts over Config.ChartWindow (15 days by default, the
// attempt log's retention), stacked by outcome (2xx, 4xx, 5xx, network
// error), with the success rate (the share of 2xx), and latency as p50 and
// p95 lines. A bar sums an hour, or, when the window holds more hours than
// the chart has room for bars (90), the finest of 2, 3, 6 or 12 hours, a
// day, 2 or 4 days, or a week that fits, aligned to midnight UTC: 6 hours
// for the default window. The titles, the axis and each bar's tooltip say
// what a bar sums; a bar the window cuts is drawn narrower. They are SVG drawn on the server, styled by
// the embedded stylesheet and needing no script, so the
// Content-Security-Policy stays as strict as the other pages'. Each chart
// has a title and a description for screen readers, and each bar a title
// with its hours and counts.
//
// The numbers come from the store's hourly aggregates ([store.AttemptStats],
// found by type assertion; every webhookkit store has it), never from a
// scan of the attempt log: a chart reads at most one row per endpoint and
// hour of its window, whatever the traffic (the store sums the endpoints,
// so at most one row per hour reaches the dashboard, which sums them into
// bars). The JSON API's stats stay hourly. Latencies are kept as a fixed
// histogram per hour ([store.LatencyBounds]: 5 ms to one minute in a
// 1-2.5-5 series up to 10 s, then 30 s and 60 s), from which p50 and p95
// are estimated by interpolating inside the bucket that holds them
// ([store.HourStats.Quantile]): an estimate lies in the same bucket as the
// true value, so within a factor of 2.5 of it (3 between 10 and 30 s), and
// anything slower than a minute is shown as one minute.
// Without aggregates (a store of one's own without AttemptStats) the charts
// are left out.
//
// # Finding an event
//
// GET events?id= lists every delivery of an event, across the endpoints
// in scope, with its state, its latest response and a link to all its
// attempts (the store finds deliveries by event id with an index). An
// event of another tenant is reported exactly as an unknown one. The
// delivery log of an endpoint filters by when deliveries were created,
// from and to (UTC, as an <input type="datetime-local"> sends it, or RFC
// 3339), and so does the API (from= and to=, RFC 3339).
//
// # Catalog
//
// GET catalog lists the event types of the sender's catalog
// ([event.Catalog]) with their descriptions, sample payloads and JSON
// Schemas, for customers choosing what to subscribe to. Without a catalog
// the page says the application has not published one.
//
// # Embedding: one dashboard per tenant
//
// A producer usually shows each customer their own webhooks inside its own
// application, behind its own login. Mount one handler under a path of the
// application and let Authorize turn the application's session into the
// customer's Scope:
//
//	h, err := dashboard.New(&dashboard.Config{
//		Sender:   snd,
//		BasePath: "/settings/webhooks/",
//		CSRFKey:  key, // the same on every instance
//		Authorize: func(r *http.Request) (dashboard.Scope, error) {
//			u, err := app.SessionUser(r) // the application's own auth
//			if err != nil {
//				return dashboard.Scope{}, err // 401
//			}
//			if !u.CanManageWebhooks {
//				return dashboard.Scope{}, dashboard.ErrForbidden // 403
//			}
//			return dashboard.Scope{Tenant: u.AccountID}, nil
//		},
//		Theme: dashboard.Theme{
//			Name:    "Acme",
//			LogoURL: "/static/acme-logo.svg",
//			Accent:  "#7a2ff0",
//		},
//	})
//	mux.Handle("/settings/webhooks/", app.RequireLogin(h))
//
// One handler serves every tenant: the scope is decided per request, and
// every list and lookup is filtered by it, so a customer sees only their
// own endpoints, deliveries, events and charts. Operators get a second
// handler (or the same one) whose Authorize returns Scope{All: true}. The
// application's session cookie authenticates the pages; the dashboard's
// own CSRF token protects its forms, so the session cookie may be
// SameSite=Lax.
//
// The pages refuse to be framed (frame-ancestors 'none'); link to them
// rather than embedding them in an iframe. Theme gives them the
// application's name, logo and colours. The colours are served as CSS
// variables in theme.css, a stylesheet of the handler's own, so no inline
// style is needed; New accepts only plain colours, an https or same-origin
// logo URL and a short name (shown as text), so a theme built from a
// customer's settings cannot inject CSS or HTML, and the
// Content-Security-Policy allows images from the logo's origin alone.
package dashboard
