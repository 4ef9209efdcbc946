package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
)

// forwardTimeout bounds one forwarded request, like the sender's request
// timeout.
const forwardTimeout = 15 * time.Second

// hopHeaders are not copied to a forwarded request: they describe the
// incoming connection, not the webhook.
var hopHeaders = []string{"Connection", "Content-Length", "Host", "Keep-Alive", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Accept-Encoding"}

// originalRequest is a request as it arrived: the verified body and its headers.
type originalRequest struct {
	body   []byte
	header http.Header
}

// forwarder re-posts each accepted event, with its original body and
// headers (so the original signatures still verify), to a local URL, as
// "stripe listen --forward-to" does. A failed forward is an error of the
// receiver's callback, which retries it with its policy.
type forwarder struct {
	url    string
	shown  string // url with its credentials redacted, for logs and errors
	client *http.Client
	log    *slog.Logger

	mu      sync.Mutex
	pending map[string]*originalRequest // by event id, from acceptance until forwarded or given up
}

func newForwarder(target string, log *slog.Logger) *forwarder {
	return &forwarder{
		url:   target,
		shown: sender.RedactURL(target),
		client: &http.Client{
			Timeout: forwardTimeout,
			// A redirect is a failed forward, as it is a failed delivery.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		log:     log,
		pending: make(map[string]*originalRequest),
	}
}

// accepted records the original request of an accepted event; it is the
// receiver's Hooks.OnAccepted, which runs before the event's first
// callback and hands over copies of the body and headers.
func (f *forwarder) accepted(_ context.Context, ai receiver.AcceptedInfo) {
	f.mu.Lock()
	f.pending[ai.Event.ID] = &originalRequest{body: ai.Body, header: ai.Header}
	f.mu.Unlock()
}

func (f *forwarder) forget(key string) {
	f.mu.Lock()
	delete(f.pending, key)
	f.mu.Unlock()
}

func (f *forwarder) lookup(key string) *originalRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending[key]
}

// forward posts the original request of ev: the one recorded when it was
// accepted or, failing that, kept, the one the receiver kept (nil: none;
// the receiver keeps none for the webhookkit provider). It returns
// an error for a transport failure or a non-2xx answer, so the receiver
// retries.
func (f *forwarder) forward(ctx context.Context, ev event.Event, kept *originalRequest) error {
	o := f.lookup(ev.ID)
	if o == nil {
		o = kept
	}
	if o == nil {
		// Re-driven from a durable inbox after a restart: the original
		// headers (and so the signatures) are gone.
		f.log.Warn("webhook listen: not forwarded: the original request is not available (event re-driven from the store)",
			"event_id", ev.ID)
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(o.body))
	if err != nil {
		return err
	}
	req.Header = o.header.Clone()
	for _, h := range hopHeaders {
		req.Header.Del(h)
	}
	start := time.Now()
	resp, err := f.client.Do(req)
	if err != nil {
		// A *url.Error repeats the URL with its user name.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("forwarding to %s: %w", f.shown, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	f.log.Info("webhook listen: forwarded", "event_id", ev.ID, "url", f.shown,
		"status", resp.StatusCode, "duration", time.Since(start).Round(time.Millisecond))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("forwarding to %s: answered %s", f.shown, resp.Status)
	}
	return nil
}
