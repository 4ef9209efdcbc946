package event_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
)

func TestModeValid(t *testing.T) {
	require.True(t, event.ModeTest.Valid())
	require.True(t, event.ModeLive.Valid())
	for _, m := range []event.Mode{"", "Test", "LIVE", "prod", " test"} {
		require.False(t, m.Valid(), m)
	}
}

func TestNew(t *testing.T) {
	type payload struct {
		TaskID string `json:"task_id"`
		N      int    `json:"n"`
	}
	tests := []struct {
		name     string
		data     any
		wantData string
	}{
		{"raw message kept verbatim", json.RawMessage("{ \"b\": 1,\n \"a\": 2 }"), "{ \"b\": 1,\n \"a\": 2 }"},
		{"byte slice kept verbatim", []byte(`{"z":[1, 2]}`), `{"z":[1, 2]}`},
		{"struct marshalled", payload{TaskID: "t1", N: 3}, `{"task_id":"t1","n":3}`},
		{"map marshalled", map[string]any{"b": 1, "a": "x"}, `{"a":"x","b":1}`},
		{"empty object", struct{}{}, `{}`},
		{"nil is the empty object", nil, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().UTC().Truncate(time.Second)
			e, err := event.New(event.ModeLive, "patient.ehi_export_success", tt.data)
			require.NoError(t, err)
			require.NoError(t, e.Validate())
			require.Equal(t, event.ModeLive, e.APIMode)
			require.Equal(t, "patient.ehi_export_success", e.Type)
			require.Equal(t, tt.wantData, string(e.Data))
			require.Equal(t, time.UTC, e.Date.Location())
			require.Zero(t, e.Date.Nanosecond())
			require.False(t, e.Date.Before(before))
			require.False(t, e.Date.After(time.Now()))
			require.Len(t, e.ID, 36)
			require.Equal(t, byte('4'), e.ID[14])

			// The event survives an encode/decode round trip unchanged.
			b, err := e.MarshalJSON()
			require.NoError(t, err)
			back, err := event.Decode(b)
			require.NoError(t, err)
			require.Equal(t, e, back)
		})
	}

	t.Run("ids are fresh", func(t *testing.T) {
		seen := map[string]bool{}
		for range 100 {
			e, err := event.New(event.ModeTest, event.TypePing, map[string]string{})
			require.NoError(t, err)
			require.False(t, seen[e.ID])
			seen[e.ID] = true
		}
	})

	t.Run("input slice is copied", func(t *testing.T) {
		raw := []byte(`{"a":1}`)
		e, err := event.New(event.ModeTest, event.TypePing, raw)
		require.NoError(t, err)
		raw[2] = 'X'
		require.Equal(t, `{"a":1}`, string(e.Data))
	})

	rejects := []struct {
		name  string
		mode  event.Mode
		typ   string
		data  any
		err   error
		field string
	}{
		{"bad mode", "prod", "ping", struct{}{}, event.ErrInvalidMode, "api_mode"},
		{"empty mode", "", "ping", struct{}{}, event.ErrInvalidMode, "api_mode"},
		{"bad type", event.ModeTest, "a b", struct{}{}, event.ErrInvalidType, "type"},
		{"empty type", event.ModeTest, "", struct{}{}, event.ErrInvalidType, "type"},
		{"typed nil map", event.ModeTest, "ping", map[string]any(nil), event.ErrInvalidData, "data"},
		{"array data", event.ModeTest, "ping", []int{1}, event.ErrInvalidData, "data"},
		{"string data", event.ModeTest, "ping", `{"a":1}`, event.ErrInvalidData, "data"},
		{"raw array", event.ModeTest, "ping", json.RawMessage(`[1]`), event.ErrInvalidData, "data"},
		{"raw invalid JSON", event.ModeTest, "ping", json.RawMessage(`{"a":}`), event.ErrInvalidJSON, "data"},
		{"raw duplicate key", event.ModeTest, "ping", []byte(`{"a":1,"a":2}`), event.ErrInvalidJSON, "data"},
		{"raw empty", event.ModeTest, "ping", []byte{}, event.ErrInvalidData, "data"},
		{"unmarshallable", event.ModeTest, "ping", map[string]any{"f": func() {}}, event.ErrInvalidData, "data"},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			_, err := event.New(tt.mode, tt.typ, tt.data)
			require.ErrorIs(t, err, tt.err)
			var fe *event.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.field, fe.Field)
		})
	}
}

