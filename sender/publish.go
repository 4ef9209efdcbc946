package sender

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// Audience names who an event is published to: the subscribed endpoints of
// one tenant (an organization), of one account of it, of every tenant, or
// one endpoint whatever its subscriptions. The zero value names no one:
// there is no implicit broadcast across tenants, and publishing to it is
// [ErrNoAudience].
//
// An endpoint belongs to an organization (store.Endpoint.Tenant) and may be
// narrowed to one account of it (store.Endpoint.Account; empty means
// organization-wide). The rule: an event published for (organization,
// account) with [ToAccount] reaches the organization's organization-wide
// endpoints and that account's; an event published for the organization
// alone ([ToTenant], or [ToAllTenants] for every organization) reaches
// organization-wide endpoints only, never an account's.
type Audience struct {
	tenant     string
	account    string
	allTenants bool
	endpointID string
	set        bool
}

// ToTenant returns the audience of one tenant's organization-wide endpoints
// (those without an Account) whose patterns match the event's type. The
// empty string is a tenant like any other (for single-tenant applications).
func ToTenant(tenant string) Audience { return Audience{tenant: tenant, set: true} }

// ToAccount returns the audience of an event that happened in one account
// of an organization: the organization's organization-wide endpoints and
// that account's endpoints, whose patterns match the event's type; not the
// endpoints of the organization's other accounts. An empty account is
// [ToTenant].
func ToAccount(organization, account string) Audience {
	return Audience{tenant: organization, account: account, set: true}
}

// ToAllTenants returns the audience of every tenant's organization-wide
// endpoints whose patterns match the event's type.
func ToAllTenants() Audience { return Audience{allTenants: true, set: true} }

// accounts is the audience's store.EndpointFilter.Accounts: the
// organization-wide endpoints, and those of its account if it has one.
func (a Audience) accounts() []string {
	if a.account != "" {
		return []string{"", a.account}
	}
	return []string{""}
}

// ToEndpoint returns the audience of one endpoint, whatever its event-type
// patterns: for replays, tests and "send this to that endpoint now". The
// endpoint must exist ([store.ErrNotFound]), be enabled
// ([ErrEndpointDisabled]) and be of the sender's mode ([ErrModeMismatch]).
func ToEndpoint(id string) Audience { return Audience{endpointID: id, set: true} }

// String describes the audience for logs: `tenant "acme"`,
// `tenant "acme" account "a1"`, "all tenants", "endpoint ID" or "no one".
func (a Audience) String() string {
	switch {
	case !a.set:
		return "no one"
	case a.endpointID != "":
		return "endpoint " + a.endpointID
	case a.allTenants:
		return "all tenants"
	case a.account != "":
		return fmt.Sprintf("tenant %q account %q", a.tenant, a.account)
	}
	return fmt.Sprintf("tenant %q", a.tenant)
}

// PublishOptions adjust one publish. The zero value (or a nil pointer)
// delivers at once.
type PublishOptions struct {
	// DeliverAt schedules the first attempt: the deliveries wait, pending,
	// until then. Zero: now. A time in the past means now.
	DeliverAt time.Time
	// DeliverAfter schedules the first attempt this long after the publish.
	// Zero: now. At most one of DeliverAt and DeliverAfter may be set.
	DeliverAfter time.Duration
	// OrderingKey, when set, orders the event behind the earlier events
	// published with the same key: each endpoint gets them one at a time,
	// in publish order (a delivery is not attempted until the key's
	// earlier ones to that endpoint have succeeded or been given up). A
	// failing delivery holds up its key only, not its endpoint; what
	// happens when it is given up is Config.OnKeyGiveUp. An order id, an
	// account id: whatever the consumer must see in order. For an ordered
	// endpoint, publish all its events with one key (events published to
	// several endpoints are ordered per endpoint). Publish order is the
	// order in which the publishes committed; publishes of one key in
	// concurrent transactions are ordered by the store. At most
	// [MaxOrderingKey] bytes of UTF-8 without NUL; empty: no order.
	OrderingKey string
}

