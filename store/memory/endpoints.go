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

// CreateEndpoint implements [store.Endpoints]. CreatedAt and UpdatedAt come
// from [Config].Now.
func (s *Store) CreateEndpoint(_ context.Context, ep *store.Endpoint) error {
	if err := ep.Validate(); err != nil {
		return fmt.Errorf("memory: create endpoint: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ep.ID == "" {
		ep.ID = uuid.NewString()
	} else if s.endpoints[ep.ID] != nil {
		return fmt.Errorf("memory: endpoint %q exists: %w", ep.ID, store.ErrConflict)
	}
	now := s.cfg.Now()
	ep.CreatedAt, ep.UpdatedAt = now, now
	s.endpoints[ep.ID] = ep.Clone()
	return nil
}

// GetEndpoint implements [store.Endpoints].
func (s *Store) GetEndpoint(_ context.Context, id string) (*store.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep := s.endpoints[id]
	if ep == nil {
		return nil, notFound("endpoint", id)
	}
	return ep.Clone(), nil
}

func notFound(what, id string) error {
	return fmt.Errorf("memory: %s %q: %w", what, id, store.ErrNotFound)
}

// UpdateEndpoint implements [store.Endpoints]. UpdatedAt comes from
// [Config].Now and is set on ep too.
func (s *Store) UpdateEndpoint(_ context.Context, ep *store.Endpoint) error {
	if err := ep.Validate(); err != nil {
		return fmt.Errorf("memory: update endpoint: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.endpoints[ep.ID]
	if old == nil {
		return notFound("endpoint", ep.ID)
	}
	c := ep.Clone()
	c.Tenant = old.Tenant
	c.Disabled, c.DisabledReason, c.DisabledAt = old.Disabled, old.DisabledReason, old.DisabledAt
	c.Health = old.Health
	c.CreatedAt = old.CreatedAt
	c.UpdatedAt = s.cfg.Now()
	ep.UpdatedAt = c.UpdatedAt
	s.endpoints[ep.ID] = c
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
	for _, d := range s.byEndpoint[id] {
		if d.State == store.StatePending || d.State == store.StatePaused {
			s.removeDelivery(d)
		}
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
	s.mu.Lock()
	var matches []*store.Endpoint
	for _, ep := range s.endpoints {
		if (f.AllTenants || ep.Tenant == f.Tenant) &&
			(f.Mode == "" || ep.Mode == f.Mode) &&
			(!f.ActiveOnly || !ep.Disabled) &&
			ep.ID > after {
			matches = append(matches, ep)
		}
	}
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
	s.mu.Unlock()
	return out, next, nil
}

// RecordResult implements [store.Endpoints].
func (s *Store) RecordResult(_ context.Context, id string, success bool, at time.Time) (*store.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep := s.endpoints[id]
	if ep == nil {
		return nil, notFound("endpoint", id)
	}
	h := &ep.Health
	if success {
		h.ConsecutiveFailures = 0
		h.FailingSince = time.Time{}
		h.LastSuccessAt = at
	} else {
		h.ConsecutiveFailures++
		h.LastFailureAt = at
		if h.FailingSince.IsZero() {
			h.FailingSince = at
		}
	}
	return ep.Clone(), nil
}

// SetDisabled implements [store.Endpoints]. Disabling pauses the endpoint's
// pending deliveries and takes its leased ones out of the lease queue (their
// workers may still settle them); enabling makes paused ones due at at and
// puts leased ones back in the queue at their lease's end. It visits every
// delivery of the endpoint.
func (s *Store) SetDisabled(_ context.Context, id string, disabled bool, reason string, at time.Time) (*store.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep := s.endpoints[id]
	if ep == nil {
		return nil, notFound("endpoint", id)
	}
	if disabled {
		ep.Disabled, ep.DisabledReason, ep.DisabledAt = true, reason, at
		for _, d := range s.byEndpoint[id] {
			switch d.State {
			case store.StatePending:
				s.unschedule(d)
				s.setState(d, store.StatePaused)
			case store.StateLeased:
				s.unschedule(d)
			}
		}
		return ep.Clone(), nil
	}
	ep.Disabled, ep.DisabledReason, ep.DisabledAt = false, "", time.Time{}
	ep.Health.ConsecutiveFailures = 0
	ep.Health.FailingSince = time.Time{}
	for _, d := range s.byEndpoint[id] {
		switch d.State {
		case store.StatePaused:
			s.makeDue(d, at)
		case store.StateLeased:
			s.schedule(d)
		}
	}
	return ep.Clone(), nil
}
