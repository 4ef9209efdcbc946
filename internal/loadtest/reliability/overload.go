package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// Overload receiver settings.
const (
	overloadWorkers    = 2
	overloadQueue      = 16
	overloadRetryAfter = time.Second
)

// overloadStats are the generator's observations.
type overloadStats struct {
	mu            sync.Mutex
	acked         map[string]time.Duration // id -> time from first send to its 200
	handled       map[string]int           // id -> callback calls
	requests      int
	status        map[int]int
	retryAfter    map[string]int // Retry-After values of 503s
	noRetryAfter  int            // 503s without a valid Retry-After
	notHeld       []string       // 200s whose event the inbox did not hold
	claimLeft     []string       // 503s that left a claim behind
	transportErrs int
	maxTries      int
}

func runOverload(ctx context.Context, cfg config, w io.Writer) error {
	sec, err := signature.NewSecret()
	if err != nil {
		return err
	}
	st := &overloadStats{acked: map[string]time.Duration{}, handled: map[string]int{}, status: map[int]int{}, retryAfter: map[string]int{}}
	work := time.Duration(float64(overloadWorkers) / float64(cfg.capacity) * float64(time.Second))
	inbox := memory.New(&memory.Config{Logger: loadtest.Discard()})
	rcv, err := receiver.New(receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		time.Sleep(work) // the deliberately slow callback
		st.mu.Lock()
		st.handled[ev.ID]++
		st.mu.Unlock()
		return nil
	}), &receiver.Config{
		Keys: []receiver.Key{{Text: sec.String()}}, Workers: overloadWorkers, QueueSize: overloadQueue,
		RetryAfter: overloadRetryAfter, Inbox: inbox, Logger: loadtest.Discard(),
	})
	if err != nil {
		return err
	}
	if err := rcv.Start(context.WithoutCancel(ctx)); err != nil { // drained by Shutdown
		return err
	}
	defer rcv.Close() //nolint:errcheck // returns nil; a no-op after Shutdown
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	ln, err := loadtest.Listen(ctx, "")
	if err != nil {
		return err
	}
	go loadtest.Serve(srvCtx, ln, rcv) //nolint:errcheck // ends with srvCtx
	url := "http://" + ln.Addr().String() + "/"
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: loadtest.Dialer().DialContext, MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024,
	}}
	defer client.CloseIdleConnections()

	offered := 2 * cfg.capacity
	fmt.Fprintf(w, "receiver: %d workers, queue %d, callback %v each (capacity %d events/s), Retry-After %v; offering %d new events/s for %v\n",
		overloadWorkers, overloadQueue, work, cfg.capacity, overloadRetryAfter, offered, cfg.overload)

	src, err := loadtest.NewEventSource(sec, loadtest.BodySize, cfg.seed)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	var sent atomic.Int64
	start := time.Now()
	interval := time.Second / time.Duration(offered)
	total := int(cfg.overload / interval)
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		ev := src.Next(time.Now())
		body := bytes.Clone(ev.Body)
		sig := string(ev.Signature)
		sent.Add(1)
		wg.Go(func() { st.deliver(ctx, client, url, inbox, ev.ID, ev.Timestamp, sig, body) })
	}
	offerTime := time.Since(start)
	wg.Wait()
	allAcked := time.Since(start)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	shutdownErr := rcv.Shutdown(sctx)
	drained := time.Since(start)
	stopSrv()

	st.mu.Lock()
	defer st.mu.Unlock()
	n := int(sent.Load())
	var exactlyOnce, notHandled, twice int
	var maxWait time.Duration
	for id, wait := range st.acked {
		maxWait = max(maxWait, wait)
		switch st.handled[id] {
		case 1:
			exactlyOnce++
		case 0:
			notHandled++
		default:
			twice++
		}
	}
	handledNotAcked := 0
	for id := range st.handled {
		if _, ok := st.acked[id]; !ok {
			handledNotAcked++
		}
	}
	rs := rcv.Stats()
	fmt.Fprintf(w, "offered %d events in %v (%.0f/s); %d requests: %v; transport errors %d; Retry-After values %v\n",
		n, offerTime.Round(time.Millisecond), float64(n)/offerTime.Seconds(), st.requests, st.status, st.transportErrs, st.retryAfter)
	fmt.Fprintf(w, "all answered 200 after %v (at most %d tries, %v from first try to 200 for one event); drained after %v; handled %.0f events/s overall\n",
		allAcked.Round(time.Millisecond), st.maxTries, maxWait.Round(time.Millisecond), drained.Round(time.Millisecond), float64(len(st.handled))/drained.Seconds())

	c := &check{name: "overload", w: w}
	c.that(st.status[http.StatusServiceUnavailable] > 0, "the receiver was overloaded: %d of %d requests answered 503 (%.0f%%)",
		st.status[http.StatusServiceUnavailable], st.requests, 100*float64(st.status[http.StatusServiceUnavailable])/float64(max(st.requests, 1)))
	c.that(len(st.notHeld) == 0, "no 200 without the event held: each of the %d 200s found its event claimed or handled in the inbox at once (violations: %d %v)",
		len(st.acked), len(st.notHeld), firstN(st.notHeld, 3))
	c.that(st.noRetryAfter == 0, "every 503 carried a valid Retry-After (%d 503s; without: %d)", st.status[http.StatusServiceUnavailable], st.noRetryAfter)
	c.that(len(st.claimLeft) == 0, "every 503 released its claim, so the retry was accepted, not taken for a duplicate (violations: %d)", len(st.claimLeft))
	c.that(shutdownErr == nil, "the receiver drained every accepted event on Shutdown (err: %v)", shutdownErr)
	c.that(exactlyOnce == len(st.acked) && notHandled == 0 && twice == 0 && handledNotAcked == 0,
		"every event answered 200 was handed to the callback exactly once (%d exactly once, %d never, %d more than once, %d handled without a 200)",
		exactlyOnce, notHandled, twice, handledNotAcked)
	c.that(len(st.acked) == n, "nothing lost: all %d offered events were answered 200 in the end (%d were)", n, len(st.acked))
	c.that(rs.Accepted == uint64(n) && rs.Duplicates == 0 && rs.Rejected == 0,
		"the receiver's counters agree: accepted %d, duplicates %d, rejected %d, 503s %d", rs.Accepted, rs.Duplicates, rs.Rejected, rs.Unavailable)
	c.that(st.status[http.StatusOK]+st.status[http.StatusServiceUnavailable] == st.requests && st.transportErrs == 0,
		"no answer other than 200 and 503, no transport error")
	return c.done()
}

