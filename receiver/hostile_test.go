package receiver_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
)

const testUUID = "5f0c6a1e-8a3b-4c2d-9e4f-0a1b2c3d4e5f"

// envelope returns a valid envelope with some fields replaced: each
// override is a raw `"key":value` fragment that replaces the field of the
// same key, or is added when new.
func envelope(overrides ...string) []byte {
	fields := []string{`"api_mode":"test"`, `"date":"2025-06-15T15:06:40Z"`, `"id":"` + testUUID + `"`, `"type":"ping"`, `"data":{"a":1}`}
	for _, o := range overrides {
		key := o[:strings.Index(o, ":")]
		replaced := false
		for i, f := range fields {
			if strings.HasPrefix(f, key+":") {
				fields[i], replaced = o, true
			}
		}
		if !replaced {
			fields = append(fields, o)
		}
	}
	return []byte("{" + strings.Join(fields, ",") + "}")
}

// TestHostileInputs sends bad and hostile requests; each gets its status and
// none reaches the callback or the inbox.
func TestHostileInputs(t *testing.T) {
	k := newKeyPair(t)
	stranger := newKeyPair(t)
	priv, err := signature.GenerateKey()
	require.NoError(t, err)
	v1aSigner, err := signature.NewSigner(nil, priv)
	require.NoError(t, err)

	good := envelope()
	ts := strconv.FormatInt(testNow.Unix(), 10)
	sig := k.Signer.Sign(testUUID, testNow, good)

	// req builds a POST of body with the given header values ("" omits a
	// header; a value with "\n" is sent as several headers).
	req := func(body []byte, id, timestamp, signatureValue string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		for name, v := range map[string]string{"Webhook-Id": id, "Webhook-Timestamp": timestamp, "Webhook-Signature": signatureValue} {
			if v == "" {
				continue
			}
			for part := range strings.SplitSeq(v, "\n") {
				r.Header[name] = append(r.Header[name], part)
			}
		}
		return r
	}
	valid := func() *http.Request { return req(good, testUUID, ts, sig) }
	with := func(mod func(*http.Request)) func() *http.Request {
		return func() *http.Request { r := valid(); mod(r); return r }
	}
	signed := func(body []byte) func() *http.Request {
		return func() *http.Request { return signedRequest(k.Signer, testUUID, testNow, body) }
	}
	signedAt := func(at time.Time) func() *http.Request {
		return func() *http.Request { return signedRequest(k.Signer, testUUID, at, good) }
	}
	signedTS := func(timestamp string) func() *http.Request {
		// A signature computed over the very header text, so that only the
		// timestamp's form can be at fault.
		return func() *http.Request {
			return req(good, testUUID, timestamp, hmacOver(t, k.Secret, testUUID+"."+timestamp+"."+string(good)))
		}
	}
	deep := []byte(`{"api_mode":"test","date":"2025-06-15T15:06:40Z","id":"` + testUUID + `","type":"ping","data":` +
		strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200) + "}")
	big := bytes.Repeat([]byte("9"), receiver.DefaultMaxBodyBytes)
	hugeNumberBody := envelope(`"data":{"n":` + string(big[:receiver.DefaultMaxBodyBytes-200]) + `}`)

	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		reason receiver.Reason
	}{
		// Headers missing, empty, repeated, malformed: 400.
		{"no webhook-id", func() *http.Request { return req(good, "", ts, sig) }, 400, receiver.ReasonHeaders},
		{"no webhook-timestamp", func() *http.Request { return req(good, testUUID, "", sig) }, 400, receiver.ReasonHeaders},
		{"no webhook-signature", func() *http.Request { return req(good, testUUID, ts, "") }, 400, receiver.ReasonHeaders},
		{"no webhook headers at all (unsigned)", func() *http.Request { return req(good, "", "", "") }, 400, receiver.ReasonHeaders},
		{"empty webhook-id", with(func(r *http.Request) { r.Header["Webhook-Id"] = []string{""} }), 400, receiver.ReasonHeaders},
		{"empty webhook-signature", with(func(r *http.Request) { r.Header["Webhook-Signature"] = []string{""} }), 400, receiver.ReasonHeaders},
		{"webhook-id repeated", func() *http.Request { return req(good, testUUID+"\n"+testUUID, ts, sig) }, 400, receiver.ReasonHeaders},
		{"webhook-timestamp repeated", func() *http.Request { return req(good, testUUID, ts+"\n"+ts, sig) }, 400, receiver.ReasonHeaders},
		{"webhook-signature repeated", func() *http.Request { return req(good, testUUID, ts, sig+"\n"+sig) }, 400, receiver.ReasonHeaders},
		{"webhook-id repeated in non-canonical case", with(func(r *http.Request) { r.Header["webhook-id"] = []string{testUUID} }), 400, receiver.ReasonHeaders},
		{"webhook-id with a dot", func() *http.Request { return req(good, "msg.1", ts, sig) }, 400, receiver.ReasonHeaders},
		{"webhook-id too long", func() *http.Request { return req(good, strings.Repeat("a", 257), ts, sig) }, 400, receiver.ReasonHeaders},
		{"webhook-id with a space", func() *http.Request { return req(good, "msg 1", ts, sig) }, 400, receiver.ReasonHeaders},
		{"timestamp not a number", signedTS("soon"), 400, receiver.ReasonHeaders},
		{"timestamp with plus sign", signedTS("+" + ts), 400, receiver.ReasonHeaders},
		{"timestamp with leading zeros", signedTS("00" + ts), 400, receiver.ReasonHeaders},
		{"timestamp negative", signedTS("-1"), 400, receiver.ReasonHeaders},
		{"timestamp fractional", signedTS(ts + ".5"), 400, receiver.ReasonHeaders},
		{"timestamp overflowing int64", signedTS("99999999999999999999999"), 400, receiver.ReasonHeaders},
		// Timestamps out of tolerance: 401.
		{"timestamp far past (0)", signedTS("0"), 401, receiver.ReasonTimestamp},
		{"timestamp stale by 301 s", signedAt(testNow.Add(-receiver.DefaultTolerance - time.Second)), 401, receiver.ReasonTimestamp},
		{"timestamp a day old (replay)", signedAt(testNow.Add(-24 * time.Hour)), 401, receiver.ReasonTimestamp},
		{"timestamp future by 301 s", signedAt(testNow.Add(receiver.DefaultTolerance + time.Second)), 401, receiver.ReasonTimestamp},
		{"timestamp max int64", signedTS("9223372036854775807"), 401, receiver.ReasonTimestamp},
		// Signatures that do not match: 401.
		{"signature of another body", func() *http.Request {
			return req(good, testUUID, ts, k.Signer.Sign(testUUID, testNow, envelope(`"type":"other"`)))
		}, 401, receiver.ReasonSignature},
		{"signature for another id", func() *http.Request { return req(good, testUUID, ts, k.Signer.Sign("msg_other", testNow, good)) }, 401, receiver.ReasonSignature},
		{"signature by an unknown secret", func() *http.Request { return req(good, testUUID, ts, stranger.Signer.Sign(testUUID, testNow, good)) }, 401, receiver.ReasonSignature},
		{"signature invalid base64", func() *http.Request { return req(good, testUUID, ts, "v1,!!!!not-base64!!!!") }, 401, receiver.ReasonSignature},
		{"signature truncated", func() *http.Request { return req(good, testUUID, ts, sig[:len(sig)-4]) }, 401, receiver.ReasonSignature},
		{"signature unknown version", func() *http.Request { return req(good, testUUID, ts, "v2"+sig[2:]) }, 401, receiver.ReasonSignature},
		{"signature without comma", func() *http.Request { return req(good, testUUID, ts, strings.Replace(sig, ",", "", 1)) }, 401, receiver.ReasonSignature},
		{"v1a signature without a public key configured", func() *http.Request { return req(good, testUUID, ts, v1aSigner.Sign(testUUID, testNow, good)) }, 401, receiver.ReasonSignature},
		{"valid signature after 32 junk entries", func() *http.Request {
			return req(good, testUUID, ts, strings.Repeat("v1,AAAA ", 32)+sig)
		}, 401, receiver.ReasonSignature},
		{"body truncated after signing", func() *http.Request { return req(good[:len(good)-1], testUUID, ts, sig) }, 401, receiver.ReasonSignature},
		{"body with appended whitespace", func() *http.Request { return req(append(append([]byte{}, good...), ' '), testUUID, ts, sig) }, 401, receiver.ReasonSignature},
		// Signed, but the envelope is invalid: 400.
		{"invalid JSON", signed([]byte(`{"api_mode":"test",`)), 400, receiver.ReasonInvalidEvent},
		{"not an object", signed([]byte(`[1,2,3]`)), 400, receiver.ReasonInvalidEvent},
		{"empty body", signed(nil), 400, receiver.ReasonInvalidEvent},
		{"trailing garbage", signed(append(envelope(), []byte(`{}`)...)), 400, receiver.ReasonInvalidEvent},
		{"invalid UTF-8 in data", signed(envelope("\"data\":{\"x\":\"\xff\xfe\"}")), 400, receiver.ReasonInvalidEvent},
		{"lone surrogate escape", signed(envelope(`"data":{"x":"\ud800"}`)), 400, receiver.ReasonInvalidEvent},
		{"duplicate top-level key", signed([]byte(`{"api_mode":"test","api_mode":"live","date":"2025-06-15T15:06:40Z","id":"` + testUUID + `","type":"ping","data":{}}`)), 400, receiver.ReasonInvalidEvent},
		{"duplicate key inside data", signed(envelope(`"data":{"a":1,"a":2}`)), 400, receiver.ReasonInvalidEvent},
		{"case-variant top-level key", signed(envelope(`"ID":"` + testUUID + `"`)), 400, receiver.ReasonInvalidEvent},
		{"case-variant keys inside data", signed(envelope(`"data":{"amount":1,"Amount":2}`)), 400, receiver.ReasonInvalidEvent},
		{"nesting 200 deep", signed(deep), 400, receiver.ReasonInvalidEvent},
		{"huge number as id", signed(envelope(`"id":1e999999999`)), 400, receiver.ReasonInvalidEvent},
		{"huge number as date", signed(envelope(`"date":99999999999999999999999`)), 400, receiver.ReasonInvalidEvent},
		{"year beyond RFC 3339", signed(envelope(`"date":"99999-01-01T00:00:00Z"`)), 400, receiver.ReasonInvalidEvent},
		{"id not a UUID", signed(envelope(`"id":"msg_1"`)), 400, receiver.ReasonInvalidEvent},
		{"unknown api_mode", signed(envelope(`"api_mode":"prod"`)), 400, receiver.ReasonInvalidEvent},
		{"invalid type", signed(envelope(`"type":"a..b"`)), 400, receiver.ReasonInvalidEvent},
		{"null data", signed(envelope(`"data":null`)), 400, receiver.ReasonInvalidEvent},
		{"missing id", signed([]byte(`{"api_mode":"test","date":"2025-06-15T15:06:40Z","type":"ping","data":{}}`)), 400, receiver.ReasonInvalidEvent},
		// Transport-level refusals.
		{"GET", with(func(r *http.Request) { r.Method = http.MethodGet }), 405, receiver.ReasonMethod},
		{"PUT", with(func(r *http.Request) { r.Method = http.MethodPut }), 405, receiver.ReasonMethod},
		{"text/plain", with(func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }), 415, receiver.ReasonMediaType},
		{"no content type", with(func(r *http.Request) { r.Header.Del("Content-Type") }), 415, receiver.ReasonMediaType},
		{"application/jsonp", with(func(r *http.Request) { r.Header.Set("Content-Type", "application/jsonp") }), 415, receiver.ReasonMediaType},
		{"form content type", with(func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }), 415, receiver.ReasonMediaType},
		{"two content types", with(func(r *http.Request) { r.Header["Content-Type"] = []string{"application/json", "text/plain"} }), 415, receiver.ReasonMediaType},
		{"gzip encoding", with(func(r *http.Request) { r.Header.Set("Content-Encoding", "gzip") }), 415, receiver.ReasonMediaType},
		{"identity, gzip encoding", with(func(r *http.Request) { r.Header.Set("Content-Encoding", "identity, gzip") }), 415, receiver.ReasonMediaType},
		{"oversized declared", func() *http.Request {
			r := req(big, testUUID, ts, sig)
			r.ContentLength = receiver.DefaultMaxBodyBytes + 1
			return r
		}, 413, receiver.ReasonTooLarge},
		{"oversized undeclared", func() *http.Request {
			r := req(append(big, '9'), testUUID, ts, sig)
			r.ContentLength = -1
			return r
		}, 413, receiver.ReasonTooLarge},
		{"huge number filling the body, signed", signed(append(hugeNumberBody, bytes.Repeat([]byte(" "), receiver.DefaultMaxBodyBytes)...)), 413, receiver.ReasonTooLarge},
	}
	require.GreaterOrEqual(t, len(cases), 30)

	rc := newRecorder()
	ib := newTestInbox()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: ib})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := serve(r, c.req())
			require.Equal(t, c.status, w.Code)
			require.Equal(t, string(c.reason)+"\n", w.Body.String())
			out := w.Body.String()
			require.Less(t, len(out), 64, "short reason only")
			require.NotContains(t, out, k.Text)
			require.NotContains(t, out, testUUID)
			require.Zero(t, r.Stats().Accepted)
			require.Zero(t, ib.claims.Load(), "nothing unverified reaches the inbox")
		})
	}
	// The valid request itself is accepted (so the cases fail for their
	// own reason), and is the only event handled.
	require.Equal(t, 200, serve(r, valid()).Code)
	drain(t, r)
	require.EqualValues(t, 1, rc.Calls.Load())
}

