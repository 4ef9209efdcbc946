package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/bodyread"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/store"
)

// RedactedValue replaces the value of every extra request header of an
// endpoint (store.Endpoint.Headers, which often carry credentials such as
// Authorization or X-Api-Key) in the attempt log and everything derived from
// it (Hooks.OnAttempt, Ping's result, the dashboard). The request itself
// carries the real values. The sender's own headers (Content-Type,
// User-Agent, webhook-id, webhook-timestamp, webhook-signature) are logged
// as sent: signatures are not secrets. It also replaces the whole userinfo
// of an endpoint URL (see [RedactURL]): https://(redacted)@example.com/hook,
// in the attempt's URL, its Error, the delivery's LastError, the logs and
// the dashboard.
const RedactedValue = "(redacted)"

const (
	classSuccess = retry.ClassSuccess
	// settleTimeout is how long the store calls that record an attempt's
	// outcome (or release a leased delivery) may still run once the
	// delivery's context has been cancelled: they are not cancelled with
	// it, so a shutdown does not leave an attempt made but unrecorded.
	settleTimeout = 10 * time.Second
	// healthResolution: a success to an endpoint that is healthy and had
	// a success recorded less than this long ago is not recorded again, so
	// a busy endpoint costs one health write a second, not one per
	// delivery. Failures are always recorded.
	healthResolution = time.Second
)

// The canonical names of the Standard Webhooks headers (signature.HeaderID
// and the others), as http.Header.Set would store them.
const (
	headerID        = "Webhook-Id"
	headerTimestamp = "Webhook-Timestamp"
	headerSignature = "Webhook-Signature"
)

// reserved are the request headers an endpoint's extra Headers cannot set:
// ours, and those net/http manages itself.
var reserved = map[string]bool{
	"Content-Type":      true,
	"User-Agent":        true,
	headerID:            true,
	headerTimestamp:     true,
	headerSignature:     true,
	"Host":              true,
	"Content-Length":    true,
	"Content-Encoding":  true,
	"Transfer-Encoding": true,
	"Connection":        true,
	"Keep-Alive":        true,
	"Te":                true,
	"Trailer":           true,
	"Upgrade":           true,
	"Expect":            true,
}

// result is one attempt: the log entry and what the classifier and the
// retry policy need.
type result struct {
	a      *store.Attempt
	header http.Header // response headers, nil without a response
	err    error       // transport error or why no request was made
	// interrupted: the caller's context ended before a response arrived,
	// so the attempt says nothing about the endpoint.
	interrupted bool

	// respBuf is the pooled buffer a.ResponseBody points into; free returns
	// it once the attempt has been logged (the store copies).
	respBuf *[]byte
}

// free returns the result's pooled buffers and clears the bodies that
// pointed into them.
func (r *result) free(s *Sender) {
	if r.respBuf != nil {
		r.a.ResponseBody = nil
		s.putBuf(r.respBuf)
		r.respBuf = nil
	}
}

func errSecret(i int, err error) error {
	return fmt.Errorf("sender: endpoint secret %d: %w", i, err)
}

