package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

const endpointCols = `id, tenant, mode, url, description, event_types, secrets, headers,
	rate_limit, burst, max_in_flight, metadata, disabled, disabled_reason, disabled_at,
	consecutive_failures, failing_since, last_success_at, last_failure_at, created_at, updated_at,
	account, format, oauth2, client_tls,
	breaker_state, breaker_since`

// secretJSON is a store.SigningKey as kept in the secrets column.
type secretJSON struct {
	Key       string `json:"key"`
	CreatedAt *int64 `json:"created_at,omitempty"`
	ExpiresAt *int64 `json:"expires_at,omitempty"`
}

func optNanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := nanos(t)
	return &n
}

func fromOpt(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return fromNanos(*n)
}

// jsonOrNull encodes v, storing a nil map as NULL.
func jsonOrNull[M ~map[K]V, K comparable, V any](m M) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

type endpointArgs struct {
	eventTypes, secrets string
	sealKeys            string // the seal_keys column: seal.KeyIDs, space-separated
	headers, metadata   any
	oauth2, tls         any // TEXT or NULL
}

// encodeEndpoint encodes ep's columns, its credentials sealed by the
// store's policy.
func (s *Store) encodeEndpoint(ep *store.Endpoint) (endpointArgs, error) {
	var a endpointArgs
	if s.policy.Keys == nil && !s.policy.Plaintext {
		return a, fmt.Errorf("%w: set sqlite.Config.Keys (a seal.Keyring: seal.NewKey makes a key, seal.ParseKeyring "+
			"reads keys) to encrypt endpoint secrets at rest, or sqlite.Config.PlaintextSecrets to keep them in plaintext",
			seal.ErrNoPolicy)
	}
	ep, err := s.policy.Seal(ep)
	if err != nil {
		return a, err
	}
	a.sealKeys = strings.Join(seal.KeyIDs(ep), " ")
	o, t, err := seal.EncodeCredentials(ep)
	if err != nil {
		return a, err
	}
	if o != nil {
		a.oauth2 = string(o)
	}
	if t != nil {
		a.tls = string(t)
	}
	b, err := json.Marshal(ep.EventTypes)
	if err != nil {
		return a, err
	}
	a.eventTypes = string(b)
	ss := make([]secretJSON, len(ep.Secrets))
	for i, s := range ep.Secrets {
		ss[i] = secretJSON{Key: s.Key, CreatedAt: optNanos(s.CreatedAt), ExpiresAt: optNanos(s.ExpiresAt)}
	}
	if b, err = json.Marshal(ss); err != nil {
		return a, err
	}
	a.secrets = string(b)
	if a.headers, err = jsonOrNull(ep.Headers); err != nil {
		return a, err
	}
	a.metadata, err = jsonOrNull(ep.Metadata)
	return a, err
}

type scanner interface{ Scan(dest ...any) error }

// scanEndpoint scans an endpoint row and opens its sealed credentials.
func (s *Store) scanEndpoint(sc scanner) (*store.Endpoint, error) {
	ep, err := scanSealedEndpoint(sc)
	if err != nil {
		return nil, err
	}
	if err := s.policy.Open(ep); err != nil {
		return nil, err
	}
	return ep, nil
}

// scanSealedEndpoint scans an endpoint row as stored: its credentials
// sealed.
func scanSealedEndpoint(sc scanner) (*store.Endpoint, error) {
	var (
		ep                                       store.Endpoint
		mode, eventTypes, secrets                string
		headers, metadata, oauth2, tls           sql.NullString
		disabled                                 int
		disabledAt, failingSince, lastOK, lastKO sql.NullInt64
		createdAt, updatedAt                     int64
		breakerSince                             sql.NullInt64
	)
	err := sc.Scan(&ep.ID, &ep.Tenant, &mode, &ep.URL, &ep.Description, &eventTypes, &secrets, &headers,
		&ep.RateLimit, &ep.Burst, &ep.MaxInFlight, &metadata, &disabled, &ep.DisabledReason, &disabledAt,
		&ep.Health.ConsecutiveFailures, &failingSince, &lastOK, &lastKO, &createdAt, &updatedAt,
		&ep.Account, &ep.Format, &oauth2, &tls,
		(*string)(&ep.Health.Breaker), &breakerSince)
	if err != nil {
		return nil, err
	}
	if err := seal.DecodeCredentials(&ep, []byte(oauth2.String), []byte(tls.String)); err != nil {
		return nil, fmt.Errorf("endpoint %s: credentials: %w", ep.ID, err)
	}
	ep.Mode = event.Mode(mode)
	ep.Disabled = disabled != 0
	ep.DisabledAt = fromNull(disabledAt)
	ep.Health.FailingSince = fromNull(failingSince)
	ep.Health.LastSuccessAt = fromNull(lastOK)
	ep.Health.LastFailureAt = fromNull(lastKO)
	ep.Health.BreakerSince = fromNull(breakerSince)
	ep.CreatedAt = fromNanos(createdAt)
	ep.UpdatedAt = fromNanos(updatedAt)
	if err := json.Unmarshal([]byte(eventTypes), &ep.EventTypes); err != nil {
		return nil, fmt.Errorf("endpoint %s: event_types: %w", ep.ID, err)
	}
	var ss []secretJSON
	if err := json.Unmarshal([]byte(secrets), &ss); err != nil {
		return nil, fmt.Errorf("endpoint %s: secrets: %w", ep.ID, err)
	}
	ep.Secrets = make([]store.SigningKey, len(ss))
	for i, s := range ss {
		ep.Secrets[i] = store.SigningKey{Key: s.Key, CreatedAt: fromOpt(s.CreatedAt), ExpiresAt: fromOpt(s.ExpiresAt)}
	}
	if headers.Valid {
		if err := json.Unmarshal([]byte(headers.String), &ep.Headers); err != nil {
			return nil, fmt.Errorf("endpoint %s: headers: %w", ep.ID, err)
		}
	}
	if metadata.Valid {
		if err := json.Unmarshal([]byte(metadata.String), &ep.Metadata); err != nil {
			return nil, fmt.Errorf("endpoint %s: metadata: %w", ep.ID, err)
		}
	}
	return &ep, nil
}