// hmacOver returns a v1 signature entry over content, computed directly:
// the Signer would never sign a non-canonical timestamp.
func hmacOver(tb testing.TB, sec signature.Secret, content string) string {
	tb.Helper()
	return "v1," + rawHMAC(sec, content)
}

// TestTruncatedBody: the client declares more than it sends and hangs up.
func TestTruncatedBody(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	infos := make(chan receiver.ResponseInfo, 1)
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Hooks: receiver.Hooks{
		OnResponse: func(_ context.Context, i receiver.ResponseInfo) { infos <- i },
	}})
	srv := httptest.NewServer(r)
	defer srv.Close()

	ev := newEvent(t, event.ModeTest, "ping")
	body := eventBody(t, ev)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	h := http.Header{}
	k.Signer.SignHeader(h, ev.ID, testNow, body)
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	for name, v := range h {
		fmt.Fprintf(conn, "%s: %s\r\n", name, v[0])
	}
	fmt.Fprintf(conn, "\r\n%s", body[:len(body)/2])
	require.NoError(t, conn.(*net.TCPConn).CloseWrite())
	info := <-infos
	require.Equal(t, http.StatusBadRequest, info.Status)
	require.Equal(t, receiver.ReasonUnreadable, info.Reason)
	_ = conn.Close()
	drain(t, r)
	require.Zero(t, rc.Calls.Load())
}

