package dashboard_test

// Helpers for the dashboard's browser test, trimmed from the dashboard
// package's own test helpers (which this module cannot import).

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store/memory"
)

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

// authorize reads the scope from "Authorization: Bearer <tenant>"; none is
// 401.
func authorize(r *http.Request) (dashboard.Scope, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return dashboard.Scope{}, errors.New("no token")
	}
	return dashboard.Scope{Tenant: tok}, nil
}

// receiver is a local webhook endpoint whose answer a test can change.
type receiver struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	n      int
}

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.status.Store(http.StatusOK)
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.n++
		rc.mu.Unlock()
		code := int(rc.status.Load())
		w.Header().Set("X-Receiver", "test-receiver")
		w.WriteHeader(code)
		if code < 300 {
			_, _ = io.WriteString(w, `{"received":"ok-from-receiver"}`)
		} else {
			_, _ = io.WriteString(w, "receiver-failure-body")
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// env is a dashboard over a memory store and a started sender delivering
// to a local receiver.
type env struct {
	rc   *receiver
	srv  *httptest.Server
	base string // "/webhooks/"
}

type envOptions struct {
	warnAt int
	start  bool // start the sender; it always is here
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	require.True(t, o.start, "the browser test needs a started sender")
	snd, err := sender.New(memory.New(&memory.Config{Logger: quiet}), &sender.Config{
		Catalog:              fasten.Catalog(),
		Mode:                 event.ModeTest,
		AllowPrivateNetworks: true,
		Retry:                retry.Never{},
		RequestTimeout:       5 * time.Second,
		PollInterval:         20 * time.Millisecond,
		Logger:               quiet,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = snd.Close() })
	require.NoError(t, snd.Start(context.Background()))
	h, err := dashboard.New(&dashboard.Config{
		Authorize: authorize,
		Sender:    snd,
		BasePath:  "/webhooks/",
		WarnAt:    o.warnAt,
		Logger:    quiet,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", h)
	e := &env{rc: newReceiver(t), srv: httptest.NewServer(mux), base: "/webhooks/"}
	t.Cleanup(e.srv.Close)
	return e
}
