package event

import (
	"bytes"
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
