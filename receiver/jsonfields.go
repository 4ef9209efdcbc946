package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/webhookkit/webhookkit/signature"
)

// topFields returns the members of the JSON object b by exact key (b is
// strict JSON, so there is one value per key, whatever the case).
func topFields(b []byte) (map[string]json.RawMessage, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("receiver: body is not a JSON object: %w", err)
	}
	if f == nil {
		return nil, errors.New("receiver: body is not a JSON object")
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
