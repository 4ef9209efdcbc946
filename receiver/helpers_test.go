package receiver_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/receivertest"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The helpers shared with the integration tests, under the names these
// tests use.
type (
	keyPair  = receivertest.KeyPair
	recorder = receivertest.Recorder
)

// waitTimeout bounds every wait on a condition; generous, never a timing
// assertion.
const waitTimeout = receivertest.WaitTimeout

var (
	// testNow is the fixed clock of most tests; requests are signed with it.
	testNow  = receivertest.Now()
	fixedNow = receivertest.Now

	newKeyPair    = receivertest.NewKeyPair
	newEvent      = receivertest.NewEvent
	eventBody     = receivertest.EventBody
	signedRequest = receivertest.SignedRequest
	serve         = receivertest.Serve
	newRecorder   = receivertest.NewRecorder
	newReceiver   = receivertest.NewReceiver
	drain         = receivertest.Drain
)

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

// eventRequest signs ev's envelope, with webhook-id = ev.ID, at testNow.
func eventRequest(tb testing.TB, s *signature.Signer, ev event.Event) *http.Request {
	tb.Helper()
	return signedRequest(s, ev.ID, testNow, eventBody(tb, ev))
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

// dyingRecorder returns a recorder whose callback sends on started and
// then blocks until its context ends, as in a process that dies
// mid-callback (Close).
func dyingRecorder(started chan<- struct{}) *recorder {
	rc := newRecorder()
	rc.Fn = func(ctx context.Context, _ event.Event, _ int64) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	return rc
}
