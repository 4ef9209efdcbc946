package memory

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// eventRec is an enqueued event and its deliveries by endpoint id. The
// deliveries share ev (and its Data); nothing mutates it.
type eventRec struct {
	ev event.Event
	ds map[string]*delivery
}

// delivery is a stored delivery. Its embedded Delivery never carries the
// lease token, whose number lives in tok. Its Event (and Event.Data) is
// shared with its eventRec and never changes.
type delivery struct {
	store.Delivery
	tok  uint64 // the lease token's number; 0 when not leased
	seq  uint64 // enqueue order, breaks ties between equal due times
	grp  *group // the group whose heap holds it; nil when not scheduled
	hidx int    // index in grp.h
	fin  uint64 // its entry in the finished queue; 0 when not finished
}

func (d *delivery) key() key { return keyOf(d.CreatedAt, d.ID) }

// out returns a copy of the delivery's fields, to be finished by
// [finishCopies] once the store's lock is let go.
func (d *delivery) out() store.Delivery {
	o := d.Delivery
	o.KeyWaiting = d.keyWaiting()
	return o
}

// keyWaiting reports a pending delivery that waits for its ordering key:
// only a key's head that may go is scheduled (keys.go).
func (d *delivery) keyWaiting() bool {
	return d.State == store.StatePending && d.grp == nil && d.OrderingKey != ""
}

// finishCopies turns values copied under the lock into the deep copies a
// caller gets: the event data, shared and immutable in the store, is copied
// here, outside the lock, into one buffer for the whole batch.
func finishCopies(vals []store.Delivery) []*store.Delivery {
	n := 0
	for i := range vals {
		n += len(vals[i].Event.Data)
	}
	buf := make([]byte, 0, n)
	out := make([]*store.Delivery, len(vals))
	for i := range vals {
		v := &vals[i]
		if data := v.Event.Data; data != nil {
			start := len(buf)
			buf = append(buf, data...)
			v.Event.Data = buf[start:len(buf):len(buf)]
		}
		out[i] = v
	}
	return out
}

// Lease tokens are the store's prefix (unique per store) and a sequence
// number in base 36; only the number is kept, and a token is parsed before
// the lock is taken.
func (s *Store) formatToken(n uint64) string {
	return s.tokenPrefix + strconv.FormatUint(n, 36)
}

func (s *Store) parseToken(t string) uint64 {
	rest, ok := strings.CutPrefix(t, s.tokenPrefix)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(rest, 36, 64)
	if err != nil {
		return 0
	}
	return n
}

type groupKey struct {
	endpoint string
	mode     event.Mode
}

// group holds one endpoint's scheduled deliveries of one mode.
type group struct {
	key groupKey
	h   heapq[*delivery]
	idx int // in s.ready[key.mode]
}

type finRef struct {
	d   *delivery
	fin uint64
}

func dueBefore(a, b *delivery) bool {
	if !a.NextAttemptAt.Equal(b.NextAttemptAt) {
		return a.NextAttemptAt.Before(b.NextAttemptAt)
	}
	return a.seq < b.seq
}

// schedule puts d in its group's heap at d.NextAttemptAt (or fixes its
// position there).
func (s *Store) schedule(d *delivery) {
	g := d.grp
	if g == nil {
		key := groupKey{d.EndpointID, d.Event.APIMode}
		g = s.groups[key]
		if g == nil {
			g = &group{key: key, idx: -1, h: heapq[*delivery]{
				less:   dueBefore,
				setIdx: func(d *delivery, i int) { d.hidx = i },
			}}
			s.groups[key] = g
		}
		d.grp = g
		d.hidx = -1
	}
	g.h.put(d, d.hidx)
	rh := s.ready[g.key.mode]
	if rh == nil {
		rh = &heapq[*group]{
			less:   func(a, b *group) bool { return dueBefore(a.h.items[0], b.h.items[0]) },
			setIdx: func(g *group, i int) { g.idx = i },
		}
		s.ready[g.key.mode] = rh
	}
	rh.put(g, g.idx)
}

// unschedule takes d out of the lease queue, if it is there.
func (s *Store) unschedule(d *delivery) {
	g := d.grp
	if g == nil {
		return
	}
	g.h.remove(d.hidx)
	d.grp = nil
	rh := s.ready[g.key.mode]
	if g.h.Len() == 0 {
		rh.remove(g.idx)
		delete(s.groups, g.key)
		return
	}
	heap.Fix(rh, g.idx)
}

