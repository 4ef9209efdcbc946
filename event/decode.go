package event

import (
	"fmt"
	"time"
)

// CheckJSON returns nil if b is exactly one JSON value, of any kind, with
// the strictness of [Decode]: valid UTF-8, no escaped lone surrogate, no
// object with two keys that are equal or equal but for case (Unicode simple
// folding, as encoding/json matches names), nesting at most [MaxDepth]
// deep, nothing but white space after it. Such a value reads the same in
// every JSON decoder. Otherwise it returns a [*FieldError] wrapping
// [ErrInvalidJSON] whose reason says what is wrong and where.
//
// It is for bodies that are not webhookkit envelopes (other providers'
// webhooks) and allocates only for escaped keys and large objects.
func CheckJSON(b []byte) error {
	s := scanner{data: b, field: -1}
	return s.single(0)
}

// CheckJSONFields checks b as [CheckJSON] does, in the same single pass,
// and finds top-level members of an object: when b is a JSON object, it
// sets vals[i] to the bytes of the value of the member whose key is
// names[i] (compared after unescaping, as [encoding/json] matches map
// keys), a span of b without surrounding white space, or to nil when b has
// no such member. It reports whether b is an object; it leaves vals alone
// when b is some other value, and on error, which is CheckJSON's. It
// panics if vals is shorter than names.
//
// It is for reading a few fields of a provider's webhook body without
// decoding all of it. It allocates only where CheckJSON does and retains
// neither argument; it is safe for concurrent use.
func CheckJSONFields(b []byte, names []string, vals [][]byte) (object bool, err error) {
	_ = vals[:len(names)]
	s := scanner{data: b, field: -1}
	s.skipWS()
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		s.pos = 0
		return false, s.single(0)
	}
	var found [8][]byte // vals until the end, so that vals is left alone on error
	var got [][]byte
	if len(names) <= len(found) {
		got = found[:len(names)]
	} else {
		got = make([][]byte, len(names))
	}
	if err := s.members(names, got); err != nil {
		return false, err
	}
	copy(vals, got)
	return true, nil
}

// Decode parses one JSON envelope strictly and returns the validated event.
//
// The input must be exactly one JSON object (surrounding whitespace allowed)
// with the fields api_mode, date, id, type and data; other top-level fields
// are ignored. Decode is stricter than [encoding/json] wherever encoding/json
// would silently pick one reading of ambiguous input. It rejects, with
// [ErrInvalidJSON]:
//   - syntax errors and anything after the object;
//   - a duplicate key in any object at any depth, and two keys of one
//     object that differ only in case (Unicode simple folding, as
//     encoding/json matches field names);
//   - a top-level key that differs only in case from an envelope field,
//     such as "ID" or "Type", even without the exact key beside it;
//   - invalid UTF-8 and \u escapes of lone UTF-16 surrogates, in any string;
//   - nesting deeper than [MaxDepth].
//
// Then the fields are checked in wire order as by [Event.Validate]: missing
// or non-string api_mode, date, id or type, and missing, null or non-object
// data, are [*FieldError]s wrapping [ErrInvalidMode], [ErrInvalidDate],
// [ErrInvalidID], [ErrInvalidType] or [ErrInvalidData]. The date may carry
// any RFC 3339 offset and fraction; it is stored in UTC truncated to the
// second, the precision the envelope carries.
//
// Data is a copy of the exact bytes of the data value as received,
// whitespace and key order included; b is not retained. On error Decode
// returns the zero Event. It is safe for concurrent use.
func Decode(b []byte) (Event, error) {
	s := scanner{data: b}
	fields, err := s.envelope()
	if err != nil {
		return Event{}, err
	}

	var e Event
	// api_mode
	v, err := stringField(b, fields[fMode], fMode, ErrInvalidMode)
	if err != nil {
		return Event{}, err
	}
	switch string(v) {
	case string(ModeTest):
		e.APIMode = ModeTest
	case string(ModeLive):
		e.APIMode = ModeLive
	default:
		return Event{}, validMode(Mode(v))
	}
	// date
	if v, err = stringField(b, fields[fDate], fDate, ErrInvalidDate); err != nil {
		return Event{}, err
	}
	if err := e.Date.UnmarshalText(v); err != nil {
		return Event{}, fieldErr("date", ErrInvalidDate, fmt.Sprintf("%.64q is not an RFC 3339 timestamp", v))
	}
	e.Date = e.Date.UTC().Truncate(time.Second)
	if e.Date.IsZero() {
		return Event{}, fieldErr("date", ErrInvalidDate, "zero time")
	}
	if y := e.Date.Year(); y < 0 || y > 9999 {
		// "0000-01-01T00:00:00+01:00" is year -1 in UTC: it could not be
		// encoded again, so it is refused here as Validate refuses it.
		return Event{}, fieldErr("date", ErrInvalidDate, fmt.Sprintf("year %d outside 0000-9999 in UTC", y))
	}
	// id
	id, err := stringField(b, fields[fID], fID, ErrInvalidID)
	if err != nil {
		return Event{}, err
	}
	if err := validID(id); err != nil {
		return Event{}, err
	}
	// type
	typ, err := stringField(b, fields[fType], fType, ErrInvalidType)
	if err != nil {
		return Event{}, err
	}
	if err := validType(typ); err != nil {
		return Event{}, err
	}
	// data
	sp := fields[fData]
	if sp.end == 0 {
		return Event{}, fieldErr("data", ErrInvalidData, "missing")
	}
	if c := b[sp.start]; c != '{' {
		return Event{}, fieldErr("data", ErrInvalidData, "not a JSON object (got "+kindOf(c)+")")
	}

	// One string holds both id and type (a UUID and at most MaxTypeLength
	// bytes), saving an allocation per decode.
	var buf [36 + MaxTypeLength]byte
	n := copy(buf[:], id)
	n += copy(buf[n:], typ)
	both := string(buf[:n])
	e.ID, e.Type = both[:len(id)], both[len(id):]
	e.Data = append([]byte(nil), b[sp.start:sp.end]...)
	return e, nil
}

// stringField returns the contents of the JSON string at sp, unescaped, or
// an error wrapping sentinel if the field is missing or not a string.
func stringField(b []byte, sp span, field int, sentinel error) ([]byte, error) {
	name := fieldNames[field]
	if sp.end == 0 {
		return nil, fieldErr(name, sentinel, "missing")
	}
	v := b[sp.start:sp.end]
	if v[0] != '"' {
		return nil, fieldErr(name, sentinel, "not a JSON string (got "+kindOf(v[0])+")")
	}
	v = v[1 : len(v)-1]
	for _, c := range v {
		if c == '\\' {
			return unescape(v), nil
		}
	}
	return v, nil
}

// UnmarshalJSON decodes b into e with the semantics of [Decode]; on error e
// is left unchanged. As is conventional for [encoding/json.Unmarshaler], the
// literal null is a no-op.
func (e *Event) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	ev, err := Decode(b)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

// firstByte returns the first non-whitespace byte of b, or 0.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// kindOf names the kind of JSON value that starts with c.
func kindOf(c byte) string {
	switch {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	default:
		return "number"
	}
}