func validEvent() event.Event {
	return event.Event{
		APIMode: event.ModeTest,
		Date:    time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC),
		ID:      validID,
		Type:    "patient.ehi_export_success",
		Data:    json.RawMessage(`{"task_id":"fedec7b78cf6905872032b426473"}`),
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*event.Event)
		err    error
		field  string
	}{
		{"valid", func(*event.Event) {}, nil, ""},
		{"non-UTC sub-second date is fine", func(e *event.Event) { e.Date = time.Date(2024, 1, 1, 0, 0, 0, 5, time.FixedZone("x", 3600)) }, nil, ""},
		{"zero value", func(e *event.Event) { *e = event.Event{} }, event.ErrInvalidMode, "api_mode"},
		{"mode", func(e *event.Event) { e.APIMode = "staging" }, event.ErrInvalidMode, "api_mode"},
		{"date missing", func(e *event.Event) { e.Date = time.Time{} }, event.ErrInvalidDate, "date"},
		{"date year 10000", func(e *event.Event) { e.Date = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, event.ErrInvalidDate, "date"},
		{"id missing", func(e *event.Event) { e.ID = "" }, event.ErrInvalidID, "id"},
		{"id v7", func(e *event.Event) { e.ID = "01900c2a-3b4d-7e5f-8a6b-7c8d9e0f1a2b" }, event.ErrInvalidID, "id"},
		{"id bad hex", func(e *event.Event) { e.ID = "g0ac7bc4-c6ef-4f0b-bba3-93506774eb74" }, event.ErrInvalidID, "id"},
		{"id misplaced dash", func(e *event.Event) { e.ID = "c0ac7bc-4c6ef-4f0b-bba3-93506774eb74" }, event.ErrInvalidID, "id"},
		{"type missing", func(e *event.Event) { e.Type = "" }, event.ErrInvalidType, "type"},
		{"type leading dot", func(e *event.Event) { e.Type = ".a" }, event.ErrInvalidType, "type"},
		{"type non-ASCII", func(e *event.Event) { e.Type = "patiënt.x" }, event.ErrInvalidType, "type"},
		{"data missing", func(e *event.Event) { e.Data = nil }, event.ErrInvalidData, "data"},
		{"data null", func(e *event.Event) { e.Data = json.RawMessage(`null`) }, event.ErrInvalidData, "data"},
		{"data array", func(e *event.Event) { e.Data = json.RawMessage(` [] `) }, event.ErrInvalidData, "data"},
		{"data broken", func(e *event.Event) { e.Data = json.RawMessage(`{"a"`) }, event.ErrInvalidJSON, "data"},
		{"data two values", func(e *event.Event) { e.Data = json.RawMessage(`{} {}`) }, event.ErrInvalidJSON, "data"},
		{"data too deep", func(e *event.Event) {
			e.Data = json.RawMessage(strings.Repeat(`{"a":`, event.MaxDepth) + "1" + strings.Repeat("}", event.MaxDepth))
		}, event.ErrInvalidJSON, "data"},
		{"first bad field in wire order", func(e *event.Event) { e.ID = "x"; e.Type = "" }, event.ErrInvalidID, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEvent()
			tt.modify(&e)
			err := e.Validate()
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			var fe *event.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.field, fe.Field)

			_, err = e.MarshalJSON()
			require.ErrorIs(t, err, tt.err, "MarshalJSON validates")
		})
	}
}

func TestValidType(t *testing.T) {
	for _, typ := range []string{"ping", "a", "patient.ehi_export_success", "medical-encounters.create", "A.b.C_1-2", strings.Repeat("a", event.MaxTypeLength)} {
		require.NoError(t, event.ValidType(typ), typ)
	}
	for _, typ := range []string{"", ".", "a.", ".a", "a..b", "a b", "a/b", "a.*", "*", "ü", "a\x00", strings.Repeat("a", event.MaxTypeLength+1)} {
		err := event.ValidType(typ)
		require.ErrorIs(t, err, event.ErrInvalidType, typ)
	}
	require.ErrorContains(t, event.ValidType(""), "missing")
}

// reference encodes e the way encoding/json encodes an equivalent struct
// whose date is a string with seconds precision.
func reference(t testing.TB, e event.Event, date time.Time) []byte {
	t.Helper()
	b, err := json.Marshal(struct {
		APIMode string          `json:"api_mode"`
		Date    string          `json:"date"`
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Data    json.RawMessage `json:"data"`
	}{string(e.APIMode), date.UTC().Format(time.RFC3339), e.ID, e.Type, e.Data})
	require.NoError(t, err)
	return b
}

