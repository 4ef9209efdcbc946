package sender

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// job is a leased delivery handed to a worker, with the time its lease
// ends.
type job struct {
	d        *store.Delivery
	leaseEnd time.Time
}

// loop leases due deliveries in batches and hands them to Config.Workers
// long-lived workers (whose stacks stay grown, unlike a goroutine per
// delivery). Up to Workers deliveries wait leased in a queue beside the
// ones in flight, so that a busy loop leases Workers at a
// time rather than one delivery per freed worker; a worker admits each job
// against its endpoint's limits when it starts it. A slot is taken per job
// and given back by the worker when the delivery is settled or released.
func (s *Sender) loop(ctx context.Context) {
	defer s.wg.Done()
	sctx, cancelSettle := settleContext(ctx)
	slots := make(chan struct{}, 2*s.cfg.Workers) // Workers in flight, as many queued
	written := new(sync.WaitGroup)                // the loop's outcomes not yet written
	jobs, workers := s.startWorkers(ctx, sctx, slots, written)
	defer func() {
		// Workers run what is queued, then exit, and their outcomes are
		// written (perhaps by another goroutine's batch); only then may
		// the settle context end, or the last batches would fail and
		// leave deliveries leased until their leases expire.
		close(jobs)
		workers.Wait()
		written.Wait()
		cancelSettle()
	}()
	batch := s.cfg.Workers
	timer := time.NewTimer(s.cfg.PollInterval)
	defer timer.Stop()
	busy := false // the last round leased all it asked for: more are due
	for {
		n, ok := s.takeSlots(ctx, slots, busy, batch)
		if !ok {
			return
		}
		ran := 0
		gen, leasedAt := s.soon.begin(), s.now()
		leased, next, err := s.round(ctx, sctx, n, nil, false, written, func(d *store.Delivery, _ *store.Endpoint, leaseEnd time.Time) {
			ran++
			jobs <- job{d, leaseEnd}
		})
		for range n - ran {
			<-slots
		}
		busy = err == nil && leased == n
		if busy {
			continue // more may be due: lease again at once
		}
		if !s.sleep(ctx, timer, next, gen, leasedAt) {
			return
		}
	}
}

// sleep waits, after round gen, which leased at leasedAt, found nothing more
// due, for the next round: at most Config.PollInterval, until next (when
// an endpoint's limit lets its deliveries go) or the earliest retry this
// sender scheduled, whichever comes first, or until something wakes it.
// A retry scheduled meanwhile for earlier shortens the wait. It returns
// false when the sender stops.
func (s *Sender) sleep(ctx context.Context, timer *time.Timer, next time.Time, gen uint64, leasedAt time.Time) bool {
	for {
		now := s.now()
		wait := s.cfg.PollInterval
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(now), time.Millisecond))
		}
		if t := s.soon.next(gen, leasedAt); !t.IsZero() {
			wait = min(wait, max(t.Sub(now), time.Millisecond))
		}
		timer.Reset(wait)
		select {
		case <-s.wake:
			return true
		case <-timer.C:
			return true
		case <-s.soon.kick:
			// A retry falls due earlier than planned: wait again.
		case <-s.stop:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// startWorkers starts Config.Workers workers that run the jobs sent on the
// returned channel, each giving back a slot when done. Close the channel
// and wait for the group to stop them. Their outcomes count in written
// until they are written.
func (s *Sender) startWorkers(ctx, sctx context.Context, slots chan struct{}, written *sync.WaitGroup) (chan<- job, *sync.WaitGroup) {
	jobs := make(chan job, cap(slots))
	workers := new(sync.WaitGroup)
	for range s.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				s.work(ctx, sctx, j, written)
				<-slots
			}
		}()
	}
	return jobs, workers
}

// takeSlots waits for one free slot and takes every other free one, and
// when busy (more deliveries are due) waits for at least batch of them: the
// queue keeps the workers busy meanwhile. It returns how many it took, or
// false when the sender stops first.
func (s *Sender) takeSlots(ctx context.Context, slots chan struct{}, busy bool, batch int) (int, bool) {
	n := 0
	for n < cap(slots) {
		if n == 0 || (busy && n < batch) {
			select {
			case slots <- struct{}{}:
				n++
				continue
			case <-s.stop:
			case <-ctx.Done():
			}
			return 0, false // the loop ends: the slots taken do not matter
		}
		select {
		case slots <- struct{}{}:
			n++
			continue
		default:
		}
		break
	}
	return n, true
}