// setState moves d to state st, keeping the paused and finished counts and
// the finished queue.
func (s *Store) setState(d *delivery, st store.DeliveryState) {
	was := d.State
	d.State = st
	if was == store.StatePaused {
		s.nPaused--
		s.pausedByMode[d.Event.APIMode]--
	}
	if st == store.StatePaused {
		s.nPaused++
		s.pausedByMode[d.Event.APIMode]++
	}
	if finished(was) && !finished(st) {
		s.nFinished--
		d.fin = 0
	}
	if finished(st) && !finished(was) {
		s.nFinished++
		s.finSeq++
		d.fin = s.finSeq
		s.finished = append(s.finished, finRef{d, d.fin})
		s.evictFinished()
	}
}

func finished(st store.DeliveryState) bool {
	return st == store.StateSucceeded || st == store.StateFailed
}

// evictFinished drops the earliest-finished deliveries beyond the cap and
// compacts the finished queue when stale entries pile up.
func (s *Store) evictFinished() {
	for s.nFinished > s.cfg.MaxFinishedDeliveries && s.finHead < len(s.finished) {
		r := s.finished[s.finHead]
		s.finished[s.finHead] = finRef{}
		s.finHead++
		if r.d.fin != r.fin {
			continue // requeued or removed since
		}
		s.removeDelivery(r.d)
		s.deliveriesEvicted++
		s.logEviction("finished deliveries", s.deliveriesEvicted, s.cfg.MaxFinishedDeliveries)
	}
	if live := len(s.finished) - s.finHead; s.finHead > 1024 && s.finHead > live || live > 2*s.nFinished+1024 {
		kept := make([]finRef, 0, s.nFinished+s.nFinished/4+16)
		for _, r := range s.finished[s.finHead:] {
			if r.d.fin == r.fin {
				kept = append(kept, r)
			}
		}
		s.finished, s.finHead = kept, 0
	}
}

// removeDelivery forgets d entirely.
func (s *Store) removeDelivery(d *delivery) {
	s.unschedule(d)
	s.setState(d, "")
	s.keyMoved(d, true)
	delete(s.deliveries, d.ID)
	k := d.key()
	s.deliveryLog.remove(k)
	if l := s.byEndpoint[d.EndpointID]; l != nil {
		l.remove(k)
		if l.Len() == 0 {
			delete(s.byEndpoint, d.EndpointID)
		}
	}
	if rec := s.events[d.Event.ID]; rec != nil && rec.ds[d.EndpointID] == d {
		delete(rec.ds, d.EndpointID)
		if len(rec.ds) == 0 {
			delete(s.events, d.Event.ID)
		}
	}
}

func (s *Store) endpointDisabled(id string) bool {
	ep := s.endpoints[id]
	return ep != nil && ep.Disabled
}

// makeDue makes d pending at next, or paused when its endpoint is disabled.
func (s *Store) makeDue(d *delivery, next time.Time) {
	d.NextAttemptAt = next
	if s.endpointDisabled(d.EndpointID) {
		s.unschedule(d)
		s.setState(d, store.StatePaused)
		return
	}
	s.setState(d, store.StatePending)
	if s.keyBlocked(d) {
		s.unschedule(d) // it waits for its key's earlier deliveries
		return
	}
	s.schedule(d)
}

// Enqueue implements [store.Outbox]. The event needs an id, a valid mode
// and a type ([store.ErrInvalid] otherwise); every target must name a stored
// endpoint ([store.ErrNotFound] otherwise). A delivery is created paused when
// its endpoint is disabled.
func (s *Store) Enqueue(_ context.Context, req store.EnqueueRequest) (int, error) {
	e, err := prepareEnqueue(req)
	s.mu.Lock()
	n, err := s.enqueueLocked(e, err)
	s.mu.Unlock()
	if n > 0 {
		s.notify()
	}
	return n, err
}

// staged is an enqueue whose copies and ids were made before the lock was
// taken.
type staged struct {
	ev      event.Event // Data copied, Date zero
	targets []store.Target
	ids     []string
	now     time.Time
	due     time.Time
	key     string
}

