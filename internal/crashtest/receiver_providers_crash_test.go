package crashtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// The provider sources' secrets, known to the parent (which signs) and the
// child (which verifies): the same test binary.
const (
	githubSecret = "crashtest-github-secret"
	stripeSecret = "whsec_crashtest_stripe"
)

// providerHeaders are the request headers the provider child writes down
// from each Delivery: the providers' own, one of the test's, and
// Authorization, which the receiver must not keep.
var providerHeaders = []string{
	"Content-Type",
	"X-Github-Delivery", "X-Github-Event", "X-Hub-Signature-256",
	"Stripe-Signature",
	"X-Crashtest-Request",
	"Authorization",
}

// providerLine is one line of the provider child's callback file: what the
// handler saw of one event and of its receiver.Delivery.
type providerLine struct {
	Run      int                 `json:"run"`
	ID       string              `json:"id"`
	Type     string              `json:"type"`
	Mode     string              `json:"mode"`
	Date     int64               `json:"date"` // the event's, Unix seconds
	Data     string              `json:"data"` // SHA-256 of the event's data
	Source   string              `json:"source"`
	Provider string              `json:"provider"`
	Key      string              `json:"key"`
	Body     string              `json:"body"`     // SHA-256 of Delivery.Body; empty when nil
	Received int64               `json:"received"` // Delivery.Received, Unix seconds
	Header   map[string][]string `json:"header"`   // Delivery.Header, of providerHeaders
}

func sum(b []byte) string {
	if b == nil {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// runProviders is the provider receiver child: a receiver with a GitHub and
// a Stripe source (no source of its own) on the durable inbox named by the
// environment, serving them on /github and /stripe of a loopback port it
// prints after READY. Its callback appends a providerLine to the file envOut
// and fsyncs it. The first envAllow callbacks (all when negative) complete;
// every later one blocks before writing its line until the process is
// killed.
func runProviders() error {
	ctx := context.Background()
	c, err := openReceiverChild(ctx)
	if err != nil {
		return err
	}
	h := receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		if c.over() {
			<-ctx.Done() // never, before the kill: CallbackTimeout is long
			return ctx.Err()
		}
		line := providerLine{Run: c.run, ID: ev.ID, Type: ev.Type, Mode: string(ev.APIMode), Date: ev.Date.Unix(), Data: sum(ev.Data)}
		if d, ok := receiver.DeliveryFrom(ctx); ok {
			line.Source, line.Provider, line.Key = d.Source, d.Provider, d.Key
			line.Body, line.Received = sum(d.Body), d.Received.Unix()
			line.Header = make(map[string][]string)
			for _, k := range providerHeaders {
				if v := d.Header.Values(k); v != nil {
					line.Header[k] = v
				}
			}
		}
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		return c.writeLine(b)
	})
	cfg := c.config(providerEvents())
	cfg.Sources = []receiver.Source{
		{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: githubSecret}}},
		{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: stripeSecret}}},
	}
	r, err := receiver.New(h, cfg)
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/github", r.Source(receiver.NameGitHub))
	mux.Handle("/stripe", r.Source(receiver.NameStripe))
	return serveChild(mux)
}

// providerEvents is how many requests the provider crash test sends, half
// GitHub and half Stripe: 200, or 2,000 with WEBHOOKKIT_FULL=1. Fewer than
// the other tests': what it adds to them is the record of the request, not
// volume.
func providerEvents() int { return events() / 5 }

// providerRequest is one request the parent sends and what the handler
// must see of it, in whichever life.
type providerRequest struct {
	path   string // "/github" or "/stripe"
	header http.Header
	body   []byte
	want   providerLine // Run and Received not compared
}

