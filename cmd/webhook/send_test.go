package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/signature"
)

// request is one request an endpointServer received.
type request struct {
	at     time.Time
	header http.Header
	body   []byte
}

// endpointServer answers with statuses in turn (the last one repeats) and
// records what it receives.
type endpointServer struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []request
}

func newEndpoint(t *testing.T, statuses ...int) *endpointServer {
	t.Helper()
	s := &endpointServer{statuses: statuses}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.got)
		s.got = append(s.got, request{at: at, header: r.Header.Clone(), body: body})
		code := s.statuses[min(n, len(s.statuses)-1)]
		s.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *endpointServer) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.got...)
}

// attempts decodes send's stdout.
func attempts(t *testing.T, stdout string) []attemptLine {
	t.Helper()
	var out []attemptLine
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		_, body := m["body"]
		require.Len(t, m, 4+btoi(body), "keys attempt, status, error, duration_ms and, for a failure's answer, body: %s", line)
		var a attemptLine
		require.NoError(t, json.Unmarshal([]byte(line), &a))
		out = append(out, a)
	}
	return out
}

func TestSendRetriesWithMinBackoff(t *testing.T) {
	t.Parallel()
	const minBackoff = 50 * time.Millisecond
	srv := newEndpoint(t, http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusOK)

	r := cli(t, "", "send", "--url", srv.URL+"/hook", "--secret", vecSecret, "--type", "patient.ehi_export_success",
		"--data", `{"org_connection_id":"c-1"}`, "--min-backoff", minBackoff.String(), "--max-attempts", "5")
	require.Equal(t, 0, r.code, r.stderr)

	lines := attempts(t, r.stdout)
	require.Len(t, lines, 3)
	for i, want := range []struct {
		status int
		err    string
	}{{503, "503 Service Unavailable"}, {500, "500 Internal Server Error"}, {200, ""}} {
		require.Equal(t, i+1, lines[i].Attempt)
		require.Equal(t, want.status, lines[i].Status)
		require.Equal(t, want.err, lines[i].Error)
		require.GreaterOrEqual(t, lines[i].DurationMS, int64(0))
	}

	got := srv.requests()
	require.Len(t, got, 3)
	v, err := signature.NewVerifier([]signature.Secret{mustSecret(t, vecSecret)}, nil, nil)
	require.NoError(t, err)
	var id string
	for i, req := range got {
		require.NoError(t, v.Verify(req.header, req.body), "attempt %d must be signed", i+1)
		ev, err := event.Decode(req.body)
		require.NoError(t, err)
		require.Equal(t, "patient.ehi_export_success", ev.Type)
		require.Equal(t, event.ModeTest, ev.APIMode)
		require.JSONEq(t, `{"org_connection_id":"c-1"}`, string(ev.Data))
		if i == 0 {
			id = ev.ID
		}
		require.Equal(t, id, ev.ID, "every attempt carries the same event id")
		require.Equal(t, id, req.header.Get(signature.HeaderID))
		if i > 0 {
			gap := req.at.Sub(got[i-1].at)
			require.GreaterOrEqual(t, gap, minBackoff, "attempt %d came %v after the previous one", i+1, gap)
		}
	}
}

func TestSendGivesUp(t *testing.T) {
	t.Parallel()
	srv := newEndpoint(t, http.StatusInternalServerError)
	r := cli(t, "", "send", "--url", srv.URL, "--secret", vecSecret, "--type", "ping",
		"--min-backoff", "20ms", "--max-attempts", "2")
	require.Equal(t, 1, r.code, r.stderr)
	lines := attempts(t, r.stdout)
	require.Len(t, lines, 2)
	require.Equal(t, 500, lines[1].Status)
	require.Contains(t, r.stderr, "gave up after 2 attempts")
	require.Len(t, srv.requests(), 2)

	// No response at all: status 0 and the transport error.
	srv.Close()
	r = cli(t, "", "send", "--url", srv.URL, "--secret", vecSecret, "--type", "ping", "--max-attempts", "1")
	require.Equal(t, 1, r.code, r.stderr)
	lines = attempts(t, r.stdout)
	require.Len(t, lines, 1)
	require.Equal(t, 0, lines[0].Status)
	require.NotEmpty(t, lines[0].Error)
}

func TestSendOptions(t *testing.T) {
	t.Parallel()
	srv := newEndpoint(t, http.StatusOK)
	kp := strings.Split(cli(t, "", "secret", "--asymmetric").stdout, "\n")
	data := writeFile(t, "data.json", `{"b": [1, 2],  "a": "x"}`)
	const id = "9f1c2a3b-4d5e-4f60-8a7b-8c9d0e1f2a3b"
	r := cli(t, "", "send", "--url", srv.URL, "--secret", vecSecret, "--secret", kp[0], "--type", "medical-encounters.create",
		"--data", "@"+data, "--id", id, "--mode", "live", "--header", "X-Tenant: acme")
	require.Equal(t, 0, r.code, r.stderr)
	got := srv.requests()
	require.Len(t, got, 1)
	ev, err := event.Decode(got[0].body)
	require.NoError(t, err)
	require.Equal(t, id, ev.ID)
	require.Equal(t, event.ModeLive, ev.APIMode)
	require.Equal(t, `{"b": [1, 2],  "a": "x"}`, string(ev.Data), "data is sent verbatim")
	require.Equal(t, "acme", got[0].header.Get("X-Tenant"))
	pk, err := signature.ParsePublicKey(kp[1])
	require.NoError(t, err)
	v, err := signature.NewVerifier(nil, []signature.PublicKey{pk}, nil)
	require.NoError(t, err)
	require.NoError(t, v.Verify(got[0].header, got[0].body), "signed with the Ed25519 key too")
}

