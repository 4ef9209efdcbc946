package receiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
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
	return newMACVerifier(keys, nil, bodyMAC("X-Hub-Signature-256", "sha256=", Hex))
}

// Parse reads the delivery id and event name from the headers and the
// action from the body.
func (GitHub) Parse(h http.Header, body []byte) (Message, error) {
	key, err := oneHeader(h, "X-Github-Delivery")
	if err != nil {
		return Message{}, err
	}
	typ, err := oneHeader(h, "X-Github-Event")
	if err != nil {
		return Message{}, err
	}
	if firstNonSpace(body) == '{' {
		f, err := topFields(body)
		if err != nil {
			return Message{}, err
		}
		if a, ok := stringField(f, "action"); ok && a != "" {
			typ += "." + a
		}
	}
	return Message{Key: key, Type: typ, Data: body}, nil
}

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
	return newMACVerifier(keys, nil, bodyMAC("X-Shopify-Hmac-Sha256", "", Base64))
}

// Parse reads the webhook id and the topic from the headers.
func (Shopify) Parse(h http.Header, body []byte) (Message, error) {
	key, err := oneHeader(h, "X-Shopify-Webhook-Id")
	if err != nil {
		return Message{}, err
	}
	topic, err := oneHeader(h, "X-Shopify-Topic")
	if err != nil {
		return Message{}, err
	}
	return Message{Key: key, Type: strings.ReplaceAll(topic, "/", "."), Data: body}, nil
}

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
	return newMACVerifier(keys, opts, verifyStripe)
}

// Parse reads id, type and livemode from the body and t from the header.
func (Stripe) Parse(h http.Header, body []byte) (Message, error) {
	f, err := topFields(body)
	if err != nil {
		return Message{}, err
	}
	id, ok := stringField(f, "id")
	if !ok {
		return Message{}, errors.New(`receiver: Stripe event has no string "id"`)
	}
	typ, _ := stringField(f, "type")
	m := Message{Key: id, Type: typ, Data: body, Mode: event.ModeTest}
	if string(f["livemode"]) == "true" {
		m.Mode = event.ModeLive
	}
	if sig, err := oneHeader(h, hdrStripe); err == nil {
		if ts, _, err := parseStripe(sig); err == nil {
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
	ts, macs, err := parseStripe(sig)
	if err != nil {
		return err
	}
	if err := v.clock.check(ts); err != nil {
		return err
	}
	tss := strconv.FormatInt(ts, 10)
	if matchMAC(v.keys, macs, sha256.New, []byte(tss), []byte("."), body) {
		return nil
	}
	return signature.ErrNoMatch
}

// parseStripe reads the t and v1 entries of a Stripe-Signature header.
// Entries of other schemes (v0) and v1 entries that are not hex of the
// right length are skipped, as Stripe's libraries do.
func parseStripe(sig string) (ts int64, macs [][]byte, err error) {
	seenT := false
	for part := range strings.SplitSeq(sig, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if seenT {
				return 0, nil, fmt.Errorf("%w: %s has two timestamps", signature.ErrMalformedHeader, hdrStripe)
			}
			seenT = true
			var okT bool
			if ts, okT = parseUnix(v); !okT {
				return 0, nil, fmt.Errorf("%w: %s timestamp is not a decimal Unix time", signature.ErrMalformedHeader, hdrStripe)
			}
		case "v1":
			if len(macs) >= signature.MaxSignatures {
				continue
			}
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				macs = append(macs, b)
			}
		}
	}
	if !seenT {
		return 0, nil, fmt.Errorf("%w: %s has no timestamp", signature.ErrMalformedHeader, hdrStripe)
	}
	return ts, macs, nil
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
	return newMACVerifier(keys, opts, verifySlack)
}

// Parse reads the outer type and, for an event, its id, inner type and time.
func (Slack) Parse(_ http.Header, body []byte) (Message, error) {
	f, err := topFields(body)
	if err != nil {
		return Message{}, err
	}
	outer, _ := stringField(f, "type")
	switch outer {
	case "url_verification":
		c, ok := stringField(f, "challenge")
		if !ok || c == "" {
			return Message{}, errors.New(`receiver: Slack url_verification has no "challenge"`)
		}
		return Message{Challenge: c}, nil
	case "event_callback":
		id, ok := stringField(f, "event_id")
		if !ok {
			return Message{}, errors.New(`receiver: Slack event_callback has no "event_id"`)
		}
		m := Message{Key: id, Data: body}
		if firstNonSpace(f["event"]) == '{' {
			inner, err := topFields(f["event"])
			if err != nil {
				return Message{}, err
			}
			m.Type, _ = stringField(inner, "type")
		}
		if sec, ok := parseUnix(string(f["event_time"])); ok {
			m.Time = time.Unix(sec, 0).UTC()
		}
		return m, nil
	case "app_rate_limited":
		team, _ := stringField(f, "team_id")
		minute := string(f["minute_rate_limited"])
		if team == "" || minute == "" {
			return Message{}, errors.New("receiver: Slack app_rate_limited without team_id or minute_rate_limited")
		}
		return Message{Key: "app_rate_limited-" + team + "-" + minute, Type: outer, Data: body}, nil
	}
	return Message{}, fmt.Errorf("receiver: Slack request of unknown type %.32q", outer)
}

