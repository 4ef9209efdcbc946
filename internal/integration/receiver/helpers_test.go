package receiver_test

// Helpers for the receiver's tests over the SQL inboxes, trimmed from the
// receiver package's own test helpers (which this module cannot import).

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
)

// testNow is the fixed clock of the tests; requests are signed with it.
var testNow = time.Unix(1_750_000_000, 0).UTC()

// waitTimeout bounds every wait on a condition; generous, never a timing
// assertion.
const waitTimeout = 10 * time.Second

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

type keyPair struct {
	text   string // whsec_...
	signer *signature.Signer
}

func newKeyPair(tb testing.TB) keyPair {
	tb.Helper()
	sec, err := signature.NewSecret()
	require.NoError(tb, err)
	s, err := signature.NewSigner([]signature.Secret{sec})
	require.NoError(tb, err)
	return keyPair{text: sec.String(), signer: s}
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

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// recorder is a Handler that counts its calls and sends each event on got
// when got is not nil.
type recorder struct {
	calls atomic.Int64
	got   chan event.Event
}

func newRecorder() *recorder { return &recorder{got: make(chan event.Event, 1024)} }

func (rc *recorder) HandleEvent(_ context.Context, ev event.Event) error {
	rc.calls.Add(1)
	if rc.got != nil {
		rc.got <- ev
	}
	return nil
}

// newReceiver builds and starts a receiver for tests (quiet logs, fixed
// clock unless set) and closes it at the end of the test.
func newReceiver(tb testing.TB, h receiver.Handler, cfg receiver.Config) *receiver.Receiver {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	r, err := receiver.New(h, &cfg)
	require.NoError(tb, err)
	require.NoError(tb, r.Start(context.Background()))
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

// drain shuts r down gracefully, requiring success.
func drain(tb testing.TB, r *receiver.Receiver) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(tb, r.Shutdown(ctx))
}
