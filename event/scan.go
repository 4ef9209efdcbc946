package event

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of JSON objects and arrays an envelope may
// have, counting the envelope object itself as depth 1. Deeper input is
// rejected with [ErrInvalidJSON] before anything is allocated for it, so a
// hostile body cannot exhaust the stack of a later decoder.
const MaxDepth = 128

// smallObject is how many keys an object may have before duplicate checks
// switch from comparing against every earlier key to a map.
const smallObject = 16

// envelope field indexes, in wire order.
const (
	fMode = iota
	fDate
	fID
	fType
	fData
	nFields
)

var fieldNames = [nFields]string{"api_mode", "date", "id", "type", "data"}

// span is the byte range [start, end) of one top-level value.
type span struct{ start, end int }

// keyRef is one object key: its raw bytes between the quotes, or its
// unescaped bytes when it contained escapes; ascii reports whether those
// bytes are all ASCII.
type keyRef struct {
	b     []byte
	ascii bool
}

// scanner is a single-pass strict JSON validator. It checks RFC 8259
// syntax, UTF-8 validity (including lone surrogate escapes), nesting depth,
// and rejects duplicate keys and keys differing only in case within one
// object. It allocates only for keys that contain escapes and for objects
// with more than smallObject keys.
type scanner struct {
	data  []byte
	pos   int
	field int // index of the top-level field being scanned, or -1
}

// objKeys holds the keys seen so far in one object. It lives in the stack
// frame of the function scanning that object.
type objKeys struct {
	small [smallObject]keyRef
	n     int
	set   map[string]string // folded key -> key, once n reaches smallObject
}

// syntaxErr builds an ErrInvalidJSON error naming the current top-level
// field, if any.
func (s *scanner) syntaxErr(format string, args ...any) error {
	field := ""
	if s.field >= 0 {
		field = fieldNames[s.field]
	}
	reason := fmt.Sprintf(format, args...)
	if field != "" {
		reason = field + ": " + reason
	}
	return fieldErr(field, ErrInvalidJSON, reason)
}

func (s *scanner) unexpected() error {
	if s.pos >= len(s.data) {
		return s.syntaxErr("unexpected end of input")
	}
	return s.syntaxErr("unexpected %s at offset %d", describeByte(s.data[s.pos]), s.pos)
}

func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (s *scanner) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// envelope scans a whole input that must be one object and returns the
// spans of the known top-level fields (start == end == 0 when absent).
func (s *scanner) envelope() (fields [nFields]span, err error) {
	s.field = -1
	s.skipWS()
	if s.pos >= len(s.data) {
		return fields, s.syntaxErr("empty input")
	}
	if s.data[s.pos] != '{' {
		return fields, s.syntaxErr("not a JSON object (starts with %s)", describeByte(s.data[s.pos]))
	}
	s.pos++
	var keys objKeys
	first := true
	for {
		s.skipWS()
		if s.pos >= len(s.data) {
			return fields, s.unexpected()
		}
		if s.data[s.pos] == '}' && first {
			s.pos++
			break
		}
		if s.data[s.pos] != '"' {
			return fields, s.unexpected()
		}
		keyAt := s.pos
		k, err := s.key()
		if err != nil {
			return fields, err
		}
		s.field = -1
		for i, name := range fieldNames {
			if string(k.b) == name {
				s.field = i
				break
			}
			if k.ascii && len(k.b) == len(name) && bytes.EqualFold(k.b, []byte(name)) ||
				!k.ascii && bytes.EqualFold(k.b, []byte(name)) {
				s.field = i
				return fields, s.syntaxErr("key %.64q at offset %d differs only in case from %q", k.b, keyAt, name)
			}
		}
		if err := s.addKey(&keys, k, keyAt); err != nil {
			return fields, err
		}
		if err := s.colon(); err != nil {
			return fields, err
		}
		s.skipWS()
		start := s.pos
		if err := s.value(1); err != nil {
			return fields, err
		}
		if s.field >= 0 {
			fields[s.field] = span{start, s.pos}
		}
		s.field = -1
		s.skipWS()
		if s.pos >= len(s.data) {
			return fields, s.unexpected()
		}
		c := s.data[s.pos]
		s.pos++
		if c == '}' {
			break
		}
		if c != ',' {
			s.pos--
			return fields, s.unexpected()
		}
		first = false
	}
	s.skipWS()
	if s.pos != len(s.data) {
		return fields, s.syntaxErr("data after the object at offset %d", s.pos)
	}
	return fields, nil
}

