// Package receivertest holds the helpers that the receiver's tests and the
// integration tests over the SQL inboxes share: a key pair, events and the
// requests that carry them signed, a recording Handler, and a receiver
// started and stopped for a test. Every request is signed at the fixed
// instant Now, which is also the receivers' clock unless a test sets one.
package receivertest

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

// WaitTimeout bounds every wait on a condition; generous, never a timing
// assertion.
const WaitTimeout = 10 * time.Second

// Now is the fixed clock of the tests: it always returns the same instant.
func Now() time.Time { return time.Unix(1_750_000_000, 0).UTC() }

// KeyPair is a signing secret with its text and a Signer over it.
type KeyPair struct {
	Text   string // whsec_...
	Secret signature.Secret
	Signer *signature.Signer
}

// NewKeyPair returns a fresh random key pair; it fails tb on error.
func NewKeyPair(tb testing.TB) KeyPair {
	tb.Helper()
	sec, err := signature.NewSecret()
	require.NoError(tb, err)
	s, err := signature.NewSigner([]signature.Secret{sec})
	require.NoError(tb, err)
	return KeyPair{Text: sec.String(), Secret: sec, Signer: s}
}

// NewEvent returns a valid event of the mode and type dated Now; it fails
// tb on error.
func NewEvent(tb testing.TB, mode event.Mode, typ string) event.Event {
	tb.Helper()
	ev, err := event.New(mode, typ, map[string]any{"patient_id": "p-1", "n": 1})
	require.NoError(tb, err)
	ev.Date = Now()
	return ev
}

// EventBody returns ev's JSON envelope; it fails tb on error.
func EventBody(tb testing.TB, ev event.Event) []byte {
	tb.Helper()
	b, err := ev.MarshalJSON()
	require.NoError(tb, err)
	return b
}

// SignedRequest builds a POST of body signed by s with the given id and
// time.
func SignedRequest(s *signature.Signer, id string, ts time.Time, body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	s.SignHeader(req.Header, id, ts, body)
	return req
}

// Serve has h serve req and returns the recorded response.
func Serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// Recorder is a receiver.Handler that counts its calls, can be told to fail
// or block, and sends every event it handles on Got. Set its fields before
// the receiver starts; it is then safe for concurrent use.
type Recorder struct {
	// Calls counts the calls of HandleEvent.
	Calls atomic.Int64
	// Fn, if not nil, is called first with the call's number (from 1); an
	// error from it is HandleEvent's.
	Fn func(ctx context.Context, ev event.Event, n int64) error
	// Got receives every event handled without error; nil: none is sent.
	Got chan event.Event
}

// NewRecorder returns a Recorder whose Got holds up to 1024 events.
func NewRecorder() *Recorder { return &Recorder{Got: make(chan event.Event, 1024)} }

// HandleEvent counts the call, returns Fn's error if any, and otherwise
// sends ev on Got.
func (rc *Recorder) HandleEvent(ctx context.Context, ev event.Event) error {
	n := rc.Calls.Add(1)
	if rc.Fn != nil {
		if err := rc.Fn(ctx, ev, n); err != nil {
			return err
		}
	}
	if rc.Got != nil {
		rc.Got <- ev
	}
	return nil
}

// Next waits for the next event handled without error and returns it; it
// fails tb when none comes within WaitTimeout.
func (rc *Recorder) Next(tb testing.TB) event.Event {
	tb.Helper()
	select {
	case ev := <-rc.Got:
		return ev
	case <-time.After(WaitTimeout):
		tb.Fatal("timed out waiting for the callback")
		return event.Event{}
	}
}

// NewReceiver builds and starts a receiver of h for a test, with logs
// dropped and the clock Now unless cfg sets them, and closes it when the
// test ends. It fails tb on error.
func NewReceiver(tb testing.TB, h receiver.Handler, cfg receiver.Config) *receiver.Receiver {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = Now
	}
	r, err := receiver.New(h, &cfg)
	require.NoError(tb, err)
	require.NoError(tb, r.Start(context.Background()))
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

// Drain shuts r down gracefully within WaitTimeout; it fails tb on error.
func Drain(tb testing.TB, r *receiver.Receiver) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	require.NoError(tb, r.Shutdown(ctx))
}