// attempt makes one signed POST of ev to ep, numbered n. It never returns a
// nil result.a; the caller must call result.free once it has logged it.
func (s *Sender) attempt(ctx context.Context, ep *store.Endpoint, ev *event.Event, n int) (res result) {
	now := s.now()
	a := &store.Attempt{
		EndpointID: ep.ID,
		Tenant:     ep.Tenant,
		EventID:    ev.ID,
		EventType:  ev.Type,
		Mode:       ev.APIMode,
		Number:     n,
		At:         now,
		URL:        RedactURL(ep.URL), // no user name or password in the log
	}
	res.a = a
	fail := func(err error) result {
		a.Error = redactError(err, ep.URL, a.URL)
		res.err = err
		return res
	}
	if s.cfg.RequireHTTPSInLive && ev.APIMode == event.ModeLive && !strings.HasPrefix(strings.ToLower(ep.URL), "https://") {
		return fail(ErrInsecureURL)
	}
	sg, err := s.lim.signer(ep, now)
	if err != nil {
		return fail(err)
	}

	// The request body gets its own buffer: a transport may still be
	// writing it after Do returns, and net/http sends a *bytes.Reader
	// body together with the headers, in one write.
	body := ev.AppendJSON(make([]byte, 0, len(ev.Data)+len(ev.ID)+len(ev.Type)+96), now)
	if len(body) > s.cfg.MaxPayload {
		return fail(retry.Permanent(fmt.Errorf("%w: %d bytes, the limit is %d", ErrPayloadTooLarge, len(body), s.cfg.MaxPayload)))
	}

	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		redactError(err, ep.URL, a.URL) // before wrapping: net/url quotes the whole URL
		return fail(retry.Permanent(fmt.Errorf("sender: endpoint url: %w", err)))
	}
	h := req.Header
	var extra []string // canonical names of the headers to redact
	for k, v := range ep.Headers {
		if ck := http.CanonicalHeaderKey(k); !reserved[ck] {
			h[ck] = []string{v}
			extra = append(extra, ck)
		}
	}
	if u := req.URL.User; u != nil && h["Authorization"] == nil {
		// What http.Client does for credentials in the URL, here so that
		// it is redacted too.
		pw, _ := u.Password()
		req.SetBasicAuth(u.Username(), pw)
		extra = append(extra, "Authorization")
	}
	// Our headers, under their canonical names, in one allocation: the
	// signature headers as signature.Signer.SignHeader sets them.
	var sig [256]byte
	vals := [...]string{
		"application/json",
		s.cfg.UserAgent,
		ev.ID,
		strconv.FormatInt(now.Unix(), 10),
		string(sg.AppendSign(sig[:0], ev.ID, now, body)),
	}
	vs := vals[:]
	h["Content-Type"] = vs[0:1:1]
	h["User-Agent"] = vs[1:2:2]
	h[headerID] = vs[2:3:3]
	h[headerTimestamp] = vs[3:4:4]
	h[headerSignature] = vs[4:5:5]
	// The store copies what it keeps: no clones here when the endpoint has
	// no extra headers (the transport does not touch the header once the
	// request is done). Extra headers often carry credentials, so the log
	// gets a copy with their values redacted.
	a.RequestHeaders = h
	if len(extra) > 0 {
		a.RequestHeaders = redact(h, extra)
	}
	if !s.cfg.OmitBodies {
		a.RequestBody = body
	}

	start := time.Now()
	resp, err := s.do(req, a.URL)
	if err != nil {
		a.Duration = time.Since(start)
		a.Error = redactError(err, ep.URL, a.URL)
		res.err, res.interrupted = err, ctx.Err() != nil
		return res
	}
	a.StatusCode = resp.StatusCode
	a.ResponseHeaders = keepHeaders(resp.Header, s.cfg.MaxResponseHeaders)
	// Keep up to MaxResponseBody bytes, read as much again to let the
	// connection be reused, then close.
	limit := int64(s.cfg.MaxResponseBody)
	var rerr error
	if s.cfg.OmitBodies {
		_, rerr = io.CopyN(io.Discard, resp.Body, 2*limit)
	} else {
		res.respBuf = s.getBuf()
		var kept []byte
		kept, rerr = bodyread.Append((*res.respBuf)[:0], resp.Body, limit+1, -1)
		*res.respBuf = kept[:0]
		if int64(len(kept)) > limit {
			a.ResponseTruncated = true
			kept = kept[:limit]
			_, rerr = io.CopyN(io.Discard, resp.Body, limit)
		}
		a.ResponseBody = kept
	}
	if rerr == io.EOF {
		rerr = nil
	}
	resp.Body.Close()
	a.Duration = time.Since(start)
	a.Success = s.cfg.Classifier.Classify(resp.StatusCode, nil) == classSuccess
	if !a.Success {
		a.Error = statusText(resp.StatusCode)
		if rerr != nil {
			a.Error += ": reading response: " + redactError(rerr, ep.URL, a.URL)
		}
	}
	res.header = resp.Header
	return res
}

