package receiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// GitHub is the [Provider] of GitHub webhooks (repository, organization and
// app webhooks, with content type application/json). Keys are the
// webhook's secret as typed in GitHub. The signature is X-Hub-Signature-256,
// "sha256=" and the hex HMAC-SHA256 of the body (the older SHA-1
// X-Hub-Signature is not accepted). The key is X-GitHub-Delivery, the type
// X-GitHub-Event followed by "." and the body's top-level "action" when it
// has one ("pull_request.opened", "push", "ping"), and the data the whole
// body. GitHub's ping, sent when a webhook is created, is accepted like any
// event of type "ping" ([event.TypePing]). There is no mode, and no time:
// the event's time is when the receiver accepted it.
//
// GitHub signs neither a timestamp nor its headers: only the body. A party
// that obtained a signed body (it never travels but over TLS) could send it
// again, at any time and under another X-GitHub-Delivery or X-GitHub-Event;
// the receiver's de-duplication only refuses a copy with the same delivery
// id within [Config].DedupWindow. Handlers that must not act twice on one
// change should be idempotent on the body's own ids.
//
// Its name is "github" ([NameGitHub]): a [Source] of it is named so unless
// its Name says otherwise (r.Source(NameGitHub) then returns its handler),
// its keys are claimed in the inbox as "github.<X-GitHub-Delivery>", and
// "webhook listen --provider github" receives its webhooks.
type GitHub struct{}

// Name returns "github", [NameGitHub].
func (GitHub) Name() string { return NameGitHub }

// NewVerifier returns a verifier of X-Hub-Signature-256 with any of the
// secrets. opts is not used: GitHub signs no timestamp.
func (GitHub) NewVerifier(keys []string, _ *signature.VerifyOptions) (Verifier, error) {
	return newMACVerifier(keys, nil, nil, bodyMAC("X-Hub-Signature-256", "sha256=", Hex))
}

// Parse reads the delivery id and event name from the headers and the
// action from the body.
func (p GitHub) Parse(h http.Header, body []byte) (Message, error) {
	var f [1][]byte
	object, err := parseBody(body, githubFields, f[:])
	if err != nil {
		return Message{}, err
	}
	return p.parseFields(h, body, object, f[:])
}

// parseFields is Parse of a body checked as strict JSON: object says
// whether it is an object, f holds the members named by githubFields (nil
// when absent). See source.checkParse.
func (GitHub) parseFields(h http.Header, body []byte, object bool, f [][]byte) (Message, error) {
	var hv [2]string
	if err := oneHeaders(h, githubHeaders[:], hv[:]); err != nil {
		return Message{}, err
	}
	key, typ := hv[0], hv[1]
	if object {
		if a, ok := stringValue(f[0]); ok && a != "" {
			typ += "." + a
		}
	}
	return Message{Key: key, Type: typ, Data: body}, nil
}

// The headers GitHub.Parse reads.
var githubHeaders = [2]string{"X-Github-Delivery", "X-Github-Event"}

// Shopify is the [Provider] of Shopify webhooks (JSON format). Keys are the
// app's client secret. The signature is X-Shopify-Hmac-Sha256, the base64
// HMAC-SHA256 of the body. The key is X-Shopify-Webhook-Id, the type
// X-Shopify-Topic with its slashes made dots ("orders/create" becomes
// "orders.create", so that [Mux] patterns such as "orders.*" apply), and
// the data the whole body. There is no mode and no signed time.
//
// As with [GitHub], only the body is signed: the receiver's de-duplication
// on X-Shopify-Webhook-Id within [Config].DedupWindow is the only defence
// against a signed body sent again.
//
// Its name is "shopify" ([NameShopify]): a [Source] of it is named so
// unless its Name says otherwise (r.Source(NameShopify) then returns its
// handler), its keys are claimed in the inbox as
// "shopify.<X-Shopify-Webhook-Id>", and "webhook listen --provider shopify"
// receives its webhooks.
type Shopify struct{}

