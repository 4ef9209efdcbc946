package receiver

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/bodyread"
	"github.com/webhookkit/webhookkit/store"
)

// Canonical header keys, for allocation-free map lookups.
const (
	hdrID              = "Webhook-Id"
	hdrContentType     = "Content-Type"
	hdrContentEncoding = "Content-Encoding"
)

// Body buffers: pooled, starting at minPooledBuf, not returned to the pool
// once grown beyond maxPooledBuf.
const (
	minPooledBuf = 4 << 10
	maxPooledBuf = 256 << 10
)

// ServeHTTP answers a webhook request; see the package documentation for
// the checks and status codes. It never answers 2xx for a request it did
// not verify, and answers 200 only for an event it holds: queued, or
// already claimed in the inbox (a duplicate, answered with
// [HeaderDuplicate]).
//
// The Receiver serves its own source ([Config].Keys and Provider); without
// Keys it answers every request 404 ([ReasonNoSource]). The handlers of
// further sources come from [Receiver.Source].
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.handle(w, req, r.own)
}

// handle answers a request of source s (nil: none).
func (r *Receiver) handle(w http.ResponseWriter, req *http.Request, s *source) {
	var start time.Time
	if r.cfg.Hooks.OnResponse != nil {
		start = time.Now()
	}
	a := r.serve(w, req, s)
	status, reason, ev := a.status, a.reason, a.ev
	switch reason {
	case ReasonAccepted:
		w.WriteHeader(http.StatusOK)
	case ReasonChallenge:
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, a.challenge)
	default:
		// The header values share one allocation; each header gets a slice
		// of its own (capped, so appending to it copies). The keys are
		// canonical.
		v := []string{"text/plain; charset=utf-8", "nosniff", ""}
		h := w.Header()
		h["Content-Type"], h["X-Content-Type-Options"] = v[0:1:1], v[1:2:2]
		switch status {
		case http.StatusOK:
			v[2] = "true"
			h[HeaderDuplicate] = v[2:3:3]
		case http.StatusServiceUnavailable:
			v[2] = r.cfg.retryAfter
			h["Retry-After"] = v[2:3:3]
		case http.StatusMethodNotAllowed:
			v[2] = http.MethodPost
			h["Allow"] = v[2:3:3]
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, string(reason)) // two writes, no concatenation to allocate
		_, _ = io.WriteString(w, "\n")
		if a.hint != "" {
			_, _ = io.WriteString(w, a.hint)
			_, _ = io.WriteString(w, "\n")
		}
	}
	switch {
	case reason == ReasonChallenge:
	case reason == ReasonAccepted:
		r.stats.accepted.Add(1)
	case reason == ReasonDuplicate:
		r.stats.duplicates.Add(1)
	case status == http.StatusServiceUnavailable:
		r.stats.unavailable.Add(1)
		if reason == ReasonInboxFull {
			r.stats.inboxFull.Add(1)
		}
	default:
		r.stats.rejected.Add(1)
	}
	if status != http.StatusOK && r.log.Enabled(req.Context(), slog.LevelDebug) {
		r.log.LogAttrs(req.Context(), slog.LevelDebug, "receiver: request refused",
			slog.Int("status", status), slog.String("reason", string(reason)),
			slog.String("remote_addr", req.RemoteAddr), slog.String("event_id", ev.ID))
	}
	if h := r.cfg.Hooks.OnResponse; h != nil {
		info := ResponseInfo{
			Status: status, Reason: reason, EventID: ev.ID, EventType: ev.Type,
			Hint: a.hint, Duration: time.Since(start),
		}
		if s != nil {
			info.Source = s.name
		}
		h(req.Context(), info)
	}
}

// serve does the checks in order and returns the answer; ev is set once
// the request is verified and decoded.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request, s *source) answer {
	if s == nil {
		return answer{status: http.StatusNotFound, reason: ReasonNoSource}
	}
	if req.Method != http.MethodPost {
		return answer{status: http.StatusMethodNotAllowed, reason: ReasonMethod}
	}
	if !isJSON(req.Header[hdrContentType]) || !isIdentity(req.Header[hdrContentEncoding]) {
		return answer{status: http.StatusUnsupportedMediaType, reason: ReasonMediaType, hint: mediaHint(s.pname, req.Header)}
	}
	if req.ContentLength > r.cfg.MaxBodyBytes {
		return answer{status: http.StatusRequestEntityTooLarge, reason: ReasonTooLarge}
	}

	bp := r.bufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			r.bufs.Put(bp)
		}
	}()
	body, err := r.readBody(w, req, bp)
	if err != nil {
		var tooLarge *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &tooLarge):
			return answer{status: http.StatusRequestEntityTooLarge, reason: ReasonTooLarge}
		case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
			return answer{status: http.StatusRequestTimeout, reason: ReasonReadTimeout}
		}
		return answer{status: http.StatusBadRequest, reason: ReasonUnreadable}
	}
	if !s.legacy {
		return r.serveProvider(req, s, body)
	}
	return r.serveLegacy(req, s, body)
}

// serveLegacy verifies and decodes a request of the receiver's own source
// with the Webhookkit provider, then claims and queues its event.
func (r *Receiver) serveLegacy(req *http.Request, s *source, body []byte) answer {
	if err := r.verifier.Verify(req.Header, body); err != nil {
		return answer{status: verifyStatus(err), reason: verifyReason(err), hint: headerHint(err, NameWebhookkit, req.Header)}
	}

	ev, err := event.Decode(body)
	if err != nil {
		return answer{status: http.StatusBadRequest, reason: ReasonInvalidEvent, hint: envelopeHint(body)}
	}
	if r.byMode != nil {
		v := r.byMode[ev.APIMode]
		if v == nil || (v != r.verifier && v.Verify(req.Header, body) != nil) {
			return answer{status: http.StatusBadRequest, reason: ReasonMode, ev: ev}
		}
	}
	key := ev.ID
	if r.cfg.DedupByHeader {
		key = headerValue(req.Header, hdrID) // verified: present exactly once
	}
	status, reason := r.accept(req, s, ev, key, body, nil)
	return answer{status: status, reason: reason, ev: ev}
}

