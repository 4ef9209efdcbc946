package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// errEventConflict is returned inside Enqueue's transaction to roll it back.
var errEventConflict = errors.New("event conflict")

// missingEndpointError is returned inside Enqueue's transaction for a target
// endpoint the store does not hold.
type missingEndpointError struct{ id string }

func (e missingEndpointError) Error() string { return fmt.Sprintf("endpoint %q", e.id) }

// Enqueue records req.Event once in the events table and creates a
// delivery, created at req.Now and due at req.Due(), for each target that
// has none for the event id yet (INSERT ... ON CONFLICT DO NOTHING on the
// unique (event_id, endpoint_id)), all in one transaction. A target whose
// endpoint is disabled in this store gets a paused delivery instead. It
// returns how many deliveries it created. It returns an error wrapping
// [store.ErrNotFound], and creates nothing, when a target endpoint is not in
// this store (the endpoint rows are key-share locked, so none can be deleted
// until the deliveries commit); [store.ErrConflict], and creates nothing,
// when the event id is stored with a different type, mode or data bytes;
// and [store.ErrInvalid] for an event without id or type or with an invalid
// mode. With no targets it does nothing. With an ordering key, it takes a
// transaction-scoped advisory lock per target endpoint and key, held until
// the transaction ends (so enqueues of one key, the caller's transactional
// ones included, commit one after the other), and numbers the deliveries
// from the deliveries_key_seq sequence. The stored event row is locked for
// the transaction, so a concurrent [Store.PruneDeliveries] never deletes an
// event an Enqueue is adding deliveries to. Data is stored as bytes,
// verbatim; times are kept to the microsecond. When it creates deliveries,
// it notifies [Store.NotifyChannel], so subscribed senders look for them as
// soon as they are committed (see [Store.Subscribe]): through [Store.Tx],
// the caller's transaction notifies when it commits; on the Store itself,
// Enqueue notifies after its own transaction has committed, in a short
// transaction of its own, one notification for all the enqueues that
// committed meanwhile, so that concurrent enqueues do not commit one at a
// time. It returns once the notification is sent (a failure to send it is
// logged, not returned: the deliveries exist and are found at the next
// poll).
func (h *handle) Enqueue(ctx context.Context, req store.EnqueueRequest) (int, error) {
	ev, targets := req.Event, req.Targets
	if ev.ID == "" || ev.Type == "" || !ev.APIMode.Valid() {
		return 0, errorf("postgres: enqueue: %w: event needs an id, a type and a valid mode", store.ErrInvalid)
	}
	if len(targets) == 0 {
		return 0, nil
	}
	data := []byte(ev.Data)
	if data == nil {
		data = []byte{}
	}
	ids := make([]string, len(targets))
	tenants := make([]string, len(targets))
	for i, t := range targets {
		ids[i], tenants[i] = t.EndpointID, t.Tenant
	}
	now := h.n.now().UTC()
	// In a transaction of its own, Enqueue notifies after the commit (see
	// postNotifier); in the caller's, the commit notifies.
	notifyArg := h.n.notifyArg()
	if h.post != nil {
		notifyArg = nil
	}
	var created int64
	err := h.inTx(ctx, func(tx pgx.Tx) error {
		var missing string
		err := tx.QueryRow(ctx, h.n.q(`SELECT t.id FROM unnest($1::text[]) AS t (id)
			WHERE t.id NOT IN (SELECT e.id FROM {{schema}}.endpoints e WHERE e.id = ANY($1::text[]) FOR KEY SHARE)
			LIMIT 1`), ids).Scan(&missing)
		switch {
		case err == nil:
			return missingEndpointError{missing}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		// DO UPDATE ... WHERE false changes nothing but locks an existing
		// row (DO NOTHING would not), so PruneDeliveries skips the event
		// while this transaction adds deliveries to it.
		tag, err := tx.Exec(ctx, h.n.q(`INSERT INTO {{schema}}.events AS ev (id, type, mode, data, date, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET id = ev.id WHERE false`),
			ev.ID, ev.Type, string(ev.APIMode), data, req.Now, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var typ, mode string
			var stored []byte
			err := tx.QueryRow(ctx, h.n.q(`SELECT type, mode, data FROM {{schema}}.events WHERE id = $1`), ev.ID).
				Scan(&typ, &mode, &stored)
			if err != nil {
				return err
			}
			if typ != ev.Type || mode != string(ev.APIMode) || !bytes.Equal(stored, data) {
				return errEventConflict
			}
		}
		if req.OrderingKey != "" {
			// One enqueue of a key at a time, per endpoint, until commit:
			// key numbers then follow commit order, so no Lease sees a
			// later delivery of a key without the earlier ones. Locks are
			// taken in a fixed order, so enqueues of one key to several
			// endpoints do not deadlock.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, k.h) FROM (
					SELECT DISTINCT hashtext(t.id || chr(31) || $2) AS h FROM unnest($3::text[]) AS t (id) ORDER BY 1
				) AS k`, keyLockClass, req.OrderingKey, ids); err != nil {
				return err
			}
		}
		// Inserts the deliveries and, if it created any, notifies the
		// listening senders when the transaction commits.
		return tx.QueryRow(ctx, h.n.q(notifyCount(`INSERT INTO {{schema}}.deliveries
				(id, event_id, endpoint_id, tenant, mode, event_type, state, next_attempt_at, created_at,
				 ordering_key, key_seq, key_waiting)
			SELECT gen_random_uuid()::text, $1, t.endpoint_id, t.tenant, $2, $3,
				CASE WHEN EXISTS (SELECT 1 FROM {{schema}}.endpoints e WHERE e.id = t.endpoint_id AND e.disabled)
					THEN 'paused' ELSE 'pending' END,
				$4, $5, $8, CASE WHEN $8 = '' THEN 0 ELSE nextval('{{schema}}.deliveries_key_seq') END,
				`+keyWaitingSQL+`
			FROM unnest($6::text[], $7::text[]) AS t (endpoint_id, tenant)
			ON CONFLICT (event_id, endpoint_id) DO NOTHING
			RETURNING 1`, 9)),
			ev.ID, string(ev.APIMode), ev.Type, req.Due(), req.Now, ids, tenants, req.OrderingKey, notifyArg).Scan(&created, nil)
	})
	if err == nil && created > 0 && h.post != nil && !h.n.noNotify {
		h.post.notify(ctx, h.db, h.n.channel)
	}
	var me missingEndpointError
	if errors.As(err, &me) {
		return 0, errorf("postgres: enqueue event %q: %w: %w", ev.ID, me, store.ErrNotFound)
	}
	if errors.Is(err, errEventConflict) {
		return 0, errorf("postgres: enqueue event %q: %w: stored with a different type, mode or data", ev.ID, store.ErrConflict)
	}
	if err != nil {
		return 0, errorf("postgres: enqueue event %q: %w", ev.ID, err)
	}
	return int(created), nil
}

// keyWaitingSQL is the key_waiting of a delivery Enqueue inserts for
// t.endpoint_id with key $8: true when a delivery of the key blocks it.
// It runs after Enqueue took the key's advisory lock, in a statement of its
// own: under READ COMMITTED its snapshot is taken after the lock, so it sees
// every Settle that finished a blocking delivery of the key and committed
// before (and one that has not committed yet takes the lock, shared, before
// it looks for the key's new head, so it waits for this transaction and
// sees this delivery). Under a stricter isolation (a caller's transaction,
// through Tx) the snapshot may be older than the lock, and the delivery is
// inserted not waiting: the lease index then holds it, and Lease's head
// check still keeps it in its place.
const keyWaitingSQL = `($8 <> '' AND current_setting('transaction_isolation') = 'read committed'
					AND EXISTS (SELECT 1 FROM {{schema}}.deliveries k
						WHERE k.endpoint_id = t.endpoint_id AND k.ordering_key = $8
							AND k.ordering_key <> '' AND (k.state IN ('pending', 'leased', 'leased_paused', 'paused') OR k.holds_key)))`

// keyLockClass is the first key of the advisory locks Enqueue takes per
// endpoint and ordering key (the second is a hash of the two); the
// two-key form's space is apart from Migrate's one-key lock.
const keyLockClass = 0x77686b // "whk"

// leaseModes are the modes a Lease without a mode draws from, one index
// range each.
var leaseModes = []event.Mode{event.ModeLive, event.ModeTest}

// Lease takes up to req.Limit due deliveries, oldest due first, in one
// statement: a SELECT ... ORDER BY next_attempt_at LIMIT n FOR UPDATE SKIP
// LOCKED over the partial index of pending and leased deliveries, feeding an
// UPDATE that marks them leased until req.Now+req.Duration with a fresh
// random token, increments Attempts and sets FirstAttemptAt (if zero) and
// LastAttemptAt. A leased delivery's next_attempt_at is its lease's end, so
// an expired lease is simply due again. Concurrent leases, from any number
// of processes, skip each other's rows and never return the same delivery.
// The cost is one index range read of the rows taken: it does not grow with
// the number of deliveries that are not yet due. Without req.Mode it reads
// one range per mode and keeps the oldest. Deliveries of req.SkipEndpoints
// are filtered out of the range, so their due ones are read (not taken) by
// every lease that skips them. A delivery with an ordering key is taken
// only while it is its key's head (see [store.Outbox]): a NOT EXISTS probe
// of the key's range of deliveries_key_idx per due keyed row. The
// deliveries queued behind their key's head are not in the lease index
// (key_waiting), so a key's backlog is not read by the leases of others.
// It returns an error wrapping
// [store.ErrInvalid] for a non-positive Limit or Duration or an invalid
// Mode.
func (h *handle) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.Delivery, error) {
	if req.Limit <= 0 || req.Duration <= 0 {
		return nil, errorf("postgres: lease: %w: limit and duration must be positive", store.ErrInvalid)
	}
	if req.Mode != "" && !req.Mode.Valid() {
		return nil, errorf("postgres: lease: %w: mode %q", store.ErrInvalid, req.Mode)
	}
	skip := req.SkipEndpoints
	if skip == nil {
		skip = []string{}
	}
	modes := leaseModes
	if req.Mode != "" {
		modes = []event.Mode{req.Mode}
	}
	// QueryExecModeExec plans the statement with the actual arguments every
	// time. A cached prepared statement would switch to a generic plan after
	// a few runs, and a generic plan cannot know that next_attempt_at <= $1
	// selects a sliver of the index: it may scan the whole backlog.
	args := append([]any{pgx.QueryExecModeExec}, leaseArgs(req, skip, modes)...)
	rows, err := h.db.Query(ctx, h.n.q(leaseSQL(len(modes))), args...)
	if err != nil {
		return nil, errorf("postgres: lease: %w", err)
	}
	defer rows.Close()
	type leased struct {
		d   *store.Delivery
		due time.Time
	}
	var got []leased
	for rows.Next() {
		var l leased
		l.d = new(store.Delivery)
		if err := rows.Scan(append(deliveryDest(l.d), &l.d.LeaseToken, nullTime{&l.due})...); err != nil {
			return nil, errorf("postgres: lease: %w", err)
		}
		got = append(got, l)
	}
	if err := rows.Err(); err != nil {
		return nil, errorf("postgres: lease: %w", err)
	}
	// RETURNING has no order: restore oldest due first.
	slices.SortFunc(got, func(a, b leased) int {
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		return strings.Compare(a.d.ID, b.d.ID)
	})
	out := make([]*store.Delivery, len(got))
	for i, l := range got {
		out[i] = l.d
	}
	return out, nil
}

// keyBlockerSQL finds what keeps the keyed delivery d from being leased: a
// delivery of its endpoint and key enqueued before it that is unfinished or
// holds the key (the first entry of the key's range of deliveries_key_idx
// before d, if any), or one holding a lease that has not ended at $1 (an
// entry of deliveries_key_leased_idx, which holds one per key at most). Enqueue numbers a
// key's deliveries in commit order, so a snapshot that sees d sees every
// delivery enqueued before it; a delivery leased by a concurrent Lease
// stays pending in this statement's snapshot, so it blocks the later ones
// as before; and one whose settlement committed meanwhile blocks until the
// next Lease, which sees it finished. So no Lease, in any process, hands
// out a delivery while an earlier one of its key is unfinished.
const keyBlockerSQL = `SELECT 1 FROM {{schema}}.deliveries k
				WHERE k.endpoint_id = d.endpoint_id AND k.ordering_key = d.ordering_key AND k.key_seq < d.key_seq
					AND k.ordering_key <> '' AND (k.state IN ('pending', 'leased', 'leased_paused', 'paused') OR k.holds_key)
			) AND NOT EXISTS (SELECT 1 FROM {{schema}}.deliveries k
				WHERE k.endpoint_id = d.endpoint_id AND k.ordering_key = d.ordering_key AND k.id <> d.id
					AND k.ordering_key <> '' AND k.state IN ('leased', 'leased_paused') AND k.next_attempt_at > $1`

// leaseSQL builds the lease statement for n modes: $1 now, $2 limit,
// $3 lease end, $4 worker, $5 skipped endpoints, $6... the modes.
//
// Each due_i CTE locks up to $2 due rows of one mode with FOR UPDATE SKIP
// LOCKED, reading one ordered range of deliveries_due_idx; pick keeps the
// oldest $2 of them; the UPDATE leases exactly those. With several modes,
// rows locked but not picked are unlocked when the statement ends.
func leaseSQL(n int) string {
	var ctes, arms []string
	for i := range n {
		ctes = append(ctes, fmt.Sprintf(`due_%d AS (
		SELECT id, next_attempt_at FROM {{schema}}.deliveries d
		WHERE state IN ('pending', 'leased') AND NOT key_waiting AND mode = $%d AND next_attempt_at <= $1
			AND endpoint_id <> ALL($5::text[])
			AND (d.ordering_key = '' OR NOT EXISTS (`+keyBlockerSQL+`))
		ORDER BY next_attempt_at LIMIT $2
		FOR UPDATE SKIP LOCKED
	)`, i, 6+i))
		arms = append(arms, fmt.Sprintf("SELECT id, next_attempt_at FROM due_%d", i))
	}
	pick := arms[0]
	if n > 1 {
		pick = strings.Join(arms, " UNION ALL ") + " ORDER BY next_attempt_at, id LIMIT $2"
	}
	return `WITH ` + strings.Join(ctes, ",\n\t") + `,
	pick AS (` + pick + `)
UPDATE {{schema}}.deliveries d SET
	state = 'leased',
	lease_token = gen_random_uuid()::text,
	leased_by = $4,
	attempts = d.attempts + 1,
	first_attempt_at = coalesce(d.first_attempt_at, $1),
	last_attempt_at = $1,
	next_attempt_at = $3
FROM pick, {{schema}}.events e
WHERE d.id = pick.id AND e.id = d.event_id
RETURNING ` + deliveryColsD + `, d.lease_token, pick.next_attempt_at`
}

func leaseArgs(req store.LeaseRequest, skip []string, modes []event.Mode) []any {
	args := []any{req.Now, req.Limit, req.Now.Add(req.Duration), req.Worker, skip}
	for _, m := range modes {
		args = append(args, string(m))
	}
	return args
}
