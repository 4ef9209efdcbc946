package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
)

// TestAttemptLogLevels checks the levels Config.Logger documents: a
// successful attempt is logged at DEBUG, so a busy sender's default
// (INFO) log stays quiet; a failed one at INFO.
func TestAttemptLogLevels(t *testing.T) {
	var logs syncBuffer
	clk := newClock()
	st := newStore()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	ep, _ := addEndpoint(t, st, srv.URL, nil)
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	for range 2 {
		_, err := s.Publish(ctx, newEvent(t, clk, "user.created", `{}`), sender.ToEndpoint(ep.ID), nil)
		require.NoError(t, err)
		require.Equal(t, 1, processDue(t, s))
	}

	var levels []string
	for line := range bytes.Lines([]byte(logs.String())) {
		var rec struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			Status int    `json:"status"`
		}
		require.NoError(t, json.Unmarshal(line, &rec))
		if rec.Msg == "sender: attempt" {
			levels = append(levels, rec.Level)
			if rec.Status == http.StatusOK {
				require.Equal(t, "DEBUG", rec.Level, "a successful attempt")
			} else {
				require.Equal(t, "INFO", rec.Level, "a failed attempt")
			}
		}
	}
	require.ElementsMatch(t, []string{"DEBUG", "INFO"}, levels)
}