// Name returns "shopify", [NameShopify].
func (Shopify) Name() string { return NameShopify }

// NewVerifier returns a verifier of X-Shopify-Hmac-Sha256 with any of the
// secrets. opts is not used.
func (Shopify) NewVerifier(keys []string, _ *signature.VerifyOptions) (Verifier, error) {
	return newMACVerifier(keys, nil, nil, bodyMAC("X-Shopify-Hmac-Sha256", "", Base64))
}

// Parse reads the webhook id and the topic from the headers.
func (Shopify) Parse(h http.Header, body []byte) (Message, error) {
	var hv [2]string
	if err := oneHeaders(h, shopifyHeaders[:], hv[:]); err != nil {
		return Message{}, err
	}
	return Message{Key: hv[0], Type: strings.ReplaceAll(hv[1], "/", "."), Data: body}, nil
}

// The headers Shopify.Parse reads.
var shopifyHeaders = [2]string{"X-Shopify-Webhook-Id", "X-Shopify-Topic"}

// Stripe is the [Provider] of Stripe webhooks. Keys are the endpoint's
// signing secret ("whsec_...", used as Stripe uses it: its text is the HMAC
// key). The signature header is Stripe-Signature, "t=<unix time>" and one or
// more "v1=<hex HMAC-SHA256 of t.body>" (several during a secret roll);
// the time must be within the tolerance (5 minutes by default, as
// Stripe's libraries use). The key is the body's id ("evt_..."), the type
// its type, the mode "live" or "test" from its livemode, the time the
// signed t, and the data the whole event.
//
// Its name is "stripe" ([NameStripe]): a [Source] of it is named so unless
// its Name says otherwise (r.Source(NameStripe) then returns its handler),
// its keys are claimed in the inbox as "stripe.evt_...", and "webhook
// listen --provider stripe" receives its webhooks.
type Stripe struct{}

// Name returns "stripe", [NameStripe].
func (Stripe) Name() string { return NameStripe }

// NewVerifier returns a verifier of Stripe-Signature with any of the
// secrets, within opts' tolerance.
func (Stripe) NewVerifier(keys []string, opts *signature.VerifyOptions) (Verifier, error) {
	return newMACVerifier(keys, opts, nil, verifyStripe)
}

// Parse reads id, type and livemode from the body and t from the header.
func (p Stripe) Parse(h http.Header, body []byte) (Message, error) {
	var f [3][]byte
	object, err := parseBody(body, stripeFields, f[:])
	if err != nil {
		return Message{}, err
	}
	return p.parseFields(h, body, object, f[:])
}

// parseFields is Parse of a body checked as strict JSON: object says
// whether it is an object, f holds the members named by stripeFields (nil
// when absent). See source.checkParse.
func (Stripe) parseFields(h http.Header, body []byte, object bool, f [][]byte) (Message, error) {
	if !object {
		return Message{}, errNotObject
	}
	id, ok := stringValue(f[0])
	if !ok {
		return Message{}, errors.New(`receiver: Stripe event has no string "id"`)
	}
	typ, _ := stringValue(f[1])
	m := Message{Key: id, Type: typ, Data: body, Mode: event.ModeTest}
	if string(f[2]) == "true" {
		m.Mode = event.ModeLive
	}
	if sig, err := oneHeader(h, hdrStripe); err == nil {
		if ts, _, err := parseStripe(sig, nil); err == nil {
			m.Time = time.Unix(ts, 0).UTC()
		}
	}
	return m, nil
}

const hdrStripe = "Stripe-Signature"

func verifyStripe(v *macVerifier, h http.Header, body []byte) error {
	sig, err := oneHeader(h, hdrStripe)
	if err != nil {
		return err
	}
	var macs stripeMACs
	ts, tss, err := parseStripe(sig, &macs)
	if err != nil {
		return err
	}
	if err := v.clock.check(ts); err != nil {
		return err
	}
	var views [signature.MaxSignatures][]byte
	for i := range macs.n {
		views[i] = macs.b[i][:]
	}
	if matchMAC(v.keys, views[:macs.n], body, tss, ".") {
		return nil
	}
	return signature.ErrNoMatch
}