// readBody reads the whole body into the pooled buffer *bp, at most
// MaxBodyBytes of it, and leaves *bp holding the buffer, grown or not, for
// the pool.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request, bp *[]byte) ([]byte, error) {
	if req.Body == nil {
		return (*bp)[:0], nil
	}
	limit := r.cfg.MaxBodyBytes
	var src io.Reader = req.Body
	if req.ContentLength < 0 {
		// Unknown length: let net/http close the connection if the body
		// runs over, instead of draining it.
		src = http.MaxBytesReader(w, req.Body, limit)
	}
	b, err := bodyread.AppendAll((*bp)[:0], src, limit, req.ContentLength)
	*bp = b[:0]
	return b, err
}

// accept claims the event and queues it.
//
// It reserves a queue slot (and counts the event pending, which Shutdown
// waits for) before it claims, so that a claim it wins always finds room in
// the queue: a claim is never released because the queue filled up or
// Shutdown began meanwhile, and a copy of the event that lost the claim to
// this request, answered 200 as a duplicate, is never left without the
// event held. Only Close (or a Shutdown deadline) can come between the
// claim and the queue; then a durable inbox keeps the claim for re-drive,
// and a non-durable one releases it and the request is answered 503.
//
// With a batching inbox the claim joins a batch (see claimBatched), and the
// request waits for the batch's result, whatever becomes of the request
// meanwhile: its slot and its claim are settled here either way.
//
// d is the delivery of a source other than the legacy one (nil for the
// legacy source): a durable inbox then keeps its record (see
// encodeRecord) instead of the raw body.
func (r *Receiver) accept(req *http.Request, s *source, ev event.Event, key string, body []byte, d *Delivery) (int, Reason) {
	if reason, ok := r.reserve(); !ok {
		return http.StatusServiceUnavailable, reason
	}
	ctx := req.Context()
	c := store.Claim{Key: key, Now: r.now(), TTL: r.cfg.DedupWindow, Lease: r.cfg.Lease}
	if r.recovery != nil {
		if d != nil {
			c.Body = encodeRecord(d)
		} else {
			c.Body = append([]byte(nil), body...)
		}
	}
	var won bool
	var err error
	if r.batcher != nil {
		won, err = r.claimBatched(c)
	} else {
		won, err = r.inbox.Claim(ctx, c)
	}
	if err != nil || !won {
		r.unreserve()
		switch {
		case err == nil:
			return http.StatusOK, ReasonDuplicate
		case errors.Is(err, store.ErrInboxFull):
			return http.StatusServiceUnavailable, ReasonInboxFull
		}
		r.log.LogAttrs(ctx, slog.LevelWarn, "receiver: inbox claim failed; answering 503",
			slog.String("event_id", ev.ID), slog.Any("error", err))
		return http.StatusServiceUnavailable, ReasonInbox
	}
	j := &job{ev: ev, key: key, src: s, dlv: d, received: c.Now}
	hook := r.cfg.Hooks.OnAccepted
	if hook != nil {
		j.hooked.Lock() // before push: a worker may take j at once
	}
	if !r.push(j) {
		// Closed while claiming: the queue is gone.
		if hook != nil {
			j.hooked.Unlock()
		}
		r.slots.Add(-1)
		if r.recovery != nil {
			// Held by the durable inbox, claimed, for the next receiver.
			r.stats.interrupted.Add(1)
			r.unpend()
			return http.StatusOK, ReasonAccepted
		}
		r.release(ctx, key)
		r.unpend()
		return http.StatusServiceUnavailable, ReasonUnavailable
	}
	if hook != nil {
		info := AcceptedInfo{Source: s.name, Key: key, Event: ev, Body: append([]byte(nil), body...), Header: req.Header.Clone()}
		func() {
			defer j.hooked.Unlock()
			r.safely("Hooks.OnAccepted", ev.ID, func() { hook(ctx, info) })
		}()
	}
	return http.StatusOK, ReasonAccepted
}

// isJSON reports whether the Content-Type values name JSON: exactly one
// value whose media type, ignoring case and parameters, is application/json
// or application/*+json.
func isJSON(v []string) bool {
	if len(v) != 1 {
		return false
	}
	mt := v[0]
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	const app = "application/"
	if len(mt) <= len(app) || !strings.EqualFold(mt[:len(app)], app) {
		return false
	}
	sub := mt[len(app):]
	if strings.EqualFold(sub, "json") {
		return true
	}
	return len(sub) > 5 && strings.EqualFold(sub[len(sub)-5:], "+json") && !strings.ContainsAny(sub, " \t/")
}

// isIdentity reports whether the Content-Encoding values are absent or all
// "identity".
func isIdentity(v []string) bool {
	for _, s := range v {
		for part := range strings.SplitSeq(s, ",") {
			if p := strings.TrimSpace(part); p != "" && !strings.EqualFold(p, "identity") {
				return false
			}
		}
	}
	return true
}

// headerValue returns the first value of the header named by canonical key,
// also found under a non-canonical spelling (as the verifier does).
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, key) {
			return v[0]
		}
	}
	return ""
}
