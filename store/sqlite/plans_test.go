package sqlite_test

import (
	"testing"

	"github.com/stretchr/testify/require"
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
