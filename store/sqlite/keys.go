package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/webhookkit/webhookkit/store"
)

// keysInUseSQL lists the distinct values of the seal_keys column, each a
// set of key ids, by skipping through its index: one index seek per value,
// whatever the number of endpoints.
const keysInUseSQL = `WITH RECURSIVE k(v) AS (
    SELECT (SELECT min(seal_keys) FROM webhookkit_endpoints WHERE seal_keys > '')
    UNION ALL
    SELECT (SELECT min(seal_keys) FROM webhookkit_endpoints WHERE seal_keys > k.v) FROM k WHERE k.v IS NOT NULL
)
SELECT v FROM k WHERE v IS NOT NULL`

// CheckKeys implements [store.KeyChecker]: it returns nil when
// [Config.Keys] opens the endpoint credentials the store holds. When they
// are sealed under key ids Config.Keys lacks (or it is nil), it returns a
// [*seal.KeysError] wrapping [seal.ErrUnknownKey] that names those ids and
// sqlite.Config.Keys; when one does not open under the key of its id, one
// wrapping [seal.ErrWrongKey]. It reads the distinct sets of key ids in use
// from an index, and one endpoint per set, whose credentials it opens: a
// few queries, whatever the number of endpoints. Errors wrap
// [store.ErrNotMigrated] when the schema is missing.
func (s *Store) CheckKeys(ctx context.Context) error {
	q := s.reader()
	sets, err := queryAll(ctx, q, func(sc scanner) (string, error) {
		var v string
		return v, sc.Scan(&v)
	}, keysInUseSQL)
	if err != nil {
		return errorf("sqlite: check keys: %w", err)
	}
	var ids []string
	samples := make([]*store.Endpoint, 0, len(sets))
	for _, set := range sets {
		ids = append(ids, strings.Fields(set)...)
		ep, err := scanSealedEndpoint(q.QueryRowContext(ctx,
			`SELECT `+endpointCols+` FROM webhookkit_endpoints WHERE seal_keys = ? LIMIT 1`, set))
		if errors.Is(err, sql.ErrNoRows) {
			continue // rewritten or deleted since: its ids are still checked
		}
		if err != nil {
			return errorf("sqlite: check keys: %w", err)
		}
		samples = append(samples, ep)
	}
	if err := s.policy.Check("sqlite.Config.Keys", ids, samples); err != nil {
		return errorf("sqlite: %w", err)
	}
	return nil
}
