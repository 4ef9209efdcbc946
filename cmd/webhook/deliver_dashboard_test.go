package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// TestDashboardDurableStoreDoesNotDeliver checks that the dashboard over a
// durable store, an application's outbox, does not deliver its queue with
// the CLI's weaker settings: nothing is sent unless --deliver, the answers
// say the application's senders will, and pings to loopback are refused
// unless --allow-private-networks.
func TestDashboardDurableStoreDoesNotDeliver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/outbox.db"
	st, err := sqlite.Open(path, &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	srv := newEndpoint(t, http.StatusOK)
	// The application queues a live event to a loopback endpoint (as one
	// named by a host that resolves to 127.0.0.1 would be) and exits.
	app, err := sender.New(st, &sender.Config{Mode: event.ModeLive, AllowPrivateNetworks: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ep := &store.Endpoint{URL: srv.URL + "/x", EventTypes: []string{"*"}, Mode: event.ModeLive}
	_, err = app.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	ev, err := event.New(event.ModeLive, "order.paid", map[string]int{"n": 1})
	require.NoError(t, err)
	_, err = app.Publish(ctx, ev, sender.ToEndpoint(ep.ID), nil)
	require.NoError(t, err)
	require.NoError(t, app.Close())
	require.NoError(t, st.Close())

	d := startBackground(t, dashboardRe, "dashboard", "--store", "sqlite:"+path, "--mode", "live", "--addr", "127.0.0.1:0")
	require.Contains(t, d.stderr.String(), "webhook dashboard: not delivering: retries, replays and simulated events wait in sqlite "+path+" for the application's senders (--deliver makes this process deliver them)")
	call := apiCaller(t, d.url)
	code, body := call(http.MethodPost, "/api/endpoints/"+ep.ID+"/ping", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"ok":false`, "the guard refuses loopback")
	require.Contains(t, body, "non-public address", body)
	code, body = call(http.MethodPost, "/api/endpoints", `{"url":"http://127.0.0.1:9/hook","event_types":["*"]}`)
	require.Equal(t, http.StatusBadRequest, code, "endpoint URLs are checked under the guard too: %s", body)
	code, body = call(http.MethodPost, "/api/endpoints/"+ep.ID+"/replay", `{"since":"2000-01-01T00:00:00Z"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"note":"This dashboard does not deliver`)
	time.Sleep(1500 * time.Millisecond) // longer than a sender's first round
	d.stop(t, os.Interrupt)
	require.Empty(t, srv.requests(), "the application's queued delivery went out from the CLI")

	// --deliver and --allow-private-networks: a worker that may reach loopback.
	d = startBackground(t, dashboardRe, "dashboard", "--store", "sqlite:"+path, "--mode", "live", "--addr", "127.0.0.1:0",
		"--deliver", "--allow-private-networks")
	require.NotContains(t, d.stderr.String(), "not delivering")
	require.Eventually(t, func() bool { return len(srv.requests()) == 1 }, 20*time.Second, 10*time.Millisecond)
	code, body = apiCaller(t, d.url)(http.MethodPost, "/api/endpoints/"+ep.ID+"/ping", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"ok":true`)
	d.stop(t, os.Interrupt)

	r := cli(t, "", "dashboard", "--store", "sqlite:"+path, "--read-only", "--deliver")
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "--read-only and --deliver exclude each other")
}
