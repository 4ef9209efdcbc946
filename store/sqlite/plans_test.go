package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// TestChartAndSearchPlans checks that the dashboard's charts, event search
// and time-ranged delivery log (as ListDeliveries writes them, with a
// unary + that keeps SQLite off the tenant index) read indexes, not whole tables: the hourly
// aggregates by primary key or the tenant index, deliveries by event id
// (the unique (event_id, endpoint_id) index) and an endpoint's deliveries
// by (endpoint_id, created_at), without sorting them.
func TestChartAndSearchPlans(t *testing.T) {
	s, _ := open(t)
	for _, tc := range []struct {
		name, query, want string
		args              []any
	}{
		{"chart of an endpoint", `SELECT hour, SUM(n_2xx) FROM webhookkit_attempt_hours
			WHERE endpoint_id = ? AND tenant = ? AND mode = ? AND hour >= ? AND hour < ? GROUP BY hour ORDER BY hour`,
			"USING INDEX sqlite_autoindex_webhookkit_attempt_hours_1 (endpoint_id=?", []any{"ep", "acme", "test", 0, 1}},
		{"chart of a tenant", `SELECT hour, SUM(n_2xx) FROM webhookkit_attempt_hours
			WHERE tenant = ? AND mode = ? AND hour >= ? AND hour < ? GROUP BY hour ORDER BY hour`,
			"USING INDEX webhookkit_attempt_hours_tenant", []any{"acme", "test", 0, 1}},
		{"chart of all tenants", `SELECT hour, SUM(n_2xx) FROM webhookkit_attempt_hours
			WHERE mode = ? AND hour >= ? AND hour < ? GROUP BY hour ORDER BY hour`,
			"USING INDEX webhookkit_attempt_hours_hour", []any{"test", 0, 1}},
		{"pruning the aggregates", `DELETE FROM webhookkit_attempt_hours WHERE hour < ?`,
			"USING INDEX webhookkit_attempt_hours_hour", []any{1}},
		{"an event's deliveries", `SELECT d.id FROM webhookkit_deliveries AS d JOIN webhookkit_events AS e ON e.id = d.event_id WHERE +d.tenant = ? AND d.event_id = ?
			ORDER BY d.created_at DESC, d.id DESC LIMIT 51`,
			"sqlite_autoindex_webhookkit_deliveries", []any{"acme", "ev"}},
		{"an event's deliveries across tenants", `SELECT d.id FROM webhookkit_deliveries AS d JOIN webhookkit_events AS e ON e.id = d.event_id WHERE d.event_id = ?
			ORDER BY d.created_at DESC, d.id DESC LIMIT 51`,
			"sqlite_autoindex_webhookkit_deliveries", []any{"ev"}},
		{"an endpoint's deliveries in a time range", `SELECT d.id FROM webhookkit_deliveries AS d JOIN webhookkit_events AS e ON e.id = d.event_id
			WHERE +d.tenant = ? AND d.endpoint_id = ? AND d.created_at >= ? AND d.created_at < ?
			ORDER BY d.created_at DESC, d.id DESC LIMIT 51`,
			"USING INDEX webhookkit_deliveries_endpoint_created", []any{"acme", "ep", 0, 1}},
	} {
		plan := queryPlan(t, s, tc.query, tc.args...)
		t.Logf("%s:\n%s", tc.name, plan)
		require.Contains(t, plan, tc.want, tc.name)
		require.NotRegexp(t, `(?m)^SCAN (webhookkit_attempt_hours|d)$`, plan, "%s: no full scan", tc.name)
		if tc.name == "an endpoint's deliveries in a time range" {
			require.NotContains(t, plan, "TEMP B-TREE", "no sort")
		}
	}
}

// TestAttemptStatsPlan checks the statement AttemptStats itself runs (not
// a copy of it) over a filled and analyzed webhookkit_attempt_hours (200
// endpoints of 50 tenants in both modes, every hour of 30 days: 144,200
// rows): one endpoint's chart reads the primary key and a tenant's the
// tenant index over the default 15-day window, and a day across tenants
// the index on hour; none scans the table.
func TestAttemptStatsPlan(t *testing.T) {
	s, _ := open(t)
	now := time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC)
	_, err := s.DB().Exec(`WITH RECURSIVE
		e(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM e WHERE n < 199),
		h(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM h WHERE n < 720)
		INSERT INTO webhookkit_attempt_hours (endpoint_id, hour, tenant, mode, n_2xx, n_5xx, lat_03, lat_05)
		SELECT 'ep-' || e.n, ? - h.n * 3600000000000, 'tenant-' || (e.n % 50), CASE WHEN e.n % 2 = 0 THEN 'test' ELSE 'live' END, 40, 2, 30, 12
		FROM e, h`, now.UnixNano())
	require.NoError(t, err)
	_, err = s.DB().Exec("ANALYZE")
	require.NoError(t, err)

	end := now.Add(time.Hour)
	chart := end.Add(-store.DefaultRetention) // the dashboard's default window
	for _, tc := range []struct {
		name  string
		f     store.StatsFilter
		index string
		rows  int
	}{
		{"one endpoint's chart", store.StatsFilter{Tenant: "tenant-6", EndpointID: "ep-6", Mode: event.ModeTest, Since: chart, Until: end},
			"USING INDEX sqlite_autoindex_webhookkit_attempt_hours_1 (endpoint_id=?", 360},
		{"a tenant's chart", store.StatsFilter{Tenant: "tenant-6", Mode: event.ModeTest, Since: chart, Until: end},
			"USING INDEX webhookkit_attempt_hours_tenant", 360},
		{"a day across tenants", store.StatsFilter{AllTenants: true, Mode: event.ModeTest, Since: end.Add(-24 * time.Hour), Until: end},
			"USING INDEX webhookkit_attempt_hours_hour", 24},
	} {
		query, args, err := sqlite.StatsStatement(tc.f)
		require.NoError(t, err)
		plan := queryPlan(t, s, query, args...)
		t.Logf("%s:\n%s", tc.name, plan)
		require.Contains(t, plan, tc.index, tc.name)
		require.NotRegexp(t, `(?m)^SCAN webhookkit_attempt_hours$`, plan, "%s: no full scan", tc.name)
		got, err := s.AttemptStats(context.Background(), tc.f)
		require.NoError(t, err)
		require.Len(t, got, tc.rows, "%s: one row per hour of the window", tc.name)
	}
}

// TestAdvanceRetriesPlan checks that AdvanceRetries' statement reads the
// due index's range of deliveries due later, not the endpoint's index
// (every pending delivery of the endpoint, the due backlog included).
func TestAdvanceRetriesPlan(t *testing.T) {
	s, _ := open(t)
	plan := queryPlan(t, s, sqlite.AdvanceRetriesSQL, 1, "ep", 0)
	t.Log(plan)
	require.Contains(t, plan, "USING INDEX webhookkit_deliveries_due (next_attempt_at>?)")
}
