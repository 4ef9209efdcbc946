package event

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// foldKey must agree with bytes.EqualFold, which is how encoding/json
// matches field names.
func TestFoldKeyMatchesEqualFold(t *testing.T) {
	keys := []string{
		"id", "ID", "Id", "iD", "k", "K", "\u212a", "s", "S", "\u017f", "ß", "ẞ", "σ", "Σ", "ς",
		"ǅ", "ǆ", "Ǆ", "task_id", "TASK_ID", "Task_Id", "日本", "é", "É", "a1", "A1", "", "µ", "Μ", "μ",
	}
	for _, a := range keys {
		for _, b := range keys {
			want := bytes.EqualFold([]byte(a), []byte(b))
			require.Equal(t, want, foldKey([]byte(a)) == foldKey([]byte(b)), "%q vs %q", a, b)
		}
	}
}

func TestUnescape(t *testing.T) {
	tests := map[string]string{
		`plain`:              "plain",
		`\"\\\/\b\f\n\r\t`:   "\"\\/\b\f\n\r\t",
		`\u0041\u00e9\u65e5`: "Aé日",
		`x\ud83d\ude00y`:     "x😀y",
		`\uD83D\uDE00`:       "😀",
	}
	for in, want := range tests {
		s := scanner{data: []byte(`"` + in + `"`), field: -1}
		raw, escaped, _, err := s.str()
		require.NoError(t, err)
		require.True(t, escaped || in == "plain")
		require.Equal(t, want, string(unescape(raw)), in)
	}
}

// plainWord must agree with strSafe for every byte in every lane.
func TestPlainWordMatchesStrSafe(t *testing.T) {
	for c := range 256 {
		for lane := range 8 {
			w := []byte("abcdefgh")
			w[lane] = byte(c)
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(w[i])
			}
			require.Equal(t, strSafe[c], plainWord(x), "byte 0x%02x in lane %d", c, lane)
		}
	}
}

// TestDecodeKeyChecks covers the duplicate and case-variant key checks
// across signatures, escapes, the key stack's spill and the map used for
// large objects.
func TestDecodeKeyChecks(t *testing.T) {
	env := func(data string) []byte {
		return []byte(`{"api_mode":"test","date":"2024-06-13T00:08:31Z","id":"c0ac7bc4-c6ef-4f0b-bba3-93506774eb74","type":"a.b","data":` + data + `}`)
	}
	keys := func(prefix string, n int) string {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, `"%s%d":%d,`, prefix, i, i)
		}
		return b.String()
	}
	// nested opens depth objects of width keys each, the innermost holding
	// inner, then appends after to the outermost object.
	nested := func(depth, width int, inner, after string) string {
		var b bytes.Buffer
		for d := range depth {
			b.WriteString("{" + keys(fmt.Sprintf("d%d_", d), width) + `"next":`)
		}
		b.WriteString(inner)
		b.WriteString(strings.Repeat("}", depth-1))
		b.WriteString(after + "}")
		return b.String()
	}
	tests := []struct {
		name string
		data string
		ok   bool
	}{
		{"same signature, different middle", `{"abc":1,"axc":2,"aXc":3}`, false},
		{"same signature, all different", `{"abc":1,"axc":2,"ayc":3}`, true},
		{"case variant, same signature", `{"abc":1,"aBc":2}`, false},
		{"case variant in first byte", `{"abc":1,"Abc":2}`, false},
		{"non-letters that |0x20 maps together", `{"@":1,"` + "`" + `":2,"[":3,"{":4}`, true},
		{"empty keys", `{"":1,"a":2}`, true},
		{"duplicate empty keys", `{"":1,"":2}`, false},
		{"escaped duplicate", `{"ab":1,"a\u0062":2}`, false},
		{"escaped case variant", `{"ab":1,"a\u0042":2}`, false},
		{"escaped keys, distinct", `{"a\u0062":1,"a\u0063":2,"\n":3}`, true},
		{"kelvin sign folds to k", `{"k":1,"\u212a":2}`, false},
		{"raw kelvin sign folds to K", "{\"K\":1,\"\u212a\":2}", false},
		{"non-ASCII distinct", `{"é":1,"e":2,"ê":3}`, true},
		{"non-ASCII case variant", `{"é":1,"É":2}`, false},
		{"large object distinct", "{" + keys("k", 40) + `"z":0}`, true},
		{"large object duplicate", "{" + keys("k", 40) + `"k3":0}`, false},
		{"large object case variant", "{" + keys("k", 40) + `"K39":0}`, false},
		{"duplicate right at the switch to a map", "{" + keys("k", 16) + `"k0":0}`, false},
		{"deep nesting spills the key stack", nested(8, 5, `{"x":1,"y":2}`, ""), true},
		{"duplicate in the innermost object past the spill", nested(8, 5, `{"x":1,"x":2}`, ""), false},
		{"duplicate in the outermost object after popping", nested(8, 5, `{"x":1}`, `,"d0_1":9`), false},
		{"outer key reused in inner objects is fine", nested(8, 5, `{"d0_1":1,"next":2}`, `,"after":1`), true},
		{"sibling objects reuse the same keys", `{"a":{"x":1,"y":2},"b":{"x":1,"y":2},"c":[{"x":1},{"x":2}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(env(tt.data))
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidJSON)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "data", fe.Field)
		})
	}
}
