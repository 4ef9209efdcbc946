package sender

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/bodyread"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

const classSuccess = retry.ClassSuccess

// result is one attempt: the log entry and what the retry policy needs.
type result struct {
	a      *store.Attempt
	header http.Header // response headers, nil without a response
	err    error       // transport error or why no request was made
	// class is the attempt's outcome by Config.Classifier, decided once
	// for the attempt log (Success), the delivery and the endpoint's
	// health. Meaningless when interrupted.
	class retry.Class
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
		Format:     ep.Format,
	}
	res.a = a
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	client, direct, err := s.clientFor(ep)
	var req *http.Request
	if err == nil {
		req, err = s.request(rctx, ep, ev, a, now)
	}
	if err != nil {
		a.Error = redactError(err, ep.URL, a.URL)
		res.err, res.interrupted = err, ctx.Err() != nil
		res.class = s.cfg.Classifier.Classify(0, err)
		return res
	}

	start := time.Now()
	resp, err := s.do(client, direct, req, a.URL)
	if err != nil {
		a.Duration = time.Since(start)
		a.Error = redactError(err, ep.URL, a.URL)
		res.err, res.interrupted = err, ctx.Err() != nil
		res.class = s.cfg.Classifier.Classify(0, err)
		return res
	}
	s.readResponse(&res, resp, ep.URL)
	a.Duration = time.Since(start)
	if resp.StatusCode == http.StatusUnauthorized && ep.OAuth2 != nil {
		s.forgetToken(ep.ID)
	}
	return res
}

// request builds the signed request of an attempt of ev to ep at now, and
// records what is sent in a: the request headers (extra headers redacted)
// and, unless Config.OmitBodies, the body. An error means no request can be
// made: plain http in live mode, no active secret, an envelope too large,
// a URL that does not parse.
func (s *Sender) request(ctx context.Context, ep *store.Endpoint, ev *event.Event, a *store.Attempt, now time.Time) (*http.Request, error) {
	if s.cfg.RequireHTTPSInLive && ev.APIMode == event.ModeLive && !isHTTPS(ep.URL) {
		return nil, ErrInsecureURL
	}
	sg, kms, err := s.per.signer(ep, now)
	if err != nil {
		return nil, err
	}
	if len(kms) > 0 && s.cfg.KMS == nil {
		return nil, ErrNoKMS
	}
	// The request body gets its own buffer: a transport may still be
	// writing it after Do returns, and net/http sends a *bytes.Reader
	// body together with the headers, in one write.
	body, err := s.body(make([]byte, 0, len(ev.Data)+len(ev.ID)+len(ev.Type)+96), ep.Format, ev, now)
	if err != nil {
		return nil, retry.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		redactError(err, ep.URL, a.URL) // before wrapping: net/url quotes the whole URL
		return nil, retry.Permanent(fmt.Errorf("sender: endpoint url: %w", err))
	}
	h := req.Header
	var extra []string // canonical names of the headers to redact
	for k, v := range ep.Headers {
		if ck := http.CanonicalHeaderKey(k); !reserved[ck] {
			h[ck] = []string{v}
			extra = append(extra, ck)
		}
	}
	if ok, err := s.authorize(ctx, ep, h); err != nil {
		return nil, err
	} else if ok {
		extra = append(extra, "Authorization")
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
	signed := sig[:0]
	if sg != nil {
		signed = sg.AppendSign(signed, ev.ID, now, body)
	}
	if len(kms) > 0 {
		if signed, err = signature.AppendSignKMS(ctx, signed, s.cfg.KMS, kms, ev.ID, now, body); err != nil {
			return nil, err
		}
	}
	vals := [...]string{
		"application/json",
		s.cfg.UserAgent,
		ev.ID,
		strconv.FormatInt(now.Unix(), 10),
		string(signed),
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
	return req, nil
}

// envelope appends ev's envelope dated date to dst and checks its size
// against Config.MaxPayload: the one size rule publishing and every attempt
// apply. Too large is [ErrPayloadTooLarge], with the sizes.
func (s *Sender) envelope(dst []byte, ev *event.Event, date time.Time) ([]byte, error) {
	b := ev.AppendJSON(dst, date)
	if len(b) > s.cfg.MaxPayload {
		return b, fmt.Errorf("%w: event %q is %d bytes, the limit is %d", ErrPayloadTooLarge, ev.ID, len(b), s.cfg.MaxPayload)
	}
	return b, nil
}

// body appends the request body of ev dated date in the endpoint's format
// to dst: the envelope (see [Sender.envelope], which also checks its size),
// or {"id", "event", "payload"}, no larger than the envelope the publish
// was held to.
func (s *Sender) body(dst []byte, f store.BodyFormat, ev *event.Event, date time.Time) ([]byte, error) {
	if f != store.BodyEventPayload {
		return s.envelope(dst, ev, date)
	}
	return appendEventPayload(dst, ev), nil
}

// appendEventPayload appends ev as {"id": ..., "event": ..., "payload":
// ...} to dst: the data bytes exactly as published, never re-encoded, and
// no "payload" when the data is an empty object. The id (a UUID) and the
// type (letters, digits, '_', '-' and '.') are valid, checked at publish,
// and need no escaping.
func appendEventPayload(dst []byte, ev *event.Event) []byte {
	dst = append(dst, `{"id":"`...)
	dst = append(dst, ev.ID...)
	dst = append(dst, `","event":"`...)
	dst = append(dst, ev.Type...)
	dst = append(dst, '"')
	if !emptyObject(ev.Data) {
		dst = append(dst, `,"payload":`...)
		dst = append(dst, ev.Data...)
	}
	return append(dst, '}')
}

// emptyObject reports whether b is the JSON object {} (with any whitespace).
func emptyObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}' && len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// readResponse records resp in res: status, the headers the log keeps, up
// to Config.MaxResponseBody bytes of the body (as much again is read and
// discarded so the connection can be reused), the class, and the error
// text of a failure. It closes the body.
func (s *Sender) readResponse(res *result, resp *http.Response, rawURL string) {
	a := res.a
	a.StatusCode = resp.StatusCode
	a.ResponseHeaders = keepHeaders(resp.Header, s.cfg.MaxResponseHeaders)
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
	// A 2xx is a success whatever the rest of the body does: the receiver
	// has acknowledged the event.
	res.class = s.cfg.Classifier.Classify(resp.StatusCode, nil)
	a.Success = res.class == classSuccess
	if !a.Success {
		a.Error = statusText(resp.StatusCode)
		if rerr != nil {
			a.Error += ": reading response: " + redactError(rerr, rawURL, a.URL)
		}
	}
	res.header = resp.Header
}

// do sends req. When the client has no cookie jar and no timeout, it
// calls the transport directly: http.Client would only add a copy of the
// headers per request for redirects, which the sender never follows. Errors
// are *url.Error either way. The direct path's name shown, the URL with its
// userinfo redacted; http.Client's name the URL with its user name, which
// redactError then replaces.
func (s *Sender) do(client *http.Client, direct http.RoundTripper, req *http.Request, shown string) (*http.Response, error) {
	if direct == nil {
		return client.Do(req)
	}
	resp, err := direct.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: "Post", URL: shown, Err: err}
	}
	return resp, nil
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