// stripeMACs holds the v1 MACs of a Stripe-Signature header: b[:n].
type stripeMACs struct {
	n int
	b [signature.MaxSignatures][sha256.Size]byte
}

// parseStripe reads the t and v1 entries of a Stripe-Signature header: the
// time, its text (the entry's digits, which parseUnix accepts only in the
// canonical form strconv.FormatInt writes) and, into macs unless it is
// nil, the MACs. Entries of other schemes (v0) and v1 entries that are not
// hex of the right length are skipped, as Stripe's libraries do.
func parseStripe(sig string, macs *stripeMACs) (ts int64, tss string, err error) {
	seenT := false
	for rest := sig; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if seenT {
				return 0, "", fmt.Errorf("%w: %s has two timestamps", signature.ErrMalformedHeader, hdrStripe)
			}
			seenT = true
			var okT bool
			if ts, okT = parseUnix(v); !okT {
				return 0, "", fmt.Errorf("%w: %s timestamp is not a decimal Unix time", signature.ErrMalformedHeader, hdrStripe)
			}
			tss = v
		case "v1":
			if macs == nil || macs.n >= signature.MaxSignatures {
				continue
			}
			if decodeHex(macs.b[macs.n][:], v) {
				macs.n++
			}
		}
	}
	if !seenT {
		return 0, "", fmt.Errorf("%w: %s has no timestamp", signature.ErrMalformedHeader, hdrStripe)
	}
	return ts, tss, nil
}

// Slack is the [Provider] of the Slack Events API. Keys are the app's
// signing secret. The signature is X-Slack-Signature, "v0=" and the hex
// HMAC-SHA256 of "v0:" + X-Slack-Request-Timestamp + ":" + body, and the
// timestamp must be within the tolerance (5 minutes by default, as Slack
// asks). A url_verification request, which Slack sends when the request
// URL is set, is answered 200 with its challenge as the body
// ([ReasonChallenge]), as Slack requires, and is no event. For an
// event_callback the key is its event_id, the type the inner event's type
// ("app_mention"), the time its event_time and the data the whole body; an
// app_rate_limited notice is an event of type "app_rate_limited" keyed by
// its team and minute. There is no mode.
//
// Its name is "slack" ([NameSlack]): a [Source] of it is named so unless
// its Name says otherwise (r.Source(NameSlack) then returns its handler),
// its keys are claimed in the inbox as "slack.<event_id>", and "webhook
// listen --provider slack" receives its webhooks.
type Slack struct{}

// Name returns "slack", [NameSlack].
func (Slack) Name() string { return NameSlack }

// NewVerifier returns a verifier of X-Slack-Signature with any of the
// secrets, within opts' tolerance.
func (Slack) NewVerifier(keys []string, opts *signature.VerifyOptions) (Verifier, error) {
	return newMACVerifier(keys, opts, nil, verifySlack)
}

// Parse reads the outer type and, for an event, its id, inner type and time.
func (p Slack) Parse(h http.Header, body []byte) (Message, error) {
	var f [nSlackFields][]byte
	object, err := parseBody(body, slackFields[:], f[:])
	if err != nil {
		return Message{}, err
	}
	return p.parseFields(h, body, object, f[:])
}

