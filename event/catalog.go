package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownType is wrapped (in a [*FieldError] with Field "type") by
// [Catalog.Check] for a valid event type that the catalog does not list:
// a typo, or a type the application has not declared yet.
var ErrUnknownType = errors.New("event: unknown event type")

// ErrInvalidCatalog is wrapped by [NewCatalog] and [ParseCatalog] when the
// declared types are not a valid catalog. The error's text names the entry
// (types[i]) and the field at fault.
var ErrInvalidCatalog = errors.New("event: invalid catalog")

// TypeInfo describes one event type of a [Catalog]. Its JSON form is one
// entry of the "types" array read by [ParseCatalog].
type TypeInfo struct {
	// Type is the event type, such as "order.paid": a valid type (see
	// [ValidType]), not a pattern.
	Type string `json:"type"`
	// Description tells people what the event means, for example
	// "An order was paid in full". It may be empty.
	Description string `json:"description,omitempty"`
	// Sample is a realistic data object for the type, shown by dashboards
	// and sent by simulators. When set it must be a JSON object that
	// event data may be (see [Decode] for the strict rules). Empty means
	// no sample; simulators then send {}.
	Sample json.RawMessage `json:"sample,omitempty"`
	// Schema is an optional JSON Schema of the data (a JSON object, or
	// true or false), shown to people. It is not enforced: see the package
	// documentation, section Catalog.
	Schema json.RawMessage `json:"schema,omitempty"`
}

// clone returns t with its own copies of Sample and Schema.
func (t TypeInfo) clone() TypeInfo {
	t.Sample = cloneRaw(t.Sample)
	t.Schema = cloneRaw(t.Schema)
	return t
}

func cloneRaw(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}

// pingInfo is the entry [NewCatalog] adds when the caller declares no
// [TypePing]: the data the sender's ping carries.
func pingInfo() TypeInfo {
	return TypeInfo{
		Type:        TypePing,
		Description: "Ping: sent to test that an endpoint is reachable and verifies signatures",
		Sample:      json.RawMessage(`{}`),
	}
}

// Catalog is the list of event types an application publishes, each with a
// description, a sample data object and optionally a JSON Schema. See the
// package documentation, section Catalog, for what it is for.
//
// A catalog built by [NewCatalog] or [ParseCatalog] is closed: it lists
// its types and [TypePing], and [Catalog.Check] refuses every other type.
// A nil *Catalog, like the zero Catalog, is open: it lists no types, and
// Check and [Catalog.Match] accept every valid type and pattern, as a
// sender configured without a catalog does. Callers need no nil check.
//
// A Catalog is immutable: its methods return copies, and it is safe for
// concurrent use.
type Catalog struct {
	types []TypeInfo     // sorted by Type; empty: the catalog is open
	index map[string]int // Type -> position in types
}

// NewCatalog returns a closed catalog of the given types, in any order.
// [TypePing] is always in the catalog: when types has no entry for it,
// NewCatalog adds one (data {}, as the sender's ping sends); an entry of
// the caller's for "ping" is kept as given. The types are copied.
//
// It returns an error wrapping [ErrInvalidCatalog], naming the entry and
// field, when a Type is not a valid event type (a pattern such as "order.*"
// is refused), a Sample is set but not a JSON object valid as event data, a
// Schema is set but not strict JSON holding an object or a boolean, or two
// entries have the same Type.
func NewCatalog(types ...TypeInfo) (*Catalog, error) {
	c := &Catalog{types: make([]TypeInfo, 0, len(types)+1), index: make(map[string]int, len(types)+1)}
	first := make(map[string]int, len(types))
	for i, t := range types {
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("%w: types[%d]%s", ErrInvalidCatalog, i, err)
		}
		if j, dup := first[t.Type]; dup {
			return nil, fmt.Errorf("%w: types[%d].type: %q is already types[%d]", ErrInvalidCatalog, i, t.Type, j)
		}
		first[t.Type] = i
		c.types = append(c.types, t.clone())
	}
	if _, ok := first[TypePing]; !ok {
		c.types = append(c.types, pingInfo())
	}
	slices.SortFunc(c.types, func(a, b TypeInfo) int { return strings.Compare(a.Type, b.Type) })
	for i, t := range c.types {
		c.index[t.Type] = i
	}
	return c, nil
}

