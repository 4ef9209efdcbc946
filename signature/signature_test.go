package signature_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/signature"
)

func TestVectors(t *testing.T) {
	vectors := []struct {
		name, secret, id string
		unix             int64
		body, want       string
	}{
		{"the specification's vector, which every reference library signs", vecSecret, vecID, vecUnix, vecBody, vecSig},
		{"reference Rust library", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
			1649367553, `{"email":"test@example.com","username":"test_user"}`, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="},
	}
	for _, tc := range vectors {
		t.Run(tc.name, func(t *testing.T) {
			sec := mustSecret(t, tc.secret)
			s := newSigner(t, []signature.Secret{sec})
			require.Equal(t, tc.want, s.Sign(tc.id, time.Unix(tc.unix, 0), []byte(tc.body)))
			require.Equal(t, "prefix:"+tc.want, string(s.AppendSign([]byte("prefix:"), tc.id, time.Unix(tc.unix, 0), []byte(tc.body))))

			v := newVerifier(t, []signature.Secret{sec}, nil, tc.unix)
			ts := strconv.FormatInt(tc.unix, 10)
			require.NoError(t, v.Verify(headers(tc.id, ts, tc.want), []byte(tc.body)))
			require.NoError(t, v.VerifyValues(tc.id, ts, tc.want, []byte(tc.body)))

			// A one-byte change anywhere fails.
			require.ErrorIs(t, v.VerifyValues(tc.id, ts, tc.want, []byte(tc.body+" ")), signature.ErrNoMatch)
			require.ErrorIs(t, v.VerifyValues(tc.id+"x", ts, tc.want, []byte(tc.body)), signature.ErrNoMatch)
		})
	}
}

func TestSpecNegativeVectors(t *testing.T) {
	// Signatures from the reference libraries' tests that must not verify.
	v := newVerifier(t, []signature.Secret{mustSecret(t, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")}, nil, 1649367553)
	body := []byte(`{"email":"test@example.com","username":"test_user"}`)
	for _, sig := range []string{
		"v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=",
		"v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
		"v2,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=", // right bytes, wrong version
		"v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw",  // unpadded
	} {
		require.ErrorIs(t, v.VerifyValues("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553", sig, body), signature.ErrNoMatch, sig)
	}
	// And the real one, hidden among garbage, does.
	require.NoError(t, v.VerifyValues("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553",
		"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,x  v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw= v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", body))
}

func TestRotation(t *testing.T) {
	oldSec, newSec, other := newSecret(t), newSecret(t), newSecret(t)
	both := newSigner(t, []signature.Secret{oldSec, newSec})
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"rotation":true}`)
	sig := both.Sign("msg_1", now, body)

	entries := strings.Split(sig, " ")
	require.Len(t, entries, 2, "one entry per secret")
	require.Equal(t, newSigner(t, []signature.Secret{oldSec}).Sign("msg_1", now, body), entries[0])
	require.Equal(t, newSigner(t, []signature.Secret{newSec}).Sign("msg_1", now, body), entries[1])

	for name, secrets := range map[string][]signature.Secret{
		"old only":      {oldSec},
		"new only":      {newSec},
		"other and new": {other, newSec},
		"new and old":   {newSec, oldSec},
	} {
		v := newVerifier(t, secrets, nil, now.Unix())
		require.NoError(t, v.VerifyValues("msg_1", "1700000000", sig, body), name)
	}
	v := newVerifier(t, []signature.Secret{other}, nil, now.Unix())
	require.ErrorIs(t, v.VerifyValues("msg_1", "1700000000", sig, body), signature.ErrNoMatch)

	// A verifier holding both secrets accepts a message signed only by the new one.
	v = newVerifier(t, []signature.Secret{oldSec, newSec}, nil, now.Unix())
	require.NoError(t, v.VerifyValues("msg_1", "1700000000", entries[1], body))
}

func TestVerifyErrors(t *testing.T) {
	sec := mustSecret(t, vecSecret)
	v := newVerifier(t, []signature.Secret{sec}, nil, vecUnix)
	body := []byte(vecBody)

	tests := []struct {
		name string
		h    http.Header
		want error
	}{
		{"valid", headers(vecID, vecTS, vecSig), nil},
		{"no headers", http.Header{}, signature.ErrMissingHeader},
		{"nil header", nil, signature.ErrMissingHeader},
		{"missing id", without(headers(vecID, vecTS, vecSig), signature.HeaderID), signature.ErrMissingHeader},
		{"missing timestamp", without(headers(vecID, vecTS, vecSig), signature.HeaderTimestamp), signature.ErrMissingHeader},
		{"missing signature", without(headers(vecID, vecTS, vecSig), signature.HeaderSignature), signature.ErrMissingHeader},
		{"empty id", headers("", vecTS, vecSig), signature.ErrMissingHeader},
		{"empty timestamp", headers(vecID, "", vecSig), signature.ErrMissingHeader},
		{"empty signature", headers(vecID, vecTS, ""), signature.ErrMissingHeader},
		{"empty value slice", with(headers(vecID, vecTS, vecSig), "Webhook-Id", nil), signature.ErrMissingHeader},
		{"repeated id", added(headers(vecID, vecTS, vecSig), signature.HeaderID, vecID), signature.ErrMalformedHeader},
		{"repeated timestamp", added(headers(vecID, vecTS, vecSig), signature.HeaderTimestamp, vecTS), signature.ErrMalformedHeader},
		{"repeated signature", added(headers(vecID, vecTS, vecSig), signature.HeaderSignature, vecSig), signature.ErrMalformedHeader},
		{"repeated via non-canonical key", with(headers(vecID, vecTS, vecSig), "webhook-signature", []string{vecSig}), signature.ErrMalformedHeader},
		{"bad id", headers("msg.1", vecTS, vecSig), signature.ErrMalformedHeader},
		{"bad timestamp", headers(vecID, "+1614265330", vecSig), signature.ErrMalformedHeader},
		{"too old", headers(vecID, "1614264000", vecSig), signature.ErrTimestampTooOld},
		{"too new", headers(vecID, "1614269000", vecSig), signature.ErrTimestampTooNew},
		{"no match", headers(vecID, vecTS, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="), signature.ErrNoMatch},
		{"only spaces", headers(vecID, vecTS, "   "), signature.ErrNoMatch},
	}
	all := []error{signature.ErrMissingHeader, signature.ErrMalformedHeader, signature.ErrNoMatch,
		signature.ErrTimestampTooOld, signature.ErrTimestampTooNew, signature.ErrInvalidSecret,
		signature.ErrInvalidKey, signature.ErrNoKeys}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Verify(tc.h, body)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "signature: "), err.Error())
			for _, other := range all {
				if other != tc.want {
					require.NotErrorIs(t, err, other, "sentinels are distinct")
				}
			}
		})
	}
}

func without(h http.Header, name string) http.Header  { h.Del(name); return h }
func added(h http.Header, name, v string) http.Header { h.Add(name, v); return h }
func with(h http.Header, key string, vs []string) http.Header {
	h[key] = vs
	return h
}

func TestVerifyHeaderNamesCaseInsensitive(t *testing.T) {
	v := newVerifier(t, []signature.Secret{mustSecret(t, vecSecret)}, nil, vecUnix)
	for _, names := range [][3]string{
		{"webhook-id", "webhook-timestamp", "webhook-signature"},
		{"WEBHOOK-ID", "WEBHOOK-TIMESTAMP", "WEBHOOK-SIGNATURE"},
		{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"},
	} {
		h := http.Header{names[0]: {vecID}, names[1]: {vecTS}, names[2]: {vecSig}, "Content-Type": {"application/json"}}
		require.NoError(t, v.Verify(h, []byte(vecBody)), names)
	}
}

func TestTolerance(t *testing.T) {
	sec := newSecret(t)
	s := newSigner(t, []signature.Secret{sec})
	const now = 1_700_000_000
	body := []byte(`{}`)
	for _, tol := range []time.Duration{0, time.Minute, 90 * time.Second} {
		eff := tol
		if eff == 0 {
			eff = signature.DefaultTolerance
		}
		edge := int64(eff / time.Second)
		v, err := signature.NewVerifier([]signature.Secret{sec}, nil, &signature.VerifyOptions{Tolerance: tol, Now: fixedClock(now)})
		require.NoError(t, err)
		tests := []struct {
			offset int64
			want   error
		}{
			{0, nil},
			{-edge, nil},
			{edge, nil},
			{-edge - 1, signature.ErrTimestampTooOld},
			{edge + 1, signature.ErrTimestampTooNew},
			{-now, signature.ErrTimestampTooOld}, // timestamp 0
		}
		for _, tc := range tests {
			ts := time.Unix(now+tc.offset, 0)
			err := v.VerifyValues("msg_1", strconv.FormatInt(ts.Unix(), 10), s.Sign("msg_1", ts, body), body)
			if tc.want == nil {
				require.NoError(t, err, "tolerance %v offset %d", tol, tc.offset)
			} else {
				require.ErrorIs(t, err, tc.want, "tolerance %v offset %d", tol, tc.offset)
			}
		}
	}

	// Sub-second clocks: the edge is measured from the exact current time.
	v, err := signature.NewVerifier([]signature.Secret{sec}, nil, &signature.VerifyOptions{
		Now: func() time.Time { return time.Unix(now, 500_000_000) }})
	require.NoError(t, err)
	old := time.Unix(now-300, 0) // 300.5 s ago
	require.ErrorIs(t, v.VerifyValues("m", strconv.FormatInt(old.Unix(), 10), s.Sign("m", old, body), body), signature.ErrTimestampTooOld)
	newer := time.Unix(now+300, 0) // 299.5 s ahead
	require.NoError(t, v.VerifyValues("m", strconv.FormatInt(newer.Unix(), 10), s.Sign("m", newer, body), body))

	_, err = signature.NewVerifier([]signature.Secret{sec}, nil, &signature.VerifyOptions{Tolerance: -time.Second})
	require.ErrorContains(t, err, "Tolerance")
}

func TestTimestampFormat(t *testing.T) {
	v := newVerifier(t, []signature.Secret{mustSecret(t, vecSecret)}, nil, vecUnix)
	for _, ts := range []string{
		"+1614265330", "01614265330", " 1614265330", "1614265330 ", " 1", "1.5", "1614265330.0",
		"-1614265330", "1e9", "0x60380b72", "١٦١٤٢٦٥٣٣٠", "16142653３0",
		"9223372036854775808", "99999999999999999999", "123456789012345678901234567890",
	} {
		err := v.VerifyValues(vecID, ts, vecSig, []byte(vecBody))
		require.ErrorIs(t, err, signature.ErrMalformedHeader, "%q", ts)
	}
	require.ErrorIs(t, v.VerifyValues(vecID, "", vecSig, []byte(vecBody)), signature.ErrMissingHeader)

	// Canonical extremes parse and are then judged by the clock.
	require.ErrorIs(t, v.VerifyValues(vecID, "0", vecSig, []byte(vecBody)), signature.ErrTimestampTooOld)
	require.ErrorIs(t, v.VerifyValues(vecID, "9223372036854775807", vecSig, []byte(vecBody)), signature.ErrTimestampTooNew)

	// The MAC covers the header text: the same instant written differently
	// would not match even if it parsed.
	require.NoError(t, v.VerifyValues(vecID, vecTS, vecSig, []byte(vecBody)))
}

func TestClockExtremes(t *testing.T) {
	sec := newSecret(t)
	for _, now := range []time.Time{time.Unix(-1<<40, 0), time.Unix(0, 0), time.Unix(1<<40, 0), {}} {
		v, err := signature.NewVerifier([]signature.Secret{sec}, nil, &signature.VerifyOptions{Now: func() time.Time { return now }})
		require.NoError(t, err)
		for _, ts := range []string{"0", "1", "9223372036854775807", "9223372036854775000", "9223370000000000000", "4611686018427387904"} {
			sec, err := strconv.ParseInt(ts, 10, 64)
			require.NoError(t, err)
			err = v.VerifyValues("m", ts, "v1,x", nil)
			switch {
			case sec > now.Unix()+300:
				require.ErrorIs(t, err, signature.ErrTimestampTooNew, "now %d ts %s", now.Unix(), ts)
			case sec < now.Unix()-300:
				require.ErrorIs(t, err, signature.ErrTimestampTooOld, "now %d ts %s", now.Unix(), ts)
			default:
				require.ErrorIs(t, err, signature.ErrNoMatch, "now %d ts %s", now.Unix(), ts)
			}
		}
	}
}

func TestIDRules(t *testing.T) {
	sec := newSecret(t)
	s := newSigner(t, []signature.Secret{sec})
	v := newVerifier(t, []signature.Secret{sec}, nil, vecUnix)
	ts := time.Unix(vecUnix, 0)
	body := []byte(`{}`)

	valid := []string{"a", "msg_p5jXN8AQM9LWM0D4loKWxJek", "0f4e5b8c-2f0a-4b53-9c85-d2b1a3f1e111",
		strings.Repeat("x", signature.MaxIDLength), "!~#$%&'*+-/:;<=>?@[]^_`{|}\"(),\\"}
	for _, id := range valid {
		require.NoError(t, signature.ValidateID(id), id)
		require.NoError(t, v.VerifyValues(id, vecTS, s.Sign(id, ts, body), body), id)
	}
	invalid := []string{strings.Repeat("x", signature.MaxIDLength+1), "a.b", ".", "a b", "tab\t", "nl\n",
		"del\x7f", "nul\x00", "é", "ünïcode"}
	for _, id := range invalid {
		require.ErrorIs(t, signature.ValidateID(id), signature.ErrMalformedHeader, "%q", id)
		require.ErrorIs(t, v.VerifyValues(id, vecTS, s.Sign(id, ts, body), body), signature.ErrMalformedHeader, "%q", id)
	}
	require.ErrorIs(t, signature.ValidateID(""), signature.ErrMissingHeader)
}

func TestSignatureListBounds(t *testing.T) {
	sec := mustSecret(t, vecSecret)
	v := newVerifier(t, []signature.Secret{sec}, nil, vecUnix)
	body := []byte(vecBody)
	junk := "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	list := func(n int) string { return strings.TrimSpace(strings.Repeat(junk+" ", n)) }

	// The valid entry as the 32nd entry is examined; as the 33rd it is not.
	require.NoError(t, v.VerifyValues(vecID, vecTS, list(signature.MaxSignatures-1)+" "+vecSig, body))
	require.ErrorIs(t, v.VerifyValues(vecID, vecTS, list(signature.MaxSignatures)+" "+vecSig, body), signature.ErrNoMatch)
	require.ErrorIs(t, v.VerifyValues(vecID, vecTS, list(1000)+" "+vecSig, body), signature.ErrNoMatch)

	// Extra spaces are not entries and do not count.
	require.NoError(t, v.VerifyValues(vecID, vecTS, strings.Repeat(" ", 100)+list(signature.MaxSignatures-1)+"   "+vecSig+"  ", body))

	// Garbage entries do not match and do not stop the search.
	good := strings.TrimPrefix(vecSig, "v1,")
	garbage := []string{
		"v1", "v1,", ",", "v1" + good, "v1,,", "v1," + good + "=", "v1," + good[:43], "v1," + good + "AAAA",
		"v1," + strings.ReplaceAll(good, "+", "-"), // URL alphabet
		"v1=" + good, "V1," + good, " v1 ," + good, "v1a," + good, "v2," + good, "v1,!!!!",
		"v1," + good[:42] + "F=", // non-canonical trailing bits
		"v1a," + strings.Repeat("A", 88), "v1a,not-base64",
		"v1," + base64.StdEncoding.EncodeToString(make([]byte, 33)),
		"v1,\x00\xff", "\xff\xfe",
	}
	for _, g := range garbage {
		require.ErrorIs(t, v.VerifyValues(vecID, vecTS, g, body), signature.ErrNoMatch, "%q", g)
	}
	require.NoError(t, v.VerifyValues(vecID, vecTS, strings.Join(garbage[:20], " ")+" "+vecSig, body))
}

func TestEd25519(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	sec := newSecret(t)
	s := newSigner(t, []signature.Secret{sec}, k1)
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"asymmetric":true}`)
	sig := s.Sign("msg_a", now, body)

	entries := strings.Split(sig, " ")
	require.Len(t, entries, 2)
	require.True(t, strings.HasPrefix(entries[0], "v1,"))
	require.True(t, strings.HasPrefix(entries[1], "v1a,"))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(entries[1], "v1a,"))
	require.NoError(t, err)
	pub, err := signature.ParsePublicKey(k1.Public().String())
	require.NoError(t, err)
	edPub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(pub.String(), "whpk_"))
	require.NoError(t, err)
	require.True(t, ed25519.Verify(edPub, []byte("msg_a.1700000000."+string(body)), raw), "plain Ed25519 over id.ts.body")

	// A consumer with only the public key verifies.
	v := newVerifier(t, nil, []signature.PublicKey{k1.Public()}, now.Unix())
	require.NoError(t, v.VerifyValues("msg_a", "1700000000", sig, body))
	require.NoError(t, v.VerifyValues("msg_a", "1700000000", entries[1], body))
	require.ErrorIs(t, v.VerifyValues("msg_a", "1700000000", entries[0], body), signature.ErrNoMatch)
	require.ErrorIs(t, v.VerifyValues("msg_a", "1700000000", entries[1], []byte(`{}`)), signature.ErrNoMatch)
	require.ErrorIs(t, v.VerifyValues("msg_b", "1700000000", entries[1], body), signature.ErrNoMatch)

	// Wrong public key: no match. Rotation across keys: match.
	v = newVerifier(t, nil, []signature.PublicKey{k2.Public()}, now.Unix())
	require.ErrorIs(t, v.VerifyValues("msg_a", "1700000000", sig, body), signature.ErrNoMatch)
	v = newVerifier(t, nil, []signature.PublicKey{k2.Public(), k1.Public()}, now.Unix())
	require.NoError(t, v.VerifyValues("msg_a", "1700000000", sig, body))

	// v1a entries without a configured public key simply do not match.
	v = newVerifier(t, []signature.Secret{newSecret(t)}, nil, now.Unix())
	require.ErrorIs(t, v.VerifyValues("msg_a", "1700000000", entries[1], body), signature.ErrNoMatch)
	// ...while the v1 entry still works for the right secret.
	v = newVerifier(t, []signature.Secret{sec}, nil, now.Unix())
	require.NoError(t, v.VerifyValues("msg_a", "1700000000", sig, body))

	// Only the first MaxAsymmetricSignatures v1a entries are checked.
	bogus := "v1a," + base64.StdEncoding.EncodeToString(make([]byte, 64))
	pre := strings.TrimSpace(strings.Repeat(bogus+" ", signature.MaxAsymmetricSignatures-1))
	v = newVerifier(t, nil, []signature.PublicKey{k1.Public()}, now.Unix())
	require.NoError(t, v.VerifyValues("msg_a", "1700000000", pre+" "+entries[1], body))
	require.ErrorIs(t, v.VerifyValues("msg_a", "1700000000", pre+" "+bogus+" "+entries[1], body), signature.ErrNoMatch)

	// Keys-only signer.
	only := newSigner(t, nil, k1, k2)
	require.Len(t, strings.Split(only.Sign("m", now, body), " "), 2)
}

func TestSignHeader(t *testing.T) {
	s := newSigner(t, []signature.Secret{mustSecret(t, vecSecret)})
	h := http.Header{"Webhook-Id": {"stale"}}
	s.SignHeader(h, vecID, time.Unix(vecUnix, 0), []byte(vecBody))
	require.Equal(t, http.Header{
		"Webhook-Id":        {vecID},
		"Webhook-Timestamp": {vecTS},
		"Webhook-Signature": {vecSig},
	}, h)
	v := newVerifier(t, []signature.Secret{mustSecret(t, vecSecret)}, nil, vecUnix)
	require.NoError(t, v.Verify(h, []byte(vecBody)))
}

func TestVerifyRequest(t *testing.T) {
	sec := newSecret(t)
	s := newSigner(t, []signature.Secret{sec})
	now := time.Unix(1_700_000_000, 0)
	v := newVerifier(t, []signature.Secret{sec}, nil, now.Unix())
	body := []byte(`{"hello":"world"}`)

	newReq := func(b []byte, sign bool) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(b))
		if sign {
			s.SignHeader(r.Header, "msg_r", now, b)
		}
		return r
	}

	t.Run("valid leaves body readable", func(t *testing.T) {
		r := newReq(body, true)
		got, err := v.VerifyRequest(r, 1024)
		require.NoError(t, err)
		require.Equal(t, body, got)
		again, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		require.Equal(t, body, again)
		rc, err := r.GetBody()
		require.NoError(t, err)
		third, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.Equal(t, body, third)
	})
	t.Run("invalid still leaves body readable", func(t *testing.T) {
		r := newReq(body, true)
		r.Header.Set(signature.HeaderSignature, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
		got, err := v.VerifyRequest(r, 1024)
		require.ErrorIs(t, err, signature.ErrNoMatch)
		require.Nil(t, got)
		again, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		require.Equal(t, body, again)
	})
	t.Run("missing headers", func(t *testing.T) {
		_, err := v.VerifyRequest(newReq(body, false), 1024)
		require.ErrorIs(t, err, signature.ErrMissingHeader)
	})
	t.Run("exactly at the limit", func(t *testing.T) {
		_, err := v.VerifyRequest(newReq(body, true), int64(len(body)))
		require.NoError(t, err)
	})
	t.Run("over the limit by content length", func(t *testing.T) {
		_, err := v.VerifyRequest(newReq(body, true), int64(len(body)-1))
		var mbe *http.MaxBytesError
		require.ErrorAs(t, err, &mbe)
		require.Equal(t, int64(len(body)-1), mbe.Limit)
	})
	t.Run("over the limit while reading", func(t *testing.T) {
		r := newReq(body, true)
		r.ContentLength = -1
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:3]), bytes.NewReader(body[3:])))
		_, err := v.VerifyRequest(r, 5)
		var mbe *http.MaxBytesError
		require.ErrorAs(t, err, &mbe)
	})
	t.Run("unknown length, default limit", func(t *testing.T) {
		big := bytes.Repeat([]byte("a"), 3000)
		r := newReq(big, true)
		r.ContentLength = -1
		r.Body = io.NopCloser(iotestOneByte(big))
		got, err := v.VerifyRequest(r, 0)
		require.NoError(t, err)
		require.Equal(t, big, got)
	})
	t.Run("read error", func(t *testing.T) {
		r := newReq(body, true)
		r.Body = io.NopCloser(errReader{})
		_, err := v.VerifyRequest(r, 1024)
		require.ErrorIs(t, err, errBoom)
	})
	t.Run("empty body", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/hook", http.NoBody)
		s.SignHeader(r.Header, "msg_r", now, nil)
		got, err := v.VerifyRequest(r, 1024)
		require.NoError(t, err)
		require.Empty(t, got)
	})
}

var errBoom = errors.New("boom")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

type oneByteReader struct{ b []byte }

func iotestOneByte(b []byte) io.Reader { return &oneByteReader{b: b} }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func TestConstructors(t *testing.T) {
	_, err := signature.NewSigner(nil)
	require.ErrorIs(t, err, signature.ErrNoKeys)
	_, err = signature.NewVerifier(nil, nil, nil)
	require.ErrorIs(t, err, signature.ErrNoKeys)
	_, err = signature.NewVerifier([]signature.Secret{}, []signature.PublicKey{}, &signature.VerifyOptions{})
	require.ErrorIs(t, err, signature.ErrNoKeys)

	_, err = signature.NewSigner([]signature.Secret{{}})
	require.ErrorIs(t, err, signature.ErrInvalidSecret)
	_, err = signature.NewSigner(nil, signature.PrivateKey{})
	require.ErrorIs(t, err, signature.ErrInvalidKey)
	_, err = signature.NewVerifier([]signature.Secret{{}}, nil, nil)
	require.ErrorIs(t, err, signature.ErrInvalidSecret)
	_, err = signature.NewVerifier(nil, []signature.PublicKey{{}}, nil)
	require.ErrorIs(t, err, signature.ErrInvalidKey)

	many := make([]signature.Secret, signature.MaxSignatures+1)
	for i := range many {
		many[i] = newSecret(t)
	}
	_, err = signature.NewSigner(many)
	require.ErrorContains(t, err, "at most 32")
	s, err := signature.NewSigner(many[:signature.MaxSignatures])
	require.NoError(t, err)
	require.Len(t, strings.Split(s.Sign("m", time.Unix(1, 0), nil), " "), signature.MaxSignatures)

	// The caller's slice is not retained.
	secrets := []signature.Secret{newSecret(t)}
	s = newSigner(t, secrets)
	v := newVerifier(t, secrets, nil, 1_700_000_000)
	secrets[0] = newSecret(t)
	now := time.Unix(1_700_000_000, 0)
	require.NoError(t, v.VerifyValues("m", "1700000000", s.Sign("m", now, nil), nil))
}

func TestVerifyAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	secrets := []signature.Secret{newSecret(t), newSecret(t)}
	s := newSigner(t, secrets)
	now := time.Unix(1_700_000_000, 0)
	body := bytes.Repeat([]byte("x"), 16<<10)
	h := http.Header{}
	s.SignHeader(h, "msg_alloc", now, body)
	v := newVerifier(t, secrets[1:], nil, now.Unix())
	require.NoError(t, v.Verify(h, body))

	allocs := testing.AllocsPerRun(200, func() {
		if err := v.Verify(h, body); err != nil {
			panic(err)
		}
	})
	require.LessOrEqual(t, allocs, 2.0, "Verify allocations")

	bad := headers("msg_alloc", "1700000000", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
	allocs = testing.AllocsPerRun(200, func() {
		if err := v.Verify(bad, body); err != signature.ErrNoMatch {
			panic(err)
		}
	})
	require.LessOrEqual(t, allocs, 2.0, "rejecting a forgery")

	dst := make([]byte, 0, 256)
	allocs = testing.AllocsPerRun(200, func() { dst = s.AppendSign(dst[:0], "msg_alloc", now, body) })
	require.LessOrEqual(t, allocs, 0.0, "AppendSign with v1 secrets")
}

func TestConcurrentUse(t *testing.T) {
	sec, key := newSecret(t), newKey(t)
	s := newSigner(t, []signature.Secret{sec}, key)
	v := newVerifier(t, []signature.Secret{sec}, []signature.PublicKey{key.Public()}, 1_700_000_000)
	now := time.Unix(1_700_000_000, 0)
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			for i := range 50 {
				body := []byte(strings.Repeat("b", g*100+i))
				id := "msg_" + strconv.Itoa(g) + "_" + strconv.Itoa(i)
				sig := s.Sign(id, now, body)
				if err = v.VerifyValues(id, "1700000000", sig, body); err != nil {
					break
				}
				if err2 := v.VerifyValues(id, "1700000000", sig, append(body, '!')); !errors.Is(err2, signature.ErrNoMatch) {
					err = errors.New("tampered body accepted")
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("timed out")
		}
	}
}

// TestVerifyRequestDoesNotTrustDeclaredLength: a request that declares a
// body of the whole limit and then sends a few bytes must not cost the
// declared size in memory.
func TestVerifyRequestDoesNotTrustDeclaredLength(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations")
	}
	sec := newSecret(t)
	v := newVerifier(t, []signature.Secret{sec}, nil, 1_700_000_000)
	const limit = 1 << 20
	const rounds = 50
	run := func() {
		r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(`{"a":1}`))
		r.ContentLength = limit // declared, never sent
		_, err := v.VerifyRequest(r, limit)
		require.Error(t, err) // unsigned, and the body ends early
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
}