func prepareEnqueue(req store.EnqueueRequest) (staged, error) {
	ev := req.Event
	if ev.ID == "" || ev.Type == "" || !ev.APIMode.Valid() {
		return staged{}, fmt.Errorf("memory: enqueue: the event needs an id, a type and a valid mode: %w", store.ErrInvalid)
	}
	ev.Data = bytes.Clone(ev.Data)
	ev.Date = time.Time{}
	ids := make([]string, len(req.Targets))
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	return staged{ev: ev, targets: slices.Clone(req.Targets), ids: ids, now: req.Now, due: req.Due(), key: req.OrderingKey}, nil
}

// check reports the error enqueueLocked would return, changing nothing.
// The caller holds s.mu.
func (s *Store) checkEnqueue(e staged) error {
	if rec := s.events[e.ev.ID]; rec != nil && !sameContent(rec.ev, e.ev) {
		return fmt.Errorf("memory: event %s was enqueued with a different type, mode or data: %w", e.ev.ID, store.ErrConflict)
	}
	for _, t := range e.targets {
		if s.endpoints[t.EndpointID] == nil {
			return fmt.Errorf("memory: enqueue: endpoint %q: %w", t.EndpointID, store.ErrNotFound)
		}
	}
	return nil
}

// sameContent reports whether two events with one id agree on what
// idempotent publishing compares: type, mode and data bytes.
func sameContent(a, b event.Event) bool {
	return a.Type == b.Type && a.APIMode == b.APIMode && bytes.Equal(a.Data, b.Data)
}

// enqueueLocked applies a prepared enqueue, all or nothing. The caller holds
// s.mu for writing.
func (s *Store) enqueueLocked(e staged, err error) (int, error) {
	if err == nil {
		err = s.checkEnqueue(e)
	}
	if err != nil {
		return 0, err
	}
	rec := s.events[e.ev.ID]
	n := 0
	for i, t := range e.targets {
		if rec != nil && rec.ds[t.EndpointID] != nil {
			continue
		}
		if rec == nil {
			rec = &eventRec{ev: e.ev, ds: make(map[string]*delivery, len(e.targets))}
			s.events[e.ev.ID] = rec
		}
		s.enqueueSeq++
		d := &delivery{seq: s.enqueueSeq, hidx: -1}
		d.ID = e.ids[i]
		d.EndpointID = t.EndpointID
		d.Tenant = t.Tenant
		d.Event = rec.ev
		d.CreatedAt = e.now
		d.OrderingKey = e.key
		rec.ds[t.EndpointID] = d
		s.deliveries[d.ID] = d
		k := d.key()
		s.deliveryLog.insert(k, d)
		l := s.byEndpoint[t.EndpointID]
		if l == nil {
			l = new(sortedList[*delivery])
			s.byEndpoint[t.EndpointID] = l
		}
		l.insert(k, d)
		s.joinKey(d)
		s.makeDue(d, e.due)
		n++
	}
	return n, nil
}

