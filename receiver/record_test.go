package receiver

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRecord: decodeRecord never panics, and an encoded record decodes to
// itself.
func FuzzRecord(f *testing.F) {
	for _, s := range []string{`{}`, `[1,{"a":[]}]`, `{"a":1,"A":2}`, `{"a":"\ud800\udc00"}`, `{"a":"\udc00"}`, `"\\ud800"`, `{} {}`, ``, `nul`, recordMagic + `{"source":"s"}` + "\n{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _, _ = decodeRecord(b)
		d := &Delivery{Source: "s", Header: map[string][]string{"X-A": {string(b)}}, Body: b, Received: time.Unix(1, 0).UTC()}
		meta, body, ok, err := decodeRecord(encodeRecord(d))
		// Header values are stored as JSON strings: invalid UTF-8 in them
		// comes back as U+FFFD (signature and routing headers are ASCII).
		if err != nil || !ok || string(body) != string(b) || meta.Source != "s" || (utf8.Valid(b) && meta.Header.Get("X-A") != string(b)) {
			t.Fatalf("record round trip: %v %v %q %+v", ok, err, body, meta)
		}
	})
}
