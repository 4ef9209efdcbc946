package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// runReceiver is the receiver child: a receiver on the durable inbox named
// by the environment, serving HTTP on a loopback port it prints after
// READY. Its callback appends "<run> <event id>\n" to the file envOut and
// fsyncs it; that line is the callback's side effect. The first envAllow
// callbacks (all when negative) return nil after it; every later one blocks
// until the process is killed, before writing its line (envBlock "before")
// or after (envBlock "after").
func runReceiver() error {
	ctx := context.Background()
	c, err := openReceiverChild(ctx)
	if err != nil {
		return err
	}
	block := os.Getenv(envBlock)
	sideEffect := func(id string) error { return c.writeLine([]byte(strconv.Itoa(c.run) + " " + id)) }
	h := receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		over := c.over()
		if over && block == "before" {
			<-ctx.Done() // never, before the kill: CallbackTimeout is long
			return ctx.Err()
		}
		if err := sideEffect(ev.ID); err != nil {
			return err
		}
		if over {
			<-ctx.Done() // side effect done, MarkHandled not: the window
			return ctx.Err()
		}
		return nil
	})
	secret := os.Getenv(envSecret)
	cfg := c.config(events())
	cfg.Keys = []receiver.Key{{Text: secret}}
	r, err := receiver.New(h, cfg)
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	return serveChild(r)
}

// receiverChild is what every receiver child opens from its environment:
// the durable inbox, its life's number, how many callbacks may complete,
// and the file of side effects.
type receiverChild struct {
	st      durable
	run     int
	allow   int64 // callbacks that complete; negative: all
	started atomic.Int64

	mu  sync.Mutex
	out *os.File
}

// openReceiverChild opens what the environment names for a receiver child.
func openReceiverChild(ctx context.Context) (*receiverChild, error) {
	sp, err := specFromEnv()
	if err != nil {
		return nil, err
	}
	st, _, err := sp.open(ctx, 6)
	if err != nil {
		return nil, err
	}
	c := &receiverChild{st: st}
	if c.run, err = strconv.Atoi(os.Getenv(envRun)); err != nil {
		return nil, err
	}
	if c.allow, err = strconv.ParseInt(os.Getenv(envAllow), 10, 64); err != nil {
		return nil, err
	}
	if c.out, err = os.OpenFile(os.Getenv(envOut), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
		return nil, err
	}
	return c, nil
}

// config is the receiver configuration every child shares, on the child's
// inbox, with room in the queue for n events.
func (c *receiverChild) config(n int) *receiver.Config {
	return &receiver.Config{
		Inbox:            c.st,
		QueueSize:        n + 64,
		Workers:          receiverWorkers,
		CallbackTimeout:  10 * time.Minute, // never, before the kill
		Lease:            inboxLease,
		RecoveryInterval: recoveryInterval,
		Logger:           childLogger(),
	}
}

// over reports whether this callback is past the ones allowed to complete.
func (c *receiverChild) over() bool { return c.allow >= 0 && c.started.Add(1) > c.allow }

// writeLine appends line and a newline to the side-effect file and fsyncs
// it, in one write(2), so that a SIGKILL cannot tear it.
func (c *receiverChild) writeLine(line []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.out.Write(append(line, '\n')); err != nil {
		return err
	}
	return c.out.Sync()
}

// serveChild serves h on a loopback port, prints "READY <addr>" for the
// parent, and blocks until the process is killed.
func serveChild(h http.Handler) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	if _, err := os.Stdout.WriteString("READY " + ln.Addr().String() + "\n"); err != nil {
		return err
	}
	select {} // until SIGKILL, or until stdin closes
}

// TestReceiverCrash: a receiver with a durable inbox, SIGKILLed three times
// between its 200 answers and its callbacks and restarted, hands every
// accepted event to a callback that completes, and re-runs a callback only
// when the crash fell after that callback's side effect and before the
// receiver recorded it handled.
func TestReceiverCrash(t *testing.T) {
	t.Parallel()
	eachKind(t, testReceiverCrash)
}

// receiverRun configures one life of the child.
type receiverRun struct {
	allow int    // callbacks that complete; -1: all
	block string // what the others do: block "before" or "after" their side effect
}