// Backlog implements [store.Deliveries]. It visits every pending and leased
// delivery of the mode (O(n) in the unfinished deliveries); paused ones are
// counted as they change.
func (s *Store) Backlog(_ context.Context, mode event.Mode, now time.Time) (store.Backlog, error) {
	if mode != "" && !mode.Valid() {
		return store.Backlog{}, fmt.Errorf("memory: backlog: mode %q: %w", mode, store.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var b store.Backlog
	for k, g := range s.groups {
		if mode != "" && k.mode != mode {
			continue
		}
		for _, d := range g.h.items {
			switch {
			case d.State == store.StateLeased:
				b.Leased++
			case d.NextAttemptAt.After(now):
				b.Scheduled++
			default:
				b.Due++
			}
		}
	}
	// Pending deliveries waiting for their key are in no group's heap.
	for _, c := range s.chains {
		for _, d := range c.ds {
			if d.keyWaiting() && (mode == "" || d.Event.APIMode == mode) {
				b.Waiting++
			}
		}
	}
	for m, n := range s.pausedByMode {
		if mode == "" || m == mode {
			b.Paused += n
		}
	}
	return b, nil
}

// Lease implements [store.Outbox]. It costs O(k log n) for k deliveries
// leased out of n scheduled, plus O(log n) for each endpoint in
// SkipEndpoints that has due deliveries; deliveries that are not due are
// never visited. Limit and Duration must be positive and Mode empty or
// valid ([store.ErrInvalid]).
func (s *Store) Lease(_ context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	if req.Limit <= 0 || req.Duration <= 0 {
		return nil, fmt.Errorf("memory: lease: Limit and Duration must be positive: %w", store.ErrInvalid)
	}
	if req.Mode != "" && !req.Mode.Valid() {
		return nil, fmt.Errorf("memory: lease: mode %q: %w", req.Mode, store.ErrInvalid)
	}
	var skip map[string]bool
	if len(req.SkipEndpoints) > 0 {
		skip = make(map[string]bool, len(req.SkipEndpoints))
		for _, id := range req.SkipEndpoints {
			skip[id] = true
		}
	}
	until := req.Now.Add(req.Duration)

	var (
		vals    []store.Delivery // allocated at the first due delivery
		toks    []uint64
		skipped []*group
	)
	s.mu.Lock()
	for len(vals) < req.Limit {
		rh := s.earliest(req.Mode)
		if rh == nil {
			break
		}
		g := rh.items[0]
		d := g.h.items[0]
		if d.NextAttemptAt.After(req.Now) {
			break
		}
		if skip[g.key.endpoint] {
			heap.Pop(rh)
			skipped = append(skipped, g)
			continue
		}
		s.tokenSeq++
		d.tok = s.tokenSeq
		d.State = store.StateLeased
		d.Attempts++
		if d.FirstAttemptAt.IsZero() {
			d.FirstAttemptAt = req.Now
		}
		d.LastAttemptAt = req.Now
		d.NextAttemptAt = until
		d.LeasedBy = req.Worker
		s.keyLeased(d)
		heap.Fix(&g.h, 0)
		heap.Fix(rh, g.idx)
		if vals == nil {
			vals = make([]store.Delivery, 0, min(req.Limit, 64))
			toks = make([]uint64, 0, cap(vals))
		}
		vals = append(vals, d.out())
		toks = append(toks, d.tok)
	}
	for _, g := range skipped {
		heap.Push(s.ready[g.key.mode], g)
	}
	s.mu.Unlock()

	out := finishCopies(vals)
	for i, d := range out {
		d.LeaseToken = s.formatToken(toks[i])
	}
	return out, nil
}

// earliest returns the ready heap (of mode, or of any mode when mode is
// empty) whose first group has the earliest delivery; nil when none has one.
func (s *Store) earliest(mode event.Mode) *heapq[*group] {
	if mode != "" {
		if rh := s.ready[mode]; rh != nil && rh.Len() > 0 {
			return rh
		}
		return nil
	}
	var best *heapq[*group]
	for _, rh := range s.ready {
		if rh.Len() > 0 && (best == nil || dueBefore(rh.items[0].h.items[0], best.items[0].h.items[0])) {
			best = rh
		}
	}
	return best
}

// finish ends d in a final state at time at.
func (s *Store) finish(d *delivery, state store.DeliveryState, at time.Time) {
	s.unschedule(d)
	d.FinishedAt = at
	s.setState(d, state)
}

// apply does to d, whose lease was just taken from it, what st's outcome
// says. The caller holds s.mu.
func (s *Store) apply(d *delivery, st *store.Settlement) {
	switch st.Outcome {
	case store.OutcomeSucceeded:
		s.finish(d, store.StateSucceeded, st.At)
	case store.OutcomeRetry:
		d.LastError = st.Error
		s.makeDue(d, st.Next)
	case store.OutcomeFailed:
		d.LastError = st.Error
		d.HoldsKey = st.HoldKey && d.OrderingKey != ""
		s.finish(d, store.StateFailed, st.At)
	case store.OutcomeReleased:
		if d.Attempts > 0 {
			d.Attempts--
		}
		if d.Attempts == 0 {
			d.FirstAttemptAt = time.Time{}
		}
		s.makeDue(d, st.Next)
	}
	s.keyMoved(d, false)
}

// Settle implements [store.Outbox] under one hold of the store's lock: the
// settlements in order (a paused endpoint's retried or released delivery is
// paused), then the attempts (evicting as [Store.AddAttempt] does), then
// the health deltas. Tokens are parsed, attempts copied and ids made before
// the lock is taken, and the endpoints returned copied after. An attempt id
// stored already or given twice is [store.ErrConflict], found before
// anything is changed.
func (s *Store) Settle(_ context.Context, b store.SettleBatch) (store.SettleResult, error) {
	if err := b.Check(); err != nil {
		return store.SettleResult{}, fmt.Errorf("memory: settle: %w", err)
	}
	var res store.SettleResult
	if len(b.Settlements) > 0 {
		res.Lost = make([]bool, len(b.Settlements))
	}
	if len(b.Health) > 0 {
		res.Endpoints = make([]*store.Endpoint, len(b.Health))
	}
	toks := make([]uint64, len(b.Settlements))
	var atts []*attempt
	for i := range b.Settlements {
		st := &b.Settlements[i]
		toks[i] = s.parseToken(st.Ref.Token)
		if st.Attempt != nil {
			atts = append(atts, stageAttempt(st.Attempt))
		}
	}
	if len(atts) > 1 {
		ids := make(map[string]struct{}, len(atts))
		for _, a := range atts {
			if _, dup := ids[a.ID]; dup {
				return store.SettleResult{}, fmt.Errorf("memory: settle: attempt %q given twice: %w", a.ID, store.ErrConflict)
			}
			ids[a.ID] = struct{}{}
		}
	}

	s.mu.Lock()
	for _, a := range atts {
		if s.attempts[a.ID] != nil {
			s.mu.Unlock()
			return store.SettleResult{}, fmt.Errorf("memory: settle: attempt %q exists: %w", a.ID, store.ErrConflict)
		}
	}
	for i := range b.Settlements {
		st := &b.Settlements[i]
		d := s.deliveries[st.Ref.DeliveryID]
		if d == nil || d.State != store.StateLeased || toks[i] == 0 || d.tok != toks[i] {
			res.Lost[i] = true
			continue
		}
		d.tok = 0
		s.apply(d, st)
	}
	for _, a := range atts {
		s.insertAttempt(a)
	}
	for i, hd := range b.Health {
		if old := s.endpoints[hd.EndpointID]; old != nil {
			ep := s.update(old)
			ep.Health = hd.Apply(ep.Health)
			res.Endpoints[i] = ep
		}
	}
	s.mu.Unlock()

	for i, ep := range res.Endpoints {
		res.Endpoints[i] = ep.Clone() // nil stays nil
	}
	j := 0
	for i := range b.Settlements {
		if a := b.Settlements[i].Attempt; a != nil {
			a.ID = atts[j].ID
			j++
		}
	}
	return res, nil
}

// GetDelivery implements [store.Deliveries].
func (s *Store) GetDelivery(_ context.Context, id string) (*store.Delivery, error) {
	s.mu.RLock()
	d := s.deliveries[id]
	var v store.Delivery
	if d != nil {
		v = d.out()
	}
	s.mu.RUnlock()
	if d == nil {
		return nil, fmt.Errorf("memory: delivery %q: %w", id, store.ErrNotFound)
	}
	return v.Clone(), nil
}

// ListDeliveries implements [store.Deliveries]. With EventID set it sorts
// that event's deliveries (one per endpoint); otherwise it walks the
// endpoint's deliveries when EndpointID is set, else all of them, newest
// first from the cursor (and Until) on, and stops once it has a page: a page
// costs O(log n) plus the rows it skips over for the other filters. Because
// the cursor is the last row's (CreatedAt, ID), pages stay exact while
// deliveries are enqueued or evicted between them. A bad cursor or
// EventType pattern is [store.ErrInvalid].
func (s *Store) ListDeliveries(_ context.Context, f store.DeliveryFilter) ([]*store.Delivery, string, error) {
	after, err := decodeTimeCursor(f.Page.Cursor)
	if err != nil {
		return nil, "", err
	}
	var typ event.Pattern
	if f.EventType != "" {
		if typ, err = event.ParsePattern(f.EventType); err != nil {
			return nil, "", fmt.Errorf("memory: delivery filter: %w: %w", err, store.ErrInvalid)
		}
	}
	bound := upperBound(after, f.Until)
	keep := func(d *delivery) bool {
		return (f.AllTenants || d.Tenant == f.Tenant) &&
			(f.EndpointID == "" || d.EndpointID == f.EndpointID) &&
			(f.EventID == "" || d.Event.ID == f.EventID) &&
			(typ == "" || typ.Match(d.Event.Type)) &&
			(f.State == "" || d.State == f.State) &&
			(f.Since.IsZero() || !d.CreatedAt.Before(f.Since)) &&
			(bound == nil || d.key().cmp(*bound) < 0)
	}
	size := f.Page.Size()
	vals := make([]store.Delivery, 0, min(size+1, 16))

	s.mu.RLock()
	switch {
	case f.EventID != "":
		var ms []*delivery
		if rec := s.events[f.EventID]; rec != nil {
			for _, d := range rec.ds {
				if keep(d) {
					ms = append(ms, d)
				}
			}
		}
		slices.SortFunc(ms, func(a, b *delivery) int { return b.key().cmp(a.key()) })
		for _, d := range ms[:min(len(ms), size+1)] {
			vals = append(vals, d.out())
		}
	default:
		l := &s.deliveryLog
		if f.EndpointID != "" {
			l = s.byEndpoint[f.EndpointID]
		}
		if l != nil {
			l.descend(bound, func(d *delivery) bool {
				if !f.Since.IsZero() && d.CreatedAt.Before(f.Since) {
					return false
				}
				if keep(d) {
					vals = append(vals, d.out())
				}
				return len(vals) <= size
			})
		}
	}
	s.mu.RUnlock()

	next := ""
	if len(vals) > size {
		vals = vals[:size]
		next = encodeTimeCursor(vals[size-1].CreatedAt, vals[size-1].ID)
	}
	return finishCopies(vals), next, nil
}

// newestFirst orders by time descending, then id descending.
func newestFirst(at time.Time, id string, bt time.Time, bid string) int {
	if c := bt.Compare(at); c != 0 {
		return c
	}
	return cmp.Compare(bid, id)
}

// Requeue implements [store.Deliveries]. A delivery whose endpoint is
// disabled is requeued paused.
func (s *Store) Requeue(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deliveries[id]
	if d == nil {
		return fmt.Errorf("memory: delivery %q: %w", id, store.ErrNotFound)
	}
	if !finished(d.State) {
		return fmt.Errorf("memory: delivery %q is %s, not finished: %w", id, d.State, store.ErrConflict)
	}
	s.requeue(d, at)
	s.notify()
	return nil
}

func (s *Store) requeue(d *delivery, at time.Time) {
	d.Attempts = 0
	d.FirstAttemptAt = time.Time{}
	d.FinishedAt = time.Time{}
	d.HoldsKey = false
	s.joinKey(d)
	s.makeDue(d, at)
}

// RequeueFailed implements [store.Deliveries]; it scans the endpoint's
// deliveries.
func (s *Store) RequeueFailed(_ context.Context, endpointID string, since, at time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if l := s.byEndpoint[endpointID]; l != nil {
		// requeue never removes a delivery, so the walk is safe.
		l.all(func(d *delivery) bool {
			if d.State == store.StateFailed && !d.FinishedAt.Before(since) {
				s.requeue(d, at)
				n++
			}
			return true
		})
	}
	if n > 0 {
		s.notify()
	}
	return n, nil
}

// AdvanceRetries implements [store.RetryAdvancer]; it scans the
// endpoint's scheduled deliveries (pending, not waiting for their key, or
// leased) under the store's lock. It never fails.
func (s *Store) AdvanceRetries(_ context.Context, endpointID string, since, at time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*delivery
	for _, m := range []event.Mode{event.ModeLive, event.ModeTest} {
		g := s.groups[groupKey{endpointID, m}]
		if g == nil {
			continue
		}
		for _, d := range g.h.items {
			if d.State == store.StatePending && d.Attempts > 0 && !d.LastAttemptAt.Before(since) && d.NextAttemptAt.After(at) {
				due = append(due, d)
			}
		}
	}
	for _, d := range due {
		d.NextAttemptAt = at
		s.schedule(d) // fixes its place in its group's heap
	}
	if len(due) > 0 {
		s.notify()
	}
	return len(due), nil
}

// PruneDeliveries implements [store.DeliveryPruner]: it forgets the
// succeeded and failed deliveries that finished before before, and the ids
// of events left without deliveries, and returns how many deliveries it
// forgot. It scans the finished deliveries (at most
// [Config].MaxFinishedDeliveries) under the store's lock. It never fails.
func (s *Store) PruneDeliveries(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	kept := s.finished[:0]
	for _, r := range s.finished[s.finHead:] {
		switch {
		case r.d.fin != r.fin:
			// requeued or removed since: drop the stale entry
		case r.d.FinishedAt.Before(before):
			s.removeDelivery(r.d)
			n++
		default:
			kept = append(kept, r)
		}
	}
	clear(s.finished[len(kept):])
	s.finished, s.finHead = kept, 0
	return n, nil
}