// CreateEndpoint validates and stores a copy of ep (as given, including a
// Disabled state and Health), assigning ep.ID (a UUID) when empty and setting
// ep.CreatedAt and ep.UpdatedAt, and the CreatedAt of secrets without one,
// to the store's clock. Errors: [store.ErrInvalid] (from
// [store.Endpoint.Prepare]), [store.ErrConflict] when the id exists.
func (s *Store) CreateEndpoint(ctx context.Context, in *store.Endpoint) error {
	now := fromNanos(nanos(s.now()))
	ep, err := in.Prepare(now)
	if err != nil {
		return errorf("sqlite: create endpoint: %w", err)
	}
	id := ep.ID
	if id == "" {
		id = uuid.NewString()
	}
	ep.ID = id // credentials are sealed for their endpoint
	a, err := s.encodeEndpoint(ep)
	if err != nil {
		return errorf("sqlite: create endpoint: %w", err)
	}
	err = s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, `INSERT INTO webhookkit_endpoints (`+endpointCols+`, seal_keys)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`,
			id, ep.Tenant, string(ep.Mode), ep.URL, ep.Description, a.eventTypes, a.secrets, a.headers,
			ep.RateLimit, ep.Burst, ep.MaxInFlight, a.metadata,
			boolInt(ep.Disabled), ep.DisabledReason, nullNanos(ep.DisabledAt),
			ep.Health.ConsecutiveFailures, nullNanos(ep.Health.FailingSince),
			nullNanos(ep.Health.LastSuccessAt), nullNanos(ep.Health.LastFailureAt),
			nanos(now), nanos(now), ep.Account, string(ep.Format), a.oauth2, a.tls,
			string(ep.Health.Breaker), nullNanos(ep.Health.BreakerSince), a.sealKeys)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("endpoint %q exists: %w", id, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return errorf("sqlite: create endpoint: %w", err)
	}
	in.ID, in.CreatedAt, in.UpdatedAt, in.Secrets = id, now, now, ep.Secrets
	return nil
}

// GetEndpoint returns the endpoint, or [store.ErrNotFound].
func (s *Store) GetEndpoint(ctx context.Context, id string) (*store.Endpoint, error) {
	ep, err := s.scanEndpoint(s.reader().QueryRowContext(ctx,
		`SELECT `+endpointCols+` FROM webhookkit_endpoints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf("sqlite: endpoint %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("sqlite: get endpoint: %w", err)
	}
	return ep, nil
}

// UpdateEndpoint validates ep and replaces the stored endpoint's editable
// fields (everything but ID, Tenant, Disabled*, Health and CreatedAt),
// setting UpdatedAt, and the CreatedAt of secrets without one, to the
// store's clock, also on ep. Errors: [store.ErrInvalid], [store.ErrNotFound].
func (s *Store) UpdateEndpoint(ctx context.Context, in *store.Endpoint) error {
	at := fromNanos(nanos(s.now()))
	ep, err := in.Prepare(at)
	if err != nil {
		return errorf("sqlite: update endpoint: %w", err)
	}
	a, err := s.encodeEndpoint(ep)
	if err != nil {
		return errorf("sqlite: update endpoint: %w", err)
	}
	now := nanos(at)
	err = s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, `UPDATE webhookkit_endpoints SET
    mode = ?, url = ?, description = ?, event_types = ?, secrets = ?, headers = ?,
    rate_limit = ?, burst = ?, max_in_flight = ?, metadata = ?, updated_at = ?,
    oauth2 = ?, client_tls = ?, seal_keys = ?
WHERE id = ?`,
			string(ep.Mode), ep.URL, ep.Description, a.eventTypes, a.secrets, a.headers,
			ep.RateLimit, ep.Burst, ep.MaxInFlight, a.metadata, now, a.oauth2, a.tls, a.sealKeys, ep.ID)
		if err != nil {
			return err
		}
		return mustAffect(res, fmt.Errorf("endpoint %q: %w", ep.ID, store.ErrNotFound))
	})
	if err != nil {
		return errorf("sqlite: update endpoint: %w", err)
	}
	in.UpdatedAt, in.Secrets = at, ep.Secrets
	return nil
}

// mustAffect returns notFound when res changed no row.
func mustAffect(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// DeleteEndpoint removes the endpoint and, in the same transaction, its
// pending and paused deliveries, and the events left without deliveries
// (their ids are forgotten, as after [Store.PruneDeliveries]). Leased,
// succeeded and failed deliveries and the attempt log stay.
// [store.ErrNotFound] when missing.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	err := s.write(ctx, func(q dbtx) error {
		res, err := q.ExecContext(ctx, `DELETE FROM webhookkit_endpoints WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if err := mustAffect(res, fmt.Errorf("endpoint %q: %w", id, store.ErrNotFound)); err != nil {
			return err
		}
		evs, err := deleteReturningEvents(ctx, q, `DELETE FROM webhookkit_deliveries
WHERE endpoint_id = ? AND state IN ('pending', 'paused') RETURNING event_id`, id)
		if err != nil {
			return err
		}
		return deleteOrphanEvents(ctx, q, evs)
	})
	if err != nil {
		return errorf("sqlite: delete endpoint: %w", err)
	}
	return nil
}

