package sqlite

import (
	"context"

	"github.com/webhookkit/webhookkit/store/seal"
)

// reencryptBatch is how many endpoints one Reencrypt transaction reads.
const reencryptBatch = 100

// Reencrypt seals every endpoint credential that is not sealed under the
// first key of Config.Keys (one in plaintext, or sealed under an older
// key) under that key, and returns how many endpoints it rewrote. Run it
// after putting a new key first, then drop the old keys. It works in
// transactions of up to 100 endpoints, each read and rewritten in one
// transaction, so it may run while the store is in use, and again after an
// interruption. Without Config.Keys it returns an error wrapping
// [seal.ErrNoPolicy]; a value that does not open stops it with that error
// ([seal.ErrWrongKey], [seal.ErrUnknownKey]).
func (s *Store) Reencrypt(ctx context.Context) (int, error) {
	if s.policy.Keys == nil {
		return 0, errorf("sqlite: reencrypt: %w: sqlite.Config.Keys is nil: set it to the keyring to re-encrypt under", seal.ErrNoPolicy)
	}
	total, after := 0, ""
	for {
		n, last, err := s.reencryptBatch(ctx, after)
		total += n
		if err != nil {
			return total, errorf("sqlite: reencrypt: %w", err)
		}
		if last == "" {
			return total, nil
		}
		after = last
	}
}

// reencryptBatch rewrites the stale endpoints among the next batch after
// the id after, and returns how many it rewrote and the last id it read
// ("" when there were no more).
func (s *Store) reencryptBatch(ctx context.Context, after string) (n int, last string, err error) {
	err = s.write(ctx, func(q dbtx) error {
		n, last = 0, ""
		eps, err := queryAll(ctx, q, scanSealedEndpoint, `SELECT `+endpointCols+` FROM webhookkit_endpoints
WHERE id > ? ORDER BY id LIMIT ?`, after, reencryptBatch)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			last = ep.ID
			if !s.policy.Stale(ep) {
				continue
			}
			if err := s.policy.Open(ep); err != nil {
				return err
			}
			a, err := s.encodeEndpoint(ep)
			if err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, `UPDATE webhookkit_endpoints SET secrets = ?, oauth2 = ?, client_tls = ?, seal_keys = ?
WHERE id = ?`, a.secrets, a.oauth2, a.tls, a.sealKeys, ep.ID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, last, err
}
