package postgres

import (
	"context"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// LeaseStatement returns the SQL and arguments Lease runs for req, for
// tests that EXPLAIN it.
func LeaseStatement(s *Store, req store.LeaseRequest) (string, []any) {
	modes := leaseModes
	if req.Mode != "" {
		modes = []event.Mode{req.Mode}
	}
	skip := req.SkipEndpoints
	if skip == nil {
		skip = []string{}
	}
	return s.n.q(leaseSQL(len(modes))), leaseArgs(req, skip, modes)
}

// SetPruneBatch sets how many deliveries one PruneDeliveries transaction
// deletes, so tests can cross batch boundaries with few rows.
func SetPruneBatch(s *Store, n int) { s.n.pruneBatch = n }

// SetListenPing sets how long a listening connection may stay silent before
// Subscribe pings it, so tests can exercise the ping without waiting.
func SetListenPing(s *Store, d time.Duration) { s.listenPing = d }

// SchemaColumns returns the columns Migrate requires of every table, for the
// test that holds them to schema.sql.
func SchemaColumns() map[string]map[string]string {
	all := maps.Clone(schemaColumns)
	maps.Copy(all, versionColumns)
	return all
}

// SchemaSQL returns the SQL Migrate applies, for the named schema, so tests
// can apply it by hand.
func SchemaSQL(schema string) string {
	return (&names{quoted: pgx.Identifier{schema}.Sanitize()}).q(schemaSQL)
}

// SettleCopy is Settle with the attempts written by COPY instead of the
// pipelined INSERT ... SELECT FROM unnest(...), for the benchmark that
// measured the choice.
func SettleCopy(ctx context.Context, s *Store, b store.SettleBatch) (store.SettleResult, error) {
	return s.settleCopy(ctx, b)
}

// SettleStatement returns the SQL and arguments of the statement Settle
// runs to settle the deliveries of b (a batch without repeated deliveries),
// for tests that EXPLAIN it.
func SettleStatement(s *Store, b store.SettleBatch) (string, []any, error) {
	args, err := settleArgs(b.Settlements, b.Rounds()[0])
	return s.n.q(settleSQL), args, err
}

// StatsStatement returns the SQL and arguments AttemptStats runs for f,
// for tests that EXPLAIN it.
func StatsStatement(s *Store, f store.StatsFilter) (string, []any, error) {
	sql, args, err := statsQuery(f)
	return s.n.q(sql), args, err
}

// KeysInUseStatement returns the SQL CheckKeys runs to list the key-id sets
// in use, for tests that EXPLAIN it.
func KeysInUseStatement(s *Store) string { return s.n.q(keysInUseSQL) }
