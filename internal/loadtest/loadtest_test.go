package loadtest_test

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/signature"
)

func TestEventSource(t *testing.T) {
	sec, err := signature.NewSecret()
	require.NoError(t, err)
	v, err := signature.NewVerifier([]signature.Secret{sec}, nil, nil)
	require.NoError(t, err)
	for _, size := range []int{256, loadtest.BodySize, 16 << 10} {
		src, err := loadtest.NewEventSource(sec, size, 1)
		require.NoError(t, err)
		seen := map[string]bool{}
		for range 100 {
			s := src.Next(time.Now())
			require.Len(t, s.Body, size)
			require.False(t, seen[s.ID], "id %s repeated", s.ID)
			seen[s.ID] = true
			h := http.Header{}
			h.Set(signature.HeaderID, s.ID)
			h.Set(signature.HeaderTimestamp, s.Timestamp)
			h.Set(signature.HeaderSignature, string(s.Signature))
			require.NoError(t, v.Verify(h, s.Body))
			ev, err := event.Decode(s.Body)
			require.NoError(t, err)
			require.Equal(t, s.ID, ev.ID)
			require.Equal(t, loadtest.EventType, ev.Type)
		}
	}
	_, err = loadtest.NewEventSource(sec, 100, 1)
	require.Error(t, err)
}

func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:80", true}, {"127.9.9.9:1", true}, {"[::1]:8080", true}, {"[::ffff:127.0.0.1]:1", true},
		{"10.0.0.1:80", false}, {"0.0.0.0:0", false}, {"[::]:0", false}, {"localhost:80", false}, {"192.0.2.1:443", false},
	} {
		err := loadtest.CheckLoopback(tc.addr)
		if tc.ok {
			require.NoError(t, err, tc.addr)
		} else {
			require.ErrorIs(t, err, loadtest.ErrNotLoopback, tc.addr)
		}
	}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/hook", true}, {"http://localhost/", true}, {"http://[::1]:1/", true},
		{"https://127.0.0.1/", false}, {"http://example.com/", false}, {"http://10.1.2.3/", false},
	} {
		err := loadtest.CheckURL(tc.url)
		if tc.ok {
			require.NoError(t, err, tc.url)
		} else {
			require.Error(t, err, tc.url)
		}
	}
	// The dialer checks the address it connects to, whatever the name.
	_, err := loadtest.Dialer().Dial("tcp", "192.0.2.1:80")
	require.ErrorIs(t, err, loadtest.ErrNotLoopback)
	_, err = loadtest.Listen(t.Context(), "0.0.0.0:0")
	require.ErrorIs(t, err, loadtest.ErrNotLoopback)
}

func TestStats(t *testing.T) {
	require.Equal(t, 0.0, loadtest.Median([]float64{}))
	require.Equal(t, 2.0, loadtest.Median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, loadtest.Median([]int{4, 1, 3, 2}))
	xs := []float64{3, 1, 2}
	loadtest.Median(xs)
	require.Equal(t, []float64{3, 1, 2}, xs, "Median must not sort its argument")

	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	require.Equal(t, time.Duration(50), loadtest.Percentile(d, 0.5))
	require.Equal(t, time.Duration(99), loadtest.Percentile(d, 0.99))
	require.Equal(t, time.Duration(100), loadtest.Percentile(d, 1))
	require.Equal(t, time.Duration(1), loadtest.Percentile(d, 0))
	require.Zero(t, loadtest.Percentile(nil, 0.5))
	require.Equal(t, 0.0, loadtest.Ratio(1, 0))
	require.Equal(t, 0.5, loadtest.Ratio(1, 2))
}

func TestMachine(t *testing.T) {
	m := loadtest.ThisMachine()
	require.Positive(t, m.CPUs)
	require.NotEmpty(t, m.GoVersion)
	require.Contains(t, m.String(), m.GoVersion)
}

func TestProcStat(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is read on Linux only")
	}
	_, ppid, err := loadtest.ProcCPU(os.Getpid())
	require.NoError(t, err)
	require.Equal(t, os.Getppid(), ppid)
	kids, err := loadtest.ProcChildren(os.Getppid())
	require.NoError(t, err)
	require.Contains(t, kids, os.Getpid())
	busy, err := loadtest.MachineBusy()
	require.NoError(t, err)
	require.Positive(t, busy)
	_, _, err = loadtest.ProcCPU(-1)
	require.Error(t, err)
}

func TestWaitProfile(t *testing.T) {
	waits := map[string]int{"running": 20, "b": 2, "a": 2}
	for i := range 8 { // the names WaitProfile gives before "other"
		waits[fmt.Sprintf("w%d", i)] = 1
	}
	require.Equal(t, "running 2.00, a 0.20, b 0.20, w0 0.10, w1 0.10, w2 0.10, w3 0.10, w4 0.10, other 0.30",
		loadtest.WaitProfile(waits, 10))
	require.Equal(t, "no samples", loadtest.WaitProfile(nil, 0))
	require.Equal(t, "all idle", loadtest.WaitProfile(nil, 3))
}