// TestSlowClient sends the body a byte at a time to a server with a short
// ReadTimeout: the answer is 408 or a closed connection, never 2xx, and
// nothing is handled.
func TestSlowClient(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	infos := make(chan receiver.ResponseInfo, 1)
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Hooks: receiver.Hooks{
		OnResponse: func(_ context.Context, i receiver.ResponseInfo) { infos <- i },
	}})
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ReadTimeout = 500 * time.Millisecond // long enough for the headers on a loaded machine
	srv.Start()
	defer srv.Close()

	ev := newEvent(t, event.ModeTest, "ping")
	body := eventBody(t, ev)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	h := http.Header{}
	k.Signer.SignHeader(h, ev.ID, testNow, body)
	var head strings.Builder
	fmt.Fprintf(&head, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	for name, v := range h {
		fmt.Fprintf(&head, "%s: %s\r\n", name, v[0])
	}
	head.WriteString("\r\n")
	_, err = io.WriteString(conn, head.String())
	require.NoError(t, err)

	// Trickle the body until the server gives up on it.
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(20 * time.Millisecond) // the body would take seconds
		defer tick.Stop()
		for i := 0; i < len(body); i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write(body[i : i+1]); err != nil {
				return
			}
		}
	}()
	defer close(stop)

	var info receiver.ResponseInfo
	select {
	case info = <-infos:
	case <-time.After(waitTimeout):
		t.Fatal("the handler never answered")
	}
	require.Equal(t, http.StatusRequestTimeout, info.Status)
	require.Equal(t, receiver.ReasonReadTimeout, info.Reason)
	// The client sees the 408, or a connection the server closed.
	_ = conn.SetReadDeadline(time.Now().Add(waitTimeout))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
		_ = resp.Body.Close()
	}
	drain(t, r)
	require.Zero(t, rc.Calls.Load())
	require.Zero(t, r.Stats().Accepted)
}

