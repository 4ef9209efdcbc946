package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/webhookkit/webhookkit/event"
)

// ErrNoAudience is returned by [Publish] for an [Audience] that names no one:
// publishing must say which tenant it is for, or that it is for all.
var ErrNoAudience = errors.New("store: publish needs an audience: a tenant, or all tenants")

// Audience names who an event is published to: the endpoints of one tenant,
// or every tenant's. The zero value names no one; there is no implicit
// broadcast across tenants.
type Audience struct {
	// Tenant is the one tenant, when AllTenants is false.
	Tenant string
	// AllTenants publishes to every tenant's subscribed endpoints.
	AllTenants bool

	set bool
}

// ToTenant returns the audience of one tenant's endpoints. The empty string
// is a tenant like any other (for single-tenant applications).
func ToTenant(tenant string) Audience { return Audience{Tenant: tenant, set: true} }

// ToAllTenants returns the audience of every tenant's endpoints.
func ToAllTenants() Audience { return Audience{AllTenants: true, set: true} }

// Valid reports whether the audience was built with [ToTenant] or
// [ToAllTenants], or names a non-empty tenant.
func (a Audience) Valid() bool { return a.set || a.AllTenants || a.Tenant != "" }

// Subscribers returns the active endpoints of the audience whose
// mode is the event's and whose patterns match its type: the fan-out rule
// shared by the sender and the durable stores' transactional publish.
func Subscribers(ctx context.Context, eps Endpoints, ev event.Event, aud Audience) ([]Target, error) {
	if !aud.Valid() {
		return nil, ErrNoAudience
	}
	f := EndpointFilter{
		Tenant:     aud.Tenant,
		AllTenants: aud.AllTenants,
		Mode:       ev.APIMode,
		ActiveOnly: true,
		Page:       Page{Limit: MaxPageSize},
	}
	var ts []Target
	for {
		page, next, err := eps.ListEndpoints(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, ep := range page {
			if !ep.Disabled && ep.Mode == ev.APIMode && event.MatchAny(ep.EventTypes, ev.Type) {
				ts = append(ts, Target{EndpointID: ep.ID, Tenant: ep.Tenant})
			}
		}
		if next == "" {
			return ts, nil
		}
		f.Page.Cursor = next
	}
}

// Publish validates ev and enqueues one delivery per subscribed endpoint of
// the audience (see [Subscribers]), returning how many deliveries it created.
// Publishing an event id again creates deliveries only for endpoints that do
// not have one yet; the same id with different content is [ErrConflict].
// The endpoints and the outbox are usually one store, or views of one
// transaction (the durable stores' PublishTx).
func Publish(ctx context.Context, eps Endpoints, ob Outbox, ev event.Event, aud Audience) (int, error) {
	if err := ev.Validate(); err != nil {
		return 0, fmt.Errorf("store: publish: %w", err)
	}
	ts, err := Subscribers(ctx, eps, ev, aud)
	if err != nil || len(ts) == 0 {
		return 0, err
	}
	return ob.Enqueue(ctx, ev, ts)
}

// SenderStore is everything a sender needs. The drivers implement it; to
// keep roles in different places, embed one value per role in a struct.
type SenderStore interface {
	Endpoints
	Outbox
	Deliveries
	Attempts
}