func verifySlack(v *macVerifier, h http.Header, body []byte) error {
	ts, err := oneHeader(h, "X-Slack-Request-Timestamp")
	if err != nil {
		return err
	}
	sig, err := oneHeader(h, "X-Slack-Signature")
	if err != nil {
		return err
	}
	sec, ok := parseUnix(ts)
	if !ok {
		return fmt.Errorf("%w: X-Slack-Request-Timestamp is not a decimal Unix time", signature.ErrMalformedHeader)
	}
	if err := v.clock.check(sec); err != nil {
		return err
	}
	mac, err := decodeMAC(sig, "v0=", Hex, sha256.Size, "X-Slack-Signature")
	if err != nil {
		return err
	}
	if matchMAC(v.keys, [][]byte{mac}, sha256.New, []byte("v0:"+ts+":"), body) {
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
	// the event's time. Empty: no timestamp is checked (only the
	// de-duplication window protects against replay, see [GitHub]).
	TimestampHeader string
	// Content returns the signed content of a request. Nil: the body.
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
// fails when Header, or both KeyHeader and KeyField, are empty.
func (p HMAC) NewVerifier(keys []string, opts *signature.VerifyOptions) (Verifier, error) {
	if p.Header == "" {
		return nil, errors.New("HMAC.Header is empty")
	}
	if p.KeyHeader == "" && p.KeyField == "" {
		return nil, errors.New("HMAC.KeyHeader and HMAC.KeyField are both empty")
	}
	if p.Encoding != Hex && p.Encoding != Base64 {
		return nil, fmt.Errorf("HMAC.Encoding %d is neither Hex nor Base64", p.Encoding)
	}
	return newMACVerifier(keys, opts, p.verify)
}

// Parse reads the key, the type and the time where the fields say.
func (p HMAC) Parse(h http.Header, body []byte) (Message, error) {
	m := Message{Data: body}
	var f map[string]json.RawMessage
	if p.KeyHeader == "" || (p.TypeHeader == "" && p.TypeField != "") {
		var err error
		if f, err = topFields(body); err != nil {
			return Message{}, err
		}
	}
	if p.KeyHeader != "" {
		k, err := oneHeader(h, p.KeyHeader)
		if err != nil {
			return Message{}, err
		}
		m.Key = k
	} else if k, ok := stringField(f, p.KeyField); ok {
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
		m.Type, _ = stringField(f, p.TypeField)
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
	newHash := p.Hash
	if newHash == nil {
		newHash = sha256.New
	}
	mac, err := decodeMAC(sig, p.Prefix, p.Encoding, newHash().Size(), p.Header)
	if err != nil {
		return err
	}
	content := body
	if p.Content != nil {
		content = p.Content(h, body)
	}
	if matchMAC(v.keys, [][]byte{mac}, newHash, content) {
		return nil
	}
	return signature.ErrNoMatch
}

// macVerifier verifies requests signed with an HMAC under one of its keys,
// as its check says.
type macVerifier struct {
	keys  [][]byte
	clock clock
	check func(v *macVerifier, h http.Header, body []byte) error
}

func newMACVerifier(keys []string, opts *signature.VerifyOptions, check func(*macVerifier, http.Header, []byte) error) (Verifier, error) {
	ks, err := macKeys(keys)
	if err != nil {
		return nil, err
	}
	return &macVerifier{keys: ks, clock: newClock(opts), check: check}, nil
}

func (v *macVerifier) Verify(h http.Header, body []byte) error { return v.check(v, h, body) }

// bodyMAC returns the check of a header holding the MAC of the body alone
// (GitHub, Shopify).
func bodyMAC(header, prefix string, enc Encoding) func(*macVerifier, http.Header, []byte) error {
	return func(v *macVerifier, h http.Header, body []byte) error {
		sig, err := oneHeader(h, header)
		if err != nil {
			return err
		}
		mac, err := decodeMAC(sig, prefix, enc, sha256.Size, header)
		if err != nil {
			return err
		}
		if matchMAC(v.keys, [][]byte{mac}, sha256.New, body) {
			return nil
		}
		return signature.ErrNoMatch
	}
}

// macKeys returns the bytes of the secrets, refusing an empty one.
func macKeys(keys []string) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, signature.ErrNoKeys
	}
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		if k == "" {
			return nil, errors.New("empty secret")
		}
		ks[i] = []byte(k)
	}
	return ks, nil
}

// decodeMAC strips prefix from a signature header's value and decodes the
// MAC, which must be size bytes; anything else is a malformed header.
func decodeMAC(sig, prefix string, enc Encoding, size int, name string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sig, prefix)
	if !ok {
		return nil, fmt.Errorf("%w: %s does not start with %q", signature.ErrMalformedHeader, name, prefix)
	}
	var mac []byte
	var err error
	if enc == Base64 {
		mac, err = base64.StdEncoding.Strict().DecodeString(rest)
	} else {
		mac, err = hex.DecodeString(rest)
	}
	if err != nil || len(mac) != size {
		return nil, fmt.Errorf("%w: %s is not a MAC of %d bytes", signature.ErrMalformedHeader, name, size)
	}
	return mac, nil
}

// matchMAC reports whether any of macs is the HMAC of the concatenated
// parts under any of keys, comparing in constant time.
func matchMAC(keys, macs [][]byte, newHash func() hash.Hash, parts ...[]byte) bool {
	if len(macs) == 0 {
		return false
	}
	var sum [64]byte
	for _, k := range keys {
		m := hmac.New(newHash, k)
		for _, p := range parts {
			m.Write(p)
		}
		got := m.Sum(sum[:0])
		for _, want := range macs {
			if hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

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