// entryErr is a problem with one field of a catalog entry; NewCatalog
// prefixes it with the entry's index.
type entryErr struct{ field, reason string }

func (e *entryErr) Error() string { return "." + e.field + ": " + e.reason }

// check validates t as a catalog entry.
func (t TypeInfo) check() error {
	if strings.Contains(t.Type, "*") {
		return &entryErr{"type", fmt.Sprintf("%.64q is a pattern; an entry declares one event type", t.Type)}
	}
	if err := ValidType(t.Type); err != nil {
		return &entryErr{"type", reasonOf(err)}
	}
	if len(t.Sample) > 0 {
		// Depth 1: the sample becomes an envelope's data.
		if reason := strictReason(t.Sample, 1); reason != "" {
			return &entryErr{"sample", reason}
		}
		if c := firstByte(t.Sample); c != '{' {
			return &entryErr{"sample", "not a JSON object (got " + kindOf(c) + ")"}
		}
	}
	if len(t.Schema) > 0 {
		if reason := strictReason(t.Schema, 0); reason != "" {
			return &entryErr{"schema", reason}
		}
		if c := firstByte(t.Schema); c != '{' && c != 't' && c != 'f' {
			return &entryErr{"schema", "not a JSON Schema: want an object or a boolean, got " + kindOf(c)}
		}
	}
	return nil
}

// strictReason returns why b is not one strict JSON value (see [Decode])
// nested within depth containers, or "".
func strictReason(b []byte, depth int) string {
	s := scanner{data: b, field: -1}
	if err := s.single(depth); err != nil {
		return reasonOf(err)
	}
	return ""
}

// reasonOf returns the reason of a *FieldError, without its sentinel's
// text, or err's text.
func reasonOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) && fe.Reason != "" {
		return fe.Reason
	}
	return err.Error()
}

// ParseCatalog reads a catalog from JSON and builds it with [NewCatalog]:
//
//	{"types": [
//	  {"type": "order.paid", "description": "An order was paid in full",
//	   "sample": {"order_id": "ord_1042", "amount": 4200, "currency": "EUR"},
//	   "schema": {"type": "object", "required": ["order_id"]}}
//	]}
//
// Only "type" is required in an entry. Reading is strict: the input must be
// strict JSON (see [Decode]: no duplicate keys, no keys differing only in
// case, valid UTF-8), and unknown fields, at the top level or in an entry,
// are refused, so that a misspelt "smaple" is not silently dropped.
//
// Every error wraps [ErrInvalidCatalog] and says where the problem is: the
// entry and field, as in `event: invalid catalog: types[2]: unknown field
// "smaple"` or `event: invalid catalog: types[0].sample: not a JSON object
// (got array)`, or for input that is not strict JSON the byte offset, as in
// `event: invalid catalog: duplicate key "type" at offset 41`.
func ParseCatalog(data []byte) (*Catalog, error) {
	if reason := strictReason(data, 0); reason != "" {
		return nil, fmt.Errorf("%w: %s", ErrInvalidCatalog, reason)
	}
	top, err := objectFields(data, "types")
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidCatalog, err)
	}
	list, ok := top["types"]
	if !ok {
		return nil, fmt.Errorf("%w: types: missing", ErrInvalidCatalog)
	}
	if c := firstByte(list); c != '[' {
		return nil, fmt.Errorf("%w: types: not a JSON array (got %s)", ErrInvalidCatalog, kindOf(c))
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(list, &entries); err != nil {
		return nil, fmt.Errorf("%w: types: %w", ErrInvalidCatalog, err)
	}
	types := make([]TypeInfo, len(entries))
	for i, raw := range entries {
		t, err := parseEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: types[%d]%s", ErrInvalidCatalog, i, err)
		}
		types[i] = t
	}
	return NewCatalog(types...)
}