// Publish enqueues ev for the audience: the active endpoints of a tenant
// (or of all tenants, or of a tenant and one account of it: see [Audience])
// of the sender's mode whose event-type patterns match ev.Type, or the one
// endpoint of [ToEndpoint]. It wakes the workers and
// returns how many deliveries it created. Reaching no endpoint is not an
// error: it returns 0 and nil, and logs that at debug level.
//
// An empty ev.APIMode is stamped with the sender's mode; another mode is
// [ErrModeMismatch]. ev.Date is ignored: the date on the wire is each
// attempt's own time, set when it is made; schedule the first attempt with
// opts (nil: at once). The event must be valid (errors wrap the event
// package's), of a type Config.Catalog lists when one is set (an
// *[event.FieldError] wrapping [event.ErrUnknownType] otherwise), and its
// envelope no larger than Config.MaxPayload ([ErrPayloadTooLarge]).
// Publishing an event id again
// creates deliveries only for endpoints that have none yet; the same id with
// a different type or data is [store.ErrConflict]. An audience naming no one
// is [ErrNoAudience]; conflicting options [ErrInvalidOptions].
//
// Publish writes in a transaction of its own. Inside a transaction of
// yours (the outbox pattern) use [Sender.PublishTx] instead: with
// store/sqlite, whose write connection your transaction holds, Publish
// would wait for your transaction to end, until ctx ends, and then fail
// with ctx's error and a message naming PublishTx.
func (s *Sender) Publish(ctx context.Context, ev event.Event, aud Audience, opts *PublishOptions) (int, error) {
	n, err := s.publish(ctx, s.st, ev, aud, opts)
	if n > 0 {
		s.signal()
	}
	return n, err
}

// Catalog returns Config.Catalog: the event types the sender publishes, or
// nil when it accepts any valid type. A dashboard offers its types as
// subscriptions and its samples to a simulator. The catalog is immutable
// and safe for concurrent use; Catalog works after Close.
func (s *Sender) Catalog() *event.Catalog { return s.cfg.Catalog }

// PublishTx is Publish in the caller's transaction: tx is a view of the
// sender's store bound to it (store/postgres's Store.Tx of a pgx.Tx,
// store/sqlite's Store.Tx of a *sql.Tx, or a store/memory Tx in tests), and
// the deliveries exist if and only if the caller commits it (the
// transactional outbox). The same checks, defaults and errors apply as in
// Publish. The workers are woken when the transaction commits, by the
// store's notification (every bundled store sends one: see
// [store.Notifier]), not before: nothing is due until then. tx must be on
// the sender's own store.
//
// While the transaction is open, publish only through it: with
// store/sqlite the transaction holds the store's one write connection, so
// a Publish (or any write through the store itself) made meanwhile waits
// for it until its context ends.
func (s *Sender) PublishTx(ctx context.Context, tx store.Tx, ev event.Event, aud Audience, opts *PublishOptions) (int, error) {
	if tx == nil {
		return 0, fmt.Errorf("sender: publish: nil transaction: %w", ErrInvalidOptions)
	}
	return s.publish(ctx, tx, ev, aud, opts)
}

// publish is Publish and PublishTx: the one path every event takes into
// the outbox.
func (s *Sender) publish(ctx context.Context, tx store.Tx, ev event.Event, aud Audience, opts *PublishOptions) (int, error) {
	if s.isClosed() {
		return 0, ErrClosed
	}
	now := s.now()
	due, err := dueTime(now, opts)
	if err != nil {
		return 0, err
	}
	ev, err = s.prepare(ev, now)
	if err != nil {
		return 0, err
	}
	targets, err := s.targets(ctx, tx, ev, aud)
	if err != nil {
		return 0, err
	}
	if len(targets) == 0 {
		s.log.LogAttrs(ctx, slog.LevelDebug, "sender: published to no endpoint",
			slog.String("event_id", ev.ID), slog.String("event_type", ev.Type), slog.String("audience", aud.String()))
		return 0, nil
	}
	req := store.EnqueueRequest{Event: ev, Targets: targets, Now: now, DueAt: due}
	if opts != nil {
		req.OrderingKey = opts.OrderingKey
	}
	n, err := tx.Enqueue(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("sender: publish %s: %w", ev.ID, err)
	}
	return n, nil
}

