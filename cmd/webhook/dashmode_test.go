package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// TestDashboardHiddenModeNote: on a store whose endpoints are all of live
// mode, the dashboard (test mode by default) says at start how many are
// hidden and which --mode shows them; with --mode live, or with an
// endpoint of the mode shown, it says nothing.
func TestDashboardHiddenModeNote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/webhooks.db"
	st, err := sqlite.Open(path, &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	create := func(mode event.Mode, n int) {
		s, err := sender.New(st, &sender.Config{Mode: mode, AllowPrivateNetworks: true, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		defer s.Close()
		for i := range n {
			ep := &store.Endpoint{Mode: mode, URL: fmt.Sprintf("http://127.0.0.1:9/%s/%d", mode, i), EventTypes: []string{"*"}}
			_, err := s.Endpoints().Create(ctx, ep)
			require.NoError(t, err)
		}
	}
	create(event.ModeLive, 3)
	require.NoError(t, st.Close())
	dsn := "sqlite:" + path

	const note = "webhook dashboard: 3 live-mode endpoints are hidden: use --mode live"
	d := startBackground(t, dashboardRe, "dashboard", "--store", dsn, "--addr", "127.0.0.1:0", "--read-only")
	d.stop(t, os.Interrupt)
	require.Contains(t, d.stderr.String(), note)

	d = startBackground(t, dashboardRe, "dashboard", "--store", dsn, "--addr", "127.0.0.1:0", "--read-only", "--mode", "live")
	d.stop(t, os.Interrupt)
	require.NotContains(t, d.stderr.String(), "hidden")

	st, err = sqlite.Open(path, &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	create(event.ModeTest, 1)
	require.NoError(t, st.Close())
	d = startBackground(t, dashboardRe, "dashboard", "--store", dsn, "--addr", "127.0.0.1:0", "--read-only")
	d.stop(t, os.Interrupt)
	require.NotContains(t, d.stderr.String(), "hidden", "a test-mode endpoint is shown: no note")

	d = startBackground(t, dashboardRe, "dashboard", "--store", dsn, "--addr", "127.0.0.1:0", "--read-only", "--mode", "live")
	d.stop(t, os.Interrupt)
	require.NotContains(t, d.stderr.String(), "hidden")
}

// TestHiddenModeNote: the note's wording, singular and plural, both ways.
func TestHiddenModeNote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(t.TempDir()+"/w.db", &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))

	note, err := hiddenModeNote(ctx, st, event.ModeTest)
	require.NoError(t, err)
	require.Empty(t, note, "an empty store: nothing hidden")

	require.NoError(t, st.CreateEndpoint(ctx, &store.Endpoint{Mode: event.ModeTest, URL: "https://example.com/a", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: vecSecret}}}))
	note, err = hiddenModeNote(ctx, st, event.ModeLive)
	require.NoError(t, err)
	require.Equal(t, "1 test-mode endpoint is hidden: use --mode test", note)
	note, err = hiddenModeNote(ctx, st, event.ModeTest)
	require.NoError(t, err)
	require.Empty(t, note)
}
