package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/webhookkit/webhookkit/event"
)

// errStrict reports a body that is not strict JSON.
var errStrict = errors.New("receiver: body is not strict JSON")

// pairwiseKeys is how many keys of one object are compared pairwise for
// duplicates; an object with more is checked through a map.
const pairwiseKeys = 32

// checkJSON reports whether b is exactly one well-formed JSON value that
// different JSON readers cannot read differently: valid UTF-8, no escaped
// lone surrogate, no object with two keys equal or equal but for case
// (Unicode simple folding, as encoding/json matches names), no nesting
// deeper than [event.MaxDepth]. It is the strictness of [event.Decode], for
// the bodies of providers other than [Webhookkit].
//
// The syntax is checked by [json.Valid]; then one pass over the valid
// text finds the keys, allocating only for escaped keys and for objects of
// more than pairwiseKeys keys.
func checkJSON(b []byte) error {
	if !json.Valid(b) {
		return fmt.Errorf("%w: not one well-formed JSON value", errStrict)
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: invalid UTF-8", errStrict)
	}
	if loneSurrogate(b) {
		return fmt.Errorf("%w: escaped lone surrogate", errStrict)
	}
	var w keyWalk
	return w.walk(b)
}

// keyWalk finds the duplicate keys of valid JSON. The keys of the open
// objects are on one stack (keys), each object's from its frame's start.
type keyWalk struct {
	frames []keyFrame
	keys   [][]byte
	buf    [16]keyFrame
}

type keyFrame struct {
	obj     bool
	wantKey bool
	start   int                 // its first key in keys
	set     map[string]struct{} // folded keys, once there are more than pairwiseKeys
}

func (w *keyWalk) walk(b []byte) error {
	w.frames = w.buf[:0]
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			if len(w.frames) >= event.MaxDepth {
				return fmt.Errorf("%w: nested deeper than %d", errStrict, event.MaxDepth)
			}
			w.frames = append(w.frames, keyFrame{obj: c == '{', wantKey: c == '{', start: len(w.keys)})
		case '}', ']':
			f := w.frames[len(w.frames)-1]
			w.frames = w.frames[:len(w.frames)-1]
			clear(w.keys[f.start:])
			w.keys = w.keys[:f.start]
		case ',':
			if f := &w.frames[len(w.frames)-1]; f.obj {
				f.wantKey = true
			}
		case '"':
			end, escaped := stringEnd(b, i)
			if n := len(w.frames); n > 0 && w.frames[n-1].obj && w.frames[n-1].wantKey {
				f := &w.frames[n-1]
				f.wantKey = false
				key := b[i+1 : end]
				if escaped {
					var s string
					if err := json.Unmarshal(b[i:end+1], &s); err != nil {
						return fmt.Errorf("%w: %v", errStrict, err)
					}
					key = []byte(s)
				}
				if err := w.addKey(f, key); err != nil {
					return err
				}
			}
			i = end
		}
	}
	return nil
}

// addKey adds key to the object f, refusing one it already has.
func (w *keyWalk) addKey(f *keyFrame, key []byte) error {
	own := w.keys[f.start:]
	if f.set == nil && len(own) < pairwiseKeys {
		for _, k := range own {
			if bytes.EqualFold(k, key) {
				return fmt.Errorf("%w: duplicate key %.64q", errStrict, key)
			}
		}
		w.keys = append(w.keys, key)
		return nil
	}
	if f.set == nil {
		f.set = make(map[string]struct{}, 2*len(own))
		for _, k := range own {
			f.set[foldKey(k)] = struct{}{}
		}
	}
	fk := foldKey(key)
	if _, dup := f.set[fk]; dup {
		return fmt.Errorf("%w: duplicate key %.64q", errStrict, key)
	}
	f.set[fk] = struct{}{}
	w.keys = append(w.keys, key) // counted, and truncated with the others
	return nil
}

// stringEnd returns the index of the quote that closes the string of valid
// JSON starting at b[i], and whether it holds an escape.
func stringEnd(b []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return len(b) - 1, escaped // not reached for valid JSON
}

// foldKey maps k to one representative of its case-folding class: each
// rune becomes the smallest rune of its simple-folding orbit, so two keys
// fold alike exactly when bytes.EqualFold holds for them.
func foldKey(k []byte) string {
	out := make([]byte, 0, len(k))
	for _, r := range string(k) {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		out = utf8.AppendRune(out, m)
	}
	return string(out)
}