// parseFields is Parse of a body checked as strict JSON: object says
// whether it is an object, f holds the members named by slackFields (nil
// when absent). See source.checkParse.
func (Slack) parseFields(_ http.Header, body []byte, object bool, f [][]byte) (Message, error) {
	if !object {
		return Message{}, errNotObject
	}
	outer, _ := stringValue(f[slackType])
	switch outer {
	case "url_verification":
		c, ok := stringValue(f[slackChallenge])
		if !ok || c == "" {
			return Message{}, errors.New(`receiver: Slack url_verification has no "challenge"`)
		}
		return Message{Challenge: c}, nil
	case "event_callback":
		id, ok := stringValue(f[slackEventID])
		if !ok {
			return Message{}, errors.New(`receiver: Slack event_callback has no "event_id"`)
		}
		m := Message{Key: id, Data: body}
		if firstNonSpace(f[slackEvent]) == '{' {
			var inner [1][]byte
			if err := topFields(f[slackEvent], slackInnerFields, inner[:]); err != nil {
				return Message{}, err
			}
			m.Type, _ = stringValue(inner[0])
		}
		if sec, ok := parseUnix(string(f[slackEventTime])); ok {
			m.Time = time.Unix(sec, 0).UTC()
		}
		return m, nil
	case "app_rate_limited":
		team, _ := stringValue(f[slackTeamID])
		minute := string(f[slackMinute])
		if team == "" || minute == "" {
			return Message{}, errors.New("receiver: Slack app_rate_limited without team_id or minute_rate_limited")
		}
		return Message{Key: "app_rate_limited-" + team + "-" + minute, Type: outer, Data: body}, nil
	}
	return Message{}, fmt.Errorf("receiver: Slack request of unknown type %.32q", outer)
}

// The members Slack.Parse reads, in slackFields, and of the inner event.
const (
	slackType = iota
	slackChallenge
	slackEventID
	slackEvent
	slackEventTime
	slackTeamID
	slackMinute
	nSlackFields
)

var (
	slackFields = [nSlackFields]string{
		slackType: "type", slackChallenge: "challenge", slackEventID: "event_id", slackEvent: "event",
		slackEventTime: "event_time", slackTeamID: "team_id", slackMinute: "minute_rate_limited",
	}
	slackInnerFields = []string{"type"}
)

// The headers of a Slack signature.
var slackHeaders = [2]string{"X-Slack-Request-Timestamp", "X-Slack-Signature"}

func verifySlack(v *macVerifier, h http.Header, body []byte) error {
	var hv [2]string
	if err := oneHeaders(h, slackHeaders[:], hv[:]); err != nil {
		return err
	}
	ts, sig := hv[0], hv[1]
	sec, ok := parseUnix(ts)
	if !ok {
		return fmt.Errorf("%w: X-Slack-Request-Timestamp is not a decimal Unix time", signature.ErrMalformedHeader)
	}
	if err := v.clock.check(sec); err != nil {
		return err
	}
	var buf macBuf
	mac, err := decodeMAC(&buf, sig, "v0=", Hex, sha256.Size, "X-Slack-Signature")
	if err != nil {
		return err
	}
	if matchMAC(v.keys, [][]byte{mac}, body, "v0:", ts, ":") {
		return nil
	}
	return signature.ErrNoMatch
}

// Encoding is how an [HMAC] provider's signature header encodes the MAC.
type Encoding int

// Encodings of a MAC.
const (
	Hex    Encoding = iota // lower- or upper-case hexadecimal
	Base64                 // standard base64, padded
)