// TestReceiverCrashProviders (SQLite and PostgreSQL): a receiver with a
// GitHub and a Stripe source on a durable inbox, in a child process, answers
// 200 to every request of both, completes a quarter of the callbacks, and
// is SIGKILLed once those are recorded handled, with the other requests
// accepted and waiting (in its queue, or blocked in a callback before its
// side effect). The restarted child re-drives them from the inbox's request
// records. Every request is handled exactly once, and the handler sees the
// same event (id, type, mode, time, data) and the same receiver.Delivery
// (source, provider, key, body, the provider's headers and the sender's
// own, without Authorization) whether it runs in the life that accepted the
// request or in the one that re-drove it; sending every request again then
// hands none to the callback.
func TestReceiverCrashProviders(t *testing.T) {
	t.Parallel()
	eachKind(t, testReceiverCrashProviders)
}

func testReceiverCrashProviders(t *testing.T, sp spec) {
	start := time.Now()
	n := providerEvents()
	allow := n / 4
	st := sp.openT(t, 2)
	out := t.TempDir() + "/handled.log"
	reqs := providerRequests(t, n)

	startLife := func(run, allow int) *child {
		return startChild(t, fmt.Sprintf("provider receiver run %d", run), "providers", append(sp.env(),
			envOut+"="+out, envRun+"="+strconv.Itoa(run), envAllow+"="+strconv.Itoa(allow))...)
	}

	// Life 0 accepts every request, completes allow callbacks and blocks
	// the others before their side effect; it is killed once the allowed
	// ones are recorded handled, so no crash falls between a side effect
	// and its mark-handled record: every event must run exactly once.
	c := startLife(0, allow)
	retried := postRequests(t, "http://"+c.addr, reqs)
	t.Logf("run 0: posted %d requests (GitHub and Stripe), all answered 200 (%d answers of 503 retried)", n, retried)
	waitFor(t, deadline(), fmt.Sprintf("%d callbacks completed and recorded handled", allow), func() bool {
		return countLines(t, out) >= allow && countStates(t, st, store.InboxHandled) >= allow
	})
	c.kill(t)
	sp.settle(t)

	states := inboxStates(t, st)
	require.Len(t, states, n, "the inbox does not hold every request answered 200")
	claimed := 0
	for key, s := range states {
		require.NotEqual(t, store.InboxDead, s, "entry %s dead", key)
		if s == store.InboxClaimed {
			claimed++
		}
	}
	require.Equal(t, n-allow, claimed, "after the kill: the entries not yet handled")
	require.Equal(t, allow, countLines(t, out), "callbacks past the first %d must block before their side effect", allow)

	// Life 1 re-drives the claimed entries from their request records.
	c = startLife(1, -1)
	waitFor(t, deadline(), "every inbox entry handled", func() bool {
		return countStates(t, st, store.InboxHandled) == n
	})
	retried = postRequests(t, "http://"+c.addr, reqs)
	t.Logf("run 1: posted every request again, all answered 200 (%d answers of 503 retried)", retried)
	c.kill(t)
	sp.settle(t)

	lines := readProviderLines(t, out)
	byKey := make(map[string]providerLine, n)
	runs := [2]int{}
	for _, l := range lines {
		k := l.Source + "." + l.Key
		prev, dup := byKey[k]
		require.False(t, dup, "%s handed to the callback twice: runs %d and %d", k, prev.Run, l.Run)
		byKey[k] = l
		runs[l.Run]++
	}
	for k, s := range inboxStates(t, st) {
		require.Equal(t, store.InboxHandled, s, "entry %s", k)
	}
	require.Len(t, byKey, n, "every request answered 200 is handled")
	require.Equal(t, [2]int{allow, n - allow}, runs, "callbacks per life")
	for _, r := range reqs {
		k := r.want.Source + "." + r.want.Key
		got, ok := byKey[k]
		require.True(t, ok, "%s never handled", k)
		if r.want.Source == receiver.NameGitHub {
			// GitHub signs no time: the event's is the request's
			// reception, which the inbox record keeps.
			require.Equal(t, got.Received, got.Date, "%s (run %d): the event's time is not the reception's", k, got.Run)
			require.InDelta(t, start.Unix(), got.Received, float64(time.Since(start)/time.Second+1), "%s (run %d): received", k, got.Run)
		}
		want := r.want
		want.Run, want.Received = got.Run, got.Received
		if want.Date == 0 {
			want.Date = got.Date
		}
		require.Equal(t, want, got, "%s (run %d): what the handler saw", k, got.Run)
	}
	t.Logf("%s: %d requests, 1 kill; %d handled by the first life, %d re-driven from their records by the second, each once, with its provider, headers and body; total %v",
		sp.kind, n, runs[0], runs[1], time.Since(start).Round(time.Millisecond))
}

