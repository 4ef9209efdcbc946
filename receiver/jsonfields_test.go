package receiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// FuzzTopFields compares topFields and stringValue, which the providers'
// Parse methods use, with encoding/json as the oracle: for a body that is
// strict JSON (event.CheckJSON), topFields finds a member exactly when a
// map[string]json.RawMessage holds it, with the same bytes, and
// stringValue reads a string exactly as json.Unmarshal does; for any other
// body it fails.
func FuzzTopFields(f *testing.F) {
	for _, s := range []string{
		`{"id":"evt_1","type":"a.b","livemode":true}`,
		`{"id":"\u0065vt\n\"x\"","type":1,"event":{"type":"m"}}`,
		`{"type":"\ud83d\ude00","uid":"é"}`,
		`{"id":1,"ID":2}`, `[]`, `"x"`, `{`, "",
	} {
		f.Add([]byte(s), "id")
	}
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		names := []string{name, "id", "type"}
		vals := make([][]byte, len(names))
		err := topFields(b, names, vals)
		if event.CheckJSON(b) != nil {
			require.Error(t, err)
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil || m == nil {
			require.Error(t, err, "%q is no object", b)
			return
		}
		require.NoError(t, err)
		for i, n := range names {
			raw, ok := m[n]
			if !ok {
				require.Nil(t, vals[i])
				continue
			}
			require.Equal(t, string(raw), string(vals[i]))
			var want string
			wantOK := json.Unmarshal(raw, &want) == nil && raw[0] == '"'
			got, gotOK := stringValue(vals[i])
			require.Equal(t, wantOK, gotOK, "%s", raw)
			require.Equal(t, want, got, "%s", raw)
		}
	})
}

// oldOneHeader is oneHeader as it was, the oracle of oneHeaders.
func oldOneHeader(h http.Header, key string) (string, error) {
	var val string
	n := 0
	for k, vs := range h {
		if len(k) == len(key) && strings.EqualFold(k, key) {
			n += len(vs)
			if len(vs) > 0 {
				val = vs[0]
			}
		}
	}
	switch {
	case n > 1:
		return "", fmt.Errorf("%w: %s appears %d times", signature.ErrMalformedHeader, key, n)
	case val == "":
		return "", fmt.Errorf("%w: %s", signature.ErrMissingHeader, key)
	}
	return val, nil
}

// FuzzOneHeaders: oneHeaders finds what oneHeader, matching names by
// Unicode case folding, found key by key, and fails on the first key it
// failed on.
func FuzzOneHeaders(f *testing.F) {
	f.Add("X-Github-Delivery", "d-1", "x-github-delivery", "", "X-GitHub-Event", "push")
	f.Add("Webhook-Id", "a", "webhook-id", "b", "X-ſlack", "c")
	f.Add("X-Kelvin", "", "X-\u212aelvin", "k", "x-kelvin", "v")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		h := http.Header{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}} {
			h[kv[0]] = append(h[kv[0]], kv[1])
		}
		keys := []string{"X-Github-Delivery", "X-Kelvin", "Webhook-Id", "X-Slack"}
		vals := make([]string, len(keys))
		err := oneHeaders(h, keys, vals)
		var wantErr error
		for i, key := range keys {
			v, e := oldOneHeader(h, key)
			if e != nil {
				wantErr = e
				break
			}
			require.Equal(t, v, vals[i], key)
		}
		if wantErr == nil {
			require.NoError(t, err)
		} else {
			require.EqualError(t, err, wantErr.Error())
			require.Equal(t, errors.Is(wantErr, signature.ErrMalformedHeader), errors.Is(err, signature.ErrMalformedHeader))
		}
	})
}

