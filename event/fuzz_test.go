package event_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
)

// FuzzDecode checks that Decode never panics, that whatever it accepts is
// valid, re-encodes with MarshalJSON and decodes again to an equal event,
// and that it accepts nothing encoding/json considers malformed.
func FuzzDecode(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed000.json")
	require.NoError(f, err)
	f.Add(seed)
	for _, s := range []string{
		good(`{}`),
		good(`{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00"}`),
		good(`{"a":1,"a":2}`),
		good(`{"a":1,"A":2}`),
		`{"ID":"` + validID + `",` + good(`{}`)[1:],
		good("{\"s\":\"\xff\"}"),
		good(`{"s":"\ud800"}`),
		good(strings.Repeat(`[`, 130) + strings.Repeat(`]`, 130)),
		good(`{}`) + " x",
		`{"api_mode":"live","date":"2024-06-13T02:08:31.5+02:00","id":"` + validID + `","type":"a.b","data":{ "x" : 1 },"extra":[]}`,
		`[]`, `null`, `{`, `{"a":}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := event.Decode(b)
		if err != nil {
			require.Zero(t, e)
			return
		}
		require.True(t, json.Valid(b), "Decode accepted invalid JSON %q", b)
		require.NoError(t, e.Validate())
		require.True(t, bytes.Contains(b, e.Data), "data is not a span of the input")

		out, err := e.MarshalJSON()
		require.NoError(t, err)
		again, err := event.Decode(out)
		require.NoError(t, err, "re-decoding %s", out)
		require.Equal(t, e, again)
		require.Equal(t, string(out), string(again.AppendJSON(nil, again.Date)))
	})
}

func BenchmarkDecode(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeLongString decodes an envelope whose data is mostly one
// long ASCII string, the shape of the receiver's HTTP benchmark bodies.
func BenchmarkDecodeLongString(b *testing.B) {
	body := []byte(`{"api_mode":"live","date":"2024-06-13T00:08:31Z","id":"c0ac7bc4-c6ef-4f0b-bba3-93506774eb74","type":"patient.ehi_export_success","data":{` +
		`"download_links":["` + strings.Repeat("x", 850) + `"],"n":1,"org_connection_id":"3f0e0d4a-2f51-4c9b-9f7e-4f0a1d8c2b11"}}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeStdlib is encoding/json unmarshalling the same body into a
// plain struct, for comparison; it performs none of Decode's checks.
func BenchmarkDecodeStdlib(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var v struct {
		APIMode string          `json:"api_mode"`
		Date    string          `json:"date"`
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Data    json.RawMessage `json:"data"`
	}
	for b.Loop() {
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	e, err := event.Decode(benchBody(b))
	require.NoError(b, err)
	buf := make([]byte, 0, 2048)
	date := e.Date
	b.SetBytes(int64(len(e.AppendJSON(nil, date))))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0], date)
	}
}

// benchBody is a realistic envelope of about 1 KiB.
func benchBody(tb testing.TB) []byte {
	tb.Helper()
	body := []byte(`{"api_mode":"live","date":"2024-06-13T00:08:31Z","id":"c0ac7bc4-c6ef-4f0b-bba3-93506774eb74","type":"patient.ehi_export_success","data":{` +
		`"download_links":[{"url":"https://api.connect.fastenhealth.com/v1/bridge/fhir/ehi-export/fedec7b7-8cf6-4bc9-9058-72032b426473/download/2024-06-12-8b0bb96d-6715-4ae4-bde5-ab97519bd1fa.jsonl","export_type":"jsonl","content_type":"application/fhir+ndjson"},` +
		`{"url":"https://api.connect.fastenhealth.com/v1/bridge/fhir/ehi-export/fedec7b7-8cf6-4bc9-9058-72032b426473/download/2024-06-12-8b0bb96d-6715-4ae4-bde5-ab97519bd1fa.pdf","export_type":"pdf","content_type":"application/pdf"}],` +
		`"org_connection_id":"189484f4-1234-1234-1234-78a8caa3b64a","task_id":"fedec7b78cf6905872032b426473","org_id":"592c0579-c1cc-443f-a94e-4c8847c0c066",` +
		`"stats":{"total_resources":1873,"total_by_resource_type":{"AllergyIntolerance":12,"CarePlan":3,"Condition":41,"DiagnosticReport":187,"DocumentReference":96,"Encounter":233,"Immunization":18,"MedicationRequest":144,"Observation":1012,"Patient":1,"Practitioner":52,"Procedure":74}}}}`)
	require.GreaterOrEqual(tb, len(body), 1000)
	require.LessOrEqual(tb, len(body), 1200)
	return body
}