// parseEntry decodes one entry of the "types" array; NewCatalog checks
// its values. The error's text starts with ".field: " or ": ".
func parseEntry(raw json.RawMessage) (TypeInfo, error) {
	fields, err := objectFields(raw, "type", "description", "sample", "schema")
	if err != nil {
		return TypeInfo{}, fmt.Errorf(": %s", err)
	}
	var t TypeInfo
	for _, f := range []struct {
		name string
		dst  *string
	}{{"type", &t.Type}, {"description", &t.Description}} {
		v, ok := fields[f.name]
		if !ok {
			continue
		}
		if c := firstByte(v); c != '"' {
			return TypeInfo{}, &entryErr{f.name, "not a JSON string (got " + kindOf(c) + ")"}
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return TypeInfo{}, &entryErr{f.name, err.Error()}
		}
	}
	t.Sample = fields["sample"]
	t.Schema = fields["schema"]
	return t, nil
}

// objectFields decodes raw, which the scanner has checked, as a JSON object
// whose keys must be among known, and returns its values by key.
func objectFields(raw json.RawMessage, known ...string) (map[string]json.RawMessage, error) {
	if c := firstByte(raw); c != '{' {
		return nil, fmt.Errorf("not a JSON object (got %s)", kindOf(c))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("unknown field %.64q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	return fields, nil
}

// open reports whether c accepts every valid type: nil, or the zero value.
func (c *Catalog) open() bool { return c == nil || len(c.types) == 0 }

// Lookup returns the entry of typ and true, or false when the catalog does
// not list typ (an open catalog lists nothing). The entry is a copy the
// caller may modify.
func (c *Catalog) Lookup(typ string) (TypeInfo, bool) {
	if c.open() {
		return TypeInfo{}, false
	}
	i, ok := c.index[typ]
	if !ok {
		return TypeInfo{}, false
	}
	return c.types[i].clone(), true
}

// Types returns the catalog's entries sorted by Type, [TypePing] among
// them, as a new slice of copies. It returns nil for an open catalog.
func (c *Catalog) Types() []TypeInfo {
	if c.open() {
		return nil
	}
	out := make([]TypeInfo, len(c.types))
	for i, t := range c.types {
		out[i] = t.clone()
	}
	return out
}

// Match reports whether pattern is a valid [Pattern] that selects at least
// one type of the catalog ([TypePing] included), so that an endpoint
// subscribing to it can receive something: "order.*" matches a catalog
// listing "order.paid", "order.payed" does not. An open catalog matches
// every valid pattern; an invalid pattern matches nothing.
func (c *Catalog) Match(pattern string) bool {
	if patternSyntax(pattern) != "" {
		return false
	}
	if c.open() {
		return true
	}
	p := Pattern(pattern)
	for _, t := range c.types {
		if p.Match(t.Type) {
			return true
		}
	}
	return false
}

// Check returns nil if typ may be published under the catalog: a valid
// type that the catalog lists ([TypePing] always is), or any valid type
// for an open catalog. Otherwise it returns a [*FieldError] with Field
// "type" wrapping [ErrInvalidType] (typ is not a valid type at all) or
// [ErrUnknownType] (the catalog does not list it).
func (c *Catalog) Check(typ string) error {
	if err := ValidType(typ); err != nil {
		return err
	}
	if c.open() {
		return nil
	}
	if _, ok := c.index[typ]; !ok {
		return fieldErr("type", ErrUnknownType, fmt.Sprintf("%.64q is not in the catalog", typ))
	}
	return nil
}
