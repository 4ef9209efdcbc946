package receiver_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
)

// FuzzHandler drives the whole handler with arbitrary bodies and header
// values. It must never panic, never answer 2xx (or 5xx) to a request it did
// not sign, and never let such a request reach the inbox or the callback.
// When sign is set, the fuzzed body is signed with the receiver's secret
// under the fuzzed id, which exercises the envelope decoder behind the
// signature check.
func FuzzHandler(f *testing.F) {
	k := newKeyPair(f)
	good := envelope()
	ts := strconv.FormatInt(testNow.Unix(), 10)
	f.Add("POST", "application/json", testUUID, ts, k.Signer.Sign(testUUID, testNow, good), good, false)
	f.Add("POST", "application/json", testUUID, ts, "", good, true)
	f.Add("POST", "application/json; charset=utf-8", "msg_1", ts, "v1,AAAA", []byte(`{"a":1}`), false)
	f.Add("POST", "Application/JSON", "msg_2", "+"+ts, "v1a,AAAA v1,", []byte(`{"id":"x","id":"y"}`), true)
	f.Add("GET", "text/plain", "", "", "", []byte(nil), false)
	f.Add("POST", "application/cloudevents+json", "m", "0", "v1,"+strings.Repeat("A", 44), []byte("\xff\xfe"), true)
	f.Add("POST", "application/json", testUUID, ts, "", envelope(`"data":`+strings.Repeat("[", 300)), true)

	// The oracle for "signed": the fuzzer may carry a genuine signature over
	// from the seed corpus.
	oracle, err := signature.NewVerifier([]signature.Secret{k.Secret}, nil, &signature.VerifyOptions{Now: fixedNow})
	require.NoError(f, err)
	rc := newRecorder()
	rc.Got = nil
	ib := newTestInbox()
	r := newReceiver(f, rc, receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Inbox: plain{ib}, MaxBodyBytes: 64 << 10})
	f.Cleanup(func() {
		drain(f, r)
		st := r.Stats()
		require.Equal(f, int64(st.Accepted), rc.Calls.Load(), "only accepted (signed) events reach the callback")
	})

	f.Fuzz(func(t *testing.T, method, ctype, id, timestamp, sig string, body []byte, sign bool) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Method = method
		req.Header["Content-Type"] = []string{ctype}
		req.Header["Webhook-Id"] = []string{id}
		req.Header["Webhook-Timestamp"] = []string{timestamp}
		req.Header["Webhook-Signature"] = []string{sig}
		if sign {
			k.Signer.SignHeader(req.Header, id, testNow, body)
		}
		before, claims := r.Stats().Accepted, ib.claims.Load()
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)

		require.NotContains(t, w.Body.String(), k.Text)
		require.NotEqual(t, http.StatusGone, w.Code)
		if w.Code >= 300 && w.Code < 400 {
			t.Fatalf("redirect status %d", w.Code)
		}
		if !sign && oracle.Verify(req.Header, body) != nil {
			require.GreaterOrEqual(t, w.Code, 400, "unsigned request answered %d", w.Code)
			require.Less(t, w.Code, 500, "unsigned request answered %d", w.Code)
			require.Equal(t, before, r.Stats().Accepted)
			require.Equal(t, claims, ib.claims.Load(), "unsigned request reached the inbox")
			return
		}
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusMethodNotAllowed,
			http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
		case http.StatusServiceUnavailable:
			require.Equal(t, string(receiver.ReasonQueueFull)+"\n", w.Body.String())
		default:
			t.Fatalf("signed request answered %d %q", w.Code, w.Body.String())
		}
	})
}
