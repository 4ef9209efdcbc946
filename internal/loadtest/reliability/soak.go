package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/store/memory"
)

// soakMix is the soak's light faults, enough to keep the retry paths busy.
var soakMix = faultMix{fault500: 3, fault503: 1, faultHang: 1, faultReset: 1, faultLost: 2}

// Flatness thresholds: the last third's live heap may exceed the middle
// third's by soakGrowth or soakSlack, whichever is larger.
const (
	soakGrowth     = 0.10
	soakSlack      = 1 << 20
	soakGoroutines = 20
)

// sample is one heap sample.
type sample struct {
	at         time.Duration
	heapAlloc  uint64 // live heap after a GC
	heapInuse  uint64
	sys        uint64
	goroutines int
	published  int
	delivered  int64
	store      memory.Stats
	inbox      int
}

func runSoak(ctx context.Context, cfg config, w io.Writer) error {
	// Caps sized to fill within the first sixth of the run, so the last two
	// thirds measure the steady state.
	capN := max(100, cfg.rate*int(cfg.soak.Seconds())/6)
	total := cfg.rate*int(cfg.soak.Seconds()) + cfg.rate
	p, err := newPipeline(ctx, pipelineConfig{
		kind: loadtest.Memory,
		storeOpts: loadtest.StoreOptions{Memory: &memory.Config{
			MaxAttempts: capN, MaxFinishedDeliveries: capN, MaxInboxEntries: capN,
		}},
		inboxCap: capN, mix: soakMix, maxFaults: 4, forget: true, seed: cfg.seed, capacity: total,
	})
	if err != nil {
		return err
	}
	defer p.close()
	fmt.Fprintf(w, "publishing %d events/s for %v through light faults (%d%% of requests); memory store and inbox capped at %d entries each; %d heap samples\n",
		cfg.rate, cfg.soak, 100-faultsNone(soakMix), capN, cfg.samples)

	start := time.Now()
	published := 0
	var samples []sample
	take := func() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		samples = append(samples, sample{
			at: time.Since(start), heapAlloc: m.HeapAlloc, heapInuse: m.HeapInuse, sys: m.Sys,
			goroutines: runtime.NumGoroutine(), published: published, delivered: p.ok.Load(),
			store: p.st.Memory.Stats(), inbox: p.inbox.Stats().InboxEntries,
		})
	}
	every := cfg.soak / time.Duration(cfg.samples)
	nextSample := start.Add(every)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	end := start.Add(cfg.soak)
	var pubErr error
	for now := start; now.Before(end) && pubErr == nil && ctx.Err() == nil; now = <-tick.C {
		due := min(int(now.Sub(start).Seconds()*float64(cfg.rate)), total)
		for ; published < due; published++ {
			if pubErr = p.publish(ctx, published); pubErr != nil {
				break
			}
		}
		if !now.Before(nextSample) {
			take()
			nextSample = nextSample.Add(every)
		}
	}
	if len(samples) < cfg.samples {
		take()
	}
	waitErr := p.waitDelivered(ctx, int64(published), 2*time.Minute)
	shutErr := p.shutdown(ctx)

	fmt.Fprintln(w, "| t | live heap | heap in use | sys | goroutines | published | delivered | store deliveries | attempts kept | inbox entries |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range samples {
		fmt.Fprintf(w, "| %v | %.1f MiB | %.1f MiB | %.1f MiB | %d | %d | %d | %d | %d | %d |\n",
			s.at.Round(100*time.Millisecond), mib(s.heapAlloc), mib(s.heapInuse), mib(s.sys), s.goroutines, s.published, s.delivered,
			s.store.Deliveries, s.store.Attempts, s.inbox)
	}
	third := len(samples) / 3
	mid, last := samples[third:len(samples)-third], samples[len(samples)-third:]
	midHeap, lastHeap := medianOf(mid, func(s sample) float64 { return float64(s.heapAlloc) }), medianOf(last, func(s sample) float64 { return float64(s.heapAlloc) })
	midG, lastG := medianOf(mid, func(s sample) float64 { return float64(s.goroutines) }), medianOf(last, func(s sample) float64 { return float64(s.goroutines) })
	once, never, more := p.handledCounts(published)

	c := &check{name: "soak", w: w}
	c.that(pubErr == nil && waitErr == nil && shutErr == nil, "the run finished: everything published was delivered (%v; %v; %v)", pubErr, waitErr, shutErr)
	c.that(published >= cfg.rate*int(cfg.soak.Seconds())*9/10, "the load was offered: %d events published (%.0f/s)", published, float64(published)/cfg.soak.Seconds())
	c.that(p.given.Load() == 0 && once == published && never == 0 && more == 0,
		"every published event was handled exactly once (%d once, %d never, %d more than once, %d given up)", once, never, more, p.given.Load())
	limit := max(midHeap*(1+soakGrowth), midHeap+soakSlack)
	c.that(lastHeap <= limit, "flat memory: median live heap %.1f MiB in the last third vs %.1f MiB in the middle third (%+.0f%%; limit %.1f MiB)",
		mib(uint64(lastHeap)), mib(uint64(midHeap)), 100*(lastHeap/midHeap-1), mib(uint64(limit)))
	if errs := p.errs.String(); errs != "none" {
		fmt.Fprintf(w, "sender error logs: %s\n", errs)
	}
	c.that(lastG <= midG+soakGoroutines, "flat goroutines: median %.0f in the last third vs %.0f in the middle third", lastG, midG)
	return c.done()
}

func faultsNone(m faultMix) int {
	n := 100
	for k := fault500; k < numFaults; k++ {
		n -= m[k]
	}
	return n
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func medianOf(ss []sample, f func(sample) float64) float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return loadtest.Median(xs)
}
