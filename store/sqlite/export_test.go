package sqlite

import (
	"maps"

	"github.com/webhookkit/webhookkit/store"
)

// SetPruneBatch sets how many deliveries one PruneDeliveries transaction
// deletes, so tests can cross batch boundaries with few rows.
func SetPruneBatch(s *Store, n int) { s.pruneBatch = n }

// SchemaColumns returns the columns Migrate requires of every table, for the
// test that holds them to schema.sql.
func SchemaColumns() map[string]map[string]string {
	all := maps.Clone(schemaColumns)
	maps.Copy(all, migrationsColumns)
	return all
}

// KeyHeadSQL is Lease's ordering-key condition (one argument: now), for
// the test of its plan.
const KeyHeadSQL = keyHeadSQL

// StatsStatement returns the SQL and arguments AttemptStats runs for f,
// for tests that EXPLAIN it.
func StatsStatement(f store.StatsFilter) (string, []any, error) { return statsQuery(f) }

// KeysInUseSQL is CheckKeys's statement for the key ids in use, for the
// test of its plan.
const KeysInUseSQL = keysInUseSQL

// AdvanceRetriesSQL is AdvanceRetries' statement, for its plan test.
const AdvanceRetriesSQL = advanceRetriesSQL