// do sends req. When the client has no cookie jar and no timeout, it
// calls the transport directly: http.Client would only add a copy of the
// headers per request for redirects, which the sender never follows. Errors
// are *url.Error either way. The direct path's name shown, the URL with its
// userinfo redacted; http.Client's name the URL with its user name, which
// redactError then replaces.
func (s *Sender) do(req *http.Request, shown string) (*http.Response, error) {
	if s.direct == nil {
		return s.client.Do(req)
	}
	resp, err := s.direct.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: "Post", URL: shown, Err: err}
	}
	return resp, nil
}

// redact returns a copy of h in which the values of the named headers are
// [RedactedValue].
func redact(h http.Header, names []string) http.Header {
	c := make(http.Header, len(h))
	for k, vs := range h {
		c[k] = vs
	}
	for _, k := range names {
		c[k] = []string{RedactedValue}
	}
	return c
}

// headerSize is the size of a header field as sent: name, ": ", value, CRLF.
func headerSize(name, value string) int { return len(name) + len(value) + 4 }

// keepHeaders returns the response headers the attempt log keeps: h itself
// when it is at most limit bytes (as sent), else a copy of the values that
// fit, taken in name order (a value too large is skipped, later ones may
// still fit), with the cut recorded under store.TruncatedHeaderKey.
func keepHeaders(h http.Header, limit int) http.Header {
	total := 0
	for k, vs := range h {
		for _, v := range vs {
			total += headerSize(k, v)
		}
	}
	if total <= limit {
		return h
	}
	// Leave room for the marker, whose value is at most this long.
	const marker = len(store.TruncatedHeaderKey) + len("9223372036854775807 of 9223372036854775807 bytes kept") + 4
	budget := limit - marker
	kept := make(http.Header)
	n := 0
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			if sz := headerSize(k, v); n+sz <= budget {
				kept[k] = append(kept[k], v)
				n += sz
			}
		}
	}
	kept[store.TruncatedHeaderKey] = []string{fmt.Sprintf("%d of %d bytes kept", n, total)}
	return kept
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// deliver makes one attempt of a leased delivery and settles it. It reports
// whether an attempt was made and counted.
// ctx bounds the attempt; sctx, from [settleContext], the store calls.
// ep is the endpoint admitted by limits.admit, whose slot it gives back.
func (s *Sender) deliver(ctx, sctx context.Context, d *store.Delivery, ep *store.Endpoint) bool {
	defer func() { s.lim.done(ep.ID, s.now()) }()
	ref := d.Ref()

	if ep.Disabled {
		// Disabled after the lease: Retry lets a store that holds the
		// endpoints pause the delivery until the endpoint is enabled.
		s.settle(sctx, d, "retry", s.st.Retry(sctx, ref, s.now(), "endpoint disabled"))
		return false
	}

	res := s.attempt(ctx, ep, &d.Event, d.Attempts)
	now := s.now()
	if res.interrupted {
		res.free(s)
		s.settle(sctx, d, "release", s.st.Release(sctx, ref, now))
		return false
	}
	a := res.a
	a.DeliveryID = d.ID
	s.logAttempt(sctx, a)
	res.free(s)

	class := s.cfg.Classifier.Classify(a.StatusCode, res.err)
	lastErr := a.Error
	switch class {
	case retry.ClassSuccess:
		s.settle(sctx, d, "complete", s.st.Complete(sctx, ref, now))
		s.recordSuccess(sctx, ep, now)
		return true
	case retry.ClassGone:
		reason := "410 Gone"
		s.recordFailure(sctx, ep, now, false)
		if _, err := s.disable(sctx, ep.ID, reason); err != nil {
			s.log.LogAttrs(sctx, slog.LevelError, "sender: disabling endpoint failed", attrs(d, slog.Any("error", err))...)
		}
		s.giveUp(sctx, d, now, reason)
		return true
	case retry.ClassPermanent:
		s.giveUp(sctx, d, now, "permanent failure: "+lastErr)
		s.recordFailure(sctx, ep, now, true)
		return true
	}
	delay, ok := s.cfg.Retry.Next(retry.Failure{
		Number:     d.Attempts,
		StatusCode: a.StatusCode,
		Header:     res.header,
		Err:        res.err,
		Age:        now.Sub(d.FirstAttemptAt),
		Time:       now,
	})
	if ok {
		s.settle(sctx, d, "retry", s.st.Retry(sctx, ref, now.Add(delay), lastErr))
	} else {
		s.giveUp(sctx, d, now, fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, lastErr))
	}
	s.recordFailure(sctx, ep, now, true)
	return true
}