// TestOversizedOverHTTP: over a real connection, a declared oversized body
// is refused before it is read, and an undeclared (chunked) one while
// reading; neither reaches the callback.
func TestOversizedOverHTTP(t *testing.T) {
	k := newKeyPair(t)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, MaxBodyBytes: 1 << 10})
	declared := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		declared <- req.ContentLength
		r.ServeHTTP(w, req)
	}))
	defer srv.Close()

	ev := newEvent(t, event.ModeTest, "ping")
	ev.Data = []byte(`{"pad":"` + strings.Repeat("x", 2<<10) + `"}`)
	body := eventBody(t, ev)
	for _, chunked := range []bool{false, true} {
		var rd io.Reader = bytes.NewReader(body)
		if chunked {
			rd = io.MultiReader(rd) // hides the length: sent chunked
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL, rd)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		k.Signer.SignHeader(req.Header, ev.ID, testNow, body)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "chunked=%v", chunked)
		if chunked {
			require.Equal(t, int64(-1), <-declared, "sent without a length")
		} else {
			require.Equal(t, int64(len(body)), <-declared)
		}
	}
	drain(t, r)
	require.Zero(t, rc.Calls.Load())
}

// TestDeclaredLengthNotAllocatedInAdvance: a request that declares a body
// of the whole limit and sends a few bytes must not cost the declared size
// in memory (many slow clients doing so would otherwise pin the limit each).
func TestDeclaredLengthNotAllocatedInAdvance(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations")
	}
	k := newKeyPair(t)
	rc := newRecorder()
	r := newReceiver(t, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}})
	const limit = receiver.DefaultMaxBodyBytes
	const rounds = 50
	run := func() {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = limit // declared, never sent
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		require.Equal(t, http.StatusBadRequest, w.Code)
	}
	run()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range rounds {
		run()
	}
	runtime.ReadMemStats(&after)
	perCall := (after.TotalAlloc - before.TotalAlloc) / rounds
	require.Less(t, perCall, uint64(limit/4), "allocated %d bytes per request for a %d-byte declared body", perCall, limit)
	drain(t, r)
	require.Zero(t, rc.Calls.Load())
}