// ListEndpoints returns endpoints ordered by ID, one page at a time, and the
// cursor of the next page ("" on the last). A malformed cursor is
// [store.ErrInvalid].
func (s *Store) ListEndpoints(ctx context.Context, f store.EndpointFilter) ([]*store.Endpoint, string, error) {
	var w where
	if !f.AllTenants {
		w.add("tenant = ?", f.Tenant)
	}
	if len(f.Accounts) > 0 {
		args := make([]any, len(f.Accounts))
		for i, a := range f.Accounts {
			args[i] = a
		}
		w.add("account IN (?"+strings.Repeat(", ?", len(f.Accounts)-1)+")", args...)
	}
	if f.Mode != "" {
		w.add("mode = ?", string(f.Mode))
	}
	if f.ActiveOnly {
		w.add("disabled = 0")
	}
	if f.Page.Cursor != "" {
		after, err := decodeIDCursor(f.Page.Cursor)
		if err != nil {
			return nil, "", err
		}
		w.add("id > ?", after)
	}
	size := f.Page.Size()
	eps, err := queryAll(ctx, s.reader(), s.scanEndpoint, `SELECT `+endpointCols+` FROM webhookkit_endpoints`+
		w.String()+` ORDER BY id LIMIT ?`, append(w.args, size+1)...)
	if err != nil {
		return nil, "", errorf("sqlite: list endpoints: %w", err)
	}
	eps, next := cutPage(eps, size, func(l *store.Endpoint) string { return encodeIDCursor(l.ID) })
	return eps, next, nil
}

// SetDisabled disables the endpoint (with reason, at time at) or enables it
// (clearing the reason and resetting ConsecutiveFailures and FailingSince),
// and in the same transaction pauses its pending deliveries or makes its
// paused deliveries pending, due at at. Leased deliveries stay leased: their
// workers may settle them (a retry or a release then pauses them), and
// Lease does not hand out a disabled endpoint's delivery when its lease
// ends. It returns the updated endpoint, or [store.ErrNotFound].
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool, reason string, at time.Time) (*store.Endpoint, error) {
	var ep *store.Endpoint
	t := nanos(at)
	err := s.write(ctx, func(q dbtx) error {
		var err error
		if disabled {
			ep, err = s.scanEndpoint(q.QueryRowContext(ctx, `UPDATE webhookkit_endpoints SET
    disabled = 1, disabled_reason = ?1, disabled_at = ?2, updated_at = ?2
WHERE id = ?3 RETURNING `+endpointCols, reason, t, id))
			if err != nil {
				return err
			}
			_, err = q.ExecContext(ctx, `UPDATE webhookkit_deliveries SET state = 'paused'
WHERE endpoint_id = ? AND state = 'pending'`, id)
			return err
		}
		ep, err = s.scanEndpoint(q.QueryRowContext(ctx, `UPDATE webhookkit_endpoints SET
    disabled = 0, disabled_reason = '', disabled_at = NULL, updated_at = ?1,
    consecutive_failures = 0, failing_since = NULL, breaker_state = '', breaker_since = NULL
WHERE id = ?2 RETURNING `+endpointCols, t, id))
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `UPDATE webhookkit_deliveries SET state = 'pending', next_attempt_at = ?1
WHERE endpoint_id = ?2 AND state = 'paused'`, t, id)
		if err == nil {
			// Its paused deliveries are due now, and so are its leased ones
			// whose lease ended, which Lease skipped while it was disabled.
			s.wakeOnCommit()
		}
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf("sqlite: set disabled: endpoint %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("sqlite: set disabled: %w", err)
	}
	return ep, nil
}
