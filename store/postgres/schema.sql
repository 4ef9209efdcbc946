-- webhookkit PostgreSQL schema, version 1.
--
-- (*postgres.Store).Migrate runs this file once per schema, inside a
-- transaction holding a transaction-scoped advisory lock, and records it in
-- schema_version. Every statement is idempotent (IF NOT EXISTS), so running
-- it again, or from several instances at once, is harmless.
--
-- {{schema}} is replaced by the quoted schema name (Config.Schema, by
-- default "webhookkit"). Times are timestamptz (microsecond precision); a
-- NULL time means "zero" in Go. Event data is bytea, never jsonb: jsonb would
-- re-encode the JSON, and signatures are computed over the exact bytes the
-- publisher gave.

-- endpoints: the URLs subscribed to event types, one row per endpoint.
-- breaker_state is a store.BreakerState ('' is closed), since breaker_since.
-- Secrets, headers and metadata are small JSON documents read and written
-- whole; health is kept in columns so RecordResult is one atomic UPDATE.
CREATE TABLE IF NOT EXISTS {{schema}}.endpoints (
	id                   text PRIMARY KEY,
	tenant               text NOT NULL,
	mode                 text NOT NULL,
	url                  text NOT NULL,
	description          text NOT NULL DEFAULT '',
	event_types          text[] NOT NULL,
	secrets              jsonb NOT NULL,
	headers              jsonb,
	rate_limit           double precision NOT NULL DEFAULT 0,
	burst                integer NOT NULL DEFAULT 0,
	max_in_flight        integer NOT NULL DEFAULT 0,
	metadata             jsonb,
	disabled             boolean NOT NULL DEFAULT false,
	disabled_reason      text NOT NULL DEFAULT '',
	disabled_at          timestamptz,
	consecutive_failures integer NOT NULL DEFAULT 0,
	failing_since        timestamptz,
	last_success_at      timestamptz,
	last_failure_at      timestamptz,
	created_at           timestamptz NOT NULL,
	updated_at           timestamptz NOT NULL,
	-- organization and account scope, body format (fixed at creation)
	account              text NOT NULL DEFAULT '',  -- '' = organization-wide
	format               text NOT NULL DEFAULT '',  -- '' = envelope, or 'event-payload'
	-- Credentials, or NULL: client_secret, key and every key in secrets
	-- are sealed ("wkseal1:...") under Config.Keys.
	oauth2               jsonb, -- {token_url, client_id, client_secret, scopes, audience}
	client_tls           jsonb, -- {cert, key, ca} PEM
	breaker_state        text NOT NULL DEFAULT '',
	breaker_since        timestamptz,
	-- The ids of the keys that sealed this row's credentials, sorted and
	-- space-separated ('' for none): kept on every write so a store's key
	-- check (CheckKeys) reads the few ids in use from an index, not every row.
	seal_keys            text NOT NULL DEFAULT ''
);

-- endpoints_tenant_idx: a tenant's endpoints in id order, for the fan-out of
-- every publish (store.Subscribers) and the dashboard's per-tenant list.
CREATE INDEX IF NOT EXISTS endpoints_tenant_idx ON {{schema}}.endpoints (tenant, id);
-- endpoints_account_idx: the fan-out of an event published for an
-- organization (account '') or for one account of it (account IN ('', $n)).
CREATE INDEX IF NOT EXISTS endpoints_account_idx ON {{schema}}.endpoints (tenant, account, id);
-- endpoints_seal_keys_idx: the key ids in use, for CheckKeys: a skip over
-- their distinct values.
CREATE INDEX IF NOT EXISTS endpoints_seal_keys_idx ON {{schema}}.endpoints (seal_keys);

-- events: each published event once, keyed by its id, so an event fanned out
-- to many endpoints stores its data once. Enqueue compares type, mode and
-- data with the stored row to detect an id reused for different content.
CREATE TABLE IF NOT EXISTS {{schema}}.events (
	id         text PRIMARY KEY,
	type       text NOT NULL,
	mode       text NOT NULL,
	data       bytea NOT NULL,
	date       timestamptz NOT NULL,
	created_at timestamptz NOT NULL
);