// giveUp fails the delivery and calls OnDeliveryExhausted.
func (s *Sender) giveUp(ctx context.Context, d *store.Delivery, now time.Time, reason string) {
	err := s.st.Fail(ctx, d.Ref(), now, reason)
	s.settle(ctx, d, "fail", err)
	if err != nil {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "sender: delivery given up", attrs(d, slog.String("reason", reason))...)
	if h := s.cfg.Hooks.OnDeliveryExhausted; h != nil {
		c := d.Clone()
		c.State, c.FinishedAt, c.LastError, c.LeaseToken = store.StateFailed, now, reason, ""
		s.safeHook(ctx, "OnDeliveryExhausted", func() { h(ctx, c, reason) })
	}
}

// settle logs a failed settlement; a lost lease means another worker took
// the delivery after this lease expired (the attempt may be duplicated).
func (s *Sender) settle(ctx context.Context, d *store.Delivery, op string, err error) {
	switch {
	case err == nil:
	case errors.Is(err, store.ErrLeaseLost):
		s.log.LogAttrs(ctx, slog.LevelWarn, "sender: lease lost before "+op+"; the delivery was taken by another worker", attrs(d)...)
	default:
		s.log.LogAttrs(ctx, slog.LevelError, "sender: "+op+" failed", attrs(d, slog.Any("error", err))...)
	}
}

// release gives a leased delivery back, due at next, without counting it.
// sctx is from [settleContext].
func (s *Sender) release(sctx context.Context, d *store.Delivery, next time.Time) {
	s.settle(sctx, d, "release", s.st.Release(sctx, d.Ref(), next))
}

// settleContext returns a context for the store calls that settle
// deliveries made under ctx: it carries ctx's values and is cancelled
// [settleTimeout] after ctx ends (or by the returned function), so a
// settlement in progress at shutdown can finish. One serves many
// deliveries: the dispatcher's workers share one, not a timer each.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var (
		mu    sync.Mutex
		timer *time.Timer
		done  bool
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			timer = time.AfterFunc(settleTimeout, cancel)
		}
	})
	return sctx, func() {
		stop()
		mu.Lock()
		done = true
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// recordSuccess resets the endpoint's failure count and reports a recovery
// from the warning. It judges by the freshest copy of the endpoint this
// sender has seen (a failure recorded by another worker since ep was
// loaded counts), not by ep.
func (s *Sender) recordSuccess(ctx context.Context, ep *store.Endpoint, now time.Time) {
	before := s.lim.latest(ep)
	if h := before.Health; h.ConsecutiveFailures == 0 && h.FailingSince.IsZero() &&
		!h.LastSuccessAt.IsZero() && now.Sub(h.LastSuccessAt) < healthResolution && !now.Before(h.LastSuccessAt) {
		// Healthy and recorded recently: spare the store a write per success.
		return
	}
	seq := s.lim.seq()
	after, err := s.st.RecordResult(ctx, ep.ID, true, now)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sender: recording endpoint health failed", slog.String("endpoint_id", ep.ID), slog.Any("error", err))
		return
	}
	s.lim.observe(seq, after)
	if s.cfg.warnAt > 0 && before.Health.ConsecutiveFailures >= s.cfg.warnAt {
		s.log.LogAttrs(ctx, slog.LevelInfo, "sender: endpoint recovered", slog.String("endpoint_id", ep.ID))
		if h := s.cfg.Hooks.OnEndpointRecovered; h != nil {
			c := after.Clone()
			s.safeHook(ctx, "OnEndpointRecovered", func() { h(ctx, c) })
		}
	}
}