// single validates that the whole input is exactly one JSON value nested
// within the given depth budget (the value itself is at depth+1 if it is a
// container).
func (s *scanner) single(depth int) error {
	s.skipWS()
	if err := s.value(depth); err != nil {
		return err
	}
	s.skipWS()
	if s.pos != len(s.data) {
		return s.syntaxErr("data after the value at offset %d", s.pos)
	}
	return nil
}

func (s *scanner) colon() error {
	s.skipWS()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		return s.unexpected()
	}
	s.pos++
	return nil
}

// value scans one value; depth is the number of containers around it.
func (s *scanner) value(depth int) error {
	if s.pos >= len(s.data) {
		return s.unexpected()
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, _, _, err := s.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.unexpected()
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.syntaxErr("invalid literal at offset %d", s.pos)
	}
	s.pos += len(lit)
	return nil
}

func (s *scanner) number() error {
	d, start := s.data, s.pos
	p := s.pos
	if p < len(d) && d[p] == '-' {
		p++
	}
	switch {
	case p < len(d) && d[p] == '0':
		p++
	case p < len(d) && d[p] >= '1' && d[p] <= '9':
		for p < len(d) && d[p] >= '0' && d[p] <= '9' {
			p++
		}
	default:
		return s.syntaxErr("invalid number at offset %d", start)
	}
	if p < len(d) && d[p] == '.' {
		p++
		if p >= len(d) || d[p] < '0' || d[p] > '9' {
			return s.syntaxErr("invalid number at offset %d", start)
		}
		for p < len(d) && d[p] >= '0' && d[p] <= '9' {
			p++
		}
	}
	if p < len(d) && (d[p] == 'e' || d[p] == 'E') {
		p++
		if p < len(d) && (d[p] == '+' || d[p] == '-') {
			p++
		}
		if p >= len(d) || d[p] < '0' || d[p] > '9' {
			return s.syntaxErr("invalid number at offset %d", start)
		}
		for p < len(d) && d[p] >= '0' && d[p] <= '9' {
			p++
		}
	}
	s.pos = p
	return nil
}

func (s *scanner) array(depth int) error {
	if depth > MaxDepth {
		return s.syntaxErr("nesting deeper than %d at offset %d", MaxDepth, s.pos)
	}
	s.pos++ // '['
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		s.skipWS()
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return s.unexpected()
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.unexpected()
		}
	}
}

func (s *scanner) object(depth int) error {
	if depth > MaxDepth {
		return s.syntaxErr("nesting deeper than %d at offset %d", MaxDepth, s.pos)
	}
	s.pos++ // '{'
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	var keys objKeys
	for {
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.unexpected()
		}
		keyAt := s.pos
		k, err := s.key()
		if err != nil {
			return err
		}
		if err := s.addKey(&keys, k, keyAt); err != nil {
			return err
		}
		if err := s.colon(); err != nil {
			return err
		}
		s.skipWS()
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return s.unexpected()
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.unexpected()
		}
	}
}

// key scans an object key and returns it unescaped.
func (s *scanner) key() (keyRef, error) {
	raw, escaped, ascii, err := s.str()
	if err != nil {
		return keyRef{}, err
	}
	if !escaped {
		return keyRef{b: raw, ascii: ascii}, nil
	}
	u := unescape(raw)
	return keyRef{b: u, ascii: isASCII(u)}, nil
}

