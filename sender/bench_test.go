package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

const benchConcurrency = 32

// benchServer answers 200 to everything and closes done once it has seen
// want requests.
type benchServer struct {
	*httptest.Server
	mu   sync.Mutex
	n    int
	want int
	done chan struct{}
}

func newBenchServer(b *testing.B) *benchServer {
	bs := &benchServer{}
	bs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
		bs.mu.Lock()
		bs.n++
		if bs.n == bs.want {
			close(bs.done)
		}
		bs.mu.Unlock()
	}))
	b.Cleanup(bs.Close)
	return bs
}

// expect resets the count; the returned channel is closed after want more
// requests.
func (bs *benchServer) expect(want int) <-chan struct{} {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	bs.n, bs.want, bs.done = 0, want, make(chan struct{})
	return bs.done
}

// benchData is a 1 KiB data object.
var benchData = json.RawMessage(`{"pad":"` + strings.Repeat("x", 1024-10) + `"}`)

// plainLoop signs and POSTs n envelopes with benchConcurrency goroutines,
// the baseline the sender is compared with: no store, no attempt log.
type plainLoop struct {
	url    string
	ev     event.Event
	sg     *signature.Signer
	client *http.Client
}

func newPlainLoop(b *testing.B, url string) *plainLoop {
	sec, err := signature.NewSecret()
	require.NoError(b, err)
	sg, err := signature.NewSigner([]signature.Secret{sec})
	require.NoError(b, err)
	ev, err := event.New(event.ModeTest, "bench.event", benchData)
	require.NoError(b, err)
	client := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * benchConcurrency,
		MaxIdleConnsPerHost: benchConcurrency,
		IdleConnTimeout:     90 * time.Second,
	}}
	b.Cleanup(client.CloseIdleConnections)
	return &plainLoop{url: url, ev: ev, sg: sg, client: client}
}

func (p *plainLoop) run(b *testing.B, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Go(func() {
			buf := make([]byte, 0, 4096)
			for next.Add(1) <= int64(n) {
				now := time.Now()
				buf = p.ev.AppendJSON(buf[:0], now)
				req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(buf))
				if err != nil {
					b.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				p.sg.SignHeader(req.Header, p.ev.ID, now, buf)
				resp, err := p.client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
}

// runSender publishes n events to one endpoint (untimed), then has a
// started sender deliver all of them. It returns the wall and CPU time of
// the delivery.
func runSender(b *testing.B, srv *benchServer, n int) (wall, cpu time.Duration) {
	ctx := context.Background()
	st := newStore()
	addEndpoint(b, st, srv.URL, func(ep *store.Endpoint) { ep.MaxInFlight = benchConcurrency })
	s, err := sender.New(st, &sender.Config{
		AllowPrivateNetworks: true,
		Workers:              benchConcurrency,
		Logger:               discardLogger(),
	})
	require.NoError(b, err)
	defer s.Close()
	for range n {
		ev, err := event.New(event.ModeTest, "bench.event", benchData)
		require.NoError(b, err)
		_, err = s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(b, err)
	}
	done := srv.expect(n)
	start, c0 := time.Now(), cpuTime()
	require.NoError(b, s.Start(ctx))
	<-done
	require.NoError(b, s.Shutdown(ctx))
	return time.Since(start), cpuTime() - c0
}

// BenchmarkThroughput compares the sender (memory store: leasing, signing,
// attempt log, settlement, health) with a plain loop that only signs and
// POSTs, at the same concurrency (32) against the same local endpoint, with
// 1 KiB data. Each iteration runs the two A/B on batches of 2,000
// deliveries; it reports the median deliveries/s of each and the ratio of
// the medians (goal: at least 0.9), and the process CPU time per delivery
// of each (the in-process endpoint's share included), which is less
// sensitive to other load on the machine.
func BenchmarkThroughput(b *testing.B) {
	const batch = 2000
	srv := newBenchServer(b)
	plain := newPlainLoop(b, srv.URL)
	var plainRates, senderRates, plainCPU, senderCPU []float64
	b.ReportAllocs()
	for b.Loop() {
		srv.expect(-1)
		start, c0 := time.Now(), cpuTime()
		plain.run(b, batch)
		plainRates = append(plainRates, batch/time.Since(start).Seconds())
		plainCPU = append(plainCPU, float64(cpuTime()-c0)/batch)
		wall, cpu := runSender(b, srv, batch)
		senderRates = append(senderRates, batch/wall.Seconds())
		senderCPU = append(senderCPU, float64(cpu)/batch)
	}
	p, s := median(plainRates), median(senderRates)
	b.ReportMetric(p, "plain-deliveries/s")
	b.ReportMetric(s, "sender-deliveries/s")
	b.ReportMetric(s/p, "ratio")
	b.ReportMetric(median(plainCPU), "plain-cpu-ns/delivery")
	b.ReportMetric(median(senderCPU), "sender-cpu-ns/delivery")
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// BenchmarkPublishFanout measures Publish of one event to 10,000 subscribed
// endpoints (matching them and enqueuing 10,000 deliveries).
func BenchmarkPublishFanout(b *testing.B) {
	const endpoints = 10_000
	ctx := context.Background()
	st := newStore()
	sec, err := signature.NewSecret()
	require.NoError(b, err)
	for i := range endpoints {
		ep := &store.Endpoint{
			ID: fmt.Sprintf("ep-%05d", i), Mode: event.ModeTest, URL: "https://example.com/hook",
			EventTypes: []string{"patient.*"}, Secrets: []store.SigningKey{{Key: sec.String()}},
		}
		require.NoError(b, st.CreateEndpoint(ctx, ep))
	}
	s, err := sender.New(st, &sender.Config{Logger: discardLogger()})
	require.NoError(b, err)
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ev, err := event.New(event.ModeTest, "patient.ehi_export_success", benchData)
		if err != nil {
			b.Fatal(err)
		}
		n, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		if err != nil || n != endpoints {
			b.Fatalf("published to %d: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*endpoints), "ns/delivery")
}

// BenchmarkSenderOnly times the sender's part of BenchmarkThroughput alone,
// for profiling.
func BenchmarkSenderOnly(b *testing.B) {
	srv := newBenchServer(b)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = runSender(b, srv, 2000)
	}
}
