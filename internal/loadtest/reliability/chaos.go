package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/store"
)

// chaosMix is the chaos run's faults, in percent of requests: 55% are
// faulted, at most chaosMaxFaults times per event id.
var chaosMix = faultMix{fault500: 30, fault503: 5, faultHang: 5, faultReset: 5, faultLost: 10}

const chaosMaxFaults = 4

func runChaos(ctx context.Context, cfg config, w io.Writer) error {
	fmt.Fprintf(w, "faulty endpoint (seed %d): 500 %d%%, 503 %d%%, hang past the %v timeout %d%%, reset %d%%, reset after the receiver accepted (200 lost) %d%%; at most %d faults per event id; sender: %d workers, up to %d attempts, 2-50 ms backoff\n",
		cfg.seed, chaosMix[fault500], chaosMix[fault503], requestTimeout, chaosMix[faultHang], chaosMix[faultReset], chaosMix[faultLost],
		chaosMaxFaults, senderWorkers, maxAttempts)
	var errs []error
	for _, kind := range cfg.stores {
		err := chaosOne(ctx, cfg, kind, w)
		if errors.Is(err, loadtest.ErrNoDSN) && !cfg.requirePG {
			fmt.Fprintf(w, "SKIP chaos/%s: %s is not set\n", kind, loadtest.EnvDSN)
			continue
		}
		if err != nil && !errors.Is(err, errFailed) {
			fmt.Fprintf(w, "FAIL chaos/%s: %v\n", kind, err)
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return errFailed
	}
	return nil
}

func chaosOne(ctx context.Context, cfg config, kind string, w io.Writer) error {
	n := cfg.events
	p, err := newPipeline(ctx, pipelineConfig{kind: kind, mix: chaosMix, maxFaults: chaosMaxFaults, seed: cfg.seed, capacity: n})
	if err != nil {
		return err
	}
	defer p.close()
	start := time.Now()
	for i := range n {
		if err := p.publish(ctx, i); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
	waitErr := p.waitDelivered(ctx, int64(n), 5*time.Minute)
	delivered := time.Since(start)
	shutErr := p.shutdown(ctx)

	counts := p.faults.Counts()
	passed := counts[faultNone] + counts[faultLost] // requests the receiver saw
	faulted := 0
	for k := fault500; k < numFaults; k++ {
		faulted += counts[k]
	}
	once, never, more := p.handledCounts(n)
	rs := p.rcv.Stats()
	fmt.Fprintf(w, "chaos/%s: %d events delivered in %v; endpoint saw %s; sender attempts %d\n",
		kind, n, delivered.Round(time.Millisecond), p.faults, p.attempts.Load())

	c := &check{name: "chaos/" + kind, w: w}
	c.that(waitErr == nil && shutErr == nil, "the run finished: every delivery succeeded within the time limit (%v; %v)", waitErr, shutErr)
	c.that(faulted > 0 && counts[faultLost] > 0, "faults happened: %d of %d requests were faulted, %d of them after the receiver had accepted the event",
		faulted, faulted+counts[faultNone], counts[faultLost])
	c.that(p.given.Load() == 0, "no delivery was given up (%d)", p.given.Load())
	c.that(p.ok.Load() == int64(n), "every event delivered: %d successful attempts for %d events", p.ok.Load(), n)
	c.that(once == n && never == 0 && more == 0 && p.unknown.Load() == 0,
		"none duplicated past the de-dup receiver: the callback ran exactly once for each of the %d events (once %d, never %d, more %d, unknown ids %d)",
		n, once, never, more, p.unknown.Load())
	c.that(rs.Accepted == uint64(n) && rs.Duplicates == uint64(passed-n),
		"the receiver took %d redeliveries of events it held for duplicates, exactly one per request beyond the first per event (accepted %d, duplicates %d)",
		passed-n, rs.Accepted, rs.Duplicates)
	if kind != loadtest.Memory {
		succeeded, failed, err := countDeliveries(ctx, p.st.Sender)
		other := ""
		if succeeded != n {
			other = describeOthers(ctx, p.st.Sender)
		}
		c.that(err == nil && succeeded == n && failed == 0, "the %s store holds every delivery succeeded (%d succeeded, %d failed, err %v%s)",
			kind, succeeded, failed, err, other)
	}
	if len(c.failed) > 0 {
		fmt.Fprintf(w, "sender error logs: %s\n", &p.errs)
	}
	return c.done()
}

// countDeliveries counts the succeeded and failed deliveries in st.
func countDeliveries(ctx context.Context, st store.Deliveries) (succeeded, failed int, err error) {
	for _, state := range []store.DeliveryState{store.StateSucceeded, store.StateFailed} {
		f := store.DeliveryFilter{AllTenants: true, State: state, Page: store.Page{Limit: store.MaxPageSize}}
		for {
			ds, next, err := st.ListDeliveries(ctx, f)
			if err != nil {
				return 0, 0, err
			}
			if state == store.StateSucceeded {
				succeeded += len(ds)
			} else {
				failed += len(ds)
			}
			if next == "" {
				break
			}
			f.Page.Cursor = next
		}
	}
	return succeeded, failed, nil
}

// describeOthers lists deliveries that did not succeed, for a failure report.
func describeOthers(ctx context.Context, st store.Deliveries) string {
	ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, Page: store.Page{Limit: store.MaxPageSize}})
	if err != nil {
		return "; listing: " + err.Error()
	}
	s := ""
	for _, d := range ds {
		if d.State != store.StateSucceeded {
			s += fmt.Sprintf("; %s %s attempts %d last error %q", d.Event.ID, d.State, d.Attempts, d.LastError)
		}
	}
	return s
}
