package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

// reencryptBatch is how many endpoints one Reencrypt transaction locks.
const reencryptBatch = 100

// Reencrypt seals every endpoint credential that is not sealed under the
// first key of Config.Keys (one in plaintext, or sealed under an older
// key) under that key, and returns how many endpoints it rewrote. Run it
// after putting a new key first, then drop the old keys. It works in
// transactions of up to 100 endpoints, whose rows it locks (SELECT ... FOR
// UPDATE) while it rewrites them, so it may run while other instances use
// the store, and again after an interruption. Without Config.Keys it
// returns an error wrapping [seal.ErrNoPolicy]; a value that does not open
// stops it with that error ([seal.ErrWrongKey], [seal.ErrUnknownKey]).
func (s *Store) Reencrypt(ctx context.Context) (int, error) {
	if s.n.policy.Keys == nil {
		return 0, errorf("postgres: reencrypt: %w: postgres.Config.Keys is nil: set it to the keyring to re-encrypt under", seal.ErrNoPolicy)
	}
	total, after := 0, ""
	for {
		var n int
		var last string
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			var err error
			n, last, err = s.reencryptBatch(ctx, tx, after)
			return err
		})
		if err != nil {
			return total, errorf("postgres: reencrypt: %w", err)
		}
		total += n
		if last == "" {
			return total, nil
		}
		after = last
	}
}

// reencryptBatch rewrites the stale endpoints among the next batch after
// the id after, and returns how many it rewrote and the last id it read
// ("" when there were no more).
func (s *Store) reencryptBatch(ctx context.Context, tx pgx.Tx, after string) (n int, last string, err error) {
	rows, err := tx.Query(ctx, s.n.q(`SELECT `+endpointCols+` FROM {{schema}}.endpoints
		WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`), after, reencryptBatch)
	if err != nil {
		return 0, "", err
	}
	eps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Endpoint, error) { return scanSealedEndpoint(r) })
	if err != nil {
		return 0, "", err
	}
	for _, ep := range eps {
		last = ep.ID
		if !s.n.policy.Stale(ep) {
			continue
		}
		if err := s.n.policy.Open(ep); err != nil {
			return n, last, err
		}
		a, err := s.n.endpointArgs(ep)
		if err != nil {
			return n, last, err
		}
		if _, err := tx.Exec(ctx, s.n.q(`UPDATE {{schema}}.endpoints SET secrets = $2, oauth2 = $3, client_tls = $4, seal_keys = $5
			WHERE id = $1`), ep.ID, a.secrets, a.oauth2, a.tls, a.sealKeys); err != nil {
			return n, last, err
		}
		n++
	}
	return n, last, nil
}
