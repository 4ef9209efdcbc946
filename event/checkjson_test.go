package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

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
		{`[1,"x",null,true,false,-0.5e3]`, true},
		{`"just a string"`, true},
		{` {} `, true},
		{`{"a":1,"b":{"c":1,"C":2}}`, false},
		{`{"\u0061":1,"a":2}`, false},
		{`{"K":1,"\u212a":2}`, false}, // KELVIN SIGN folds to k
		{`{"s":1,"ſ":2}`, false},      // LONG S folds to s
		{`{"a\"b":1,"a\"B":2}`, false},
		{`["a","a",{"a":"a"}]`, true},
		{`{"a":"\ud800\udc00"}`, true},
		{`{"a":"\udc00"}`, false},
		{`"\ud800"`, false},
		{"\"\xff\"", false},
		{`{} {}`, false},
		{``, false},
		{`nul`, false},
		{string(many(`"k100"`)), true},
		{string(many(`"K7"`)), false},
		{strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), true},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), false},
	} {
		err := CheckJSON([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("CheckJSON(%.80q) = %v, want ok %v", tc.in, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("CheckJSON(%.80q) = %v, want an error wrapping ErrInvalidJSON", tc.in, err)
		}
		if want := checkJSONTokens([]byte(tc.in)); (want == nil) != tc.ok {
			t.Errorf("checkJSONTokens(%.80q) = %v, want ok %v", tc.in, want, tc.ok)
		}
	}
}

// FuzzCheckJSON: CheckJSON never panics, accepts only what encoding/json
// accepts, and agrees with checkJSONTokens, the same rule written with
// encoding/json's tokenizer.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1,{"a":[]}]`, `{"a":1,"A":2}`, `{"a":"\ud800\udc00"}`, `{"a":"\udc00"}`, `"\\ud800"`, `{} {}`, ``, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckJSON(b)
		if err == nil && !json.Valid(b) {
			t.Fatalf("CheckJSON accepted %q", b)
		}
		if want := checkJSONTokens(b); (err == nil) != (want == nil) {
			t.Fatalf("CheckJSON(%q) = %v, the tokenizer's check %v", b, err, want)
		}
	})
}

// checkJSONTokens is CheckJSON written with encoding/json's tokenizer:
// slower, and the oracle of FuzzCheckJSON.
func checkJSONTokens(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("invalid UTF-8")
	}
	if loneSurrogate(b) {
		return errors.New("escaped lone surrogate")
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
			return err
		}
		if len(stack) == 0 {
			if values++; values > 1 {
				return errors.New("data after the value")
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
					return fmt.Errorf("duplicate key %.64q", tok.(string))
				}
				top.keys[k] = struct{}{}
				top.wantKey = false
				continue
			}
			top.wantKey = true // after this value, a key
		}
		if d, ok := tok.(json.Delim); ok {
			if len(stack) >= MaxDepth {
				return fmt.Errorf("nested deeper than %d", MaxDepth)
			}
			f := frame{obj: d == '{', wantKey: d == '{'}
			if f.obj {
				f.keys = make(map[string]struct{})
			}
			stack = append(stack, f)
		}
	}
	if values == 0 || len(stack) > 0 {
		return errors.New("empty or cut short")
	}
	return nil
}

// loneSurrogate reports whether the JSON text b holds a \u escape of a
// UTF-16 surrogate that is not part of a pair (encoding/json replaces
// those with U+FFFD instead of refusing them).
func loneSurrogate(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		r, ok := hex4(b[i+2:])
		if !ok {
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if lo, ok := hex4(b[min(i+8, len(b)):]); ok && b[i+6] == '\\' && b[i+7] == 'u' && lo >= 0xDC00 && lo < 0xE000 {
				i += 11
				continue
			}
			return true
		case r >= 0xDC00 && r < 0xE000:
			return true
		}
		i += 5
	}
	return false
}