func TestSimulate(t *testing.T) {
	t.Parallel()
	srv := newEndpoint(t, http.StatusNoContent)
	for _, typ := range []string{fasten.TypeEHIExportSuccess, event.TypePing} {
		r := cli(t, "", "simulate", "--url", srv.URL, "--secret", vecSecret, "--type", typ)
		require.Equal(t, 0, r.code, r.stderr)
		require.Len(t, attempts(t, r.stdout), 1)
	}
	got := srv.requests()
	require.Len(t, got, 2)
	for i, typ := range []string{fasten.TypeEHIExportSuccess, event.TypePing} {
		ev, err := event.Decode(got[i].body)
		require.NoError(t, err)
		require.Equal(t, typ, ev.Type)
		require.Equal(t, event.ModeTest, ev.APIMode)
		info, ok := fasten.Catalog().Lookup(typ)
		require.True(t, ok)
		require.Equal(t, string(info.Sample), string(ev.Data), "the provider's sample, verbatim")
	}
}

func TestSendUsage(t *testing.T) {
	t.Parallel()
	url := "http://127.0.0.1:9/"
	base := []string{"--url", url, "--secret", vecSecret}
	cat := writeFile(t, "events.json", ordersCatalog)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no url", []string{"send", "--secret", vecSecret, "--type", "ping"}, "--url is required"},
		{"relative url", []string{"send", "--url", "/hook", "--secret", vecSecret, "--type", "ping"}, "--url"},
		{"no type", append([]string{"send"}, base...), "--type is required"},
		{"bad type", append([]string{"send", "--type", "a..b"}, base...), "type"},
		{"data not an object", append([]string{"send", "--type", "ping", "--data", "[1]"}, base...), "data"},
		{"data not JSON", append([]string{"send", "--type", "ping", "--data", "{"}, base...), "data"},
		{"missing data file", append([]string{"send", "--type", "ping", "--data", "@/nonexistent/x.json"}, base...), "--data"},
		{"id not a UUIDv4", append([]string{"send", "--type", "ping", "--id", "msg_1"}, base...), "--id"},
		{"bad mode", append([]string{"send", "--type", "ping", "--mode", "prod"}, base...), "--mode"},
		{"zero attempts", append([]string{"send", "--type", "ping", "--max-attempts", "0"}, base...), "--max-attempts"},
		{"bad duration", append([]string{"send", "--type", "ping", "--min-backoff", "soon"}, base...), "invalid value"},
		{"bad header", append([]string{"send", "--type", "ping", "--header", "nocolon"}, base...), "--header"},
		// The sender's endpoint owner refuses what the sender sets itself.
		{"reserved header", append([]string{"send", "--type", "ping", "--header", "Webhook-Id: forged"}, base...),
			`--header "Webhook-Id": set by the sender; it cannot be overridden`},
		{"invalid header value", append([]string{"simulate", "--type", "ping", "--header", "X-Note: a\x7fb"}, base...),
			`--header "X-Note": the value must not contain control characters`},
		{"simulate unknown type", append([]string{"simulate", "--type", "nope"}, base...), "unknown event type"},
		{"simulate without type", append([]string{"simulate"}, base...), "--type is required"},
		{"simulate type outside the catalog", append([]string{"simulate", "--catalog", cat, "--type", "order.payed"}, base...),
			`unknown event type "order.payed": the catalog lists invoice.finalized, order.paid, ping (give --data to send another type)`},
		{"simulate provider type outside the user's catalog", append([]string{"simulate", "--catalog", cat, "--type", "patient.ehi_export_success"}, base...),
			"the catalog lists invoice.finalized, order.paid, ping"},
		{"simulate user type outside the provider's catalog", append([]string{"simulate", "--type", "order.paid"}, base...),
			"the catalog lists patient.authorization_revoked, patient.connection_success, patient.ehi_export_failed, patient.ehi_export_success, ping, webhook.test"},
		{"simulate invalid type with data", append([]string{"simulate", "--catalog", cat, "--type", "order..paid", "--data", "{}"}, base...), "invalid type"},
		{"simulate data not an object", append([]string{"simulate", "--catalog", cat, "--type", "order.paid", "--data", "[]"}, base...), "data"},
		{"simulate missing catalog file", append([]string{"simulate", "--catalog", "/nonexistent/events.json", "--type", "order.paid"}, base...), "--catalog: "},
		{"simulate unknown catalog field", []string{"simulate", "--catalog", writeFile(t, "bad.json", `{"types":[{"type":"order.paid","smaple":{}}]}`), "--list"},
			`types[0]: unknown field "smaple"`},
		{"simulate bad sample", []string{"simulate", "--catalog", writeFile(t, "bad.json", `{"types":[{"type":"order.paid","sample":[1]}]}`), "--list"},
			"event: invalid catalog: types[0].sample: not a JSON object (got array)"},
		{"simulate duplicate type", []string{"simulate", "--catalog", writeFile(t, "bad.json", `{"types":[{"type":"a"},{"type":"a"}]}`), "--list"},
			`types[1].type: "a" is already types[0]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, "", tc.args...)
			require.Equal(t, 2, r.code, r.stderr)
			require.Empty(t, r.stdout)
			require.Contains(t, r.stderr, tc.want)
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
