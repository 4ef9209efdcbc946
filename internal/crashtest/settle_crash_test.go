package crashtest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// settleTrap is the sender child's store when envTrap is set: once more
// than after succeeded outcomes have come to Settle, the Settle call that
// brings them there prints "SETTLING" and each of its succeeded
// deliveries ("deliveryID:eventID") on one line, and blocks without
// writing anything, until the parent SIGKILLs the process. The requests of
// those deliveries were answered 2xx; their outcomes are never committed.
// (It hides the store's optional interfaces, Notifier among them: the
// child polls.)
type settleTrap struct {
	store.SenderStore
	after int

	mu      sync.Mutex
	settled int
}

func (s *settleTrap) Settle(ctx context.Context, b store.SettleBatch) (store.SettleResult, error) {
	var ok []string
	for _, st := range b.Settlements {
		if st.Outcome == store.OutcomeSucceeded && st.Attempt != nil {
			ok = append(ok, st.Ref.DeliveryID+":"+st.Attempt.EventID)
		}
	}
	s.mu.Lock()
	s.settled += len(ok)
	trap := len(ok) > 0 && s.settled > s.after
	s.mu.Unlock()
	if trap {
		fmt.Fprintf(os.Stdout, "SETTLING %s\n", strings.Join(ok, " "))
		select {} // until SIGKILL
	}
	return s.SenderStore.Settle(ctx, b)
}

// settleKills is how many times TestSenderCrashMidSettle kills its child.
const settleKills = 2

// TestSenderCrashMidSettle (SQLite and PostgreSQL): a sender in a child
// process is SIGKILLed after the requests of a batch of deliveries were
// answered 200 and before the batch's Settle committed (the child's store
// blocks in Settle and says so; see settleTrap), twice, and restarted.
// Right after each kill those deliveries are still leased: their success
// was never written. The last life delivers everything: every event
// reaches the endpoint, the ones of the lost batches again (a redelivery
// of the same event id, answered as a duplicate), no event the test did
// not publish ever arrives, the de-duplicating receiver runs each
// callback once, and the store ends with every delivery succeeded.
func TestSenderCrashMidSettle(t *testing.T) {
	t.Parallel()
	eachKind(t, testSenderCrashMidSettle)
}

func testSenderCrashMidSettle(t *testing.T, sp spec) {
	start := time.Now()
	ctx := context.Background()
	n := events() / 5

	// The endpoint: a real receiver with its in-memory inbox.
	secret, err := signature.NewSecret()
	require.NoError(t, err)
	recv, tl := startEndpoint(t, secret, receiver.Config{QueueSize: n + 64})
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	st := sp.openT(t, 4)
	ids := seed(t, st, srv.URL, secret, n, "crash.settle")

	// Each life settles a quarter of the events, then blocks in the Settle
	// of the next batch with a success in it, and is killed there.
	lost := make(map[string]bool) // event ids of the batches never settled
	for k := 1; k <= settleKills; k++ {
		c := startChild(t, "sender", "sender", append(sp.env(), envTrap+"="+strconv.Itoa(n/4))...)
		var line string
		select {
		case line = <-c.lines:
		case <-c.done:
			t.Fatalf("kill %d: the child exited before it settled", k)
		case <-time.After(deadline()):
			t.Fatalf("kill %d: the child did not reach the trap within %v", k, deadline())
		}
		batch, ok := strings.CutPrefix(line, "SETTLING ")
		require.True(t, ok, "kill %d: unexpected line from the child: %q", k, line)
		c.kill(t)
		sp.settle(t)
		pairs := strings.Fields(batch)
		require.NotEmpty(t, pairs)
		for _, p := range pairs {
			did, eid, ok := strings.Cut(p, ":")
			require.True(t, ok, p)
			require.True(t, ids[eid], "kill %d: the batch holds an event never published: %s", k, eid)
			d, err := st.GetDelivery(ctx, did)
			require.NoError(t, err)
			require.Equal(t, store.StateLeased, d.State, "kill %d: delivery %s of the unsettled batch", k, did)
			tl.mu.Lock()
			r := tl.reached[eid]
			tl.mu.Unlock()
			require.GreaterOrEqual(t, r, 1, "kill %d: the endpoint answered event %s 200 before its Settle", k, eid)
			lost[eid] = true
		}
		t.Logf("kill %d: child SIGKILLed in the Settle of a batch of %d succeeded deliveries", k, len(pairs))
	}

	// The last life delivers the rest, the lost batches included once
	// their leases end.
	c := startChild(t, "sender", "sender", sp.env()...)
	waitFor(t, deadline(), "every event handled and every delivery settled", func() bool {
		return tl.handled() >= n && settled(t, st)
	})
	c.kill(t)

	tl.mu.Lock()
	defer tl.mu.Unlock()
	for id := range tl.reached {
		require.True(t, ids[id], "the endpoint got an event never published: %s", id)
	}
	redelivered := 0
	for id := range ids {
		require.GreaterOrEqual(t, tl.reached[id], 1, "event %s never reached the endpoint", id)
		require.Equal(t, 1, tl.calls[id], "event %s: callback runs", id)
		if lost[id] {
			require.GreaterOrEqual(t, tl.reached[id], 2, "event %s of an unsettled batch was not delivered again", id)
		}
		redelivered += tl.reached[id] - 1
	}
	require.Len(t, tl.calls, n)
	stats := recv.Stats()
	require.Equal(t, uint64(n), stats.Accepted)
	require.Equal(t, uint64(redelivered), stats.Duplicates)
	require.Equal(t, n, countDeliveries(t, st, store.StateSucceeded))
	t.Logf("%s: %d events, %d kills mid-Settle (%d events in the unsettled batches), %d redeliveries answered as duplicates; total %v",
		sp.kind, n, settleKills, len(lost), redelivered, time.Since(start).Round(time.Millisecond))
}