func testReceiverCrash(t *testing.T, sp spec) {
	start := time.Now()
	n := events()
	quarter := n / 4

	g := newReceiverRig(t, sp)
	signer, out, st := g.signer, g.out, g.st
	evs, posted := crashEvents(t, n, "crash.receiver")

	// Three lives end in a SIGKILL, the fourth completes everything.
	runs := []receiverRun{
		{allow: quarter, block: "before"}, // kill 1: most accepted events wait for their callback
		{allow: quarter, block: "after"},  // kill 2: some callbacks wrote their line, not yet handled
		{allow: quarter, block: "before"}, // kill 3: re-driven events wait again
		{allow: -1},
	}
	// window[k] holds the ids whose side effect was in the file while their
	// inbox entry was still claimed right after kill k: the crash fell
	// between callback success and MarkHandled, and only these may run
	// again.
	window := make([]map[string]bool, len(runs))
	var c *child
	for r, rc := range runs {
		before := countLines(t, out)
		c = g.start(t, r, rc)
		url := "http://" + c.addr + "/"
		if r == 0 || r == len(runs)-1 {
			// The first life accepts every event; the last gets every
			// event again, as a sender retrying would send it, and must
			// take each for a duplicate.
			retried := postAll(t, url, signer, evs)
			t.Logf("run %d: posted %d events, all answered 200 (%d answers of 503 retried)", r, n, retried)
		}
		if rc.allow < 0 {
			break
		}
		want := before + rc.allow
		if rc.block == "after" {
			want += receiverWorkers // each worker writes once more, then blocks
		}
		waitFor(t, deadline(), fmt.Sprintf("run %d: %d callback lines", r, want), func() bool {
			return countLines(t, out) >= want
		})
		c.kill(t)
		sp.settle(t)

		// The child is dead: the file and the inbox are what it left.
		recs := readRecords(t, out)
		states := inboxStates(t, st)
		require.Len(t, states, n, "kill %d: the inbox does not hold every accepted event", r+1)
		window[r] = make(map[string]bool)
		written := make(map[string]bool)
		for _, rec := range recs {
			written[rec.id] = true
			if states[rec.id] == store.InboxClaimed {
				window[r][rec.id] = true
			}
		}
		waiting := 0
		for id, s := range states {
			require.NotEqual(t, store.InboxDead, s, "kill %d: event %s dead", r+1, id)
			if s == store.InboxClaimed && !written[id] {
				waiting++
			}
		}
		t.Logf("kill %d: %d events answered 200 and not yet handed to a completed callback; %d in the window after the side effect",
			r+1, waiting, len(window[r]))
		if r == 0 {
			require.Greater(t, waiting, n/2, "kill 1 should leave most accepted events unhandled")
		}
		if rc.block == "after" {
			require.GreaterOrEqual(t, len(window[r]), receiverWorkers, "kill %d: callbacks blocked after their side effect must be in the window", r+1)
		}
	}

	// The last life re-drives everything still claimed.
	reruns, inWindow := checkHandledOnce(t, st, c, out, posted, window)
	require.Positive(t, reruns)
	t.Logf("%s: %d events, %d kills; %d callback re-runs, all after a crash in the side-effect/MarkHandled window (%d window entries); total %v",
		sp.kind, n, len(runs)-1, reruns, inWindow, time.Since(start).Round(time.Millisecond))
}

// receiverRig is what the lives of a receiver child share: the store, the
// signing secret and the callback's file.
type receiverRig struct {
	sp     spec
	secret signature.Secret
	signer *signature.Signer
	out    string  // the callback's file
	st     durable // the parent's view of the store
}

// newReceiverRig migrates sp's store before any child starts (the parent
// reads the inbox after each kill through it) and makes a secret.
func newReceiverRig(t *testing.T, sp spec) *receiverRig {
	t.Helper()
	secret, err := signature.NewSecret()
	require.NoError(t, err)
	signer, err := signature.NewSigner([]signature.Secret{secret})
	require.NoError(t, err)
	return &receiverRig{sp: sp, secret: secret, signer: signer,
		out: filepath.Join(t.TempDir(), "handled.log"), st: sp.openT(t, 2)}
}

// start starts life run of the receiver child, configured by rc.
func (g *receiverRig) start(t *testing.T, run int, rc receiverRun) *child {
	t.Helper()
	return startChild(t, fmt.Sprintf("receiver run %d", run), "receiver", append(g.sp.env(),
		envSecret+"="+g.secret.String(), envOut+"="+g.out, envRun+"="+strconv.Itoa(run),
		envAllow+"="+strconv.Itoa(rc.allow), envBlock+"="+rc.block)...)
}

// crashEvents returns n new events of type typ and the set of their ids.
func crashEvents(t *testing.T, n int, typ string) ([]event.Event, map[string]bool) {
	t.Helper()
	evs := make([]event.Event, n)
	posted := make(map[string]bool, n)
	for i := range evs {
		var err error
		evs[i], err = event.New(event.ModeTest, typ, map[string]int{"n": i})
		require.NoError(t, err)
		posted[evs[i].ID] = true
	}
	return evs, posted
}

