package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// errNotObject is the error of a body that is JSON but not an object.
var errNotObject = errors.New("receiver: body is not a JSON object")

// The providers of this package that read top-level members of the body
// name them in a fixed list (an HMAC provider in its fields method) and
// read the message from them in a parseFields method: Parse checks the
// body and finds the members with parseBody, and the receiver (see
// source.checkParse) does both in its single strict pass over the body.
var (
	standardFields     = []string{"type", "event"}
	eventPayloadFields = []string{"id", "event", "payload"}
	githubFields       = []string{"action"}
	stripeFields       = []string{"id", "type", "livemode"}
)

// maxBodyFields is the most members a provider of this package reads.
const maxBodyFields = 8

// parseBody checks body as strict JSON and finds the members named names
// (see event.CheckJSONFields): the start of Parse of the providers that
// read members of the body.
func parseBody(body []byte, names []string, vals [][]byte) (object bool, err error) {
	object, err = event.CheckJSONFields(body, names, vals)
	if err != nil {
		return false, fmt.Errorf("receiver: body is not a JSON object: %w", err)
	}
	return object, nil
}

// checkParse checks body as strict JSON as event.CheckJSON does, whose
// error jsonErr is, and then parses it with the source's provider: in one
// pass over the body for the providers of this package that read it.
func (s *source) checkParse(h http.Header, body []byte) (msg Message, jsonErr, err error) {
	var hf [2]string
	var names []string
	switch p := s.provider.(type) {
	case StandardWebhooks:
		names = standardFields
	case EventPayload:
		names = eventPayloadFields
	case GitHub:
		names = githubFields
	case Stripe:
		names = stripeFields
	case Slack:
		names = slackFields[:]
	case HMAC:
		names = p.fields(&hf)
	default:
		if err := event.CheckJSON(body); err != nil {
			return Message{}, err, nil
		}
		msg, err = s.provider.Parse(h, body)
		return msg, nil, err
	}
	// The calls below are static, so that vals stays on the stack.
	var vals [maxBodyFields][]byte
	f := vals[:len(names)]
	object, jsonErr := event.CheckJSONFields(body, names, f)
	if jsonErr != nil {
		return Message{}, jsonErr, nil
	}
	switch p := s.provider.(type) {
	case StandardWebhooks:
		msg, err = p.parseFields(h, body, object, f)
	case EventPayload:
		msg, err = p.parseFields(h, body, object, f)
	case GitHub:
		msg, err = p.parseFields(h, body, object, f)
	case Stripe:
		msg, err = p.parseFields(h, body, object, f)
	case Slack:
		msg, err = p.parseFields(h, body, object, f)
	case HMAC:
		msg, err = p.parseFields(h, body, object, f)
	}
	return msg, nil, err
}

// topFields checks b as strict JSON (event.CheckJSON) in one pass and sets
// vals[i] to the raw value of its top-level member named names[i] (nil when
// absent). It returns an error when b is not a strict JSON object: b is
// strict JSON, so a key names one value, whatever the case. It allocates
// nothing for the bodies of the providers.
func topFields(b []byte, names []string, vals [][]byte) error {
	object, err := event.CheckJSONFields(b, names, vals)
	if err != nil {
		return fmt.Errorf("receiver: body is not a JSON object: %w", err)
	}
	if !object {
		return errNotObject
	}
	return nil
}

// stringValue returns the string a raw JSON value found by topFields holds,
// if it is a string. A string without escapes is its bytes between the
// quotes (topFields checked them as valid UTF-8); one with escapes is
// decoded by encoding/json.
func stringValue(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// lenientFields returns the members of the JSON object b by exact key, as
// encoding/json decodes it (duplicate keys allowed, the last one wins): for
// the hints about refused bodies, which need not be strict JSON.
func lenientFields(b []byte) (map[string]json.RawMessage, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("receiver: body is not a JSON object: %w", err)
	}
	if f == nil {
		return nil, errNotObject
	}
	return f, nil
}

// stringField returns the string value of f[name], if it is a string.
func stringField[M ~map[string]V, V ~[]byte](f M, name string) (string, bool) {
	raw := f[name]
	if firstNonSpace(raw) != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// firstNonSpace returns the first byte of b that is not JSON whitespace, or
// 0.
func firstNonSpace(b []byte) byte {
	if b = bytes.TrimLeft(b, " \t\n\r"); len(b) > 0 {
		return b[0]
	}
	return 0
}

// hasHeader reports whether h has the header named by canonical key, under
// any spelling.
func hasHeader(h http.Header, key string) bool {
	if _, ok := h[key]; ok {
		return true
	}
	for k := range h {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// oneHeader returns the one value of the header named key (matched
// case-insensitively): an error wrapping signature.ErrMissingHeader when it
// is absent or empty, signature.ErrMalformedHeader when it is repeated.
func oneHeader(h http.Header, key string) (string, error) {
	var val [1]string
	if err := oneHeaders(h, []string{key}, val[:]); err != nil {
		return "", err
	}
	return val[0], nil
}

// oneHeaders sets vals[i] to the one value of the header named keys[i], as
// oneHeader does for each key in turn, in one pass over h; the error is
// that of the first key, in order, that oneHeader would refuse. Keys are
// ASCII, so a name of the same length matches one exactly when it is equal
// under ASCII case folding (strings.EqualFold could match only a longer
// name).
func oneHeaders(h http.Header, keys, vals []string) error {
	var counts [4]int
	n := counts[:0]
	if len(keys) <= len(counts) {
		n = counts[:len(keys)]
	} else {
		n = make([]int, len(keys))
	}
	for i := range keys {
		vals[i] = ""
	}
	for k, vs := range h {
		for i, key := range keys {
			if len(k) == len(key) && (k == key || equalFoldASCII(k, key)) {
				n[i] += len(vs)
				if len(vs) > 0 {
					vals[i] = vs[0]
				}
			}
		}
	}
	for i, key := range keys {
		switch {
		case n[i] > 1:
			return fmt.Errorf("%w: %s appears %d times", signature.ErrMalformedHeader, key, n[i])
		case vals[i] == "":
			return fmt.Errorf("%w: %s", signature.ErrMissingHeader, key)
		}
	}
	return nil
}

// parseUnix parses canonical decimal Unix seconds (digits only, no leading
// zero, at most 12 digits: until the year 33658).
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 12 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// validKey reports whether k is 1 to MaxKeyLength bytes of visible ASCII.
func validKey(k string) bool {
	if k == "" || len(k) > MaxKeyLength {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}
