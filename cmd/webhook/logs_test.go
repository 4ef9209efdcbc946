package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// fillStore delivers two events through the library's sender over st to an
// endpoint that fails the first request: three attempts in all. It returns
// the endpoint id and the event ids.
func fillStore(t *testing.T, st store.SenderStore) (string, []string) {
	t.Helper()
	ctx := context.Background()
	srv := newEndpoint(t, http.StatusInternalServerError, http.StatusOK)
	s, err := sender.New(st, &sender.Config{AllowPrivateNetworks: true, Logger: slog.New(slog.DiscardHandler),
		Retry: retry.Exponential{MaxAttempts: 3, Base: time.Nanosecond, MaxAge: -1}})
	require.NoError(t, err)
	defer s.Close()
	ep := &store.Endpoint{URL: srv.URL, EventTypes: []string{"*"}, Secrets: []store.SigningKey{{Key: vecSecret}}}
	_, err = s.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	var ids []string
	for _, typ := range []string{"ping", "patient.ehi_export_failed"} {
		ev, err := event.New(event.ModeTest, typ, map[string]string{"k": "v"})
		require.NoError(t, err)
		_, err = s.Publish(ctx, ev, sender.ToEndpoint(ep.ID), nil)
		require.NoError(t, err)
		ids = append(ids, ev.ID)
	}
	require.Eventually(t, func() bool {
		_, err := s.ProcessDue(ctx)
		require.NoError(t, err)
		return len(srv.requests()) == 3
	}, 20*time.Second, time.Millisecond)
	return ep.ID, ids
}

func logLines(t *testing.T, stdout string) []logLine {
	t.Helper()
	var out []logLine
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if line == "" {
			continue
		}
		var l logLine
		require.NoError(t, json.Unmarshal([]byte(line), &l), line)
		out = append(out, l)
	}
	return out
}

func testLogs(t *testing.T, dsn, endpointID string, eventIDs []string) {
	r := cli(t, "", "logs", "--store", dsn)
	require.Equal(t, 0, r.code, r.stderr)
	all := logLines(t, r.stdout)
	require.Len(t, all, 3)
	for i, l := range all {
		require.Equal(t, endpointID, l.EndpointID)
		require.Contains(t, eventIDs, l.EventID)
		require.Equal(t, l.Status == 200, l.Success)
		require.Equal(t, "envelope", l.Format)
		require.Empty(t, l.RequestBody, "bodies only with --bodies")
		if i > 0 {
			require.GreaterOrEqual(t, all[i-1].At, l.At, "newest first")
		}
	}
	statuses := map[int]int{}
	for _, l := range all {
		statuses[l.Status]++
	}
	require.Equal(t, map[int]int{500: 1, 200: 2}, statuses)

	r = cli(t, "", "logs", "--store", dsn, "--limit", "2")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, all[:2], logLines(t, r.stdout))

	r = cli(t, "", "logs", "--store", dsn, "--event", eventIDs[0], "--bodies")
	require.Equal(t, 0, r.code, r.stderr)
	one := logLines(t, r.stdout)
	require.NotEmpty(t, one)
	for _, l := range one {
		require.Equal(t, eventIDs[0], l.EventID)
		ev, err := event.Decode([]byte(l.RequestBody))
		require.NoError(t, err)
		require.Equal(t, eventIDs[0], ev.ID)
	}

	r = cli(t, "", "logs", "--store", dsn, "--endpoint", uuid.NewString())
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stdout)
}

func TestLogsSQLite(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/webhooks.db"
	st, err := sqlite.Open(path, &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	epID, ids := fillStore(t, st)
	require.NoError(t, st.Close())
	testLogs(t, "sqlite:"+path, epID, ids)
}

func TestLogsPostgres(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("WEBHOOKKIT_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("WEBHOOKKIT_TEST_POSTGRES_DSN is not set")
		}
		t.Skip("WEBHOOKKIT_TEST_POSTGRES_DSN is not set")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	schema := fmt.Sprintf("cli_test_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`)
		require.NoError(t, err)
	})
	st, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	epID, ids := fillStore(t, st)

	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	testLogs(t, dsn+sep+"schema="+schema, epID, ids)
}

// TestLogsFormat checks that logs shows an attempt's body format.
func TestLogsFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/webhooks.db"
	st, err := sqlite.Open(path, &sqlite.Config{PlaintextSecrets: true})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	srv := newEndpoint(t, http.StatusOK)
	s, err := sender.New(st, &sender.Config{AllowPrivateNetworks: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ep := &store.Endpoint{Tenant: "org", Account: "acct", Format: store.BodyEventPayload, URL: srv.URL, EventTypes: []string{"*"}}
	_, err = s.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	a, err := s.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, st.Close())

	r := cli(t, "", "logs", "--store", "sqlite:"+path, "--bodies")
	require.Equal(t, 0, r.code, r.stderr)
	lines := logLines(t, r.stdout)
	require.Len(t, lines, 1)
	require.Equal(t, "event-payload", lines[0].Format)
	require.Equal(t, `{"id":"`+a.EventID+`","event":"ping"}`, lines[0].RequestBody)
}

func TestLogsUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"logs"},
		{"logs", "--store", "memory"},
		{"logs", "--store", "redis://x"},
		{"logs", "--store", "sqlite:"},
		{"logs", "--store", "sqlite:x.db", "--limit", "-1"},
	} {
		r := cli(t, "", args...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		require.Empty(t, r.stdout)
	}
}
