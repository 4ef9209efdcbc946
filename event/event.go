package event

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Mode is the API mode an event belongs to, the envelope's api_mode: test
// events come from simulators and test credentials, live events from
// production. Its zero value "" is not a valid mode.
type Mode string

// The two API modes.
const (
	ModeTest Mode = "test"
	ModeLive Mode = "live"
)

// Valid reports whether m is [ModeTest] or [ModeLive].
func (m Mode) Valid() bool { return m == ModeTest || m == ModeLive }

// TypePing is the type of the event sent to test that a new endpoint is
// reachable and verifies signatures. Its data is a small object with no
// required fields.
const TypePing = "ping"

// MaxTypeLength is the longest event type accepted, in bytes.
const MaxTypeLength = 255

// Event is the webhook envelope: exactly the wire fields, in wire order.
//
// The zero value is not a valid event; build one with [New] or [Decode].
// An Event is a plain value, safe for concurrent reads; Data is shared by
// copies of the struct, so do not modify its bytes after construction.
type Event struct {
	// APIMode is "test" or "live".
	APIMode Mode `json:"api_mode"`
	// Date is the time of the delivery attempt that carries the event, not
	// of the event's creation: the sender replaces it on every attempt (see
	// [Event.AppendJSON]). It travels as RFC 3339 in UTC with whole
	// seconds; [New] and [Decode] store it that way too, so an Event
	// survives an encode/decode round trip unchanged.
	Date time.Time `json:"date"`
	// ID is a UUIDv4 in canonical form, the same on every retry of the
	// event; receivers de-duplicate on it.
	ID string `json:"id"`
	// Type names the kind of event: segments of [A-Za-z0-9_-] separated by
	// dots, such as "patient.ehi_export_success". See [ValidType].
	Type string `json:"type"`
	// Data is the event's payload, a JSON object. Its bytes are kept and
	// sent verbatim: whitespace and key order survive decoding and
	// encoding.
	Data json.RawMessage `json:"data"`
}

