package memory

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

// TestAttemptBytesCap checks that the attempt log is bounded in bytes as well
// as in entries: attempts with big bodies or headers evict the oldest until
// the log is under both caps, the size is reported in Stats (and falls with
// eviction and pruning), and a single attempt over the cap is kept alone.
func TestAttemptBytesCap(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	const capBytes = 100_000
	s := New(&Config{MaxAttempts: 1000, MaxAttemptBytes: capBytes, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.Equal(t, DefaultMaxAttemptBytes, New(nil).cfg.MaxAttemptBytes)

	huge := http.Header{"X-Junk": {strings.Repeat("j", 9000)}}
	newAttempt := func(i int) *store.Attempt {
		return &store.Attempt{
			ID: fmt.Sprintf("a%03d", i), DeliveryID: "d", EndpointID: "e", EventID: "ev", Number: i,
			At: t0.Add(time.Duration(i) * time.Second), ResponseHeaders: huge, ResponseBody: make([]byte, 1000),
		}
	}
	one := attemptSize(newAttempt(0))
	require.Greater(t, one, 10_000, "headers and bodies count")
	for i := range 100 {
		require.NoError(t, s.AddAttempt(ctx, newAttempt(i)))
		st := s.Stats()
		require.LessOrEqual(t, st.AttemptBytes, capBytes)
		require.Equal(t, st.Attempts*one, st.AttemptBytes)
	}
	st := s.Stats()
	keep := capBytes / one
	require.Equal(t, keep, st.Attempts, "far fewer than MaxAttempts")
	require.Equal(t, uint64(100-keep), st.AttemptsEvicted)
	list, _, err := s.ListAttempts(ctx, store.AttemptFilter{AllTenants: true})
	require.NoError(t, err)
	require.Len(t, list, keep)
	require.Equal(t, 99, list[0].Number, "the newest are kept")
	require.Equal(t, 100-keep, list[keep-1].Number)
	require.Contains(t, logs.String(), "what=\"attempt bytes\"")
	checkInvariants(t, s)

	// Pruning gives the bytes back.
	n, err := s.PruneAttempts(ctx, t0.Add(98*time.Second))
	require.NoError(t, err)
	require.Equal(t, keep-2, n)
	require.Equal(t, 2*one, s.Stats().AttemptBytes)

	// One attempt over the cap evicts every other, and stays.
	big := newAttempt(100)
	big.RequestBody = make([]byte, 2*capBytes)
	require.NoError(t, s.AddAttempt(ctx, big))
	st = s.Stats()
	require.Equal(t, 1, st.Attempts)
	require.Equal(t, attemptSize(big), st.AttemptBytes)
	_, err = s.GetAttempt(ctx, big.ID)
	require.NoError(t, err)
	// And goes when the next one comes.
	require.NoError(t, s.AddAttempt(ctx, newAttempt(101)))
	st = s.Stats()
	require.Equal(t, 1, st.Attempts)
	require.Equal(t, one, st.AttemptBytes)
	checkInvariants(t, s)
}

// TestAttemptSize checks what an attempt's size counts.
func TestAttemptSize(t *testing.T) {
	a := &store.Attempt{
		ID: "id", DeliveryID: "dl", EndpointID: "ep", Tenant: "t", EventID: "ev", EventType: "a.b", Mode: "test",
		URL: "https://x/", Error: "boom",
		RequestHeaders:  http.Header{"A": {"1", "22"}},
		RequestBody:     []byte("body"),
		ResponseHeaders: http.Header{"Bb": {"333"}},
		ResponseBody:    []byte("resp!"),
	}
	ids := len("id") + len("dl") + len("ep") + len("t") + len("ev") + len("a.b") + len("test")
	headers := (1 + 1 + 4) + (1 + 2 + 4) + (2 + 3 + 4)
	require.Equal(t, ids+len("https://x/")+len("boom")+len("body")+len("resp!")+headers, attemptSize(a))
	require.Equal(t, attemptSize(a), copyAttempt(a).size)
}
