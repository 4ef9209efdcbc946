// Package dashboardtest holds the helpers that the dashboard's tests and
// the integration tests in a browser share: an Authorize function that
// reads the scope from a bearer token, a local webhook receiver whose
// answer a test can change, and an Env, a dashboard served over a memory
// store and a real sender delivering to that receiver.
package dashboardtest

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
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// Authorize reads the scope from "Authorization: Bearer <tenant>": the
// token "operator" sees every tenant, "banned" is forbidden
// (dashboard.ErrForbidden), and a request without a token gets an error
// (401).
func Authorize(r *http.Request) (dashboard.Scope, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || tok == "":
		return dashboard.Scope{}, errors.New("no token")
	case tok == "banned":
		return dashboard.Scope{}, dashboard.ErrForbidden
	case tok == "operator":
		return dashboard.Scope{All: true}, nil
	}
	return dashboard.Scope{Tenant: tok}, nil
}

// Receiver is a local webhook endpoint whose answer a test can change. It
// is safe for concurrent use.
type Receiver struct {
	// Server serves the endpoint; post to Server.URL + "/hook".
	Server *httptest.Server
	// Status is the status code of every answer; NewReceiver sets it to
	// 200. Below 300 the answer carries a JSON body, otherwise a failure
	// text.
	Status atomic.Int32

	mu sync.Mutex
	n  int
}

// NewReceiver starts a Receiver answering 200 and closes it when the test
// ends.
func NewReceiver(tb testing.TB) *Receiver {
	tb.Helper()
	rc := &Receiver{}
	rc.Status.Store(http.StatusOK)
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.n++
		rc.mu.Unlock()
		code := int(rc.Status.Load())
		w.Header().Set("X-Receiver", "test-receiver")
		w.WriteHeader(code)
		if code < 300 {
			_, _ = io.WriteString(w, `{"received":"ok-from-receiver"}`)
		} else {
			_, _ = io.WriteString(w, "receiver-failure-body")
		}
	}))
	tb.Cleanup(rc.Server.Close)
	return rc
}

// Count returns the number of requests received so far.
func (rc *Receiver) Count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// Options configure NewEnv; the zero value is a test-mode sender with the
// provider's catalog (event/fasten), not started, that may deliver to
// loopback, and a writable dashboard with the default page size.
type Options struct {
	// Mode is the sender's mode; "": event.ModeTest.
	Mode event.Mode
	// WarnAt and PageSize are the dashboard's (zero: its defaults), and
	// ReadOnly makes it read-only.
	WarnAt   int
	PageSize int
	ReadOnly bool
	// DeliveredElsewhere is the dashboard's Config.DeliveredElsewhere.
	DeliveredElsewhere bool
	// Start starts the sender (browser tests); otherwise a test runs it
	// with ProcessDue.
	Start bool
	// Guarded makes the sender refuse private networks (and so loopback).
	Guarded bool
	// Catalog is the sender's catalog; nil: the provider's (event/fasten),
	// unless NoCatalog.
	Catalog   *event.Catalog
	NoCatalog bool
	// Theme is the dashboard's theme (zero: the default look).
	Theme dashboard.Theme
	// Wrap, when set, wraps (or replaces) the sender's store, which the
	// dashboard reads; Env.Store stays the memory store beneath.
	Wrap func(store.SenderStore) store.SenderStore
}

// Env is a dashboard over a memory store and a real sender delivering to a
// local Receiver.
type Env struct {
	Store    *memory.Store
	Sender   *sender.Sender
	Receiver *Receiver
	// Server serves the dashboard under Base.
	Server *httptest.Server
	Base   string // "/webhooks/"
}

// NewEnv builds an Env as o says, with logs dropped, no retries and
// Authorize, and closes its parts when the test ends. It fails tb on
// error.
func NewEnv(tb testing.TB, o Options) *Env {
	tb.Helper()
	quiet := slog.New(slog.DiscardHandler)
	if o.Mode == "" {
		o.Mode = event.ModeTest
	}
	st := memory.New(&memory.Config{Logger: quiet})
	var sst store.SenderStore = st
	if o.Wrap != nil {
		sst = o.Wrap(st)
	}
	cat := o.Catalog
	if cat == nil && !o.NoCatalog {
		cat = fasten.Catalog()
	}
	snd, err := sender.New(sst, &sender.Config{
		Catalog:              cat,
		Mode:                 o.Mode,
		AllowPrivateNetworks: !o.Guarded,
		Retry:                retry.Never{},
		RequestTimeout:       5 * time.Second,
		PollInterval:         20 * time.Millisecond,
		Logger:               quiet,
	})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = snd.Close() })
	if o.Start {
		require.NoError(tb, snd.Start(context.Background()))
	}
	const base = "/webhooks/"
	h, err := dashboard.New(&dashboard.Config{
		Authorize: Authorize,
		Sender:    snd,
		ReadOnly:  o.ReadOnly,
		BasePath:  base,

		DeliveredElsewhere: o.DeliveredElsewhere,
		WarnAt:             o.WarnAt,
		PageSize:           o.PageSize,
		Theme:              o.Theme,
		Logger:             quiet,
	})
	require.NoError(tb, err)
	mux := http.NewServeMux()
	mux.Handle(base, h)
	e := &Env{Store: st, Sender: snd, Receiver: NewReceiver(tb), Server: httptest.NewServer(mux), Base: base}
	tb.Cleanup(e.Server.Close)
	return e
}