// dueTime returns when a publish at now is first due under opts.
func dueTime(now time.Time, opts *PublishOptions) (time.Time, error) {
	if opts == nil {
		return now, nil
	}
	if err := checkOrderingKey(opts.OrderingKey); err != nil {
		return time.Time{}, err
	}
	switch {
	case !opts.DeliverAt.IsZero() && opts.DeliverAfter != 0:
		return time.Time{}, fmt.Errorf("%w: set DeliverAt or DeliverAfter, not both", ErrInvalidOptions)
	case opts.DeliverAfter < 0:
		return time.Time{}, fmt.Errorf("%w: negative DeliverAfter %v", ErrInvalidOptions, opts.DeliverAfter)
	case opts.DeliverAfter > 0:
		return now.Add(opts.DeliverAfter), nil
	case opts.DeliverAt.After(now):
		return opts.DeliverAt, nil
	}
	return now, nil
}

// prepare stamps the mode, and checks the event, its type against the
// catalog and its envelope's size (dated now, as an attempt would be).
func (s *Sender) prepare(ev event.Event, now time.Time) (event.Event, error) {
	switch ev.APIMode {
	case "":
		ev.APIMode = s.cfg.Mode
	case s.cfg.Mode:
	default:
		return ev, fmt.Errorf("%w: event %q is %q, sender is %q", ErrModeMismatch, ev.ID, ev.APIMode, s.cfg.Mode)
	}
	ev.Date = now.UTC()
	if err := ev.Validate(); err != nil {
		return ev, fmt.Errorf("sender: %w", err)
	}
	if err := s.cfg.Catalog.Check(ev.Type); err != nil { // nil catalog: any valid type
		return ev, fmt.Errorf("sender: %w", err)
	}
	bp := s.getBuf()
	var err error
	*bp, err = s.envelope((*bp)[:0], &ev, ev.Date)
	s.putBuf(bp)
	if err != nil {
		return ev, err
	}
	ev.Date = time.Time{}
	return ev, nil
}

// targets resolves the audience to the endpoints to enqueue for, read
// through tx: one endpoint (which must exist, be enabled and be of the
// sender's mode), or the active endpoints of the tenant or tenants (and
// account), of the event's mode, subscribed to its type.
func (s *Sender) targets(ctx context.Context, tx store.Tx, ev event.Event, aud Audience) ([]store.Target, error) {
	switch {
	case !aud.set:
		return nil, ErrNoAudience
	case aud.endpointID != "":
		ep, err := s.endpointIn(ctx, tx, aud.endpointID)
		if err != nil {
			return nil, err
		}
		if ep.Disabled {
			return nil, fmt.Errorf("%w: %s", ErrEndpointDisabled, ep.ID)
		}
		return []store.Target{{EndpointID: ep.ID, Tenant: ep.Tenant}}, nil
	}
	f := store.EndpointFilter{
		Tenant:     aud.tenant,
		AllTenants: aud.allTenants,
		Accounts:   aud.accounts(),
		Mode:       ev.APIMode,
		ActiveOnly: true,
		Page:       store.Page{Limit: store.MaxPageSize},
	}
	var ts []store.Target
	for {
		page, next, err := tx.ListEndpoints(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("sender: publish: %w", err)
		}
		for _, ep := range page {
			if !ep.Disabled && ep.Mode == ev.APIMode && event.MatchAny(ep.EventTypes, ev.Type) {
				ts = append(ts, store.Target{EndpointID: ep.ID, Tenant: ep.Tenant})
			}
		}
		if next == "" {
			return ts, nil
		}
		f.Page.Cursor = next
	}
}

// endpointIn loads one endpoint of the sender's mode through r: the
// sender's store, or a caller's transaction.
func (s *Sender) endpointIn(ctx context.Context, r endpointReader, id string) (*store.Endpoint, error) {
	ep, err := r.GetEndpoint(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("sender: endpoint %q: %w", id, err)
	}
	if ep.Mode != s.cfg.Mode {
		return nil, fmt.Errorf("%w: endpoint %s is %q, sender is %q", ErrModeMismatch, ep.ID, ep.Mode, s.cfg.Mode)
	}
	return ep, nil
}

// endpointReader reads one endpoint: [store.Endpoints] and [store.Tx] do.
type endpointReader interface {
	GetEndpoint(ctx context.Context, id string) (*store.Endpoint, error)
}
