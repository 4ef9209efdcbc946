package receiver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/receivertest"
	"github.com/webhookkit/webhookkit/receiver"
)

// benchConns is the number of concurrent keep-alive connections (and
// client goroutines) of the HTTP benchmarks.
const benchConns = 32

// benchRequests pre-builds n signed requests with distinct ids and ~1 KiB
// bodies, so the timed loop does no signing.
type benchRequest struct {
	body              []byte
	id, ts, signature string
}

func benchRequests(b *testing.B, k receivertest.KeyPair, n int) []benchRequest {
	b.Helper()
	pad := strings.Repeat("x", 850)
	now := time.Now()
	reqs := make([]benchRequest, n)
	for i := range reqs {
		ev, err := event.New(event.ModeLive, "patient.ehi_export_success", map[string]any{
			"org_connection_id": "3f0e0d4a-2f51-4c9b-9f7e-4f0a1d8c2b11", "download_links": []string{pad}, "n": i,
		})
		if err != nil {
			b.Fatal(err)
		}
		body, _ := ev.MarshalJSON()
		reqs[i] = benchRequest{body: body, id: ev.ID, ts: strconv.FormatInt(now.Unix(), 10), signature: k.Signer.Sign(ev.ID, now, body)}
	}
	return reqs
}

// runHTTP posts the requests round-robin to url from benchConns goroutines
// over keep-alive connections and reports requests answered 200 per second
// and the share answered 503 (a receiver whose inbox cannot keep up); any other answer
// but 200 fails b.
func runHTTP(b *testing.B, url string, reqs []benchRequest) {
	tr := &http.Transport{MaxIdleConns: benchConns, MaxIdleConnsPerHost: benchConns, MaxConnsPerHost: benchConns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var failed, unavailable atomic.Int64
	b.SetParallelism((benchConns + 1) / 2) // GOMAXPROCS is 2 on the CI machine
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := reqs[int(next.Add(1)-1)%len(reqs)]
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(r.body))
			req.Header["Content-Type"] = []string{"application/json"}
			req.Header["Webhook-Id"] = []string{r.id}
			req.Header["Webhook-Timestamp"] = []string{r.ts}
			req.Header["Webhook-Signature"] = []string{r.signature}
			resp, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
			case http.StatusServiceUnavailable:
				unavailable.Add(1)
			default:
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(int64(b.N)-unavailable.Load())/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(unavailable.Load())/float64(b.N), "503/op")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
}

// BenchmarkHTTP compares, in one run, a bare net/http handler that reads the
// body and answers 200 with the receiver (verification, de-duplication in
// the default memory inbox, queueing, and a trivial callback), and the
// receiver on a SQLite and a PostgreSQL inbox (group-committed claims and
// marks; PostgreSQL skipped without its DSN), all over real loopback HTTP
// with the same client and requests. Compare the req/s of the
// sub-benchmarks; run with -count to alternate them.
func BenchmarkHTTP(b *testing.B) {
	k := receivertest.NewKeyPair(b)
	reqs := benchRequests(b, k, 1<<17) // distinct ids: every request is a new event

	b.Run("bare", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		runHTTP(b, srv.URL, reqs)
	})

	for _, inbox := range []string{"memory", "sqlite", "postgres"} {
		name := "receiver"
		if inbox != "memory" {
			name += "/" + inbox
		}
		b.Run(name, func(b *testing.B) {
			cfg := &receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Logger: quiet}
			if inbox != "memory" {
				cfg.Inbox = openDurable(b, inbox)
			}
			var handled atomic.Int64
			r, err := receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error {
				handled.Add(1)
				return nil
			}), cfg)
			if err != nil {
				b.Fatal(err)
			}
			if err := r.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(r)
			defer srv.Close()
			runHTTP(b, srv.URL, reqs)
			ctx, cancel := context.WithTimeout(context.Background(), receivertest.WaitTimeout)
			defer cancel()
			if err := r.Shutdown(ctx); err != nil {
				b.Fatal(err)
			}
			st := r.Stats()
			if int64(st.Accepted) != handled.Load() || st.Accepted+st.Duplicates+st.Unavailable != uint64(b.N) {
				b.Fatalf("stats %+v, handled %d, N %d", st, handled.Load(), b.N)
			}
			if st.ClaimBatches > 0 {
				b.ReportMetric(float64(b.N)/float64(st.ClaimBatches), "claims/batch")
			}
		})
	}
}

// BenchmarkServeHTTP measures the handler alone (no network), with its
// allocations: "new" posts a new event per request, so every one is
// verified, claimed and queued (a fresh receiver, untimed, every
// len(reqs) requests); "duplicate" posts events already accepted, so every
// one is verified and answered as a duplicate.
func BenchmarkServeHTTP(b *testing.B) {
	k := receivertest.NewKeyPair(b)
	reqs := benchRequests(b, k, 1<<15)
	hdr := make([]http.Header, len(reqs))
	for i, q := range reqs {
		hdr[i] = http.Header{
			"Content-Type": {"application/json"}, "Webhook-Id": {q.id},
			"Webhook-Timestamp": {q.ts}, "Webhook-Signature": {q.signature},
		}
	}
	start := func(b *testing.B) *receiver.Receiver {
		r, err := receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error { return nil }),
			// A queue as long as the request set: without a network in
			// between the loop outruns the workers, and 503s are not what
			// is measured.
			&receiver.Config{Keys: []receiver.Key{{Text: k.Text}}, Logger: quiet, QueueSize: len(reqs)})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		return r
	}
	w := &discardWriter{h: http.Header{}}
	rd := bytes.NewReader(nil)
	req := &http.Request{Method: http.MethodPost, Body: io.NopCloser(rd)}
	post := func(b *testing.B, r *receiver.Receiver, i int) {
		q := reqs[i%len(reqs)]
		rd.Reset(q.body)
		req.Header = hdr[i%len(reqs)]
		req.ContentLength = int64(len(q.body))
		clear(w.h)
		w.code = 0
		r.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}

	b.Run("new", func(b *testing.B) {
		r := start(b)
		defer func() { _ = r.Close() }()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if i > 0 && i%len(reqs) == 0 {
				b.StopTimer()
				_ = r.Close()
				r = start(b)
				b.StartTimer()
			}
			post(b, r, i)
		}
	})

	b.Run("duplicate", func(b *testing.B) {
		r := start(b)
		defer func() { _ = r.Close() }()
		for i := range reqs {
			post(b, r, i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			post(b, r, i)
		}
		b.StopTimer()
		if st := r.Stats(); st.Duplicates != uint64(b.N) {
			b.Fatalf("%d duplicates, want %d", st.Duplicates, b.N)
		}
	})
}

type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// WriteString, as net/http's ResponseWriter has, so io.WriteString does not
// allocate a copy.
func (w *discardWriter) WriteString(s string) (int, error) { return len(s), nil }
func (w *discardWriter) WriteHeader(code int)              { w.code = code }