-- deliveries: one event for one endpoint. mode, event_type and tenant are
-- copied from the event and endpoint so leasing and listing need no join.
-- state is a store.DeliveryState, or 'leased_paused': a leased delivery
-- whose endpoint was disabled during the lease. It reads as 'leased' (its
-- worker may still settle it) but is not in the lease index, so it is not
-- leased again when the lease expires; enabling the endpoint makes it
-- 'leased' again. A leased delivery's next_attempt_at is its lease's end.
-- The UNIQUE (event_id, endpoint_id) constraint makes Enqueue idempotent
-- (INSERT ... ON CONFLICT DO NOTHING) and serves lookups by event id.
-- ordering_key ('' when unordered) and key_seq (the enqueue order within
-- an endpoint's key) order keyed deliveries; holds_key marks a failed one
-- that still blocks its key; key_waiting marks one queued behind its key's
-- head, which is kept out of the lease index (see deliveries_due_idx).
CREATE TABLE IF NOT EXISTS {{schema}}.deliveries (
	id               text PRIMARY KEY,
	event_id         text NOT NULL REFERENCES {{schema}}.events (id),
	endpoint_id      text NOT NULL,
	tenant           text NOT NULL,
	mode             text NOT NULL,
	event_type       text NOT NULL,
	state            text NOT NULL
		CHECK (state IN ('pending', 'leased', 'leased_paused', 'paused', 'succeeded', 'failed')),
	attempts         integer NOT NULL DEFAULT 0,
	created_at       timestamptz NOT NULL,
	first_attempt_at timestamptz,
	next_attempt_at  timestamptz NOT NULL,
	last_attempt_at  timestamptz,
	last_error       text NOT NULL DEFAULT '',
	finished_at      timestamptz,
	lease_token      text,
	leased_by        text NOT NULL DEFAULT '',
	ordering_key     text NOT NULL DEFAULT '',
	key_seq          bigint NOT NULL DEFAULT 0,
	holds_key        boolean NOT NULL DEFAULT false,
	key_waiting      boolean NOT NULL DEFAULT false,
	UNIQUE (event_id, endpoint_id)
);

-- deliveries_due_idx: the lease index. It holds only deliveries that can
-- become due (pending, or leased with a lease that may expire), ordered by
-- mode then due time, so a Lease reads exactly the due rows it takes, oldest
-- first, and stops: its cost does not grow with the number of deliveries
-- that are not yet due, nor with finished or paused ones, which are not in
-- the index at all, nor with the deliveries queued behind their key's head
-- (key_waiting). Enqueue sets key_waiting on a keyed delivery when its key
-- already has a blocking delivery; Settle and PruneDeliveries clear it on
-- the key's new head when a blocking delivery stops blocking, after taking
-- the key's advisory lock in shared mode (Enqueue takes it exclusive), so
-- an Enqueue that saw the old head blocking commits before the head's new
-- state is looked at, and is seen then. A requeued delivery is requeued
-- with key_waiting false. Lease checks that a delivery is its key's head
-- whatever the flag: the flag keeps the index small, the check keeps the
-- order.
CREATE INDEX IF NOT EXISTS deliveries_due_idx ON {{schema}}.deliveries (mode, next_attempt_at)
	WHERE state IN ('pending', 'leased') AND NOT key_waiting;

-- deliveries_waiting_idx: the deliveries queued behind their key's head,
-- for Backlog.
CREATE INDEX IF NOT EXISTS deliveries_waiting_idx ON {{schema}}.deliveries (mode, next_attempt_at)
	WHERE state = 'pending' AND key_waiting;

-- deliveries_key_idx: ordering keys. It holds only the deliveries that
-- block a key (unfinished, or failed with holds_key), by endpoint, key and
-- enqueue order (key_seq), so Lease checks that a due keyed delivery is its
-- key's head with one short range read. Unkeyed and finished deliveries are not in it: its
-- size is the keys' backlog, not their history.
CREATE INDEX IF NOT EXISTS deliveries_key_idx ON {{schema}}.deliveries (endpoint_id, ordering_key, key_seq)
	WHERE ordering_key <> '' AND (state IN ('pending', 'leased', 'leased_paused', 'paused') OR holds_key);

-- deliveries_key_leased_idx: the leased keyed deliveries (one per key, but
-- for a requeued delivery ahead of a leased one), for Lease's check that no
-- delivery of a key holds a lease.
CREATE INDEX IF NOT EXISTS deliveries_key_leased_idx ON {{schema}}.deliveries (endpoint_id, ordering_key)
	WHERE ordering_key <> '' AND state IN ('leased', 'leased_paused');

-- deliveries_key_seq: numbers keyed deliveries in enqueue order (Enqueue
-- holds a transaction-scoped advisory lock per endpoint and key while it
-- takes a number and until it commits, so numbers follow commit order).
CREATE SEQUENCE IF NOT EXISTS {{schema}}.deliveries_key_seq;

-- deliveries_paused_idx: deliveries waiting for their endpoint (paused, or
-- leased when the endpoint was disabled), for Backlog. Partial: other rows
-- are not in it.
CREATE INDEX IF NOT EXISTS deliveries_paused_idx ON {{schema}}.deliveries (mode)
	WHERE state IN ('paused', 'leased_paused');

-- deliveries_endpoint_idx: an endpoint's deliveries newest first, for the
-- delivery log filtered by endpoint, and for pausing, resuming, deleting and
-- bulk-requeueing one endpoint's deliveries.
CREATE INDEX IF NOT EXISTS deliveries_endpoint_idx ON {{schema}}.deliveries (endpoint_id, created_at, id);

-- deliveries_tenant_idx: a tenant's deliveries newest first (the dashboard).
CREATE INDEX IF NOT EXISTS deliveries_tenant_idx ON {{schema}}.deliveries (tenant, created_at, id);

-- deliveries_created_idx: all deliveries newest first (the operator's view
-- across tenants).
CREATE INDEX IF NOT EXISTS deliveries_created_idx ON {{schema}}.deliveries (created_at, id);

-- deliveries_finished_idx: finished deliveries by when they finished, for
-- PruneDeliveries' batches (oldest first). Partial: pending, leased and
-- paused rows are not in it.
CREATE INDEX IF NOT EXISTS deliveries_finished_idx ON {{schema}}.deliveries (finished_at)
	WHERE state IN ('succeeded', 'failed');

-- attempts: the attempt log, one row per HTTP request. Headers are JSON,
-- bodies bytea (kept verbatim). Rows are pruned by age (PruneAttempts).
CREATE TABLE IF NOT EXISTS {{schema}}.attempts (
	id                 text PRIMARY KEY,
	delivery_id        text NOT NULL,
	endpoint_id        text NOT NULL,
	tenant             text NOT NULL,
	event_id           text NOT NULL,
	event_type         text NOT NULL,
	mode               text NOT NULL,
	number             integer NOT NULL,
	at                 timestamptz NOT NULL,
	duration_ns        bigint NOT NULL,
	url                text NOT NULL,
	request_headers    jsonb,
	request_body       bytea,
	status_code        integer NOT NULL,
	response_headers   jsonb,
	response_body      bytea,
	response_truncated boolean NOT NULL,
	error              text NOT NULL,
	success            boolean NOT NULL,
	format             text NOT NULL DEFAULT ''  -- the endpoint's body format
);

-- attempts_at_idx: all attempts newest first, and PruneAttempts' range
-- delete of everything older than the retention.
CREATE INDEX IF NOT EXISTS attempts_at_idx ON {{schema}}.attempts (at, id);

-- attempts_delivery_idx: one delivery's attempts (the delivery detail view).
CREATE INDEX IF NOT EXISTS attempts_delivery_idx ON {{schema}}.attempts (delivery_id, at, id);

-- attempts_endpoint_idx: one endpoint's attempts newest first.
CREATE INDEX IF NOT EXISTS attempts_endpoint_idx ON {{schema}}.attempts (endpoint_id, at, id);

-- attempts_event_idx: one event's attempts across its endpoints.
CREATE INDEX IF NOT EXISTS attempts_event_idx ON {{schema}}.attempts (event_id, at, id);

-- attempts_tenant_idx: a tenant's attempts newest first (the dashboard).
CREATE INDEX IF NOT EXISTS attempts_tenant_idx ON {{schema}}.attempts (tenant, at, id);

-- inbox: the receiver's durable de-duplication and accepted-event store. The
-- primary key on key makes Claim one atomic INSERT ... ON CONFLICT DO UPDATE
-- that wins only when the key is absent or its window has ended. The body is
-- kept while the entry is claimed (so an accepted event survives a crash)
-- and when it is dead (so it can be replayed); handling drops it.
CREATE TABLE IF NOT EXISTS {{schema}}.inbox (
	key          text PRIMARY KEY,
	state        text NOT NULL CHECK (state IN ('claimed', 'handled', 'dead')),
	body         bytea,
	claimed_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	leased_until timestamptz,
	attempts     integer NOT NULL DEFAULT 0,
	last_error   text NOT NULL DEFAULT '',
	finished_at  timestamptz
);

-- inbox_lease_idx: claimed entries by lease end, so LeaseClaimed (the
-- re-drive after a crash) reads only the entries whose lease has ended.
CREATE INDEX IF NOT EXISTS inbox_lease_idx ON {{schema}}.inbox (leased_until)
	WHERE state = 'claimed';

-- inbox_expires_idx: handled entries by window end, for PruneInbox.
CREATE INDEX IF NOT EXISTS inbox_expires_idx ON {{schema}}.inbox (expires_at)
	WHERE state = 'handled';

-- inbox_list_idx: entries of one state newest claim first (ListInbox).
CREATE INDEX IF NOT EXISTS inbox_list_idx ON {{schema}}.inbox (state, claimed_at, key);

-- attempt_hours: hourly aggregates of the attempt log (AttemptStats, the
-- dashboard's charts), one row per endpoint and hour (the hour's start),
-- with the attempts per outcome class and a fixed histogram of their
-- durations (lat_00 .. lat_13, the buckets of store.LatencyBounds). The
-- statement batches that insert attempts add to them in the same
-- transaction; PruneAttempts deletes the hours that end before its time. A
-- chart reads one row per endpoint and hour, whatever the number of
-- attempts.
CREATE TABLE IF NOT EXISTS {{schema}}.attempt_hours (
	endpoint_id text NOT NULL,
	hour        timestamptz NOT NULL,
	tenant      text NOT NULL,
	mode        text NOT NULL,
	n_2xx       bigint NOT NULL DEFAULT 0,
	n_4xx       bigint NOT NULL DEFAULT 0,
	n_5xx       bigint NOT NULL DEFAULT 0,
	n_network   bigint NOT NULL DEFAULT 0,
	n_other     bigint NOT NULL DEFAULT 0,
	lat_00      bigint NOT NULL DEFAULT 0,
	lat_01      bigint NOT NULL DEFAULT 0,
	lat_02      bigint NOT NULL DEFAULT 0,
	lat_03      bigint NOT NULL DEFAULT 0,
	lat_04      bigint NOT NULL DEFAULT 0,
	lat_05      bigint NOT NULL DEFAULT 0,
	lat_06      bigint NOT NULL DEFAULT 0,
	lat_07      bigint NOT NULL DEFAULT 0,
	lat_08      bigint NOT NULL DEFAULT 0,
	lat_09      bigint NOT NULL DEFAULT 0,
	lat_10      bigint NOT NULL DEFAULT 0,
	lat_11      bigint NOT NULL DEFAULT 0,
	lat_12      bigint NOT NULL DEFAULT 0,
	lat_13      bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (endpoint_id, hour)
);

-- attempt_hours_tenant_idx: a tenant's charts, one mode at a time.
CREATE INDEX IF NOT EXISTS attempt_hours_tenant_idx ON {{schema}}.attempt_hours (tenant, mode, hour);

-- attempt_hours_hour_idx: the charts across tenants, and PruneAttempts.
CREATE INDEX IF NOT EXISTS attempt_hours_hour_idx ON {{schema}}.attempt_hours (hour);
