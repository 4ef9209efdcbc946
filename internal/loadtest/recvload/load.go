package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/signature"
)

// loadResult is what one load run measured. Rates and latencies cover the
// requests started in the measured window (after the warm-up); the totals
// cover the whole run, for checking against the server's counters.
type loadResult struct {
	Conns     int            `json:"conns"`
	Window    float64        `json:"window_s"`
	Requests  int            `json:"requests"` // in the window
	RPS       float64        `json:"rps"`
	P50us     float64        `json:"p50_us"`
	P99us     float64        `json:"p99_us"`
	Status    map[string]int `json:"status"`    // in the window, by status code
	IOErrors  int            `json:"io_errors"` // in the window
	TotalOK   int            `json:"total_ok"`  // 200s, whole run
	TotalSent int            `json:"total_sent"`
	CPU       float64        `json:"cpu_s"` // this process, in the window
}

// loadConfig is what a load run needs.
type loadConfig struct {
	url            string
	secret         signature.Secret
	conns          int
	warmup, window time.Duration
}

func load(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("recvload load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "", "receiver URL (loopback only), e.g. http://127.0.0.1:8080/")
	secret := fs.String("secret", "", "whsec_ secret to sign with")
	c := fs.Int("c", 32, "connections (requests in flight)")
	d := fs.Duration("d", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up before -d")
	asJSON := fs.Bool("json", false, "print the result as one line: result {json}")
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	sec, err := signature.ParseSecret(*secret)
	if err != nil {
		return usageError{Err: fmt.Errorf("-secret: %w", err)}
	}
	if *c < 1 || *d <= 0 || *warmup < 0 {
		return usageError{Err: errors.New("-c must be positive, -d positive and -warmup not negative")}
	}
	ctx, cancel := loadtest.StopOnStdinEOF(ctx)
	defer cancel()
	res, err := runLoad(ctx, loadConfig{url: *target, secret: sec, conns: *c, warmup: *warmup, window: *d})
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(res)
		fmt.Fprintf(stdout, "result %s\n", b)
		return nil
	}
	fmt.Fprintf(stdout, "%d connections, %.1f s: %.0f requests/s, p50 %.0f µs, p99 %.0f µs, status %v, I/O errors %d, load CPU %.0f%%\n",
		res.Conns, res.Window, res.RPS, res.P50us, res.P99us, res.Status, res.IOErrors, 100*res.CPU/res.Window)
	return nil
}

// worker is one connection's counters.
type worker struct {
	lat       []time.Duration
	status    map[int]int
	ioErrors  int
	totalOK   int
	totalSent int
}

// runLoad drives cfg.url from cfg.conns connections for warmup+window.
func runLoad(ctx context.Context, cfg loadConfig) (loadResult, error) {
	if err := loadtest.CheckURL(cfg.url); err != nil {
		return loadResult{}, err
	}
	u, _ := url.Parse(cfg.url)
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	// Fail fast when nothing listens.
	probe, err := loadtest.Dialer().DialContext(ctx, "tcp", hostport)
	if err != nil {
		return loadResult{}, fmt.Errorf("recvload: %w", err)
	}
	_ = probe.Close()

	start := time.Now()
	from, until := start.Add(cfg.warmup), start.Add(cfg.warmup+cfg.window)
	ws := make([]*worker, cfg.conns)
	var wg sync.WaitGroup
	for i := range ws {
		src, err := loadtest.NewEventSource(cfg.secret, loadtest.BodySize, uint64(start.UnixNano())+uint64(i))
		if err != nil {
			return loadResult{}, err
		}
		w := &worker{status: map[int]int{}, lat: make([]time.Duration, 0, 1<<14)}
		ws[i] = w
		wg.Go(func() { w.run(ctx, hostport, u.Host, path, src, from, until) })
	}
	var cpuFrom, cpuUntil time.Duration
	select {
	case <-time.After(time.Until(from)):
		cpuFrom = loadtest.CPUTime()
	case <-ctx.Done():
	}
	select {
	case <-time.After(time.Until(until)):
		cpuUntil = loadtest.CPUTime()
	case <-ctx.Done():
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return loadResult{}, fmt.Errorf("recvload: interrupted: %w", err)
	}

	res := loadResult{Conns: cfg.conns, Window: cfg.window.Seconds(), Status: map[string]int{}, CPU: (cpuUntil - cpuFrom).Seconds()}
	var lat []time.Duration
	for _, w := range ws {
		lat = append(lat, w.lat...)
		for code, n := range w.status {
			res.Status[strconv.Itoa(code)] += n
			res.Requests += n
		}
		res.IOErrors += w.ioErrors
		res.Requests += w.ioErrors
		res.TotalOK += w.totalOK
		res.TotalSent += w.totalSent
	}
	slices.Sort(lat)
	res.RPS = float64(res.Status["200"]) / res.Window
	res.P50us = float64(loadtest.Percentile(lat, 0.50).Nanoseconds()) / 1e3
	res.P99us = float64(loadtest.Percentile(lat, 0.99).Nanoseconds()) / 1e3
	return res, nil
}

// run sends requests on one keep-alive connection, one at a time, until
// until, reconnecting after an I/O error or a "Connection: close". Requests
// started in [from, until) are counted.
func (w *worker) run(ctx context.Context, addr, host, path string, src *loadtest.EventSource, from, until time.Time) {
	var conn net.Conn
	var br *bufio.Reader
	closeConn := func() {
		if conn != nil {
			_ = conn.Close()
			conn = nil
		}
	}
	defer closeConn()
	req := make([]byte, 0, loadtest.BodySize+512)
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(until) {
			return
		}
		counted := !now.Before(from)
		if conn == nil {
			c, err := loadtest.Dialer().DialContext(ctx, "tcp", addr)
			if err != nil {
				if counted {
					w.ioErrors++
				}
				select { // do not spin on a server that is gone
				case <-ctx.Done():
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			conn = c
			_ = conn.SetDeadline(until.Add(10 * time.Second))
			if br == nil {
				br = bufio.NewReaderSize(conn, 4096)
			} else {
				br.Reset(conn)
			}
		}
		ev := src.Next(now)
		req = appendRequest(req[:0], host, path, ev)
		w.totalSent++
		start := time.Now()
		status, keep, err := roundTrip(conn, br, req)
		lat := time.Since(start)
		if err != nil {
			if counted {
				w.ioErrors++
			}
			closeConn()
			continue
		}
		if status == http.StatusOK {
			w.totalOK++
		}
		if counted {
			w.status[status]++
			if status == http.StatusOK {
				w.lat = append(w.lat, lat)
			}
		}
		if !keep {
			closeConn()
		}
	}
}

// appendRequest appends a complete HTTP/1.1 webhook request.
func appendRequest(dst []byte, host, path string, ev loadtest.Signed) []byte {
	dst = append(dst, "POST "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUser-Agent: recvload\r\nContent-Type: application/json\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(ev.Body)), 10)
	dst = append(dst, "\r\nwebhook-id: "...)
	dst = append(dst, ev.ID...)
	dst = append(dst, "\r\nwebhook-timestamp: "...)
	dst = append(dst, ev.Timestamp...)
	dst = append(dst, "\r\nwebhook-signature: "...)
	dst = append(dst, ev.Signature...)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, ev.Body...)
}

// roundTrip writes req and reads the whole response.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (status int, keepAlive bool, err error) {
	if _, err := conn.Write(req); err != nil {
		return 0, false, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return 0, false, err
	}
	return resp.StatusCode, !resp.Close, nil
}
