package receiver_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testNow is the fixed clock of most tests; requests are signed with it.
var testNow = time.Unix(1_750_000_000, 0).UTC()

func fixedNow() time.Time { return testNow }

// waitTimeout bounds every wait on a condition; generous, never a timing
// assertion.
const waitTimeout = 10 * time.Second

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

type keyPair struct {
	text   string // whsec_...
	secret signature.Secret
	signer *signature.Signer
}

func newKeyPair(tb testing.TB) keyPair {
	tb.Helper()
	sec, err := signature.NewSecret()
	require.NoError(tb, err)
	s, err := signature.NewSigner([]signature.Secret{sec})
	require.NoError(tb, err)
	return keyPair{text: sec.String(), secret: sec, signer: s}
}

// newEvent returns a valid event with a fixed date.
func newEvent(tb testing.TB, mode event.Mode, typ string) event.Event {
	tb.Helper()
	ev, err := event.New(mode, typ, map[string]any{"patient_id": "p-1", "n": 1})
	require.NoError(tb, err)
	ev.Date = testNow
	return ev
}

func eventBody(tb testing.TB, ev event.Event) []byte {
	tb.Helper()
	b, err := ev.MarshalJSON()
	require.NoError(tb, err)
	return b
}

// signedRequest builds a POST of body signed by s with the given id and time.
func signedRequest(s *signature.Signer, id string, ts time.Time, body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	s.SignHeader(req.Header, id, ts, body)
	return req
}

// eventRequest signs ev's envelope, with webhook-id = ev.ID, at testNow.
func eventRequest(tb testing.TB, s *signature.Signer, ev event.Event) *http.Request {
	tb.Helper()
	return signedRequest(s, ev.ID, testNow, eventBody(tb, ev))
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// recorder is a Handler that records events and can be told to fail or block.
type recorder struct {
	mu     sync.Mutex
	events []event.Event
	calls  atomic.Int64
	fn     func(ctx context.Context, ev event.Event, n int64) error // optional
	got    chan event.Event                                         // every successful event, if not nil
}

func newRecorder() *recorder { return &recorder{got: make(chan event.Event, 1024)} }

func (rc *recorder) HandleEvent(ctx context.Context, ev event.Event) error {
	n := rc.calls.Add(1)
	if rc.fn != nil {
		if err := rc.fn(ctx, ev, n); err != nil {
			return err
		}
	}
	rc.mu.Lock()
	rc.events = append(rc.events, ev)
	rc.mu.Unlock()
	if rc.got != nil {
		rc.got <- ev
	}
	return nil
}

func (rc *recorder) handled() []event.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]event.Event(nil), rc.events...)
}

// next waits for the next successfully handled event.
func (rc *recorder) next(tb testing.TB) event.Event {
	tb.Helper()
	select {
	case ev := <-rc.got:
		return ev
	case <-time.After(waitTimeout):
		tb.Fatal("timed out waiting for the callback")
		return event.Event{}
	}
}

// newReceiver builds and starts a receiver for tests (quiet logs, fixed
// clock unless set) and closes it at the end of the test.
func newReceiver(tb testing.TB, h receiver.Handler, cfg receiver.Config) *receiver.Receiver {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	r, err := receiver.New(h, &cfg)
	require.NoError(tb, err)
	require.NoError(tb, r.Start(context.Background()))
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

// untilRefused posts new events to r until one is answered 503, and
// returns the events accepted meanwhile (before a stop began).
func untilRefused(tb testing.TB, r *receiver.Receiver, s *signature.Signer) []event.Event {
	tb.Helper()
	var accepted []event.Event
	require.Eventually(tb, func() bool {
		ev := newEvent(tb, event.ModeTest, "ping")
		code := serve(r, eventRequest(tb, s, ev)).Code
		if code == http.StatusOK {
			accepted = append(accepted, ev)
		}
		return code == http.StatusServiceUnavailable
	}, waitTimeout, time.Millisecond, "requests are refused")
	return accepted
}

// drain shuts r down gracefully, requiring success.
func drain(tb testing.TB, r *receiver.Receiver) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(tb, r.Shutdown(ctx))
}

// testInbox is an inspectable inbox; it implements store.InboxRecovery, so
// it counts as durable. Wrap it in plain{} to hide that.
type testInbox struct {
	mu       sync.Mutex
	entries  map[string]*store.InboxEntry
	claimErr error
	released []string
	claims   atomic.Int64
}

type plain struct{ store.Inbox }

func newTestInbox() *testInbox { return &testInbox{entries: map[string]*store.InboxEntry{}} }

func (b *testInbox) Claim(_ context.Context, c store.Claim) (bool, error) {
	b.claims.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.claimErr != nil {
		return false, b.claimErr
	}
	if e, ok := b.entries[c.Key]; ok && c.Now.Before(e.ExpiresAt) {
		return false, nil
	}
	b.entries[c.Key] = &store.InboxEntry{
		Key: c.Key, State: store.InboxClaimed, Body: append([]byte(nil), c.Body...),
		ClaimedAt: c.Now, ExpiresAt: c.Now.Add(c.TTL), LeasedUntil: c.Now.Add(c.Lease),
	}
	return true, nil
}

func (b *testInbox) ReleaseClaim(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.released = append(b.released, key)
	delete(b.entries, key)
	return nil
}

func (b *testInbox) MarkHandled(_ context.Context, key string, at time.Time) error {
	return b.finish(key, store.InboxHandled, at, "")
}

func (b *testInbox) MarkDead(_ context.Context, key string, at time.Time, reason string) error {
	return b.finish(key, store.InboxDead, at, reason)
}

func (b *testInbox) finish(key string, s store.InboxState, at time.Time, reason string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok {
		return store.ErrNotFound
	}
	e.State, e.FinishedAt, e.LastError = s, at, reason
	return nil
}

func (b *testInbox) PruneInbox(context.Context, time.Time) (int, error) { return 0, nil }

func (b *testInbox) LeaseClaimed(_ context.Context, now time.Time, lease time.Duration, limit int) ([]*store.InboxEntry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []string
	for k, e := range b.entries {
		if e.State == store.InboxClaimed && e.LeasedUntil.Before(now) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []*store.InboxEntry
	for _, k := range keys {
		if len(out) == limit {
			break
		}
		e := b.entries[k]
		e.LeasedUntil = now.Add(lease)
		e.Attempts++
		out = append(out, e.Clone())
	}
	return out, nil
}

func (b *testInbox) GetInboxEntry(_ context.Context, key string) (*store.InboxEntry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return e.Clone(), nil
}

func (b *testInbox) ListInbox(context.Context, store.InboxState, store.Page) ([]*store.InboxEntry, string, error) {
	return nil, "", nil
}

func (b *testInbox) Replay(context.Context, string, time.Time) error { return nil }

// state returns the state of key ("" when absent).
func (b *testInbox) state(key string) store.InboxState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.entries[key]; ok {
		return e.State
	}
	return ""
}

func (b *testInbox) entry(key string) *store.InboxEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.entries[key].Clone()
}

// rawHMAC is base64(HMAC-SHA256(secret, content)), computed independently of
// the signature package's Signer.
func rawHMAC(sec signature.Secret, content string) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sec.String(), signature.SecretPrefix))
	if err != nil {
		panic(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(content))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// retryFast is a policy of n attempts in all, a millisecond apart at most.
func retryFast(n int) retry.Policy {
	return retry.Exponential{Base: time.Millisecond, Max: time.Millisecond, MaxAttempts: n}
}