// work starts a queued job: it is released, due now, when the sender is
// stopping or its lease would run out before the attempt could finish, and
// due when its endpoint allows when the endpoint is at a limit; otherwise
// it is delivered. Its outcome counts in written until it is written.
func (s *Sender) work(ctx, sctx context.Context, j job, written *sync.WaitGroup) {
	now := s.now()
	select {
	case <-s.stop:
		s.release(sctx, j.d, now, written)
		return
	default:
	}
	if ctx.Err() != nil || now.Add(s.cfg.RequestTimeout).After(j.leaseEnd) {
		s.release(sctx, j.d, now, written)
		return
	}
	ep, ok, at := s.per.admit(j.d.EndpointID, now)
	if !ok {
		s.release(sctx, j.d, at, written)
		s.signal() // the dispatcher skips the endpoint from now on
		return
	}
	s.deliver(ctx, sctx, j.d, ep, written)
}

// round leases up to limit due deliveries and loads their endpoints (once
// per endpoint per round, remembered as the freshest copy this sender has
// seen) and hands each to run with the time its lease ends. With admit,
// only deliveries their endpoint admits are run and the others are
// released for later; without, the caller must call limits.admit. skip,
// when not nil, rejects deliveries the caller has seen already (released
// due now). The outcomes it hands over itself (releases, and the failures
// of deliveries whose endpoint is gone) count in wg, when not nil, until
// they are written. It returns how many deliveries it leased and the
// earliest time a rate-limited endpoint frees up.
func (s *Sender) round(ctx, sctx context.Context, limit int, skip func(*store.Delivery) bool, admit bool, wg *sync.WaitGroup,
	run func(*store.Delivery, *store.Endpoint, time.Time)) (int, time.Time, error) {
	now := s.now()
	skipEps, next := s.per.skipList(now)
	ds, err := s.st.Lease(ctx, store.LeaseRequest{
		Now:           now,
		Limit:         limit,
		Duration:      s.cfg.LeaseDuration,
		Mode:          s.cfg.Mode,
		Worker:        s.cfg.WorkerID,
		SkipEndpoints: skipEps,
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelError, "sender: leasing deliveries failed", slog.Any("error", err))
		}
		return 0, next, err
	}
	leaseEnd := now.Add(s.cfg.LeaseDuration)
	// Most batches go to one or a few endpoints: a short list beats a map.
	var loaded []string
	for _, d := range ds {
		if skip != nil && skip(d) {
			s.release(sctx, d, now, wg)
			continue
		}
		if !slices.Contains(loaded, d.EndpointID) {
			seq := s.per.seq()
			ep, err := s.st.GetEndpoint(ctx, d.EndpointID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				s.giveUp(sctx, d, now, "endpoint deleted", wg)
				continue
			case err != nil:
				s.log.LogAttrs(ctx, slog.LevelError, "sender: loading endpoint failed", attrs(d, slog.Any("error", err))...)
				s.release(sctx, d, now.Add(s.cfg.PollInterval), wg)
				continue
			}
			s.per.observe(seq, ep)
			loaded = append(loaded, d.EndpointID)
			// A backlog falling due after the endpoint was idle starts a
			// ramp, before any of it is admitted.
			n := 0
			for _, o := range ds {
				if o.EndpointID == d.EndpointID {
					n++
				}
			}
			s.per.backlog(d.EndpointID, n, now)
		}
		if !admit {
			run(d, nil, leaseEnd)
			continue
		}
		ep, ok, at := s.per.admit(d.EndpointID, now)
		if !ok {
			s.release(sctx, d, at, wg)
			if next.IsZero() || (at.After(now) && at.Before(next)) {
				next = at
			}
			continue
		}
		run(d, ep, leaseEnd)
	}
	return len(ds), next, nil
}

// ProcessDue synchronously leases and delivers every delivery due at the
// sender's current time (Config.Now), up to Config.Workers at once, and
// returns how many attempts it made, once their outcomes are written to the
// store and their hooks have run. Each delivery is attempted at most once
// per call, so a retry scheduled with no delay waits for the next call.
// Deliveries whose endpoint is at its rate or concurrency limit are left for
// later. It is meant for tests driven by a fake clock and for cron-style
// use without Start; it may run beside a started sender. Cancelling ctx
// cancels the attempts in flight (their deliveries are released) and
// returns ctx's error.
func (s *Sender) ProcessDue(ctx context.Context) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.hard, cancel)()
	sctx, cancelSettle := settleContext(ctx)
	defer cancelSettle()

	seen := make(map[string]bool)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			fresh    int
			attempts int
		)
		leased, _, err := s.round(ctx, sctx, s.cfg.Workers, func(d *store.Delivery) bool { return seen[d.ID] }, true, &wg, func(d *store.Delivery, ep *store.Endpoint, _ time.Time) {
			seen[d.ID] = true
			fresh++
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s.deliver(ctx, sctx, d, ep, &wg) {
					mu.Lock()
					attempts++
					mu.Unlock()
				}
			}()
		})
		wg.Wait()
		total += attempts
		if err != nil {
			return total, err
		}
		if leased == 0 || fresh == 0 {
			return total, ctx.Err()
		}
	}
}
