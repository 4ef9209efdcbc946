package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
)

const (
	validID   = "c0ac7bc4-c6ef-4f0b-bba3-93506774eb74"
	validDate = "2024-06-13T00:08:31Z"
)

// envelope builds an envelope body from raw JSON fragments for each field
// in wire order; an empty fragment leaves the field out.
func envelope(mode, date, id, typ, data string) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, `"`+k+`":`+v)
		}
	}
	add("api_mode", mode)
	add("date", date)
	add("id", id)
	add("type", typ)
	add("data", data)
	return "{" + strings.Join(parts, ",") + "}"
}

func good(data string) string {
	return envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, data)
}

func TestDecodeSeedExample(t *testing.T) {
	b, err := os.ReadFile("testdata/seed000.json")
	require.NoError(t, err)

	e, err := event.Decode(b)
	require.NoError(t, err)
	require.Equal(t, event.ModeTest, e.APIMode)
	require.Equal(t, time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), e.Date)
	require.Equal(t, time.UTC, e.Date.Location())
	require.Equal(t, validID, e.ID)
	require.Equal(t, "patient.ehi_export_success", e.Type)

	// Data is the exact span of the input, whitespace and all.
	start := bytes.Index(b, []byte(`{
        "download_links"`))
	end := bytes.LastIndex(b, []byte("}"))
	end = bytes.LastIndex(b[:end], []byte("}")) + 1
	require.Equal(t, string(b[start:end]), string(e.Data))

	// Data is a copy: changing the input does not change the event.
	b[start+10] = 'X'
	require.NotContains(t, string(e.Data), "X")

	// AppendJSON round-trips.
	out := e.AppendJSON(nil, e.Date)
	e2, err := event.Decode(out)
	require.NoError(t, err)
	require.Equal(t, e, e2)
	require.True(t, bytes.HasPrefix(out, []byte(`{"api_mode":"test","date":"2024-06-13T00:08:31Z","id":"`+validID+`","type":"patient.ehi_export_success","data":{`)))
}

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want event.Event
	}{
		{
			name: "minimal",
			in:   good(`{}`),
			want: event.Event{APIMode: event.ModeTest, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: validID, Type: "ping", Data: json.RawMessage(`{}`)},
		},
		{
			name: "live, whitespace everywhere, data bytes kept",
			in:   " \t\r\n{ \"api_mode\" : \"live\" ,\n\"date\":\"" + validDate + "\", \"id\":\"" + validID + "\",\"type\":\"a.b-c_D9\",\"data\":{ \"z\" : 1 ,  \"a\":[ 1 , 2 ] } } \n",
			want: event.Event{APIMode: event.ModeLive, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: validID, Type: "a.b-c_D9", Data: json.RawMessage(`{ "z" : 1 ,  "a":[ 1 , 2 ] }`)},
		},
		{
			name: "unknown top-level fields ignored, fields in any order",
			in:   `{"data":{"k":"v"},"extra":{"nested":[1,{"x":null}]},"type":"ping","id":"` + validID + `","v":2,"date":"` + validDate + `","api_mode":"test","x-trace":"abc"}`,
			want: event.Event{APIMode: event.ModeTest, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: validID, Type: "ping", Data: json.RawMessage(`{"k":"v"}`)},
		},
		{
			name: "date offset and fraction normalized to UTC seconds",
			in:   envelope(`"test"`, `"2024-06-13T02:08:31.987+02:00"`, `"`+validID+`"`, `"ping"`, `{}`),
			want: event.Event{APIMode: event.ModeTest, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: validID, Type: "ping", Data: json.RawMessage(`{}`)},
		},
		{
			name: "upper-case UUID",
			in:   envelope(`"test"`, `"`+validDate+`"`, `"C0AC7BC4-C6EF-4F0B-BBA3-93506774EB74"`, `"ping"`, `{}`),
			want: event.Event{APIMode: event.ModeTest, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: "C0AC7BC4-C6EF-4F0B-BBA3-93506774EB74", Type: "ping", Data: json.RawMessage(`{}`)},
		},
		{
			name: "escapes in keys and values are decoded",
			in:   `{"api_mode":"t\u0065st","d\u0061te":"` + validDate + `","id":"` + validID + `","type":"p\u0069ng","data":{"s":"\ud83d\ude00 \u00e9 \"q\" \\ \/"}}`,
			want: event.Event{APIMode: event.ModeTest, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: validID, Type: "ping", Data: json.RawMessage(`{"s":"\ud83d\ude00 \u00e9 \"q\" \\ \/"}`)},
		},
		{
			name: "non-ASCII, numbers and literals in data",
			in:   good(`{"name":"Zoë 日本","n":[-0,0.5,1e10,-2E-3,12],"t":true,"f":false,"z":null,"e":{},"a":[]}`),
			want: event.Event{APIMode: event.ModeTest, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: validID, Type: "ping", Data: json.RawMessage(`{"name":"Zoë 日本","n":[-0,0.5,1e10,-2E-3,12],"t":true,"f":false,"z":null,"e":{},"a":[]}`)},
		},
		{
			name: "same key in different objects is not a duplicate",
			in:   good(`{"id":1,"a":{"id":2,"a":{"id":3}},"b":[{"id":4},{"id":5}]}`),
			want: event.Event{APIMode: event.ModeTest, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: validID, Type: "ping", Data: json.RawMessage(`{"id":1,"a":{"id":2,"a":{"id":3}},"b":[{"id":4},{"id":5}]}`)},
		},
		{
			name: "nesting exactly MaxDepth",
			in:   good(strings.Repeat(`{"a":`, event.MaxDepth-1) + `1` + strings.Repeat(`}`, event.MaxDepth-1)),
			want: event.Event{APIMode: event.ModeTest, Date: time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC), ID: validID, Type: "ping", Data: json.RawMessage(strings.Repeat(`{"a":`, event.MaxDepth-1) + `1` + strings.Repeat(`}`, event.MaxDepth-1))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := event.Decode([]byte(tt.in))
			require.NoError(t, err)
			require.Equal(t, tt.want, e)
			require.NoError(t, e.Validate())

			var viaUnmarshal event.Event
			require.NoError(t, json.Unmarshal([]byte(tt.in), &viaUnmarshal))
			require.Equal(t, tt.want, viaUnmarshal)
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	manyKeys := func(extra string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 40 {
			b.WriteString(`"k` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1,`)
		}
		b.WriteString(extra + "}")
		return b.String()
	}
	tests := []struct {
		name  string
		in    string
		err   error
		field string
	}{
		// Not one object.
		{"empty", ``, event.ErrInvalidJSON, ""},
		{"whitespace only", " \n", event.ErrInvalidJSON, ""},
		{"array", `[]`, event.ErrInvalidJSON, ""},
		{"string", `"x"`, event.ErrInvalidJSON, ""},
		{"null", `null`, event.ErrInvalidJSON, ""},
		{"number", `12`, event.ErrInvalidJSON, ""},
		{"unterminated", good(`{}`)[:40], event.ErrInvalidJSON, "date"},
		{"trailing garbage", good(`{}`) + `x`, event.ErrInvalidJSON, ""},
		{"two objects", good(`{}`) + good(`{}`), event.ErrInvalidJSON, ""},
		{"trailing comma", `{"a":1,}`, event.ErrInvalidJSON, ""},
		{"BOM", "\ufeff" + good(`{}`), event.ErrInvalidJSON, ""},
		{"single quotes", `{'a':1}`, event.ErrInvalidJSON, ""},
		{"leading zero in data", good(`{"n":01}`), event.ErrInvalidJSON, "data"},
		{"bad literal in data", good(`{"n":tru}`), event.ErrInvalidJSON, "data"},
		{"bare dot number", good(`{"n":1.}`), event.ErrInvalidJSON, "data"},
		{"bad exponent", good(`{"n":1e}`), event.ErrInvalidJSON, "data"},
		{"control char in string", good("{\"s\":\"a\tb\"}"), event.ErrInvalidJSON, "data"},
		{"bad escape", good(`{"s":"\x"}`), event.ErrInvalidJSON, "data"},
		{"short unicode escape", good(`{"s":"\u12"}`), event.ErrInvalidJSON, "data"},
		{"missing colon", good(`{"s" 1}`), event.ErrInvalidJSON, "data"},
		{"unknown field malformed", `{"x":[1,],` + good(`{}`)[1:], event.ErrInvalidJSON, ""},

		// Ambiguity.
		{"duplicate id", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, `{}`)[:len(envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, `{}`))-1] + `,"id":"` + validID + `"}`, event.ErrInvalidJSON, "id"},
		{"duplicate unknown top-level key", `{"x":1,"x":1,` + good(`{}`)[1:], event.ErrInvalidJSON, ""},
		{"duplicate key in data", good(`{"a":1,"a":1}`), event.ErrInvalidJSON, "data"},
		{"duplicate key deep in data", good(`{"a":[{"b":{"c":1,"d":2,"c":3}}]}`), event.ErrInvalidJSON, "data"},
		{"duplicate via escape", good(`{"a":1,"\u0061":2}`), event.ErrInvalidJSON, "data"},
		{"duplicate in large object", good(manyKeys(`"kba":2`)), event.ErrInvalidJSON, "data"},
		{"case variant in large object", good(manyKeys(`"KZA":2`)), event.ErrInvalidJSON, "data"},
		{"case variant in data", good(`{"task_id":"a","TASK_ID":"b"}`), event.ErrInvalidJSON, "data"},
		{"case variant via Kelvin sign", good(`{"k":1,"\u212a":2}`), event.ErrInvalidJSON, "data"},
		{"ID beside id", `{"ID":"` + validID + `",` + good(`{}`)[1:], event.ErrInvalidJSON, "id"},
		{"ID instead of id", envelope(`"test"`, `"`+validDate+`"`, ``, `"ping"`, `{}`)[:len(envelope(`"test"`, `"`+validDate+`"`, ``, `"ping"`, `{}`))-1] + `,"ID":"` + validID + `"}`, event.ErrInvalidJSON, "id"},
		{"Type instead of type", `{"api_mode":"test","date":"` + validDate + `","id":"` + validID + `","Type":"ping","data":{}}`, event.ErrInvalidJSON, "type"},
		{"DATA", `{"api_mode":"test","date":"` + validDate + `","id":"` + validID + `","type":"ping","DATA":{}}`, event.ErrInvalidJSON, "data"},
		{"Api_Mode", `{"Api_Mode":"test","date":"` + validDate + `","id":"` + validID + `","type":"ping","data":{}}`, event.ErrInvalidJSON, "api_mode"},
		{"invalid UTF-8 in data", good("{\"s\":\"\xff\"}"), event.ErrInvalidJSON, "data"},
		{"truncated UTF-8 in data", good("{\"s\":\"\xe6\x97\"}"), event.ErrInvalidJSON, "data"},
		{"UTF-8 encoded surrogate", good("{\"s\":\"\xed\xa0\x80\"}"), event.ErrInvalidJSON, "data"},
		{"overlong UTF-8", good("{\"s\":\"\xc0\xaf\"}"), event.ErrInvalidJSON, "data"},
		{"invalid UTF-8 in key", good("{\"\xff\":1}"), event.ErrInvalidJSON, "data"},
		{"invalid UTF-8 in unknown field", "{\"x\":\"\xfe\"," + good(`{}`)[1:], event.ErrInvalidJSON, ""},
		{"lone high surrogate", good(`{"s":"\ud800"}`), event.ErrInvalidJSON, "data"},
		{"lone low surrogate", good(`{"s":"\udc00"}`), event.ErrInvalidJSON, "data"},
		{"reversed surrogates", good(`{"s":"\udc00\ud800"}`), event.ErrInvalidJSON, "data"},
		{"too deep", good(strings.Repeat(`[`, event.MaxDepth) + strings.Repeat(`]`, event.MaxDepth)), event.ErrInvalidJSON, "data"},
		{"too deep in unknown field", `{"x":` + strings.Repeat(`{"a":`, event.MaxDepth) + `1` + strings.Repeat(`}`, event.MaxDepth) + "," + good(`{}`)[1:], event.ErrInvalidJSON, ""},

		// api_mode.
		{"mode missing", envelope(``, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidMode, "api_mode"},
		{"mode empty", envelope(`""`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidMode, "api_mode"},
		{"mode unknown", envelope(`"prod"`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidMode, "api_mode"},
		{"mode wrong case", envelope(`"Test"`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidMode, "api_mode"},
		{"mode null", envelope(`null`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidMode, "api_mode"},
		{"mode number", envelope(`1`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidMode, "api_mode"},

		// date.
		{"date missing", envelope(`"test"`, ``, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidDate, "date"},
		{"date not RFC 3339", envelope(`"test"`, `"2024-06-13 00:08:31"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidDate, "date"},
		{"date without zone", envelope(`"test"`, `"2024-06-13T00:08:31"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidDate, "date"},
		{"date impossible", envelope(`"test"`, `"2024-02-30T00:08:31Z"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidDate, "date"},
		{"date number", envelope(`"test"`, `1718237311`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidDate, "date"},
		{"date zero time", envelope(`"test"`, `"0001-01-01T00:00:00Z"`, `"`+validID+`"`, `"ping"`, `{}`), event.ErrInvalidDate, "date"},

		// id.
		{"id missing", envelope(`"test"`, `"`+validDate+`"`, ``, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id empty", envelope(`"test"`, `"`+validDate+`"`, `""`, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id not a UUID", envelope(`"test"`, `"`+validDate+`"`, `"msg_p5jXN8AQM9LWM0D4loKWxJek"`, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id without dashes", envelope(`"test"`, `"`+validDate+`"`, `"c0ac7bc4c6ef4f0bbba393506774eb74"`, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id braced", envelope(`"test"`, `"`+validDate+`"`, `"{c0ac7bc4-c6ef-4f0b-bba3-93506774eb74}"`, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id urn", envelope(`"test"`, `"`+validDate+`"`, `"urn:uuid:c0ac7bc4-c6ef-4f0b-bba3-93506774eb74"`, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id version 1", envelope(`"test"`, `"`+validDate+`"`, `"c0ac7bc4-c6ef-1f0b-bba3-93506774eb74"`, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id nil UUID", envelope(`"test"`, `"`+validDate+`"`, `"00000000-0000-0000-0000-000000000000"`, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id wrong variant", envelope(`"test"`, `"`+validDate+`"`, `"c0ac7bc4-c6ef-4f0b-cba3-93506774eb74"`, `"ping"`, `{}`), event.ErrInvalidID, "id"},
		{"id number", envelope(`"test"`, `"`+validDate+`"`, `42`, `"ping"`, `{}`), event.ErrInvalidID, "id"},

		// type.
		{"type missing", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, ``, `{}`), event.ErrInvalidType, "type"},
		{"type empty", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `""`, `{}`), event.ErrInvalidType, "type"},
		{"type space", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"patient export"`, `{}`), event.ErrInvalidType, "type"},
		{"type double dot", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"a..b"`, `{}`), event.ErrInvalidType, "type"},
		{"type trailing dot", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"a."`, `{}`), event.ErrInvalidType, "type"},
		{"type wildcard", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"patient.*"`, `{}`), event.ErrInvalidType, "type"},
		{"type too long", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"`+strings.Repeat("a", event.MaxTypeLength+1)+`"`, `{}`), event.ErrInvalidType, "type"},
		{"type array", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `["ping"]`, `{}`), event.ErrInvalidType, "type"},

		// data.
		{"data missing", envelope(`"test"`, `"`+validDate+`"`, `"`+validID+`"`, `"ping"`, ``), event.ErrInvalidData, "data"},
		{"data null", good(`null`), event.ErrInvalidData, "data"},
		{"data array", good(`[{}]`), event.ErrInvalidData, "data"},
		{"data string", good(`"{}"`), event.ErrInvalidData, "data"},
		{"data number", good(`1`), event.ErrInvalidData, "data"},

		// The first bad field in wire order is reported.
		{"first bad field wins", envelope(`"x"`, `"x"`, `"x"`, `"x y"`, `1`), event.ErrInvalidMode, "api_mode"},
		{"date before id", envelope(`"test"`, `"x"`, `"x"`, `"x y"`, `1`), event.ErrInvalidDate, "date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := event.Decode([]byte(tt.in))
			require.Error(t, err)
			require.ErrorIs(t, err, tt.err)
			require.Zero(t, e)
			var fe *event.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.field, fe.Field)
			require.True(t, strings.HasPrefix(err.Error(), "event: "), err.Error())

			// UnmarshalJSON has the same semantics and leaves the target
			// alone. (Inputs that are not valid JSON at all never reach it
			// through json.Unmarshal, so call it directly.)
			target := event.Event{ID: "keep"}
			err = target.UnmarshalJSON([]byte(tt.in))
			if tt.in == "null" {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.err)
			}
			require.Equal(t, event.Event{ID: "keep"}, target)
		})
	}
}

func TestDecodeErrorsAreDistinct(t *testing.T) {
	sentinels := []error{event.ErrInvalidJSON, event.ErrInvalidMode, event.ErrInvalidDate, event.ErrInvalidID, event.ErrInvalidType, event.ErrInvalidData, event.ErrInvalidPattern}
	for i, a := range sentinels {
		require.True(t, strings.HasPrefix(a.Error(), "event: "))
		for j, b := range sentinels {
			require.Equal(t, i == j, errors.Is(a, b))
		}
	}
}

func TestUnmarshalJSONInsideStruct(t *testing.T) {
	var wrapper struct {
		Event *event.Event `json:"event"`
		Other event.Event  `json:"other"`
	}
	in := `{"event":` + good(`{"a":  1}`) + `,"other":null}`
	require.NoError(t, json.Unmarshal([]byte(in), &wrapper))
	require.NotNil(t, wrapper.Event)
	require.Equal(t, `{"a":  1}`, string(wrapper.Event.Data))
	require.Zero(t, wrapper.Other)

	bad := `{"event":` + good(`{"a":1,"a":2}`) + `}`
	require.ErrorIs(t, json.Unmarshal([]byte(bad), &wrapper), event.ErrInvalidJSON)
}
