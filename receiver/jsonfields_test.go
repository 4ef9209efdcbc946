package receiver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/webhookkit/webhookkit/event"
)

// FuzzCheckJSON: checkJSON never panics and accepts only what
// encoding/json accepts; decodeRecord never panics, and an encoded record
// decodes to itself.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1,{"a":[]}]`, `{"a":1,"A":2}`, `{"a":"\ud800\udc00"}`, `{"a":"\udc00"}`, `"\\ud800"`, `{} {}`, ``, `nul`, recordMagic + `{"source":"s"}` + "\n{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := checkJSON(b)
		if err == nil && !json.Valid(b) {
			t.Fatalf("checkJSON accepted %q", b)
		}
		if want := checkJSONTokens(b); (err == nil) != (want == nil) {
			t.Fatalf("checkJSON(%q) = %v, the tokenizer's check %v", b, err, want)
		}
		_, _, _, _ = decodeRecord(b)
		d := &Delivery{Source: "s", Header: map[string][]string{"X-A": {string(b)}}, Body: b, Received: time.Unix(1, 0).UTC()}
		meta, body, ok, err := decodeRecord(encodeRecord(d))
		// Header values are stored as JSON strings: invalid UTF-8 in them
		// comes back as U+FFFD (signature and routing headers are ASCII).
		if err != nil || !ok || string(body) != string(b) || meta.Source != "s" || (utf8.Valid(b) && meta.Header.Get("X-A") != string(b)) {
			t.Fatalf("record round trip: %v %v %q %+v", ok, err, body, meta)
		}
	})
}

// checkJSONTokens is checkJSON written with encoding/json's tokenizer:
// slower, and the oracle of FuzzCheckJSON.
func checkJSONTokens(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: invalid UTF-8", errStrict)
	}
	if loneSurrogate(b) {
		return fmt.Errorf("%w: escaped lone surrogate", errStrict)
	}
	type frame struct {
		obj     bool
		wantKey bool
		keys    map[string]struct{}
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	values := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errStrict, err)
		}
		if len(stack) == 0 {
			if values++; values > 1 {
				return fmt.Errorf("%w: data after the value", errStrict)
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].obj {
			top := &stack[n-1]
			if top.wantKey {
				k := foldKey([]byte(tok.(string)))
				if _, dup := top.keys[k]; dup {
					return fmt.Errorf("%w: duplicate key %.64q", errStrict, tok.(string))
				}
				top.keys[k] = struct{}{}
				top.wantKey = false
				continue
			}
			top.wantKey = true // after this value, a key
		}
		if d, ok := tok.(json.Delim); ok {
			if len(stack) >= event.MaxDepth {
				return fmt.Errorf("%w: nested deeper than %d", errStrict, event.MaxDepth)
			}
			f := frame{obj: d == '{', wantKey: d == '{'}
			if f.obj {
				f.keys = make(map[string]struct{})
			}
			stack = append(stack, f)
		}
	}
	if values == 0 || len(stack) > 0 {
		return fmt.Errorf("%w: empty or cut short", errStrict)
	}
	return nil
}

func TestCheckJSON(t *testing.T) {
	many := func(last string) []byte {
		var b bytes.Buffer
		b.WriteString(`{"nested":{"a":1,"b":[{"a":1}]}`)
		for i := range 100 {
			fmt.Fprintf(&b, `,"k%d":{"k%d":1}`, i, i)
		}
		b.WriteString(`,` + last + `:1}`)
		return b.Bytes()
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}`, true},
		{`{"a":1,"b":{"c":1,"C":2}}`, false},
		{`{"\u0061":1,"a":2}`, false},
		{`{"K":1,"\u212a":2}`, false}, // KELVIN SIGN folds to k
		{`{"s":1,"ſ":2}`, false},      // LONG S folds to s
		{`{"a\"b":1,"a\"B":2}`, false},
		{`["a","a",{"a":"a"}]`, true},
		{string(many(`"k100"`)), true},
		{string(many(`"K7"`)), false},
		{strings.Repeat("[", 128) + strings.Repeat("]", 128), true},
		{strings.Repeat("[", 129) + strings.Repeat("]", 129), false},
	} {
		err := checkJSON([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("checkJSON(%.80q) = %v, want ok %v", tc.in, err, tc.ok)
		}
		if want := checkJSONTokens([]byte(tc.in)); (want == nil) != tc.ok {
			t.Errorf("checkJSONTokens(%.80q) = %v, want ok %v", tc.in, want, tc.ok)
		}
	}
}