// checkHandledOnce waits until the last life c of a receiver child has
// handled every event still claimed, kills it, and checks what the lives
// left: every posted event handled in the inbox, its callback completed at
// least once, never twice in one life, and again in a later life only if
// it was in window[k] (side effect written, still claimed right after kill
// k+1), and every event of a window re-driven. It returns how many
// callbacks ran again and how many window entries there were.
func checkHandledOnce(t *testing.T, st durable, c *child, out string, posted map[string]bool, window []map[string]bool) (reruns, inWindow int) {
	t.Helper()
	waitFor(t, deadline(), "every inbox entry handled", func() bool {
		es, _, err := st.ListInbox(context.Background(), store.InboxClaimed, store.Page{Limit: 1})
		require.NoError(t, err)
		return len(es) == 0
	})
	c.kill(t)

	states := inboxStates(t, st)
	require.Len(t, states, len(posted))
	for id, s := range states {
		require.True(t, posted[id], "inbox holds an event never posted: %s", id)
		require.Equal(t, store.InboxHandled, s, "event %s", id)
	}
	byID := make(map[string][]int, len(posted))
	for _, rec := range readRecords(t, out) {
		require.True(t, posted[rec.id], "callback ran for an event never posted: %s", rec.id)
		byID[rec.id] = append(byID[rec.id], rec.run)
	}
	for id := range posted {
		rs := byID[id]
		require.NotEmpty(t, rs, "event %s was answered 200 but no callback ever completed it", id)
		for j := 1; j < len(rs); j++ {
			require.Greater(t, rs[j], rs[j-1], "event %s handed to the callback twice by one process: runs %v", id, rs)
			require.True(t, window[rs[j-1]][id],
				"event %s ran again in run %d although the crash after run %d did not fall between its side effect and its mark-handled record (runs %v)",
				id, rs[j], rs[j-1], rs)
			reruns++
		}
	}
	for k, w := range window {
		inWindow += len(w)
		for id := range w {
			rs := byID[id]
			require.Greater(t, rs[len(rs)-1], k, "event %s was in the window at kill %d but never re-driven", id, k+1)
		}
	}
	return reruns, inWindow
}

// record is one line of the callback's file.
type record struct {
	run int
	id  string
}

// readRecords parses the callback's file; every line must be whole.
func readRecords(tb testing.TB, path string) []record {
	tb.Helper()
	b, err := os.ReadFile(path)
	require.NoError(tb, err)
	require.True(tb, len(b) == 0 || b[len(b)-1] == '\n', "torn last line in %s", path)
	var recs []record
	for line := range bytes.Lines(b) {
		runText, id, ok := strings.Cut(strings.TrimSuffix(string(line), "\n"), " ")
		require.True(tb, ok, "malformed line %q", line)
		run, err := strconv.Atoi(runText)
		require.NoError(tb, err)
		recs = append(recs, record{run: run, id: id})
	}
	return recs
}

// inboxStates returns the state of every inbox entry, by key.
func inboxStates(tb testing.TB, st durable) map[string]store.InboxState {
	tb.Helper()
	states := make(map[string]store.InboxState)
	page := store.Page{Limit: store.MaxPageSize}
	for {
		es, next, err := st.ListInbox(context.Background(), "", page)
		require.NoError(tb, err)
		for _, e := range es {
			states[e.Key] = e.State
		}
		if next == "" {
			return states
		}
		page.Cursor = next
	}
}

// postAll posts every event to url, signed, from a few goroutines, and
// requires a 200 for each. A 503 (the receiver's inbox or queue was briefly
// unavailable) is retried, as a sender would; postAll returns how many were.
func postAll(tb testing.TB, url string, signer *signature.Signer, evs []event.Event) int {
	tb.Helper()
	return postEach(tb, len(evs), func(client *http.Client, i int) (int, error) {
		return post(client, url, signer, evs[i])
	})
}

// postEach calls send for 0 to n-1 from a few goroutines and requires each
// to answer 200. An answer of 503 is sent again, after a pause, as a
// sender would retry it; postEach returns how many were.
func postEach(tb testing.TB, n int, send func(client *http.Client, i int) (status int, err error)) int {
	tb.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var (
		next, retried atomic.Int64
		mu            sync.Mutex
		firstErr      error
		wg            sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	end := time.Now().Add(deadline())
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				for {
					status, err := send(client, i)
					if err != nil {
						fail(err)
						return
					}
					if status == http.StatusServiceUnavailable && time.Now().Before(end) {
						retried.Add(1)
						<-time.After(10 * time.Millisecond) // a sender's backoff, not a wait for a condition
						continue
					}
					if status != http.StatusOK {
						fail(fmt.Errorf("request %d: status %d", i, status))
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	require.NoError(tb, firstErr)
	return int(retried.Load())
}

// post sends one signed delivery of ev and returns the status.
func post(client *http.Client, url string, signer *signature.Signer, ev event.Event) (int, error) {
	now := time.Now()
	body := ev.AppendJSON(nil, now)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	signer.SignHeader(req.Header, ev.ID, now, body)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