// HMAC is a [Provider] for the long tail of senders that sign with an HMAC
// in one header: set the header, the encoding, an optional prefix and, if
// the signed content is not the body alone, Content; then where the key
// and the type are found. Keys are the shared secrets as text (their bytes
// are the HMAC key). The data is the whole body; there is no mode.
//
// Its zero value is not usable: ProviderName, Header and one of KeyHeader
// and KeyField are required ([New] refuses the source otherwise, through
// NewVerifier).
type HMAC struct {
	// ProviderName is what Name returns: lower-case letters, digits, '-'
	// and '_'. Required.
	ProviderName string
	// Header is the header holding the signature. Required.
	Header string
	// Prefix precedes the encoded MAC in the header, such as "sha256=".
	Prefix string
	// Encoding of the MAC. Zero: [Hex].
	Encoding Encoding
	// Hash makes the hash of the HMAC. Nil: SHA-256.
	Hash func() hash.Hash
	// TimestampHeader, if set, names a header holding the signing time in
	// decimal Unix seconds, which must be within the tolerance; it is also
	// the event's time. It requires Content, which must return the
	// timestamp among the signed content: a timestamp that is not signed
	// could be replaced on a copy of a request, and would stop no replay.
	// Empty: no timestamp is checked (only the de-duplication window
	// protects against replay, see [GitHub]).
	TimestampHeader string
	// Content returns the signed content of a request. Nil: the body
	// (which TimestampHeader does not allow).
	Content func(h http.Header, body []byte) []byte
	// KeyHeader names the header holding the idempotency key; KeyField,
	// if KeyHeader is empty, the body's top-level string field holding it.
	KeyHeader, KeyField string
	// TypeHeader names the header holding the event type; TypeField, if
	// TypeHeader is empty, the body's top-level string field holding it.
	// Both empty: events have no type (they route to [Mux.Default]).
	TypeHeader, TypeField string
}

// Name returns ProviderName.
func (p HMAC) Name() string { return p.ProviderName }

// NewVerifier returns a verifier of Header with any of the secrets. It
// fails when Header, or both KeyHeader and KeyField, are empty, and when
// TimestampHeader is set without Content.
func (p HMAC) NewVerifier(keys []string, opts *signature.VerifyOptions) (Verifier, error) {
	if p.Header == "" {
		return nil, errors.New("HMAC.Header is empty")
	}
	if p.TimestampHeader != "" && p.Content == nil {
		return nil, errors.New("HMAC.TimestampHeader is set but HMAC.Content is nil: the body alone would be signed, " +
			"not the timestamp; set Content to return the signed content, timestamp included")
	}
	if p.KeyHeader == "" && p.KeyField == "" {
		return nil, errors.New("HMAC.KeyHeader and HMAC.KeyField are both empty")
	}
	if p.Encoding != Hex && p.Encoding != Base64 {
		return nil, fmt.Errorf("HMAC.Encoding %d is neither Hex nor Base64", p.Encoding)
	}
	return newMACVerifier(keys, opts, p.Hash, p.verify)
}

// Parse reads the key, the type and the time where the fields say.
func (p HMAC) Parse(h http.Header, body []byte) (Message, error) {
	var names [2]string
	var f [2][]byte
	object, err := parseBody(body, p.fields(&names), f[:])
	if err != nil {
		return Message{}, err
	}
	return p.parseFields(h, body, object, f[:])
}

// readsBody reports whether p reads members of the body.
func (p HMAC) readsBody() bool {
	return p.KeyHeader == "" || (p.TypeHeader == "" && p.TypeField != "")
}

// fields returns the members p reads, in names: KeyField and TypeField
// when it reads the body, none otherwise.
func (p HMAC) fields(names *[2]string) []string {
	if !p.readsBody() {
		return nil
	}
	*names = [2]string{p.KeyField, p.TypeField}
	return names[:]
}

// parseFields is Parse of a body checked as strict JSON: object says
// whether it is an object, f holds the members named by its fields (nil
// when absent). See source.checkParse.
func (p HMAC) parseFields(h http.Header, body []byte, object bool, f [][]byte) (Message, error) {
	m := Message{Data: body}
	if p.readsBody() && !object {
		return Message{}, errNotObject
	}
	if p.KeyHeader != "" {
		k, err := oneHeader(h, p.KeyHeader)
		if err != nil {
			return Message{}, err
		}
		m.Key = k
	} else if k, ok := stringValue(f[0]); ok {
		m.Key = k
	} else {
		return Message{}, fmt.Errorf("receiver: body has no string %.64q", p.KeyField)
	}
	switch {
	case p.TypeHeader != "":
		t, err := oneHeader(h, p.TypeHeader)
		if err != nil {
			return Message{}, err
		}
		m.Type = t
	case p.TypeField != "":
		m.Type, _ = stringValue(f[1])
	}
	if p.TimestampHeader != "" {
		if ts, err := oneHeader(h, p.TimestampHeader); err == nil {
			if sec, ok := parseUnix(ts); ok {
				m.Time = time.Unix(sec, 0).UTC()
			}
		}
	}
	return m, nil
}