// deliver posts one event until it is answered 200, as a sender would,
// honouring Retry-After, and checks each answer against the inbox.
func (st *overloadStats) deliver(ctx context.Context, client *http.Client, url string, inbox *memory.Store, id, ts, sig string, body []byte) {
	first := time.Now()
	for tries := 1; ctx.Err() == nil; tries++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(signature.HeaderID, id)
		req.Header.Set(signature.HeaderTimestamp, ts)
		req.Header.Set(signature.HeaderSignature, sig)
		resp, err := client.Do(req)
		if err != nil {
			st.mu.Lock()
			st.requests++
			st.transportErrs++
			st.mu.Unlock()
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		var entry *store.InboxEntry
		var entryErr error
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusServiceUnavailable {
			entry, entryErr = inbox.GetInboxEntry(ctx, id)
		}
		ra := resp.Header.Get("Retry-After")
		secs, raErr := strconv.Atoi(ra)

		st.mu.Lock()
		st.requests++
		st.status[resp.StatusCode]++
		st.maxTries = max(st.maxTries, tries)
		switch resp.StatusCode {
		case http.StatusOK:
			if entryErr != nil || (entry.State != store.InboxClaimed && entry.State != store.InboxHandled) {
				st.notHeld = append(st.notHeld, fmt.Sprintf("%s (entry %v, %v)", id, entry, entryErr))
			}
			st.acked[id] = time.Since(first)
		case http.StatusServiceUnavailable:
			st.retryAfter[ra]++
			if raErr != nil || secs < 1 {
				st.noRetryAfter++
				secs = 1
			}
			if !errors.Is(entryErr, store.ErrNotFound) {
				st.claimLeft = append(st.claimLeft, id)
			}
		}
		st.mu.Unlock()
		if resp.StatusCode != http.StatusServiceUnavailable {
			return // 200, or a failure recorded in status
		}
		sleep(ctx, time.Duration(secs)*time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func firstN(xs []string, n int) []string { return xs[:min(n, len(xs))] }