func TestAppendJSON(t *testing.T) {
	base := validEvent()
	tests := []struct {
		name string
		data string
	}{
		{"compact", `{"task_id":"fedec7b78cf6905872032b426473","n":[1,2.5,true,null]}`},
		{"empty", `{}`},
		{"non-ASCII", `{"name":"Zoë 日本"}`},
		{"whitespace and key order kept", "{\n  \"z\": 1,\n  \"a\": { \"y\" : [ 1 ] }\n}"},
		{"HTML characters kept", `{"url":"https://x.test/?a=1&b=<2>"}`},
	}
	dates := []time.Time{
		time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC),
		time.Date(2024, 6, 13, 2, 8, 31, 999999999, time.FixedZone("CEST", 2*3600)), // fraction truncated, UTC
		time.Date(1999, 12, 31, 23, 59, 59, 1, time.UTC),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			e.Data = json.RawMessage(tt.data)
			for _, date := range dates {
				got := e.AppendJSON(nil, date)

				// Data is verbatim.
				require.True(t, bytes.HasSuffix(got, []byte(`"data":`+tt.data+`}`)), string(got))
				// encoding/json compacts and HTML-escapes data; apart from
				// that, the bytes are identical.
				var compact bytes.Buffer
				require.NoError(t, json.Compact(&compact, got))
				require.Equal(t, string(reference(t, e, date)), strings.NewReplacer("&", `\u0026`, "<", `\u003c`, ">", `\u003e`).Replace(compact.String()))
				if json.Valid([]byte(tt.data)) && !strings.ContainsAny(tt.data, " \n<>&") {
					require.Equal(t, string(reference(t, e, date)), string(got))
					viaMarshal, err := json.Marshal(struct{ E event.Event }{withDate(e, date)})
					require.NoError(t, err)
					require.Equal(t, `{"E":`+string(got)+`}`, string(viaMarshal))
				}

				// Appends to dst.
				prefix := []byte("prefix:")
				require.Equal(t, "prefix:"+string(got), string(e.AppendJSON(prefix, date)))

				// Round trip.
				back, err := event.Decode(got)
				require.NoError(t, err)
				require.Equal(t, withDate(e, date.UTC().Truncate(time.Second)), back)
			}

			m, err := e.MarshalJSON()
			require.NoError(t, err)
			require.Equal(t, string(e.AppendJSON(nil, e.Date)), string(m))
		})
	}

	t.Run("nil data is null", func(t *testing.T) {
		e := base
		e.Data = nil
		require.True(t, bytes.HasSuffix(e.AppendJSON(nil, e.Date), []byte(`"data":null}`)))
	})
}

func withDate(e event.Event, d time.Time) event.Event {
	e.Date = d
	return e
}

func TestAppendJSONEscapesLikeEncodingJSON(t *testing.T) {
	// AppendJSON does not validate, so odd strings must still come out as
	// encoding/json would write them.
	strs := []string{
		"", "plain", `quo"te`, `back\slash`, "tab\tnl\ncr\rbs\bff\f", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "line\u2028sep\u2029", "bad\xffutf8\xc3", "é日本😀",
	}
	for _, s := range strs {
		e := event.Event{APIMode: event.Mode(s), ID: s, Type: s, Data: json.RawMessage(`{}`)}
		date := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		require.Equal(t, string(reference(t, e, date)), string(e.AppendJSON(nil, date)), "%q", s)
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	e := validEvent()
	e.Data = bytes.Repeat([]byte(" "), 900)
	e.Data[0], e.Data[len(e.Data)-1] = '{', '}'
	buf := make([]byte, 0, 2048)
	date := time.Date(2024, 6, 13, 0, 8, 31, 123, time.FixedZone("x", 3600))
	allocs := testing.AllocsPerRun(100, func() {
		buf = e.AppendJSON(buf[:0], date)
	})
	require.Zero(t, allocs)
}

func TestDataAs(t *testing.T) {
	type export struct {
		TaskID string `json:"task_id"`
		Stats  struct {
			TotalResources int `json:"total_resources"`
		} `json:"stats"`
	}
	e := validEvent()
	e.Data = json.RawMessage(`{"task_id":"t-1","stats":{"total_resources":12},"unknown":true}`)
	got, err := event.DataAs[export](e)
	require.NoError(t, err)
	require.Equal(t, "t-1", got.TaskID)
	require.Equal(t, 12, got.Stats.TotalResources)

	m, err := event.DataAs[map[string]any](e)
	require.NoError(t, err)
	require.Equal(t, true, m["unknown"])

	e.Data = json.RawMessage(`{"task_id":5}`)
	_, err = event.DataAs[export](e)
	require.ErrorIs(t, err, event.ErrInvalidData)
	var typeErr *json.UnmarshalTypeError
	require.ErrorAs(t, err, &typeErr)

	e.Data = nil
	_, err = event.DataAs[export](e)
	require.ErrorIs(t, err, event.ErrInvalidData)
}
