package event_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
)

func typeNames(cat *event.Catalog) []string {
	var out []string
	for _, t := range cat.Types() {
		out = append(out, t.Type)
	}
	return out
}

func TestNewCatalogValidation(t *testing.T) {
	ok := event.TypeInfo{Type: "order.paid"}
	tests := []struct {
		name  string
		types []event.TypeInfo
		want  string // "" when valid; else the error text after "event: invalid catalog: "
	}{
		{name: "empty: ping only", types: nil},
		{name: "type only", types: []event.TypeInfo{ok}},
		{name: "everything", types: []event.TypeInfo{{
			Type: "invoice.finalized", Description: "d",
			Sample: json.RawMessage(`{"invoice_id":"in_1","lines":[{"n":1}]}`),
			Schema: json.RawMessage(`{"type":"object"}`),
		}}},
		{name: "boolean schema", types: []event.TypeInfo{{Type: "a", Schema: json.RawMessage(`true`)}}},
		{name: "sample with spaces", types: []event.TypeInfo{{Type: "a", Sample: json.RawMessage(" {\n} ")}}},
		{name: "missing type", types: []event.TypeInfo{ok, {Description: "x"}}, want: "types[1].type: missing"},
		{name: "invalid type", types: []event.TypeInfo{{Type: "order..paid"}}, want: `types[0].type: "order..paid": empty segment`},
		{name: "type with space", types: []event.TypeInfo{{Type: "order paid"}}, want: "types[0].type: "},
		{name: "prefix pattern", types: []event.TypeInfo{{Type: "order.*"}}, want: `types[0].type: "order.*" is a pattern`},
		{name: "star", types: []event.TypeInfo{{Type: "*"}}, want: `types[0].type: "*" is a pattern`},
		{name: "too long", types: []event.TypeInfo{{Type: strings.Repeat("a", event.MaxTypeLength+1)}}, want: "types[0].type: longer than 255 bytes"},
		{name: "sample array", types: []event.TypeInfo{{Type: "a", Sample: json.RawMessage(`[1]`)}}, want: "types[0].sample: not a JSON object (got array)"},
		{name: "sample null", types: []event.TypeInfo{{Type: "a", Sample: json.RawMessage(`null`)}}, want: "types[0].sample: not a JSON object (got null)"},
		{name: "sample syntax", types: []event.TypeInfo{{Type: "a", Sample: json.RawMessage(`{"a":}`)}}, want: "types[0].sample: unexpected '}'"},
		{name: "sample duplicate key", types: []event.TypeInfo{{Type: "a", Sample: json.RawMessage(`{"k":1,"k":2}`)}}, want: "types[0].sample: duplicate key"},
		{name: "sample trailing data", types: []event.TypeInfo{{Type: "a", Sample: json.RawMessage(`{} {}`)}}, want: "types[0].sample: data after the value"},
		{name: "sample too deep", types: []event.TypeInfo{{Type: "a", Sample: json.RawMessage(`{"a":` + strings.Repeat("[", event.MaxDepth) + strings.Repeat("]", event.MaxDepth) + `}`)}}, want: "types[0].sample: "},
		{name: "schema syntax", types: []event.TypeInfo{{Type: "a", Schema: json.RawMessage(`{`)}}, want: "types[0].schema: unexpected end of input"},
		{name: "schema string", types: []event.TypeInfo{{Type: "a", Schema: json.RawMessage(`"https://example.com/s.json"`)}}, want: "types[0].schema: not a JSON Schema: want an object or a boolean, got string"},
		{name: "duplicate", types: []event.TypeInfo{ok, {Type: "b"}, ok}, want: `types[2].type: "order.paid" is already types[0]`},
		{name: "duplicate ping", types: []event.TypeInfo{{Type: "ping"}, {Type: "ping"}}, want: `types[1].type: "ping" is already types[0]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := event.NewCatalog(tt.types...)
			if tt.want == "" {
				require.NoError(t, err)
				require.NotEmpty(t, cat.Types())
				return
			}
			require.ErrorIs(t, err, event.ErrInvalidCatalog)
			require.Nil(t, cat)
			require.True(t, strings.HasPrefix(err.Error(), "event: invalid catalog: "+tt.want), "got %q, want prefix %q", err, tt.want)
		})
	}
}

func TestNewCatalogPing(t *testing.T) {
	cat, err := event.NewCatalog(event.TypeInfo{Type: "order.paid"}, event.TypeInfo{Type: "invoice.finalized"})
	require.NoError(t, err)
	require.Equal(t, []string{"invoice.finalized", "order.paid", "ping"}, typeNames(cat), "sorted, ping added")
	ping, ok := cat.Lookup(event.TypePing)
	require.True(t, ok)
	require.JSONEq(t, `{}`, string(ping.Sample), "the data the sender's ping carries")
	require.NotEmpty(t, ping.Description)

	// The caller's own ping entry is kept as given.
	cat, err = event.NewCatalog(event.TypeInfo{Type: "ping", Description: "Are you there?", Sample: json.RawMessage(`{"m":1}`)})
	require.NoError(t, err)
	require.Equal(t, []event.TypeInfo{{Type: "ping", Description: "Are you there?", Sample: json.RawMessage(`{"m":1}`)}}, cat.Types())
}

func TestCatalogCopies(t *testing.T) {
	sample := json.RawMessage(`{"order_id":"ord_1"}`)
	schema := json.RawMessage(`{"type":"object"}`)
	in := []event.TypeInfo{{Type: "order.paid", Description: "paid", Sample: sample, Schema: schema}}
	cat, err := event.NewCatalog(in...)
	require.NoError(t, err)

	// The catalog does not share the caller's bytes...
	sample[2] = 'X'
	schema[2] = 'X'
	in[0].Type = "changed"
	got, ok := cat.Lookup("order.paid")
	require.True(t, ok)
	require.Equal(t, `{"order_id":"ord_1"}`, string(got.Sample))
	require.Equal(t, `{"type":"object"}`, string(got.Schema))

	// ...nor hands out its own.
	got.Sample[2] = 'Y'
	got.Schema[2] = 'Y'
	types := cat.Types()
	types[0].Sample[2] = 'Z'
	types[0].Type = "other"
	again, _ := cat.Lookup("order.paid")
	require.Equal(t, `{"order_id":"ord_1"}`, string(again.Sample))
	require.Equal(t, `{"type":"object"}`, string(again.Schema))
	require.Equal(t, []string{"order.paid", "ping"}, typeNames(cat))

	_, ok = cat.Lookup("order.refunded")
	require.False(t, ok)
}

func TestParseCatalog(t *testing.T) {
	cat, err := event.ParseCatalog([]byte(`{"types": [
		{"type": "order.paid", "description": "An order was paid", "sample": {"b": 1,  "a": 2},
		 "schema": {"type": "object", "required": ["a"]}},
		{"type": "invoice.finalized"},
		{"type": "ping", "description": "Ping!"}
	]}`))
	require.NoError(t, err)
	require.Equal(t, []event.TypeInfo{
		{Type: "invoice.finalized"},
		{Type: "order.paid", Description: "An order was paid", Sample: json.RawMessage(`{"b": 1,  "a": 2}`),
			Schema: json.RawMessage(`{"type": "object", "required": ["a"]}`)},
		{Type: "ping", Description: "Ping!"},
	}, cat.Types(), "samples and schemas are kept verbatim")

	// TypeInfo's JSON form is an entry of the file format.
	b, err := json.Marshal(map[string]any{"types": cat.Types()})
	require.NoError(t, err)
	back, err := event.ParseCatalog(b)
	require.NoError(t, err)
	require.Equal(t, typeNames(cat), typeNames(back))

	empty, err := event.ParseCatalog([]byte(`{"types":[]}`))
	require.NoError(t, err)
	require.Equal(t, []string{"ping"}, typeNames(empty))
}

func TestParseCatalogErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty input", ``, "unexpected end of input"},
		{"not JSON", `types: []`, "invalid literal at offset 0"},
		{"not an object", `[]`, "not a JSON object (got array)"},
		{"trailing data", `{"types":[]} x`, "data after the value"},
		{"unknown top-level field", `{"types":[],"version":2}`, `unknown field "version" (known: types)`},
		{"top-level key case", `{"Types":[]}`, `unknown field "Types"`},
		{"duplicate top-level key", `{"types":[],"types":[]}`, "duplicate key"},
		{"missing types", `{}`, "types: missing"},
		{"types not an array", `{"types":{"type":"a"}}`, "types: not a JSON array (got object)"},
		{"types null", `{"types":null}`, "types: not a JSON array (got null)"},
		{"entry not an object", `{"types":[{"type":"a"},"b"]}`, "types[1]: not a JSON object (got string)"},
		{"unknown entry field", `{"types":[{"type":"a"},{"type":"b","smaple":{}}]}`, `types[1]: unknown field "smaple" (known: type, description, sample, schema)`},
		{"entry key case", `{"types":[{"Type":"a"}]}`, `types[0]: unknown field "Type"`},
		{"duplicate entry key", `{"types":[{"type":"a","type":"b"}]}`, "duplicate key"},
		{"missing type", `{"types":[{"description":"x"}]}`, "types[0].type: missing"},
		{"type not a string", `{"types":[{"type":1}]}`, "types[0].type: not a JSON string (got number)"},
		{"description not a string", `{"types":[{"type":"a","description":["x"]}]}`, "types[0].description: not a JSON string (got array)"},
		{"pattern", `{"types":[{"type":"order.*"}]}`, `types[0].type: "order.*" is a pattern`},
		{"bad sample", `{"types":[{"type":"a"},{"type":"b","sample":[1,2]}]}`, "types[1].sample: not a JSON object (got array)"},
		{"sample string", `{"types":[{"type":"a","sample":"{}"}]}`, "types[0].sample: not a JSON object (got string)"},
		{"sample duplicate key", `{"types":[{"type":"a","sample":{"k":1,"k":2}}]}`, "duplicate key"},
		{"bad schema", `{"types":[{"type":"a","schema":42}]}`, "types[0].schema: not a JSON Schema"},
		{"duplicate type", `{"types":[{"type":"order.paid"},{"type":"invoice.finalized"},{"type":"order.paid"}]}`, `types[2].type: "order.paid" is already types[0]`},
		{"invalid UTF-8", "{\"types\":[{\"type\":\"a\",\"description\":\"\xff\"}]}", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := event.ParseCatalog([]byte(tt.in))
			require.ErrorIs(t, err, event.ErrInvalidCatalog)
			require.Nil(t, cat)
			require.True(t, strings.HasPrefix(err.Error(), "event: invalid catalog: "), err.Error())
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestCatalogMatch(t *testing.T) {
	cat, err := event.NewCatalog(event.TypeInfo{Type: "order.paid"}, event.TypeInfo{Type: "order.line.added"}, event.TypeInfo{Type: "invoice.finalized"})
	require.NoError(t, err)
	var open *event.Catalog
	tests := []struct {
		pattern    string
		want, open bool
	}{
		{"order.paid", true, true},
		{"order.*", true, true},
		{"order.line.*", true, true},
		{"*", true, true},
		{"ping", true, true},
		{"order.payed", false, true},
		{"orders.*", false, true},
		{"order.paid.*", false, true},
		{"order", true, true}, // a service: all its methods
		{"orders", false, true},
		{"invoice", true, true},
		{"invoice.finalized.x", false, true},
		{"", false, false},
		{"order*", false, false},
		{"*.paid", false, false},
		{"order..paid", false, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, cat.Match(tt.pattern), "closed catalog, pattern %q", tt.pattern)
		require.Equal(t, tt.open, open.Match(tt.pattern), "nil catalog, pattern %q", tt.pattern)
		require.Equal(t, tt.open, (&event.Catalog{}).Match(tt.pattern), "zero catalog, pattern %q", tt.pattern)
	}
}

func TestCatalogCheck(t *testing.T) {
	cat, err := event.NewCatalog(event.TypeInfo{Type: "order.paid"})
	require.NoError(t, err)
	require.NoError(t, cat.Check("order.paid"))
	require.NoError(t, cat.Check(event.TypePing), "ping is always allowed")

	for _, typ := range []string{"order.payed", "order", "Order.paid", "order.paid.x"} {
		err := cat.Check(typ)
		require.ErrorIs(t, err, event.ErrUnknownType, typ)
		require.NotErrorIs(t, err, event.ErrInvalidType, typ)
		var fe *event.FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "type", fe.Field)
		require.Equal(t, `event: unknown event type: "`+typ+`" is not in the catalog`, err.Error())
	}

	var open *event.Catalog
	for _, c := range []*event.Catalog{cat, open, {}} {
		for _, typ := range []string{"", "order..paid", "order.*"} {
			err := c.Check(typ)
			require.ErrorIs(t, err, event.ErrInvalidType, "%q", typ)
			require.NotErrorIs(t, err, event.ErrUnknownType)
		}
	}
	require.NoError(t, open.Check("anything.at_all"))
	require.NoError(t, (&event.Catalog{}).Check("anything.at_all"))
	require.Nil(t, open.Types())
	_, ok := open.Lookup(event.TypePing)
	require.False(t, ok, "an open catalog lists nothing")
}

func TestCatalogConcurrentUse(t *testing.T) {
	cat, err := event.NewCatalog(event.TypeInfo{Type: "order.paid", Sample: json.RawMessage(`{"a":1}`)})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				info, _ := cat.Lookup("order.paid")
				info.Sample[0] = 'X' // a copy: no race with the other readers
				ts := cat.Types()
				ts[0].Sample[1] = 'Y'
				_ = cat.Match("order.*")
				_ = cat.Check("order.paid")
			}
		})
	}
	wg.Wait()
	info, _ := cat.Lookup("order.paid")
	require.Equal(t, `{"a":1}`, string(info.Sample))
}
