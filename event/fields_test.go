package event_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
)

func TestCheckJSONFields(t *testing.T) {
	names := []string{"id", "type", "data", "é"}
	for _, tc := range []struct {
		in     string
		object bool
		ok     bool
		want   []string // raw values of names; "" for absent
	}{
		{`{"id":"evt_1","type":"a.b","data":{"x":[1,2]}}`, true, true, []string{`"evt_1"`, `"a.b"`, `{"x":[1,2]}`, ""}},
		{" { \"id\" :\t\"x\" , \"other\": null }\n", true, true, []string{`"x"`, "", "", ""}},
		{`{"\u0069d":1,"\u00e9":true}`, true, true, []string{`1`, "", "", `true`}},
		{`{"data":{"id":"inner"}}`, true, true, []string{"", "", `{"id":"inner"}`, ""}},
		{`{}`, true, true, []string{"", "", "", ""}},
		{`[{"id":1}]`, false, true, nil},
		{`"id"`, false, true, nil},
		{`null`, false, true, nil},
		{`{"id":1,"id":2}`, false, false, nil},
		{`{"id":1,"ID":2}`, false, false, nil},
		{`{"id":1} x`, false, false, nil},
		{`{"id":"\ud800"}`, false, false, nil},
		{`{"id":1,}`, false, false, nil},
		{``, false, false, nil},
		{strings.Repeat(`{"a":`, event.MaxDepth+1) + `1` + strings.Repeat(`}`, event.MaxDepth+1), false, false, nil},
	} {
		vals := make([][]byte, len(names))
		object, err := event.CheckJSONFields([]byte(tc.in), names, vals)
		checkErr := event.CheckJSON([]byte(tc.in))
		if !tc.ok {
			require.Error(t, err, tc.in)
			require.ErrorIs(t, err, event.ErrInvalidJSON, tc.in)
			require.EqualError(t, err, checkErr.Error(), tc.in)
			require.False(t, object)
			require.Equal(t, make([][]byte, len(names)), vals, "vals set on error")
			continue
		}
		require.NoError(t, err, tc.in)
		require.NoError(t, checkErr, tc.in)
		require.Equal(t, tc.object, object, tc.in)
		if !object {
			require.Equal(t, make([][]byte, len(names)), vals, "vals set for a non-object")
			continue
		}
		for i, w := range tc.want {
			if w == "" {
				require.Nil(t, vals[i], "%s: %s", tc.in, names[i])
			} else {
				require.Equal(t, w, string(vals[i]), "%s: %s", tc.in, names[i])
			}
		}
	}
}

// TestCheckJSONFieldsManyNames: more names than the function holds on its
// stack still work.
func TestCheckJSONFieldsManyNames(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	names := make([]string, 20)
	for i := range names {
		names[i] = "k" + strings.Repeat("x", i)
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"` + names[i] + `":[` + strings.Repeat("[", i) + strings.Repeat("]", i) + `]`)
	}
	b.WriteString("}")
	vals := make([][]byte, len(names))
	object, err := event.CheckJSONFields([]byte(b.String()), names, vals)
	require.NoError(t, err, b.String())
	require.True(t, object)
	for i := range names {
		require.NotNil(t, vals[i], names[i])
	}
}

func TestCheckJSONFieldsShortVals(t *testing.T) {
	require.Panics(t, func() { _, _ = event.CheckJSONFields([]byte(`{}`), []string{"a", "b"}, make([][]byte, 1)) })
}

func TestCheckJSONFieldsAllocs(t *testing.T) {
	body := []byte(`{"id":"evt_1","object":"event","type":"invoice.paid","livemode":false,"data":{"object":{"id":"in_1","lines":[1,2,3]}}}`)
	names := []string{"id", "type", "livemode"}
	var vals [3][]byte
	n := testing.AllocsPerRun(100, func() {
		if _, err := event.CheckJSONFields(body, names, vals[:]); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, n)
}

// FuzzCheckJSONFields compares CheckJSONFields with encoding/json as the
// oracle: it accepts exactly what CheckJSON accepts (with the same error),
// only valid JSON, calls an input an object exactly when encoding/json
// decodes it into a non-nil map, and finds for every key of that map, and
// for one more fuzzed name, the value encoding/json's json.RawMessage
// holds.
func FuzzCheckJSONFields(f *testing.F) {
	for _, s := range []string{
		`{"id":"evt_1","type":"a.b","livemode":true,"data":{"object":{"id":"x"}}}`,
		`{"\u0069d":"x","a\"b":[1,{"c":null}]}`,
		` {"é":"\u00e9","":0} `,
		`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"s":"\ud800"}`, "{\"s\":\"\xff\"}",
		`[]`, `null`, `"x"`, `12`, `{`, `{"a":}`, `{} {}`, "",
	} {
		f.Add([]byte(s), "id")
	}
	f.Fuzz(func(t *testing.T, b []byte, extra string) {
		var m map[string]json.RawMessage
		mapErr := json.Unmarshal(b, &m)
		names := []string{extra}
		if mapErr == nil {
			for k := range m {
				names = append(names, k)
			}
		}
		vals := make([][]byte, len(names))
		object, err := event.CheckJSONFields(b, names, vals)
		checkErr := event.CheckJSON(b)
		if err != nil {
			require.Error(t, checkErr, "CheckJSON accepts %q", b)
			require.Equal(t, checkErr.Error(), err.Error())
			require.True(t, errors.Is(err, event.ErrInvalidJSON))
			require.False(t, object)
			require.Equal(t, make([][]byte, len(names)), vals)
			return
		}
		require.NoError(t, checkErr)
		require.True(t, json.Valid(b), "accepted invalid JSON %q", b)
		require.Equal(t, mapErr == nil && m != nil, object, "object of %q", b)
		if !object {
			require.Equal(t, make([][]byte, len(names)), vals)
			return
		}
		for i, name := range names {
			want, ok := m[name]
			if !ok {
				require.Nil(t, vals[i], "%q in %q", name, b)
				continue
			}
			require.Equal(t, string(want), string(vals[i]), "%q in %q", name, b)
		}
	})
}