// New returns a valid event of the given mode and type with a fresh UUIDv4
// id and Date set to the current time in UTC, truncated to the second.
//
// data becomes the event's Data: a [json.RawMessage] or []byte holding a
// JSON object is copied unchanged (whitespace and key order kept); anything
// else is encoded with [encoding/json.Marshal] and must produce an object
// (a struct or a map, say). A nil data is the empty object {}, for events
// that carry nothing (a ping, say); data that is not an object (a typed nil
// map encodes as null) fails with [ErrInvalidData].
//
// New returns a [*FieldError] wrapping ErrInvalidMode, ErrInvalidType or
// ErrInvalidData when an argument is invalid, or an error if the random
// number generator fails.
func New(mode Mode, typ string, data any) (Event, error) {
	var raw []byte
	switch d := data.(type) {
	case nil:
		raw = []byte("{}")
	case json.RawMessage:
		raw = append([]byte(nil), d...)
	case []byte:
		raw = append([]byte(nil), d...)
	default:
		b, err := json.Marshal(d)
		if err != nil {
			return Event{}, fieldErr("data", ErrInvalidData, err.Error())
		}
		raw = b
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return Event{}, fmt.Errorf("event: generating id: %w", err)
	}
	e := Event{
		APIMode: mode,
		Date:    time.Now().UTC().Truncate(time.Second),
		ID:      id.String(),
		Type:    typ,
		Data:    raw,
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Validate checks every field and returns a [*FieldError] for the first bad
// one, in wire order (api_mode, date, id, type, data), wrapping
// [ErrInvalidMode], [ErrInvalidDate], [ErrInvalidID], [ErrInvalidType],
// [ErrInvalidData] or, for data that is not strict JSON (see [Decode]),
// [ErrInvalidJSON]. It returns nil for a valid event.
//
// Date must be set (not the zero time) and lie in the years 0000-9999; it
// need not be in UTC or whole seconds, since encoding normalizes both.
func (e Event) Validate() error {
	if err := validMode(e.APIMode); err != nil {
		return err
	}
	if e.Date.IsZero() {
		return fieldErr("date", ErrInvalidDate, "missing")
	}
	if y := e.Date.UTC().Year(); y < 0 || y > 9999 {
		return fieldErr("date", ErrInvalidDate, fmt.Sprintf("year %d outside 0000-9999", y))
	}
	if err := validID(e.ID); err != nil {
		return err
	}
	if err := ValidType(e.Type); err != nil {
		return err
	}
	return validData(e.Data)
}

func validMode(m Mode) error {
	switch {
	case m == "":
		return fieldErr("api_mode", ErrInvalidMode, "missing")
	case !m.Valid():
		return fieldErr("api_mode", ErrInvalidMode, fmt.Sprintf("%.32q is neither %q nor %q", string(m), ModeTest, ModeLive))
	}
	return nil
}

// validID reports whether id is a UUIDv4 in the canonical 8-4-4-4-12 hex
// form (either case): version nibble 4 and the RFC 4122 variant.
func validID[S ~string | ~[]byte](id S) error {
	if len(id) == 0 {
		return fieldErr("id", ErrInvalidID, "missing")
	}
	if len(id) != 36 {
		return fieldErr("id", ErrInvalidID, fmt.Sprintf("%.64q is not a canonical UUID", string(id)))
	}
	for i := 0; i < 36; i++ {
		c := id[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return fieldErr("id", ErrInvalidID, fmt.Sprintf("%q is not a canonical UUID", string(id)))
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return fieldErr("id", ErrInvalidID, fmt.Sprintf("%q is not a canonical UUID", string(id)))
		}
	}
	switch id[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
	default:
		return fieldErr("id", ErrInvalidID, fmt.Sprintf("%q is not an RFC 4122 UUID", string(id)))
	}
	if id[14] != '4' {
		return fieldErr("id", ErrInvalidID, fmt.Sprintf("%q is not a version 4 UUID", string(id)))
	}
	return nil
}

func validData(data []byte) error {
	if len(data) == 0 {
		return fieldErr("data", ErrInvalidData, "missing")
	}
	s := scanner{data: data, field: fData}
	if err := s.single(1); err != nil {
		return err
	}
	if c := firstByte(data); c != '{' {
		return fieldErr("data", ErrInvalidData, "not a JSON object (got "+kindOf(c)+")")
	}
	return nil
}

// ValidType returns nil if typ is a valid event type: one or more segments
// of ASCII letters, digits, '_' and '-', separated by single dots, at most
// [MaxTypeLength] bytes, such as "ping" or "patient.ehi_export_success".
// Types are case-sensitive. Otherwise it returns a [*FieldError] wrapping
// [ErrInvalidType] (reason "missing" for the empty string).
func ValidType(typ string) error { return validType(typ) }

func validType[S ~string | ~[]byte](typ S) error {
	if len(typ) == 0 {
		return fieldErr("type", ErrInvalidType, "missing")
	}
	if len(typ) > MaxTypeLength {
		return fieldErr("type", ErrInvalidType, fmt.Sprintf("longer than %d bytes", MaxTypeLength))
	}
	if reason := typeSyntax(typ); reason != "" {
		return fieldErr("type", ErrInvalidType, fmt.Sprintf("%.64q: %s", string(typ), reason))
	}
	return nil
}

// typeSyntax returns "" if typ is dot-separated non-empty segments of
// [A-Za-z0-9_-], or the reason it is not. It allocates nothing.
func typeSyntax[S ~string | ~[]byte](typ S) string {
	seg := 0
	for i := 0; i < len(typ); i++ {
		switch c := typ[i]; {
		case c == '.':
			if seg == 0 {
				return "empty segment"
			}
			seg = 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			seg++
		default:
			return "characters other than letters, digits, '_', '-' and '.'"
		}
	}
	if seg == 0 {
		return "empty segment"
	}
	return ""
}

// DataAs decodes e.Data into a new T with [encoding/json.Unmarshal]; unknown
// fields are ignored. It returns an error wrapping [ErrInvalidData] (and the
// json error) if Data is empty or does not fit T.
//
// Data that came through [Decode] has no duplicate keys or keys differing
// only in case, so encoding/json's case-insensitive field matching cannot be
// steered by an ambiguous payload.
func DataAs[T any](e Event) (T, error) {
	var v T
	if len(e.Data) == 0 {
		return v, fieldErr("data", ErrInvalidData, "missing")
	}
	if err := json.Unmarshal(e.Data, &v); err != nil {
		return v, fmt.Errorf("%w: decoding into %T: %w", ErrInvalidData, v, err)
	}
	return v, nil
}

// AppendJSON appends the JSON encoding of e to dst with Date replaced by
// date, and returns the extended slice. It is the sender's hot path: it does
// not allocate when dst has room, and it neither validates e nor re-encodes
// Data, whose bytes are appended verbatim (an empty Data is written as
// null). Call it on a valid event (from [New] or [Decode]).
//
// The output is compact apart from Data, with the fields in wire order and
// date in RFC 3339, UTC, whole seconds:
//
//	{"api_mode":"test","date":"2024-06-13T00:08:31Z","id":"…","type":"…","data":{…}}
//
// Strings are escaped exactly as [encoding/json.Marshal] escapes them, so
// for an event whose Data is compact and holds no '<', '>' or '&' the result
// equals what encoding/json produces for the same fields.
func (e Event) AppendJSON(dst []byte, date time.Time) []byte {
	dst = append(dst, `{"api_mode":`...)
	dst = appendString(dst, string(e.APIMode))
	dst = append(dst, `,"date":"`...)
	dst = date.UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, `","id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, e.Type)
	dst = append(dst, `,"data":`...)
	if len(e.Data) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, e.Data...)
	}
	return append(dst, '}')
}

// envelopeOverhead is the size of AppendJSON's output apart from the id,
// type and data: keys, punctuation, mode and date.
const envelopeOverhead = len(`{"api_mode":"test","date":"2024-06-13T00:08:31Z","id":"","type":"","data":}`)

// MarshalJSON validates e and returns AppendJSON(nil, e.Date); it returns
// the [Event.Validate] error for an invalid event, so whatever it produces
// [Decode] accepts.
//
// Note that [encoding/json.Marshal], when it calls this method, compacts the
// result and escapes '<', '>' and '&' inside Data. To send Data's bytes
// verbatim, as signatures over the body require, use MarshalJSON or
// [Event.AppendJSON] directly.
func (e Event) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e.AppendJSON(make([]byte, 0, envelopeOverhead+len(e.ID)+len(e.Type)+len(e.Data)), e.Date), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped exactly as encoding/json
// does with HTML escaping on: invalid UTF-8 becomes \ufffd, U+2028 and
// U+2029 and '<', '>', '&' are \u-escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
