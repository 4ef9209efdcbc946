package sender_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// fakeStore is a minimal, mutex-guarded store.SenderStore for the sender's
// tests, used until store/memory lands. It follows the store contracts the
// sender relies on.
type fakeStore struct {
	mu       sync.Mutex
	eps      map[string]*store.Endpoint
	events   map[string]event.Event
	dels     map[string]*store.Delivery
	pairs    map[[2]string]string
	attempts []*store.Attempt
	seq      int
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		eps:    map[string]*store.Endpoint{},
		events: map[string]event.Event{},
		dels:   map[string]*store.Delivery{},
		pairs:  map[[2]string]string{},
	}
}

func (f *fakeStore) CreateEndpoint(_ context.Context, ep *store.Endpoint) error {
	if err := ep.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ep.ID == "" {
		ep.ID = uuid.NewString()
	}
	if _, ok := f.eps[ep.ID]; ok {
		return store.ErrConflict
	}
	ep.CreatedAt, ep.UpdatedAt = time.Now(), time.Now()
	f.eps[ep.ID] = ep.Clone()
	return nil
}

func (f *fakeStore) GetEndpoint(_ context.Context, id string) (*store.Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ep, ok := f.eps[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return ep.Clone(), nil
}

func (f *fakeStore) UpdateEndpoint(_ context.Context, ep *store.Endpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.eps[ep.ID]
	if !ok {
		return store.ErrNotFound
	}
	c := ep.Clone()
	c.Tenant, c.Disabled, c.DisabledReason, c.DisabledAt, c.Health, c.CreatedAt = old.Tenant, old.Disabled, old.DisabledReason, old.DisabledAt, old.Health, old.CreatedAt
	c.UpdatedAt = time.Now()
	f.eps[ep.ID] = c
	return nil
}

func (f *fakeStore) DeleteEndpoint(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.eps[id]; !ok {
		return store.ErrNotFound
	}
	delete(f.eps, id)
	for did, d := range f.dels {
		if d.EndpointID == id && (d.State == store.StatePending || d.State == store.StatePaused) {
			delete(f.dels, did)
		}
	}
	return nil
}

func (f *fakeStore) ListEndpoints(_ context.Context, flt store.EndpointFilter) ([]*store.Endpoint, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*store.Endpoint
	for _, ep := range f.eps {
		if !flt.AllTenants && ep.Tenant != flt.Tenant {
			continue
		}
		if flt.Mode != "" && ep.Mode != flt.Mode {
			continue
		}
		if flt.ActiveOnly && ep.Disabled {
			continue
		}
		out = append(out, ep.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, "", nil
}

func (f *fakeStore) RecordResult(_ context.Context, id string, success bool, at time.Time) (*store.Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ep, ok := f.eps[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	if success {
		ep.Health.ConsecutiveFailures = 0
		ep.Health.FailingSince = time.Time{}
		ep.Health.LastSuccessAt = at
	} else {
		ep.Health.ConsecutiveFailures++
		ep.Health.LastFailureAt = at
		if ep.Health.FailingSince.IsZero() {
			ep.Health.FailingSince = at
		}
	}
	return ep.Clone(), nil
}

func (f *fakeStore) SetDisabled(_ context.Context, id string, disabled bool, reason string, at time.Time) (*store.Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ep, ok := f.eps[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	ep.Disabled = disabled
	if disabled {
		ep.DisabledReason, ep.DisabledAt = reason, at
		for _, d := range f.dels {
			if d.EndpointID == id && d.State == store.StatePending {
				d.State = store.StatePaused
			}
		}
	} else {
		ep.DisabledReason, ep.DisabledAt = "", time.Time{}
		ep.Health = store.Health{}
		for _, d := range f.dels {
			if d.EndpointID == id && d.State == store.StatePaused {
				d.State, d.NextAttemptAt = store.StatePending, at
			}
		}
	}
	return ep.Clone(), nil
}

func (f *fakeStore) Enqueue(_ context.Context, ev event.Event, targets []store.Target) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.events[ev.ID]; ok && (old.Type != ev.Type || old.APIMode != ev.APIMode || string(old.Data) != string(ev.Data)) {
		return 0, store.ErrConflict
	}
	f.events[ev.ID] = ev
	n := 0
	for _, t := range targets {
		k := [2]string{ev.ID, t.EndpointID}
		if _, ok := f.pairs[k]; ok {
			continue
		}
		f.seq++
		d := &store.Delivery{
			ID: fmt.Sprintf("d%06d", f.seq), EndpointID: t.EndpointID, Tenant: t.Tenant,
			Event: ev, State: store.StatePending, CreatedAt: ev.Date, NextAttemptAt: ev.Date,
		}
		d.Event.Data = slices.Clone(ev.Data)
		f.dels[d.ID] = d
		f.pairs[k] = d.ID
		n++
	}
	return n, nil
}

func (f *fakeStore) Lease(_ context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var due []*store.Delivery
	for _, d := range f.dels {
		if req.Mode != "" && d.Event.APIMode != req.Mode {
			continue
		}
		if slices.Contains(req.SkipEndpoints, d.EndpointID) {
			continue
		}
		if (d.State == store.StatePending || d.State == store.StateLeased) && !d.NextAttemptAt.After(req.Now) {
			due = append(due, d)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].NextAttemptAt.Equal(due[j].NextAttemptAt) {
			return due[i].NextAttemptAt.Before(due[j].NextAttemptAt)
		}
		return due[i].ID < due[j].ID
	})
	if len(due) > req.Limit {
		due = due[:req.Limit]
	}
	out := make([]*store.Delivery, 0, len(due))
	for _, d := range due {
		f.seq++
		d.State = store.StateLeased
		d.LeaseToken = fmt.Sprintf("t%d", f.seq)
		d.LeasedBy = req.Worker
		d.Attempts++
		if d.FirstAttemptAt.IsZero() {
			d.FirstAttemptAt = req.Now
		}
		d.LastAttemptAt = req.Now
		d.NextAttemptAt = req.Now.Add(req.Duration)
		out = append(out, d.Clone())
	}
	return out, nil
}

func (f *fakeStore) leased(ref store.LeaseRef) (*store.Delivery, error) {
	d, ok := f.dels[ref.DeliveryID]
	if !ok || d.State != store.StateLeased || d.LeaseToken != ref.Token {
		return nil, store.ErrLeaseLost
	}
	return d, nil
}

func (f *fakeStore) Complete(_ context.Context, ref store.LeaseRef, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.leased(ref)
	if err != nil {
		return err
	}
	d.State, d.FinishedAt, d.LeaseToken = store.StateSucceeded, at, ""
	return nil
}

func (f *fakeStore) Retry(_ context.Context, ref store.LeaseRef, next time.Time, lastError string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.leased(ref)
	if err != nil {
		return err
	}
	d.State, d.NextAttemptAt, d.LastError, d.LeaseToken = store.StatePending, next, lastError, ""
	if ep := f.eps[d.EndpointID]; ep != nil && ep.Disabled {
		d.State = store.StatePaused
	}
	return nil
}

func (f *fakeStore) Fail(_ context.Context, ref store.LeaseRef, at time.Time, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.leased(ref)
	if err != nil {
		return err
	}
	d.State, d.FinishedAt, d.LastError, d.LeaseToken = store.StateFailed, at, reason, ""
	return nil
}

func (f *fakeStore) Release(_ context.Context, ref store.LeaseRef, next time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.leased(ref)
	if err != nil {
		return err
	}
	d.State, d.NextAttemptAt, d.LeaseToken = store.StatePending, next, ""
	d.Attempts--
	return nil
}

func (f *fakeStore) GetDelivery(_ context.Context, id string) (*store.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dels[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return d.Clone(), nil
}

func (f *fakeStore) ListDeliveries(_ context.Context, flt store.DeliveryFilter) ([]*store.Delivery, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*store.Delivery
	for _, d := range f.dels {
		if flt.EndpointID != "" && d.EndpointID != flt.EndpointID || flt.EventID != "" && d.Event.ID != flt.EventID ||
			flt.State != "" && d.State != flt.State {
			continue
		}
		out = append(out, d.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, "", nil
}

func (f *fakeStore) Requeue(_ context.Context, id string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dels[id]
	if !ok {
		return store.ErrNotFound
	}
	if d.State != store.StateFailed && d.State != store.StateSucceeded {
		return store.ErrConflict
	}
	d.State, d.NextAttemptAt, d.Attempts, d.FirstAttemptAt, d.FinishedAt = store.StatePending, at, 0, time.Time{}, time.Time{}
	return nil
}

func (f *fakeStore) RequeueFailed(_ context.Context, endpointID string, since, at time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, d := range f.dels {
		if d.EndpointID == endpointID && d.State == store.StateFailed && !d.FinishedAt.Before(since) {
			d.State, d.NextAttemptAt, d.Attempts, d.FirstAttemptAt, d.FinishedAt = store.StatePending, at, 0, time.Time{}, time.Time{}
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) AddAttempt(_ context.Context, a *store.Attempt) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := a.Clone()
	if c.ID == "" {
		f.seq++
		c.ID = fmt.Sprintf("a%06d", f.seq)
		a.ID = c.ID
	}
	f.attempts = append(f.attempts, c)
	return nil
}

func (f *fakeStore) GetAttempt(_ context.Context, id string) (*store.Attempt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.attempts {
		if a.ID == id {
			return a.Clone(), nil
		}
	}
	return nil, store.ErrNotFound
}

func (f *fakeStore) ListAttempts(_ context.Context, flt store.AttemptFilter) ([]*store.Attempt, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*store.Attempt
	for i := len(f.attempts) - 1; i >= 0; i-- {
		a := f.attempts[i]
		if flt.EndpointID != "" && a.EndpointID != flt.EndpointID || flt.EventID != "" && a.EventID != flt.EventID ||
			flt.DeliveryID != "" && a.DeliveryID != flt.DeliveryID {
			continue
		}
		out = append(out, a.Clone())
	}
	return out, "", nil
}

func (f *fakeStore) PruneAttempts(_ context.Context, before time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kept := f.attempts[:0]
	n := 0
	for _, a := range f.attempts {
		if a.At.Before(before) {
			n++
			continue
		}
		kept = append(kept, a)
	}
	f.attempts = kept
	return n, nil
}

var _ store.SenderStore = (*fakeStore)(nil)
