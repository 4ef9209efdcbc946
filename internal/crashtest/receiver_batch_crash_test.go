package crashtest

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// postersMidBatch is how many requests are in flight at once while the
// child is killed: enough for the group commit to gather several claims
// per batch.
const postersMidBatch = 32

// TestReceiverCrashMidBatch (SQLite and PostgreSQL): a receiver whose
// durable inbox writes claims and mark-handled records in batches (group
// commit) is SIGKILLed twice while requests are in flight, so while claim
// batches are being written and handled events wait for their record, and
// restarted. Every event answered 200 is in the inbox right after the kill
// (never 200 before its claim is durable); every one is handed to a
// callback that completes at least once; a second completed run happens
// only after a crash that fell between the first's side effect and its
// mark-handled record; and none twice in one process.
func TestReceiverCrashMidBatch(t *testing.T) {
	t.Parallel()
	eachKind(t, testReceiverCrashMidBatch)
}

func testReceiverCrashMidBatch(t *testing.T, sp spec) {
	start := time.Now()
	n := events()
	g := newReceiverRig(t, sp)
	signer, out, st := g.signer, g.out, g.st
	if _, ok := store.Inbox(st).(store.InboxBatcher); !ok {
		t.Logf("%s: the inbox does not implement store.InboxBatcher; the receiver claims one at a time", sp.kind)
	}
	evs, posted := crashEvents(t, n, "crash.batch")

	// Two lives get the events not yet answered 200, as senders retrying
	// them would send them, and are killed once a third of those were
	// answered 200, with requests still in flight; the third gets every
	// event again (the ones answered before must be duplicates) and
	// handles what is left.
	const kills = 2
	window := make([]map[string]bool, kills)
	acked := make(map[string]bool, n) // answered 200 by some life
	var c *child
	for r := 0; r <= kills; r++ {
		c = g.start(t, r, receiverRun{allow: -1})
		url := "http://" + c.addr + "/"
		if r == kills {
			retried := postAll(t, url, signer, evs)
			t.Logf("run %d: posted %d events, all answered 200 (%d answers of 503 retried)", r, n, retried)
			break
		}
		var todo []event.Event
		for _, ev := range evs {
			if !acked[ev.ID] {
				todo = append(todo, ev)
			}
		}
		ok, inFlight := postUntilKilled(t, url, signer, todo, len(todo)/3, func() { c.kill(t) })
		for _, id := range ok {
			acked[id] = true
		}

		// The child is dead: the inbox and the file are what it left.
		sp.settle(t)
		states := inboxStates(t, st)
		for _, id := range ok {
			require.Contains(t, states, id, "kill %d: event %s was answered 200 but its claim is not in the inbox", r+1, id)
		}
		window[r] = make(map[string]bool)
		claimed, unanswered := 0, 0
		for _, rec := range readRecords(t, out) {
			if states[rec.id] == store.InboxClaimed {
				window[r][rec.id] = true
			}
		}
		for id, s := range states {
			require.NotEqual(t, store.InboxDead, s)
			if s == store.InboxClaimed {
				claimed++
			}
			if !acked[id] {
				unanswered++ // claimed durably, its answer cut off by the kill
			}
		}
		t.Logf("kill %d: %d of %d events answered 200 in this life, %d requests in flight at the kill; inbox: %d entries (%d never answered 200), %d claimed, %d in the window after the side effect",
			r+1, len(ok), len(todo), inFlight, len(states), unanswered, claimed, len(window[r]))
	}

	reruns, inWindow := checkHandledOnce(t, st, c, out, posted, window)
	t.Logf("%s: %d events (%d answered 200 before the kills), %d kills mid-batch; %d callback re-runs, all after a crash in the side-effect/mark-handled window (%d window entries); total %v",
		sp.kind, n, len(acked), kills, reruns, inWindow, time.Since(start).Round(time.Millisecond))
}

// postUntilKilled posts the events to url in order from postersMidBatch
// goroutines and, once killAt of them were answered 200, calls kill with
// the other requests still in flight. It returns the ids answered 200 and
// how many requests were in flight when kill was called. Requests that
// fail (the child is gone) or are answered 503 are not retried.
func postUntilKilled(tb testing.TB, url string, signer *signature.Signer, evs []event.Event, killAt int, kill func()) (ok []string, inFlightAtKill int) {
	tb.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var (
		next, acked, inFlight atomic.Int64
		mu                    sync.Mutex
		killed                sync.Once
		wg                    sync.WaitGroup
		other                 error
	)
	for range postersMidBatch {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(evs) {
					return
				}
				inFlight.Add(1)
				status, err := post(client, url, signer, evs[i])
				inFlight.Add(-1)
				if err != nil {
					return // killed
				}
				switch status {
				case http.StatusOK:
					mu.Lock()
					ok = append(ok, evs[i].ID)
					mu.Unlock()
					if acked.Add(1) == int64(killAt) {
						killed.Do(func() {
							inFlightAtKill = int(inFlight.Load())
							kill()
						})
					}
				case http.StatusServiceUnavailable:
				default:
					mu.Lock()
					other = fmt.Errorf("event %s: status %d", evs[i].ID, status)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	killed.Do(kill) // fewer answers than killAt: kill after all
	require.NoError(tb, other)
	return ok, inFlightAtKill
}