// recordFailure counts a failed attempt against the endpoint, warns at half
// the threshold and disables it once both thresholds are met (when
// mayDisable).
func (s *Sender) recordFailure(ctx context.Context, before *store.Endpoint, now time.Time, mayDisable bool) {
	seq := s.lim.seq()
	ep, err := s.st.RecordResult(ctx, before.ID, false, now)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sender: recording endpoint health failed", slog.String("endpoint_id", before.ID), slog.Any("error", err))
		return
	}
	s.lim.observe(seq, ep)
	if ep.Disabled || s.cfg.warnAt == 0 {
		return
	}
	n := ep.Health.ConsecutiveFailures
	if n == s.cfg.warnAt {
		s.log.LogAttrs(ctx, slog.LevelWarn, "sender: endpoint failing, will be disabled if it goes on",
			slog.String("endpoint_id", ep.ID), slog.Int("consecutive_failures", n))
		if h := s.cfg.Hooks.OnEndpointWarning; h != nil {
			c := ep.Clone()
			s.safeHook(ctx, "OnEndpointWarning", func() { h(ctx, c) })
		}
	}
	if mayDisable && n >= s.cfg.DisableAfterFailures && now.Sub(ep.Health.FailingSince) >= s.cfg.DisableAfterDuration {
		reason := fmt.Sprintf("%d consecutive failed attempts since %s", n, ep.Health.FailingSince.UTC().Format(time.RFC3339))
		if _, err := s.disable(ctx, ep.ID, reason); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "sender: disabling endpoint failed", slog.String("endpoint_id", ep.ID), slog.Any("error", err))
		}
	}
}

// logAttempt stores the attempt and calls OnAttempt.
func (s *Sender) logAttempt(ctx context.Context, a *store.Attempt) {
	if a.ID == "" {
		a.ID = s.ids.newString() // here rather than under the store's lock
	}
	if err := s.st.AddAttempt(ctx, a); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sender: storing attempt failed",
			slog.String("event_id", a.EventID), slog.String("endpoint_id", a.EndpointID), slog.Any("error", err))
	}
	lvl := slog.LevelDebug
	if !a.Success {
		lvl = slog.LevelInfo
	}
	if s.log.Enabled(ctx, lvl) {
		s.log.LogAttrs(ctx, lvl, "sender: attempt",
			slog.String("event_id", a.EventID), slog.String("endpoint_id", a.EndpointID),
			slog.String("delivery_id", a.DeliveryID), slog.Int("attempt", a.Number),
			slog.Int("status", a.StatusCode), slog.Duration("duration", a.Duration),
			slog.String("error", a.Error))
	}
	if h := s.cfg.Hooks.OnAttempt; h != nil {
		c := a.Clone()
		s.safeHook(ctx, "OnAttempt", func() { h(ctx, c) })
	}
}

func attrs(d *store.Delivery, extra ...slog.Attr) []slog.Attr {
	return append([]slog.Attr{
		slog.String("event_id", d.Event.ID),
		slog.String("endpoint_id", d.EndpointID),
		slog.String("delivery_id", d.ID),
		slog.Int("attempt", d.Attempts),
	}, extra...)
}

// safeHook runs a user hook; a panic in it is logged, not allowed to take
// down the worker (and the process) or leave a delivery unsettled.
func (s *Sender) safeHook(ctx context.Context, name string, call func()) {
	defer func() {
		if r := recover(); r != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "sender: hook panicked", slog.String("hook", name), slog.Any("panic", r))
		}
	}()
	call()
}
