package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/seal"
)

const endpointCols = `id, tenant, mode, url, description, event_types, secrets, headers,
	rate_limit, burst, max_in_flight, metadata, disabled, disabled_reason, disabled_at,
	consecutive_failures, failing_since, last_success_at, last_failure_at, created_at, updated_at,
	account, format, oauth2, client_tls,
	breaker_state, breaker_since`

// secretJSON is a secret as stored in endpoints.secrets.
type secretJSON struct {
	Key       string     `json:"key"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func encodeSecrets(ss []store.SigningKey) ([]byte, error) {
	out := make([]secretJSON, len(ss))
	for i, s := range ss {
		out[i] = secretJSON{Key: s.Key, CreatedAt: s.CreatedAt.UTC()}
		if !s.ExpiresAt.IsZero() {
			t := s.ExpiresAt.UTC()
			out[i].ExpiresAt = &t
		}
	}
	return json.Marshal(out)
}

func decodeSecrets(b []byte) ([]store.SigningKey, error) {
	var in []secretJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, err
	}
	out := make([]store.SigningKey, len(in))
	for i, s := range in {
		out[i] = store.SigningKey{Key: s.Key, CreatedAt: s.CreatedAt.UTC()}
		if s.ExpiresAt != nil {
			out[i].ExpiresAt = s.ExpiresAt.UTC()
		}
	}
	return out, nil
}

// epArgs are the JSON columns of an endpoint.
type epArgs struct {
	secrets, headers, metadata []byte
	oauth2, tls                []byte // nil: NULL
	sealKeys                   string // the seal_keys column: seal.KeyIDs, space-separated
}

// endpointArgs encodes the JSON columns of ep, its credentials sealed by
// the store's policy.
func (n *names) endpointArgs(ep *store.Endpoint) (a epArgs, err error) {
	if n.policy.Keys == nil && !n.policy.Plaintext {
		return a, fmt.Errorf("%w: set postgres.Config.Keys (a seal.Keyring: seal.NewKey makes a key, seal.ParseKeyring "+
			"reads keys) to encrypt endpoint secrets at rest, or postgres.Config.PlaintextSecrets to keep them in plaintext",
			seal.ErrNoPolicy)
	}
	if ep, err = n.policy.Seal(ep); err != nil {
		return a, err
	}
	a.sealKeys = strings.Join(seal.KeyIDs(ep), " ")
	if a.oauth2, a.tls, err = seal.EncodeCredentials(ep); err != nil {
		return a, err
	}
	if a.secrets, err = encodeSecrets(ep.Secrets); err != nil {
		return a, err
	}
	if a.headers, err = json.Marshal(ep.Headers); err != nil {
		return a, err
	}
	a.metadata, err = json.Marshal(ep.Metadata)
	return a, err
}

// scanEndpoint scans an endpoint row and opens its sealed credentials.
func (n *names) scanEndpoint(row pgx.Row) (*store.Endpoint, error) {
	ep, err := scanSealedEndpoint(row)
	if err != nil {
		return nil, err
	}
	if err := n.policy.Open(ep); err != nil {
		return nil, err
	}
	return ep, nil
}

// scanSealedEndpoint scans an endpoint row as stored: its credentials
// sealed.
func scanSealedEndpoint(row pgx.Row) (*store.Endpoint, error) {
	var (
		ep                         store.Endpoint
		mode                       string
		secrets, headers, metadata []byte
		oauth2, tls                []byte
	)
	err := row.Scan(&ep.ID, &ep.Tenant, &mode, &ep.URL, &ep.Description, &ep.EventTypes, &secrets, &headers,
		&ep.RateLimit, &ep.Burst, &ep.MaxInFlight, &metadata, &ep.Disabled, &ep.DisabledReason, nullTime{&ep.DisabledAt},
		&ep.Health.ConsecutiveFailures, nullTime{&ep.Health.FailingSince}, nullTime{&ep.Health.LastSuccessAt},
		nullTime{&ep.Health.LastFailureAt}, nullTime{&ep.CreatedAt}, nullTime{&ep.UpdatedAt},
		&ep.Account, &ep.Format, &oauth2, &tls,
		(*string)(&ep.Health.Breaker), nullTime{&ep.Health.BreakerSince})
	if err != nil {
		return nil, err
	}
	if err := seal.DecodeCredentials(&ep, oauth2, tls); err != nil {
		return nil, fmt.Errorf("endpoint %s credentials: %w", ep.ID, err)
	}
	ep.Mode = event.Mode(mode)
	if ep.Secrets, err = decodeSecrets(secrets); err != nil {
		return nil, fmt.Errorf("endpoint %s secrets: %w", ep.ID, err)
	}
	if err := json.Unmarshal(headers, &ep.Headers); err != nil {
		return nil, fmt.Errorf("endpoint %s headers: %w", ep.ID, err)
	}
	if err := json.Unmarshal(metadata, &ep.Metadata); err != nil {
		return nil, fmt.Errorf("endpoint %s metadata: %w", ep.ID, err)
	}
	return &ep, nil
}

// oneEndpoint runs a query returning at most one endpoint row; no row is
// [store.ErrNotFound].
func (h *handle) oneEndpoint(ctx context.Context, op, id, sql string, args ...any) (*store.Endpoint, error) {
	ep, err := h.n.scanEndpoint(h.db.QueryRow(ctx, h.n.q(sql), args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errorf("postgres: %s %q: %w", op, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, errorf("postgres: %s %q: %w", op, id, err)
	}
	return ep, nil
}

// CreateEndpoint validates and stores a copy of ep, assigning ep.ID (a
// UUID) when empty and setting ep.CreatedAt and ep.UpdatedAt, and the
// CreatedAt of secrets without one, to the store's clock. Disabled and
// Health fields are stored as given. It returns an error wrapping
// [store.ErrInvalid] for an invalid endpoint (see [store.Endpoint.Prepare])
// and [store.ErrConflict] when the id exists.
func (h *handle) CreateEndpoint(ctx context.Context, in *store.Endpoint) error {
	now := h.n.now().UTC().Truncate(time.Microsecond)
	ep, err := in.Prepare(now)
	if err != nil {
		return errorf("postgres: create endpoint: %w", err)
	}
	id := ep.ID
	if id == "" {
		id = uuid.NewString()
	}
	ep.ID = id // credentials are sealed for their endpoint
	a, err := h.n.endpointArgs(ep)
	if err != nil {
		return errorf("postgres: create endpoint: %w", err)
	}
	types := append([]string{}, ep.EventTypes...)
	_, err = h.db.Exec(ctx, h.n.q(`INSERT INTO {{schema}}.endpoints (`+endpointCols+`, seal_keys)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $21, $22, $23, $24, $25, $26, $27)`),
		id, ep.Tenant, string(ep.Mode), ep.URL, ep.Description, types, a.secrets, a.headers,
		ep.RateLimit, ep.Burst, ep.MaxInFlight, a.metadata, ep.Disabled, ep.DisabledReason, ts(ep.DisabledAt),
		ep.Health.ConsecutiveFailures, ts(ep.Health.FailingSince), ts(ep.Health.LastSuccessAt),
		ts(ep.Health.LastFailureAt), now, ep.Account, string(ep.Format), a.oauth2, a.tls,
		string(ep.Health.Breaker), ts(ep.Health.BreakerSince), a.sealKeys)
	if isUniqueViolation(err) {
		return errorf("postgres: create endpoint %q: %w", id, store.ErrConflict)
	}
	if err != nil {
		return errorf("postgres: create endpoint %q: %w", id, err)
	}
	in.ID, in.CreatedAt, in.UpdatedAt, in.Secrets = id, now, now, ep.Secrets
	return nil
}

// GetEndpoint returns the endpoint, or an error wrapping [store.ErrNotFound].
func (h *handle) GetEndpoint(ctx context.Context, id string) (*store.Endpoint, error) {
	return h.oneEndpoint(ctx, "get endpoint", id, `SELECT `+endpointCols+` FROM {{schema}}.endpoints WHERE id = $1`, id)
}

// UpdateEndpoint validates ep and replaces the stored endpoint's
// user-editable fields (everything but ID, Tenant, Disabled*, Health and
// CreatedAt), setting UpdatedAt, and the CreatedAt of secrets without one,
// to the store's clock. On success ep's other fields are refreshed from the
// stored row. It returns an error wrapping [store.ErrInvalid] (see
// [store.Endpoint.Prepare]) or [store.ErrNotFound].
func (h *handle) UpdateEndpoint(ctx context.Context, in *store.Endpoint) error {
	now := h.n.now().UTC().Truncate(time.Microsecond)
	ep, err := in.Prepare(now)
	if err != nil {
		return errorf("postgres: update endpoint: %w", err)
	}
	a, err := h.n.endpointArgs(ep)
	if err != nil {
		return errorf("postgres: update endpoint: %w", err)
	}
	got, err := h.oneEndpoint(ctx, "update endpoint", ep.ID, `UPDATE {{schema}}.endpoints SET
			mode = $2, url = $3, description = $4, event_types = $5, secrets = $6, headers = $7,
			rate_limit = $8, burst = $9, max_in_flight = $10, metadata = $11, updated_at = $12,
			oauth2 = $13, client_tls = $14, seal_keys = $15
		WHERE id = $1 RETURNING `+endpointCols,
		ep.ID, string(ep.Mode), ep.URL, ep.Description, append([]string{}, ep.EventTypes...), a.secrets, a.headers,
		ep.RateLimit, ep.Burst, ep.MaxInFlight, a.metadata, now, a.oauth2, a.tls, a.sealKeys)
	if err != nil {
		return err
	}
	*in = *got
	return nil
}

// DeleteEndpoint removes the endpoint and, in the same transaction, its
// pending and paused deliveries and the events left without deliveries
// (their ids are forgotten, as after [Store.PruneDeliveries]); leased,
// succeeded and failed deliveries and the attempt log stay. It returns an error wrapping [store.ErrNotFound]
// when the endpoint does not exist.
func (h *handle) DeleteEndpoint(ctx context.Context, id string) error {
	err := h.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, h.n.q(`DELETE FROM {{schema}}.endpoints WHERE id = $1`), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		evs, err := deleteReturningEvents(ctx, tx, h.n.q(`DELETE FROM {{schema}}.deliveries
			WHERE endpoint_id = $1 AND state IN ('pending', 'paused') RETURNING event_id`), id)
		if err != nil {
			return err
		}
		return h.deleteOrphanEvents(ctx, tx, evs)
	})
	if err != nil {
		return errorf("postgres: delete endpoint %q: %w", id, err)
	}
	return nil
}

// ListEndpoints returns endpoints ordered by ID, one page at a time, and the
// cursor of the next page (empty on the last). A cursor from another list
// is an error wrapping [store.ErrInvalid].
func (h *handle) ListEndpoints(ctx context.Context, f store.EndpointFilter) ([]*store.Endpoint, string, error) {
	var w where
	if !f.AllTenants {
		w.add("tenant = ?", f.Tenant)
	}
	if len(f.Accounts) > 0 {
		w.add("account = ANY(?)", f.Accounts)
	}
	if f.Mode != "" {
		w.add("mode = ?", string(f.Mode))
	}
	if f.ActiveOnly {
		w.add("NOT disabled")
	}
	if f.Page.Cursor != "" {
		after, err := decodeIDCursor("ep", f.Page.Cursor)
		if err != nil {
			return nil, "", errorf("postgres: list endpoints: %w", err)
		}
		w.add("id > ?", after)
	}
	size := f.Page.Size()
	sql := `SELECT ` + endpointCols + ` FROM {{schema}}.endpoints` + w.String() +
		` ORDER BY id LIMIT ` + w.arg(size+1)
	rows, err := h.db.Query(ctx, h.n.q(sql), w.args...)
	if err != nil {
		return nil, "", errorf("postgres: list endpoints: %w", err)
	}
	defer rows.Close()
	var out []*store.Endpoint
	for rows.Next() {
		ep, err := h.n.scanEndpoint(rows)
		if err != nil {
			return nil, "", errorf("postgres: list endpoints: %w", err)
		}
		out = append(out, ep)
	}
	if err := rows.Err(); err != nil {
		return nil, "", errorf("postgres: list endpoints: %w", err)
	}
	if len(out) > size {
		out = out[:size]
		return out, encodeIDCursor("ep", out[size-1].ID), nil
	}
	return out, "", nil
}

// SetDisabled disables the endpoint (with reason, at time at) or enables it
// again (clearing the reason and resetting ConsecutiveFailures and
// FailingSince). In the same transaction, disabling pauses the endpoint's
// pending deliveries and keeps its leased ones from being leased again when
// their lease expires (their workers may still settle them; a retry or a
// release then pauses them); enabling makes its paused deliveries pending,
// due at at, and lets leased ones expire normally again (and notifies
// [Store.NotifyChannel] when there were any). It returns the updated
// endpoint, or an error wrapping [store.ErrNotFound].
func (h *handle) SetDisabled(ctx context.Context, id string, disabled bool, reason string, at time.Time) (*store.Endpoint, error) {
	var ep *store.Endpoint
	err := h.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		ep, err = h.n.scanEndpoint(tx.QueryRow(ctx, h.n.q(`UPDATE {{schema}}.endpoints SET
				disabled = $2::boolean,
				disabled_reason = CASE WHEN $2 THEN $3::text ELSE '' END,
				disabled_at = CASE WHEN $2 THEN $4::timestamptz ELSE NULL END,
				consecutive_failures = CASE WHEN $2 THEN consecutive_failures ELSE 0 END,
				failing_since = CASE WHEN $2 THEN failing_since ELSE NULL END,
				breaker_state = CASE WHEN $2 THEN breaker_state ELSE '' END,
				breaker_since = CASE WHEN $2 THEN breaker_since ELSE NULL END,
				updated_at = $5
			WHERE id = $1 RETURNING `+endpointCols), id, disabled, reason, at, h.n.now().UTC()))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if disabled {
			_, err = tx.Exec(ctx, h.n.q(`UPDATE {{schema}}.deliveries
				SET state = CASE state WHEN 'pending' THEN 'paused' ELSE 'leased_paused' END
				WHERE endpoint_id = $1 AND state IN ('pending', 'leased')`), id)
		} else {
			err = tx.QueryRow(ctx, h.n.q(notifyCount(`UPDATE {{schema}}.deliveries
				SET state = CASE state WHEN 'paused' THEN 'pending' ELSE 'leased' END,
					next_attempt_at = CASE state WHEN 'paused' THEN $2 ELSE next_attempt_at END
				WHERE endpoint_id = $1 AND state IN ('paused', 'leased_paused') RETURNING 1`, 3)),
				id, at, h.n.notifyArg()).Scan(nil, nil)
		}
		return err
	})
	if err != nil {
		return nil, errorf("postgres: set disabled %q: %w", id, err)
	}
	return ep, nil
}