// providerRequests returns n requests, alternately of GitHub and of
// Stripe (Stripe's alternately live and test), signed by webhooktest with
// the child's secrets, each carrying X-Crashtest-Request and an
// Authorization header.
func providerRequests(t *testing.T, n int) []providerRequest {
	t.Helper()
	now := time.Now()
	reqs := make([]providerRequest, n)
	for i := range reqs {
		var (
			req  *http.Request
			path string
			want providerLine
		)
		if i%2 == 0 {
			delivery := fmt.Sprintf("3f9c%04d-6a1e-11f0-8e0c-crashtest", i)
			body := fmt.Appendf(nil, `{"action":"opened","number":%d,"pull_request":{"title":"crash %d"}}`, i, i)
			req = webhooktest.GitHubRequest(t, githubSecret, "pull_request", delivery, body)
			path = "/github"
			want = providerLine{ID: delivery, Type: "pull_request.opened", Source: receiver.NameGitHub, Provider: receiver.NameGitHub, Key: delivery}
		} else {
			id := fmt.Sprintf("evt_crash%06d", i)
			live := i%4 == 1
			body := fmt.Appendf(nil, `{"id":%q,"object":"event","type":"invoice.paid","livemode":%t,"data":{"object":{"n":%d}}}`, id, live, i)
			req = webhooktest.StripeRequest(t, stripeSecret, now, body)
			path = "/stripe"
			mode := event.ModeTest
			if live {
				mode = event.ModeLive
			}
			want = providerLine{ID: id, Type: "invoice.paid", Mode: string(mode), Date: now.Unix(), Source: receiver.NameStripe, Provider: receiver.NameStripe, Key: id}
		}
		body, err := io.ReadAll(req.Body)
		require.NoError(t, err)
		req.Header.Set("X-Crashtest-Request", strconv.Itoa(i))
		want.Data, want.Body = sum(body), sum(body)
		want.Header = make(map[string][]string)
		for _, k := range providerHeaders {
			if v := req.Header.Values(k); v != nil {
				want.Header[k] = v
			}
		}
		req.Header.Set("Authorization", "Bearer crashtest-not-kept") // the receiver drops it
		reqs[i] = providerRequest{path: path, header: req.Header, body: body, want: want}
	}
	return reqs
}

// postRequests sends every request to base + its path from a few
// goroutines and requires a 200 for each, retrying a 503 as postAll does;
// it returns how many it retried.
func postRequests(tb testing.TB, base string, reqs []providerRequest) int {
	tb.Helper()
	return postEach(tb, len(reqs), func(client *http.Client, i int) (int, error) {
		req, err := http.NewRequest(http.MethodPost, base+reqs[i].path, bytes.NewReader(reqs[i].body))
		if err != nil {
			return 0, err
		}
		req.Header = reqs[i].header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	})
}

// countStates counts the inbox entries in state s.
func countStates(tb testing.TB, st durable, s store.InboxState) int {
	tb.Helper()
	n := 0
	page := store.Page{Limit: store.MaxPageSize}
	for {
		es, next, err := st.ListInbox(context.Background(), s, page)
		require.NoError(tb, err)
		n += len(es)
		if next == "" {
			return n
		}
		page.Cursor = next
	}
}

// readProviderLines parses the provider child's callback file; every line
// must be whole.
func readProviderLines(tb testing.TB, path string) []providerLine {
	tb.Helper()
	b, err := os.ReadFile(path)
	require.NoError(tb, err)
	require.True(tb, len(b) == 0 || b[len(b)-1] == '\n', "torn last line in %s", path)
	var lines []providerLine
	for raw := range bytes.Lines(b) {
		var l providerLine
		require.NoError(tb, json.Unmarshal(raw, &l), "line %q", raw)
		lines = append(lines, l)
	}
	return lines
}
