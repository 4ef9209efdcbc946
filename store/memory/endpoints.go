package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/store"
)

// Stored endpoints are immutable snapshots: every change stores a new one
// (sharing the slices and maps, which nothing changes), so readers copy a
// snapshot after letting go of the lock.

// CreateEndpoint implements [store.Endpoints]. CreatedAt and UpdatedAt,
// and the CreatedAt of secrets without one, come from [Config].Now. On
// [store.ErrConflict], ep is left unchanged.
func (s *Store) CreateEndpoint(_ context.Context, ep *store.Endpoint) error {
	now := s.cfg.Now()
	c, err := ep.Prepare(now)
	if err != nil {
		return fmt.Errorf("memory: create endpoint: %w", err)
	}
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	c.CreatedAt, c.UpdatedAt = now, now

	s.mu.Lock()
	if s.endpoints[c.ID] != nil {
		s.mu.Unlock()
		return fmt.Errorf("memory: endpoint %q exists: %w", c.ID, store.ErrConflict)
	}
	s.endpoints[c.ID] = c
	s.mu.Unlock()
	ep.ID, ep.CreatedAt, ep.UpdatedAt = c.ID, now, now
	ep.Secrets = slices.Clone(c.Secrets)
	return nil
}

// GetEndpoint implements [store.Endpoints].
func (s *Store) GetEndpoint(_ context.Context, id string) (*store.Endpoint, error) {
	s.mu.RLock()
	ep := s.endpoints[id]
	s.mu.RUnlock()
	if ep == nil {
		return nil, notFound("endpoint", id)
	}
	return ep.Clone(), nil
}

func notFound(what, id string) error {
	return fmt.Errorf("memory: %s %q: %w", what, id, store.ErrNotFound)
}

// UpdateEndpoint implements [store.Endpoints]. UpdatedAt, and the
// CreatedAt of secrets without one, come from [Config].Now and are set on ep
// too.
func (s *Store) UpdateEndpoint(_ context.Context, ep *store.Endpoint) error {
	now := s.cfg.Now()
	c, err := ep.Prepare(now)
	if err != nil {
		return fmt.Errorf("memory: update endpoint: %w", err)
	}
	c.UpdatedAt = now

	s.mu.Lock()
	old := s.endpoints[ep.ID]
	if old == nil {
		s.mu.Unlock()
		return notFound("endpoint", ep.ID)
	}
	c.Tenant, c.Account, c.Format = old.Tenant, old.Account, old.Format
	c.Disabled, c.DisabledReason, c.DisabledAt = old.Disabled, old.DisabledReason, old.DisabledAt
	c.Health = old.Health
	c.CreatedAt = old.CreatedAt
	s.endpoints[ep.ID] = c
	s.mu.Unlock()
	ep.UpdatedAt = now
	ep.Secrets = slices.Clone(c.Secrets)
	return nil
}

// DeleteEndpoint implements [store.Endpoints]. Leased deliveries of the
// endpoint stay until their worker settles them; finished ones stay for the
// logs until evicted.
func (s *Store) DeleteEndpoint(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.endpoints[id] == nil {
		return notFound("endpoint", id)
	}
	delete(s.endpoints, id)
	var drop []*delivery
	if l := s.byEndpoint[id]; l != nil {
		l.all(func(d *delivery) bool {
			if d.State == store.StatePending || d.State == store.StatePaused {
				drop = append(drop, d)
			}
			return true
		})
	}
	for _, d := range drop {
		s.removeDelivery(d)
	}
	return nil
}

// ListEndpoints implements [store.Endpoints]. It scans every endpoint and
// sorts the matches. A bad cursor is [store.ErrInvalid].
func (s *Store) ListEndpoints(_ context.Context, f store.EndpointFilter) ([]*store.Endpoint, string, error) {
	after, err := decodeIDCursor(f.Page.Cursor)
	if err != nil {
		return nil, "", err
	}
	var matches []*store.Endpoint
	s.mu.RLock()
	for _, ep := range s.endpoints {
		if (f.AllTenants || ep.Tenant == f.Tenant) &&
			(len(f.Accounts) == 0 || slices.Contains(f.Accounts, ep.Account)) &&
			(f.Mode == "" || ep.Mode == f.Mode) &&
			(!f.ActiveOnly || !ep.Disabled) &&
			ep.ID > after {
			matches = append(matches, ep)
		}
	}
	s.mu.RUnlock()
	// The snapshots do not change: sort and copy them without the lock.
	slices.SortFunc(matches, func(a, b *store.Endpoint) int { return strings.Compare(a.ID, b.ID) })
	size := f.Page.Size()
	next := ""
	if len(matches) > size {
		matches = matches[:size]
		next = encodeIDCursor(matches[size-1].ID)
	}
	out := make([]*store.Endpoint, len(matches))
	for i, ep := range matches {
		out[i] = ep.Clone()
	}
	return out, next, nil
}

// SetDisabled implements [store.Endpoints]. Disabling pauses the endpoint's
// pending deliveries and takes its leased ones out of the lease queue (their
// workers may still settle them); enabling makes paused ones due at at and
// puts leased ones back in the queue at their lease's end. It visits every
// delivery of the endpoint.
func (s *Store) SetDisabled(_ context.Context, id string, disabled bool, reason string, at time.Time) (*store.Endpoint, error) {
	s.mu.Lock()
	old := s.endpoints[id]
	if old == nil {
		s.mu.Unlock()
		return nil, notFound("endpoint", id)
	}
	ep := s.update(old)
	// Pausing and resuming never remove a delivery, so the walks are safe.
	ds := s.byEndpoint[id]
	if ds == nil {
		ds = new(sortedList[*delivery])
	}
	if disabled {
		ep.Disabled, ep.DisabledReason, ep.DisabledAt = true, reason, at
		ds.all(func(d *delivery) bool {
			switch d.State {
			case store.StatePending:
				s.unschedule(d)
				s.setState(d, store.StatePaused)
			case store.StateLeased:
				s.unschedule(d)
			}
			return true
		})
	} else {
		ep.Disabled, ep.DisabledReason, ep.DisabledAt = false, "", time.Time{}
		ep.Health.ConsecutiveFailures = 0
		ep.Health.FailingSince = time.Time{}
		ep.Health.Breaker, ep.Health.BreakerSince = store.BreakerClosed, time.Time{}
		ds.all(func(d *delivery) bool {
			switch d.State {
			case store.StatePaused:
				s.makeDue(d, at)
			case store.StateLeased:
				s.schedule(d)
			}
			return true
		})
	}
	s.mu.Unlock()
	if !disabled {
		s.notify()
	}
	return ep.Clone(), nil
}

// update stores and returns a new snapshot of old for the caller to change
// while it holds the lock. The snapshot shares old's slices and maps, which
// must not be changed.
func (s *Store) update(old *store.Endpoint) *store.Endpoint {
	ep := *old
	s.endpoints[ep.ID] = &ep
	return &ep
}
