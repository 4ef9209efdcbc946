package event

import (
	"bytes"
	"encoding/binary"
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

// stackedKeys is how many keys of the objects being scanned the scanner
// holds in itself before it spills to the heap.
const stackedKeys = 24

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

// keyRef is one object key: where its bytes are (see scanner.keyBytes),
// and for an all-ASCII key its signature (see asciiSig); sig is 0 for a
// key with non-ASCII bytes. It holds no pointers, so the scanner stores
// keys without write barriers.
type keyRef struct {
	// off >= 0: the key had no escapes and is data[off:off+n], its raw
	// bytes between the quotes. off < 0: it is esc[-off-1:][:n], unescaped.
	off, n int
	sig    uint64
}

// asciiSig summarizes an ASCII key so that two ASCII keys that are equal,
// or equal under case folding, always have equal signatures: a marker bit
// (so that it is never 0), its length, and its first and last bytes with
// the ASCII case bit set (which maps both cases of a letter to one byte;
// the few other bytes it merges, such as '@' and '`', only cost a full
// comparison). Different signatures prove two keys different.
func asciiSig(b []byte) uint64 {
	sig := uint64(1)<<63 | uint64(len(b))<<16
	if len(b) > 0 {
		sig |= uint64(b[0]|0x20)<<8 | uint64(b[len(b)-1]|0x20)
	}
	return sig
}

// scanner is a single-pass strict JSON validator. It checks RFC 8259
// syntax, UTF-8 validity (including lone surrogate escapes), nesting depth,
// and rejects duplicate keys and keys differing only in case within one
// object. It allocates only for keys that contain escapes, for objects
// with more than smallObject keys, and when the objects being scanned hold
// more than stackedKeys keys at once.
type scanner struct {
	data  []byte
	pos   int
	field int // index of the top-level field being scanned, or -1
	// The keys seen so far in the objects being scanned form one stack,
	// innermost object last: each object pushes its keys (up to
	// smallObject of them) and pops back to its base when it ends. The
	// first stackedKeys live in stack, the rest in spill: the scanner
	// keeps no pointer into itself, so it can stay off the heap.
	nkeys int
	stack [stackedKeys]keyRef
	spill []keyRef
	esc   []byte // unescaped keys that contained escapes
}

// keyBytes returns the bytes of the key k.
func (s *scanner) keyBytes(k keyRef) []byte {
	if k.off >= 0 {
		return s.data[k.off : k.off+k.n]
	}
	o := -k.off - 1
	return s.esc[o : o+k.n]
}

// keyAt returns the i-th key of the key stack.
func (s *scanner) keyAt(i int) *keyRef {
	if i < stackedKeys {
		return &s.stack[i]
	}
	return &s.spill[i-stackedKeys]
}

// pushKey pushes k onto the key stack.
func (s *scanner) pushKey(k keyRef) {
	if s.nkeys < stackedKeys {
		s.stack[s.nkeys] = k
	} else {
		if s.spill == nil {
			s.spill = make([]keyRef, 0, 4*stackedKeys)
		}
		s.spill = append(s.spill[:s.nkeys-stackedKeys], k)
	}
	s.nkeys++
}

// objKeys is the key bookkeeping of one object: where its keys start on
// the scanner's key stack, and, once it has more than smallObject keys, a
// map of them instead.
type objKeys struct {
	base int
	set  map[string]string // folded key -> key
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
		c := s.data[s.pos]
		if c > ' ' {
			return // the common case in compact JSON: one compare
		}
		switch c {
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
	empty, err := s.open(0, '}')
	if err != nil {
		return fields, err
	}
	keys := objKeys{base: s.nkeys}
	for more := !empty; more; {
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return fields, s.unexpected()
		}
		keyAt := s.pos
		k, err := s.key()
		if err != nil {
			return fields, err
		}
		kb := s.keyBytes(k)
		s.field = -1
		for i, name := range fieldNames {
			if string(kb) == name {
				s.field = i
				break
			}
			if (k.sig == 0 || len(kb) == len(name)) && bytes.EqualFold(kb, []byte(name)) {
				s.field = i
				return fields, s.syntaxErr("key %.64q at offset %d differs only in case from %q", kb, keyAt, name)
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
		if more, err = s.next('}'); err != nil {
			return fields, err
		}
	}
	s.skipWS()
	if s.pos != len(s.data) {
		return fields, s.syntaxErr("data after the object at offset %d", s.pos)
	}
	return fields, nil
}

// members scans a whole input that starts with an object at s.pos as
// single(0) would and sets vals[i] to the span of the top-level member
// named names[i], if any.
func (s *scanner) members(names []string, vals [][]byte) error {
	empty, err := s.open(1, '}')
	if err != nil {
		return err
	}
	keys := objKeys{base: s.nkeys}
	for more := !empty; more; {
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
		start := s.pos
		if err := s.value(1); err != nil {
			return err
		}
		kb := s.keyBytes(k)
		for i, name := range names {
			if string(kb) == name {
				vals[i] = s.data[start:s.pos:s.pos]
			}
		}
		if more, err = s.next('}'); err != nil {
			return err
		}
	}
	s.skipWS()
	if s.pos != len(s.data) {
		return s.syntaxErr("data after the value at offset %d", s.pos)
	}
	return nil
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

// open enters the array or object whose opening byte is at s.pos, depth
// containers deep, and reports whether it is empty (closer consumed).
func (s *scanner) open(depth int, closer byte) (empty bool, err error) {
	if depth > MaxDepth {
		return false, s.syntaxErr("nesting deeper than %d at offset %d", MaxDepth, s.pos)
	}
	s.pos++ // '[' or '{'
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == closer {
		s.pos++
		return true, nil
	}
	return false, nil
}

// next consumes what follows an element or member: true after a ',', false
// after closer; anything else is unexpected.
func (s *scanner) next(closer byte) (more bool, err error) {
	s.skipWS()
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',':
			s.pos++
			return true, nil
		case closer:
			s.pos++
			return false, nil
		}
	}
	return false, s.unexpected()
}

func (s *scanner) array(depth int) error {
	empty, err := s.open(depth, ']')
	if err != nil || empty {
		return err
	}
	for more := true; more; {
		s.skipWS()
		if err := s.value(depth); err != nil {
			return err
		}
		if more, err = s.next(']'); err != nil {
			return err
		}
	}
	return nil
}

func (s *scanner) object(depth int) error {
	empty, err := s.open(depth, '}')
	if err != nil || empty {
		return err
	}
	keys := objKeys{base: s.nkeys}
	for more := true; more; {
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
		if more, err = s.next('}'); err != nil {
			return err
		}
	}
	s.nkeys = keys.base // pop this object's keys
	return nil
}

// key scans an object key and returns it unescaped.
func (s *scanner) key() (keyRef, error) {
	raw, escaped, ascii, err := s.str()
	if err != nil {
		return keyRef{}, err
	}
	k := keyRef{off: s.pos - 1 - len(raw), n: len(raw)}
	if escaped {
		o := len(s.esc)
		s.esc = appendUnescaped(s.esc, raw)
		raw = s.esc[o:]
		k.off, k.n = -o-1, len(raw)
		ascii = isASCII(raw)
	}
	if ascii {
		k.sig = asciiSig(raw)
	}
	return k, nil
}

// addKey records k as a key of the object o and reports a duplicate or a
// key differing only in case. Small objects compare against every earlier
// key on the key stack, skipping ASCII keys of other signatures; from
// smallObject keys on, a map of case-folded keys is used instead.
func (s *scanner) addKey(o *objKeys, k keyRef, at int) error {
	kb := s.keyBytes(k)
	if o.set == nil {
		for i := o.base; i < s.nkeys; i++ {
			p := s.keyAt(i)
			if p.sig != k.sig && p.sig != 0 && k.sig != 0 {
				continue // two ASCII keys, neither equal nor equal under folding
			}
			pb := s.keyBytes(*p)
			if bytes.Equal(pb, kb) {
				return s.syntaxErr("duplicate key %.64q at offset %d", kb, at)
			}
			if bytes.EqualFold(pb, kb) {
				return s.syntaxErr("keys %.64q and %.64q differ only in case (offset %d)", pb, kb, at)
			}
		}
		if s.nkeys-o.base < smallObject {
			s.pushKey(k)
			return nil
		}
		o.set = make(map[string]string, 2*smallObject)
		for i := o.base; i < s.nkeys; i++ {
			p := s.keyBytes(*s.keyAt(i))
			o.set[foldKey(p)] = string(p)
		}
		o.set[foldKey(kb)] = string(kb)
		s.nkeys = o.base // from now on the map holds this object's keys
		return nil
	}
	f := foldKey(kb)
	if p, ok := o.set[f]; ok {
		if p == string(kb) {
			return s.syntaxErr("duplicate key %.64q at offset %d", kb, at)
		}
		return s.syntaxErr("keys %.64q and %.64q differ only in case (offset %d)", p, kb, at)
	}
	o.set[f] = string(kb)
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

// Byte-lane constants for scanning eight string bytes at a time.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// plainWord reports whether all eight bytes of x (little-endian, any order
// would do) are safe in a string without a closer look: printable ASCII
// other than '"' and '\\'. Each term is non-zero in a lane's top bit
// exactly when some lane holds a byte below 0x20 (the classic "has less
// than" test, exact as a yes/no answer for bounds up to 0x80), a '"' or a
// backslash ("has zero" of x xor the byte), or a byte >= 0x80 (x itself).
func plainWord(x uint64) bool {
	q := x ^ (lanes01 * '"')
	bs := x ^ (lanes01 * '\\')
	return ((x-lanes01*0x20)&^x|(q-lanes01)&^q|(bs-lanes01)&^bs|x)&lanes80 == 0
}

// str scans a string starting at the opening quote and returns the raw
// bytes between the quotes, whether they contain escapes, and whether they
// are all ASCII. Runs of plain ASCII are skipped eight bytes at a time;
// only bytes >= 0x80 are decoded as UTF-8.
func (s *scanner) str() (raw []byte, escaped, ascii bool, err error) {
	d := s.data
	start := s.pos
	p := s.pos + 1
	ascii = true
	for {
		for p+8 <= len(d) && plainWord(binary.LittleEndian.Uint64(d[p:])) {
			p += 8
		}
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
	return appendUnescaped(make([]byte, 0, len(raw)), raw)
}

// appendUnescaped appends the decoded body of a JSON string the scanner has
// already validated to out.
func appendUnescaped(out, raw []byte) []byte {
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