// FuzzDecodeMAC: decodeMAC accepts and decodes exactly what the decoders
// of encoding/hex and encoding/base64 (strict) did.
func FuzzDecodeMAC(f *testing.F) {
	mac := sha256.Sum256([]byte("x"))
	f.Add("sha256="+hex.EncodeToString(mac[:]), true, 32)
	f.Add("sha256="+hex.EncodeToString(mac[:])[:63]+"G", true, 32)
	f.Add(base64.StdEncoding.EncodeToString(mac[:]), false, 32)
	f.Add(base64.StdEncoding.EncodeToString(mac[:])[:20]+"\n"+base64.StdEncoding.EncodeToString(mac[:])[20:], false, 32)
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, 64)), false, 64)
	f.Fuzz(func(t *testing.T, sig string, isHex bool, size int) {
		size = 1 + (size&0x7fff)%100
		enc, prefix := Base64, ""
		if isHex {
			enc, prefix = Hex, "sha256="
		}
		var buf macBuf
		got, err := decodeMAC(&buf, sig, prefix, enc, size, "X-Sig")
		var want []byte
		var werr error
		if rest, ok := cutPrefix(sig, prefix); !ok {
			werr = errors.New("prefix")
		} else if isHex {
			want, werr = hex.DecodeString(rest)
		} else {
			want, werr = base64.StdEncoding.Strict().DecodeString(rest)
		}
		if werr != nil || len(want) != size {
			require.Error(t, err)
			require.ErrorIs(t, err, signature.ErrMalformedHeader)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) < len(p) || s[:len(p)] != p {
		return "", false
	}
	return s[len(p):], true
}

// TestMatchMAC: matchMAC hashes the prefix and the content, with each key,
// and finds a MAC among several, also when its pooled states are reused.
func TestMatchMAC(t *testing.T) {
	v, err := newMACVerifier([]string{"old", "new"}, nil, nil, nil)
	require.NoError(t, err)
	keys := v.(*macVerifier).keys
	want := hexHMACOf(t, "new", "v0:123:body")
	for range 3 {
		require.True(t, matchMAC(keys, [][]byte{make([]byte, 32), want}, []byte("body"), "v0:", "123", ":"))
		require.False(t, matchMAC(keys, [][]byte{want}, []byte("body"), "v0:", "124", ":"))
		require.False(t, matchMAC(keys, nil, []byte("body")))
		require.True(t, matchMAC(keys, [][]byte{hexHMACOf(t, "old", "body")}, []byte("body")))
	}
}

func hexHMACOf(t *testing.T, key, content string) []byte {
	t.Helper()
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(content))
	return m.Sum(nil)
}

// TestKeptHeader: keptHeader is h.Clone() without the credentials, under
// any spelling.
func TestKeptHeader(t *testing.T) {
	h := http.Header{
		"Content-Type": {"application/json"}, "X-Many": {"a", "b"}, "X-Nil": nil, "X-Empty": {},
		"Authorization": {"Bearer x"}, "cookie": {"c=1"}, "PROXY-AUTHORIZATION": {"p"}, "Authorizations": {"kept"},
	}
	want := h.Clone()
	for _, k := range []string{"Authorization", "cookie", "PROXY-AUTHORIZATION"} {
		delete(want, k)
	}
	got := keptHeader(h)
	require.Equal(t, want, got)
	require.Nil(t, got["X-Nil"])
	require.NotNil(t, got["X-Empty"])
	got["X-Many"] = append(got["X-Many"], "c")
	require.Equal(t, []string{"a", "b"}, h["X-Many"])
	require.Equal(t, "application/json", got.Get("Content-Type"))
	require.Nil(t, keptHeader(nil))
}

// FuzzCheckParse: the receiver's single pass over a body (source.checkParse)
// refuses exactly what event.CheckJSON refuses and otherwise parses as the
// provider's Parse does, for every provider of this package.
func FuzzCheckParse(f *testing.F) {
	f.Add(uint8(0), []byte(`{"type":"a.b","event":"x"}`))
	f.Add(uint8(1), []byte(`{"id":"m","event":"ping","payload":{"a":1}}`))
	f.Add(uint8(2), []byte(`{"action":"opened"}`))
	f.Add(uint8(3), []byte(`{"id":"evt_1","type":"a","livemode":true}`))
	f.Add(uint8(4), []byte(`{"type":"event_callback","event_id":"E","event_time":1,"event":{"type":"m"}}`))
	f.Add(uint8(4), []byte(`{"type":"url_verification","challenge":"c"}`))
	f.Add(uint8(5), []byte(`{"uid":"u","kind":"k"}`))
	f.Add(uint8(6), []byte(`{"id":1}`))
	f.Add(uint8(7), []byte(`[1,{"a":"\u0041"}]`))
	providers := []Provider{
		StandardWebhooks{}, EventPayload{}, GitHub{}, Stripe{}, Slack{},
		HMAC{ProviderName: "acme", Header: "X-Sig", KeyField: "uid", TypeField: "kind"},
		Shopify{},
		HMAC{ProviderName: "hdr", Header: "X-Sig", KeyHeader: "X-Id", TypeHeader: "X-Type"},
	}
	h := http.Header{
		"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {"1750000000"},
		"X-Github-Delivery": {"d-1"}, "X-Github-Event": {"push"},
		"Stripe-Signature":     {"t=1750000000,v1=00"},
		"X-Shopify-Webhook-Id": {"w-1"}, "X-Shopify-Topic": {"orders/create"},
		"X-Id": {"i-1"}, "X-Type": {"t"},
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		p := providers[int(which)%len(providers)]
		s := &source{provider: p}
		msg, jsonErr, err := s.checkParse(h, body)
		if checkErr := event.CheckJSON(body); checkErr != nil {
			require.Error(t, jsonErr)
			require.Equal(t, checkErr.Error(), jsonErr.Error())
			return
		}
		require.NoError(t, jsonErr)
		want, wantErr := p.Parse(h, body)
		require.Equal(t, want, msg)
		if wantErr == nil {
			require.NoError(t, err)
		} else {
			require.EqualError(t, err, wantErr.Error())
		}
	})
}
