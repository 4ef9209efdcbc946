package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
)

// forwardTimeout bounds one forwarded request, like the sender's request
// timeout.
const forwardTimeout = 15 * time.Second

// hopHeaders are not copied to a forwarded request: they describe the
// incoming connection, not the webhook.
var hopHeaders = []string{"Connection", "Content-Length", "Host", "Keep-Alive", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Accept-Encoding"}

// original is a request as it arrived: the verified body and its headers.
type original struct {
	body   []byte
	header http.Header
}

// capture is the request being served, reachable from the inbox's Claim
// through the request context.
type capture struct {
	header http.Header
	body   bytes.Buffer
	limit  int64
}

type captureKey struct{}

// teeBody copies what the receiver reads into the capture, up to its limit.
type teeBody struct {
	io.ReadCloser
	c *capture
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := t.c.limit - int64(t.c.body.Len()); room > 0 {
		t.c.body.Write(p[:min(int64(n), room)])
	}
	return n, err
}

// forwarder re-posts each accepted event, with its original body and
// headers (so the original signatures still verify), to a local URL, as
// "stripe listen --forward-to" does. A failed forward is an error of the
// receiver's callback, which retries it with its policy.
type forwarder struct {
	url     string
	client  *http.Client
	maxBody int64
	log     *slog.Logger

	mu      sync.Mutex
	pending map[string]*original // by inbox key, from a won claim until forwarded
}

func newForwarder(url string, maxBody int64, log *slog.Logger) *forwarder {
	return &forwarder{
		url: url,
		client: &http.Client{
			Timeout: forwardTimeout,
			// A redirect is a failed forward, as it is a failed delivery.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxBody: maxBody,
		log:     log,
		pending: make(map[string]*original),
	}
}

// wrap captures each request's headers and body for claimed.
func (f *forwarder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &capture{header: r.Header.Clone(), limit: f.maxBody}
		r.Body = teeBody{ReadCloser: r.Body, c: c}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), captureKey{}, c)))
	})
}

// claimed records the request that won the claim of key. The receiver has
// read and verified the whole body by then.
func (f *forwarder) claimed(ctx context.Context, key string) {
	c, ok := ctx.Value(captureKey{}).(*capture)
	if !ok {
		return
	}
	o := &original{body: bytes.Clone(c.body.Bytes()), header: c.header}
	f.mu.Lock()
	f.pending[key] = o
	f.mu.Unlock()
}

// released forgets a claim the receiver could not queue.
func (f *forwarder) released(key string) { f.forget(key) }

func (f *forwarder) forget(key string) {
	f.mu.Lock()
	delete(f.pending, key)
	f.mu.Unlock()
}

func (f *forwarder) lookup(key string) *original {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending[key]
}

// forward posts the original request of ev. It returns an error for a
// transport failure or a non-2xx answer, so the receiver retries.
func (f *forwarder) forward(ctx context.Context, ev event.Event) error {
	o := f.lookup(ev.ID)
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
		return fmt.Errorf("forwarding to %s: %w", f.url, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	f.log.Info("webhook listen: forwarded", "event_id", ev.ID, "url", f.url,
		"status", resp.StatusCode, "duration", time.Since(start).Round(time.Millisecond))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("forwarding to %s: answered %s", f.url, resp.Status)
	}
	return nil
}