// verify checks a request with v's keys as p says.
func (p HMAC) verify(v *macVerifier, h http.Header, body []byte) error {
	if p.TimestampHeader != "" {
		ts, err := oneHeader(h, p.TimestampHeader)
		if err != nil {
			return err
		}
		sec, ok := parseUnix(ts)
		if !ok {
			return fmt.Errorf("%w: %s is not a decimal Unix time", signature.ErrMalformedHeader, p.TimestampHeader)
		}
		if err := v.clock.check(sec); err != nil {
			return err
		}
	}
	sig, err := oneHeader(h, p.Header)
	if err != nil {
		return err
	}
	var buf macBuf
	mac, err := decodeMAC(&buf, sig, p.Prefix, p.Encoding, v.size, p.Header)
	if err != nil {
		return err
	}
	content := body
	if p.Content != nil {
		content = p.Content(h, body)
	}
	if matchMAC(v.keys, [][]byte{mac}, content) {
		return nil
	}
	return signature.ErrNoMatch
}

// macVerifier verifies requests signed with an HMAC under one of its keys,
// as its check says. It is safe for concurrent use: each key keeps a pool
// of HMACs keyed by it, so that a request allocates none.
type macVerifier struct {
	keys  []*macKey
	size  int // bytes of a MAC
	clock clock
	check func(v *macVerifier, h http.Header, body []byte) error
}

// newMACVerifier returns a verifier of HMACs made with newHash (nil:
// SHA-256) under any of keys.
func newMACVerifier(keys []string, opts *signature.VerifyOptions, newHash func() hash.Hash, check func(*macVerifier, http.Header, []byte) error) (Verifier, error) {
	if len(keys) == 0 {
		return nil, signature.ErrNoKeys
	}
	if newHash == nil {
		newHash = sha256.New
	}
	v := &macVerifier{keys: make([]*macKey, len(keys)), size: newHash().Size(), clock: newClock(opts), check: check}
	for i, k := range keys {
		if k == "" {
			return nil, errors.New("empty secret")
		}
		v.keys[i] = newMACKey([]byte(k), newHash)
	}
	return v, nil
}

func (v *macVerifier) Verify(h http.Header, body []byte) error { return v.check(v, h, body) }

// bodyMAC returns the check of a header holding the SHA-256 HMAC of the
// body alone (GitHub, Shopify).
func bodyMAC(header, prefix string, enc Encoding) func(*macVerifier, http.Header, []byte) error {
	return func(v *macVerifier, h http.Header, body []byte) error {
		sig, err := oneHeader(h, header)
		if err != nil {
			return err
		}
		var buf macBuf
		mac, err := decodeMAC(&buf, sig, prefix, enc, sha256.Size, header)
		if err != nil {
			return err
		}
		if matchMAC(v.keys, [][]byte{mac}, body) {
			return nil
		}
		return signature.ErrNoMatch
	}
}

// macKey is one secret: a pool of HMACs keyed by it.
type macKey struct {
	pool sync.Pool // of *macState
}

// macState is a pooled keyed hash with its scratch buffers.
type macState struct {
	h      hash.Hash
	prefix []byte // the signed content before the body
	sum    [64]byte
}

func newMACKey(key []byte, newHash func() hash.Hash) *macKey {
	k := &macKey{}
	k.pool.New = func() any { return &macState{h: hmac.New(newHash, key)} }
	return k
}

// macBuf holds a decoded MAC: the longest that decodeMAC decodes without
// allocating (the base64 of up to maxMACText bytes).
type macBuf [maxMACText / 4 * 3]byte