// addKey records k as a key of the object o and reports a duplicate or a
// key differing only in case. Small objects compare against every earlier
// key; from smallObject keys on, a map of case-folded keys is used instead.
func (s *scanner) addKey(o *objKeys, k keyRef, at int) error {
	if o.set == nil {
		prev := o.small[:o.n]
		for _, p := range prev {
			if p.ascii && k.ascii && len(p.b) != len(k.b) {
				continue
			}
			if bytes.Equal(p.b, k.b) {
				return s.syntaxErr("duplicate key %.64q at offset %d", k.b, at)
			}
			if bytes.EqualFold(p.b, k.b) {
				return s.syntaxErr("keys %.64q and %.64q differ only in case (offset %d)", p.b, k.b, at)
			}
		}
		if o.n < smallObject {
			o.small[o.n] = k
			o.n++
			return nil
		}
		o.set = make(map[string]string, 2*smallObject)
		for _, p := range prev {
			o.set[foldKey(p.b)] = string(p.b)
		}
		o.set[foldKey(k.b)] = string(k.b)
		return nil
	}
	f := foldKey(k.b)
	if p, ok := o.set[f]; ok {
		if p == string(k.b) {
			return s.syntaxErr("duplicate key %.64q at offset %d", k.b, at)
		}
		return s.syntaxErr("keys %.64q and %.64q differ only in case (offset %d)", p, k.b, at)
	}
	o.set[f] = string(k.b)
	return nil
}

// foldKey maps b to a canonical form such that foldKey(a) == foldKey(b)
// exactly when bytes.EqualFold(a, b): every rune is replaced by the smallest
// rune of its simple case-folding orbit.
func foldKey(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		lo := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			lo = min(lo, f)
		}
		out = utf8.AppendRune(out, lo)
	}
	return string(out)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// strSafe[c] is true for bytes that may appear unescaped in a JSON string
// and need no further UTF-8 check.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans a string starting at the opening quote and returns the raw
// bytes between the quotes, whether they contain escapes, and whether they
// are all ASCII.
func (s *scanner) str() (raw []byte, escaped, ascii bool, err error) {
	d := s.data
	start := s.pos
	p := s.pos + 1
	ascii = true
	for {
		for p < len(d) && strSafe[d[p]] {
			p++
		}
		if p >= len(d) {
			return nil, false, false, s.syntaxErr("unterminated string at offset %d", start)
		}
		switch c := d[p]; {
		case c == '"':
			s.pos = p + 1
			return d[start+1 : p], escaped, ascii, nil
		case c == '\\':
			escaped = true
			n, err := s.escape(p)
			if err != nil {
				return nil, false, false, err
			}
			p += n
		case c < 0x20:
			return nil, false, false, s.syntaxErr("control character 0x%02x in string at offset %d", c, p)
		default:
			r, size := utf8.DecodeRune(d[p:])
			if r == utf8.RuneError && size <= 1 {
				return nil, false, false, s.syntaxErr("invalid UTF-8 at offset %d", p)
			}
			ascii = false
			p += size
		}
	}
}

// escape validates the escape sequence at d[p] == '\\' and returns its
// length. A \u escape of a UTF-16 surrogate must be a high surrogate
// followed immediately by an escaped low surrogate.
func (s *scanner) escape(p int) (int, error) {
	d := s.data
	if p+1 >= len(d) {
		return 0, s.syntaxErr("unterminated string at offset %d", p)
	}
	switch d[p+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		r, ok := hex4(d[p+2:])
		if !ok {
			return 0, s.syntaxErr("invalid \\u escape at offset %d", p)
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return 0, s.syntaxErr("lone surrogate escape at offset %d", p)
		case r >= 0xD800 && r <= 0xDBFF:
			if p+7 < len(d) && d[p+6] == '\\' && d[p+7] == 'u' {
				if r2, ok := hex4(d[p+8:]); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
					return 12, nil
				}
			}
			return 0, s.syntaxErr("lone surrogate escape at offset %d", p)
		}
		return 6, nil
	default:
		return 0, s.syntaxErr("invalid escape at offset %d", p)
	}
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape decodes the body of a JSON string the scanner has already
// validated.
func unescape(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(raw[i+2:])
			if r >= 0xD800 && r <= 0xDBFF {
				r2, _ := hex4(raw[i+8:])
				r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
				i += 6
			}
			out = utf8.AppendRune(out, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return out
}
