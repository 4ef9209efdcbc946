package postgres_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// TestAttemptStatsPlanUsesIndexes EXPLAINs the statement AttemptStats runs
// for the dashboard's charts over a realistically filled attempt_hours
// table (200 endpoints of 50 tenants in both modes, every hour of 30 days:
// 144,200 rows, analyzed), with generic and custom plans: one endpoint's
// chart reads the primary key (endpoint_id, hour) and a tenant's the index
// (tenant, mode, hour), over the default 15-day window, and a day across
// tenants the index on hour, none with a sequential scan. (Across tenants
// over most of the table, a sequential scan is the right plan, so the
// window there is one day.)
func TestAttemptStatsPlanUsesIndexes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t)
	table := pgx.Identifier{s.Schema(), "attempt_hours"}.Sanitize()
	now := time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC)
	conn, err := pgx.Connect(ctx, testDSN(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO `+table+` (endpoint_id, hour, tenant, mode, n_2xx, n_5xx, lat_03, lat_05)
		SELECT 'ep-' || e, h, 'tenant-' || (e % 50), CASE WHEN e % 2 = 0 THEN 'test' ELSE 'live' END, 40, 2, 30, 12
		FROM generate_series(0, 199) AS e,
		     generate_series($1::timestamptz - interval '30 days', $1::timestamptz, interval '1 hour') AS h`, now)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "ANALYZE "+table)
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
			"attempt_hours_pkey", 360},
		{"a tenant's chart", store.StatsFilter{Tenant: "tenant-6", Mode: event.ModeTest, Since: chart, Until: end},
			"attempt_hours_tenant_idx", 360},
		{"a day across tenants", store.StatsFilter{AllTenants: true, Mode: event.ModeTest, Since: end.Add(-24 * time.Hour), Until: end},
			"attempt_hours_hour_idx", 24},
	} {
		sql, args, err := postgres.StatsStatement(s, tc.f)
		require.NoError(t, err)
		for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
			tx, err := conn.Begin(ctx)
			require.NoError(t, err)
			_, err = tx.Exec(ctx, "SET LOCAL plan_cache_mode = "+mode)
			require.NoError(t, err)
			_, err = tx.Exec(ctx, "PREPARE stats AS "+sql)
			require.NoError(t, err)
			params := make([]string, len(args))
			for i := range args {
				params[i] = "$" + strconv.Itoa(i+1)
			}
			// The simple protocol inlines the arguments into EXECUTE's.
			rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE stats("+strings.Join(params, ", ")+")",
				append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
			require.NoError(t, err)
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(t, err)
			require.NoError(t, tx.Rollback(ctx))
			_, err = conn.Exec(ctx, "DEALLOCATE stats")
			require.NoError(t, err)
			plan := strings.Join(lines, "\n")
			t.Logf("%s (%s):\n%s", tc.name, mode, plan)
			require.Contains(t, plan, tc.index, "%s (%s)", tc.name, mode)
			require.NotContains(t, plan, "Seq Scan", "%s (%s)", tc.name, mode)
		}
		got, err := s.AttemptStats(ctx, tc.f)
		require.NoError(t, err)
		require.Len(t, got, tc.rows, "%s: one row per hour of the window", tc.name)
	}
}