// maxMACText is the longest encoded MAC decodeMAC decodes without
// allocating: the hex of 64 bytes (SHA-512).
const maxMACText = 128

// decodeMAC strips prefix from a signature header's value and decodes the
// MAC, which must be size bytes; anything else is a malformed header. The
// MAC is decoded into buf when it fits.
func decodeMAC(buf *macBuf, sig, prefix string, enc Encoding, size int, name string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sig, prefix)
	if !ok {
		return nil, fmt.Errorf("%w: %s does not start with %q", signature.ErrMalformedHeader, name, prefix)
	}
	var mac []byte
	var err error
	switch {
	case enc == Hex && size <= len(buf):
		// hex.DecodeString(rest) without the allocation.
		if decodeHex(buf[:size], rest) {
			mac = buf[:size]
		}
	case enc == Base64 && len(rest) <= maxMACText:
		// strictBase64.DecodeString(rest) without the allocations.
		var src [maxMACText]byte
		n := copy(src[:], rest)
		var m int
		m, err = strictBase64.Decode(buf[:], src[:n])
		mac = buf[:m]
	case enc == Base64:
		mac, err = strictBase64.DecodeString(rest)
	default:
		mac, err = hex.DecodeString(rest)
	}
	if err != nil || mac == nil || len(mac) != size {
		return nil, fmt.Errorf("%w: %s is not a MAC of %d bytes", signature.ErrMalformedHeader, name, size)
	}
	return mac, nil
}

// strictBase64 decodes the standard, padded base64 of MACs, refusing
// non-zero trailing bits (it still skips '\r' and '\n', as all of
// encoding/base64's decoders do).
var strictBase64 = base64.StdEncoding.Strict()

// decodeHex decodes the hex text s, in either case, into dst, which must
// be exactly half as long; it reports whether s is such hex.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// matchMAC reports whether any of macs is the HMAC under any of keys of
// the prefix strings followed by content, comparing with hmac.Equal (in
// constant time). The bytes hashed are exactly the prefix and content
// given.
func matchMAC(keys []*macKey, macs [][]byte, content []byte, prefix ...string) bool {
	if len(macs) == 0 {
		return false
	}
	for _, k := range keys {
		st := k.pool.Get().(*macState)
		st.h.Reset()
		if len(prefix) > 0 {
			st.prefix = st.prefix[:0]
			for _, p := range prefix {
				st.prefix = append(st.prefix, p...)
			}
			st.h.Write(st.prefix)
		}
		st.h.Write(content)
		got := st.h.Sum(st.sum[:0])
		ok := false
		for _, want := range macs {
			ok = ok || hmac.Equal(got, want)
		}
		if cap(st.prefix) <= maxPooledPrefix {
			k.pool.Put(st)
		}
		if ok {
			return true
		}
	}
	return false
}

// maxPooledPrefix bounds the prefix buffer a pooled macState keeps.
const maxPooledPrefix = 1 << 10

// clock checks signed timestamps against a tolerance.
type clock struct {
	tolerance time.Duration
	now       func() time.Time
}

func newClock(opts *signature.VerifyOptions) clock {
	c := clock{tolerance: signature.DefaultTolerance, now: time.Now}
	if opts != nil {
		if opts.Tolerance > 0 {
			c.tolerance = opts.Tolerance
		}
		if opts.Now != nil {
			c.now = opts.Now
		}
	}
	return c
}

// check returns an error wrapping signature.ErrTimestampTooOld or
// ErrTimestampTooNew for a time of sec Unix seconds outside the tolerance.
func (c clock) check(sec int64) error {
	d := c.now().Sub(time.Unix(sec, 0))
	switch {
	case d > c.tolerance:
		return signature.ErrTimestampTooOld
	case d < -c.tolerance:
		return signature.ErrTimestampTooNew
	}
	return nil
}
