-- webhookkit SQLite schema, version 1.
--
-- Applied by (*Store).Migrate inside one BEGIN IMMEDIATE transaction and
-- recorded in webhookkit_migrations, so running it again is a no-op. Every
-- table is prefixed with webhookkit_ so the schema can share a database file
-- with the application's own tables (the transactional outbox needs that).
--
-- Conventions:
--   * Times are INTEGER Unix nanoseconds (UTC): exact ordering and an exact
--     round trip of time.Time. NULL is the zero time.Time.
--   * Lists (event types, secrets) and maps (headers, metadata) are JSON text;
--     NULL is a nil map.
--   * Bodies and event data are BLOBs, kept byte for byte.

-- Endpoints: one row per endpoint. Secrets are stored as given (plain text):
-- protect the database file like any other credential store.
CREATE TABLE IF NOT EXISTS webhookkit_endpoints (
    id                   TEXT    NOT NULL PRIMARY KEY,
    tenant               TEXT    NOT NULL,
    mode                 TEXT    NOT NULL,
    url                  TEXT    NOT NULL,
    description          TEXT    NOT NULL DEFAULT '',
    event_types          TEXT    NOT NULL,            -- JSON array of patterns
    secrets              TEXT    NOT NULL,            -- JSON array of {key, created_at, expires_at}
    headers              TEXT,                        -- JSON object or NULL
    rate_limit           REAL    NOT NULL DEFAULT 0,
    burst                INTEGER NOT NULL DEFAULT 0,
    max_in_flight        INTEGER NOT NULL DEFAULT 0,
    metadata             TEXT,                        -- JSON object or NULL
    disabled             INTEGER NOT NULL DEFAULT 0,  -- 0 or 1
    disabled_reason      TEXT    NOT NULL DEFAULT '',
    disabled_at          INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since        INTEGER,
    last_success_at      INTEGER,
    last_failure_at      INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    -- organization and account scope, body format (fixed at creation)
    account              TEXT    NOT NULL DEFAULT '',  -- '' = organization-wide
    format               TEXT    NOT NULL DEFAULT '',  -- '' = envelope, or 'event-payload'
    -- Credentials: JSON objects or NULL; client_secret, key and every
    -- secret's key above are sealed ("wkseal1:...") under Config.Keys.
    oauth2               TEXT,                        -- {token_url, client_id, client_secret, scopes, audience}
    client_tls           TEXT,                        -- {cert, key, ca} PEM
    breaker_state        TEXT    NOT NULL DEFAULT '', -- store.BreakerState; '' is closed
    breaker_since        INTEGER,                     -- when the breaker took that state
    -- The ids of the keys that sealed this row's credentials, sorted and
    -- space-separated ('' for none): kept on every write so a store's key
    -- check (CheckKeys) reads the few ids in use from an index, not every row.
    seal_keys            TEXT    NOT NULL DEFAULT ''
);

-- Listing one tenant's endpoints in id order (publish fan-out, dashboard).
CREATE INDEX IF NOT EXISTS webhookkit_endpoints_tenant
    ON webhookkit_endpoints (tenant, id);
-- The fan-out of an event published for an organization (account '') or
-- for one account of it (account IN ('', ?)).
CREATE INDEX IF NOT EXISTS webhookkit_endpoints_account
    ON webhookkit_endpoints (tenant, account, id);
-- The key ids in use, for CheckKeys: a skip over their distinct values.
CREATE INDEX IF NOT EXISTS webhookkit_endpoints_seal_keys
    ON webhookkit_endpoints (seal_keys);

-- Events: each published event once, whatever its number of deliveries.
-- data is the event's "data" JSON exactly as published.
CREATE TABLE IF NOT EXISTS webhookkit_events (
    id   TEXT    NOT NULL PRIMARY KEY,
    type TEXT    NOT NULL,
    mode TEXT    NOT NULL,
    date INTEGER NOT NULL,
    data BLOB    NOT NULL
);

-- Deliveries: one event for one endpoint. endpoint_id has no foreign key on
-- purpose: deleting an endpoint keeps its finished and in-flight deliveries
-- for the logs. tenant, mode and event_type are copied from the endpoint and
-- the event so lists and leasing need no join.
CREATE TABLE IF NOT EXISTS webhookkit_deliveries (
    id               TEXT    NOT NULL PRIMARY KEY,
    event_id         TEXT    NOT NULL REFERENCES webhookkit_events (id),
    endpoint_id      TEXT    NOT NULL,
    tenant           TEXT    NOT NULL,
    mode             TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    state            TEXT    NOT NULL,  -- pending, leased, paused, succeeded, failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    first_attempt_at INTEGER,
    next_attempt_at  INTEGER NOT NULL,  -- due time; for a leased row, lease end
    last_attempt_at  INTEGER,
    last_error       TEXT    NOT NULL DEFAULT '',
    finished_at      INTEGER,
    lease_token      TEXT,              -- NULL unless leased
    leased_by        TEXT    NOT NULL DEFAULT '',
    ordering_key     TEXT    NOT NULL DEFAULT '',  -- '' when unordered
    key_seq          INTEGER NOT NULL DEFAULT 0,   -- enqueue order within (endpoint_id, ordering_key)
    holds_key        INTEGER NOT NULL DEFAULT 0,   -- 1: failed, and still blocks its key
    key_waiting      INTEGER NOT NULL DEFAULT 0,   -- 1: queued behind its key's head, out of the due index
    UNIQUE (event_id, endpoint_id)      -- idempotent enqueue
);

-- The leasing index. Partial: only rows that can become due are in it, so
-- finished and paused deliveries cost nothing, and a lease walks it from the
-- oldest due time and stops after LIMIT rows: its cost grows with what it
-- leases, not with the backlog of rows due later. A leased row whose lease
-- ended (next_attempt_at <= now) is simply due again. A keyed delivery
-- queued behind its key's head (key_waiting = 1) is not in it either, so a
-- key's backlog costs the leases of other deliveries nothing.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_due
    ON webhookkit_deliveries (next_attempt_at)
    WHERE state IN ('pending', 'leased') AND key_waiting = 0;

-- Ordering keys: the deliveries that block a key (unfinished, or failed
-- holding it), by endpoint, key and enqueue order. Lease looks a due keyed
-- delivery's key up here to lease only its head; Enqueue numbers a new
-- delivery after the key's last. Partial: unkeyed and finished deliveries
-- are not in it, so its size is the keys' backlog, not their history.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_key
    ON webhookkit_deliveries (endpoint_id, ordering_key, key_seq)
    WHERE ordering_key <> '' AND (state IN ('pending', 'leased', 'paused') OR holds_key = 1);
-- key_waiting: Enqueue sets it on a keyed delivery when its key already has
-- a blocking delivery (all of which come before it), and these triggers
-- clear it on the key's new head whenever a blocking delivery stops
-- blocking: it finishes without holding the key, or it is deleted (pruned,
-- or its endpoint deleted). A requeued delivery, which may overtake the
-- head, is requeued with key_waiting = 0. So a key's first blocking
-- delivery never waits, and Lease, which checks that a delivery is its
-- key's head anyway (the ordering does not depend on the flag), finds
-- every head in the due index. SQLite runs one write transaction at a
-- time, so a trigger and an Enqueue never miss each other.
CREATE TRIGGER IF NOT EXISTS webhookkit_deliveries_key_finished
    AFTER UPDATE OF state ON webhookkit_deliveries
    WHEN NEW.ordering_key <> '' AND NEW.state IN ('succeeded', 'failed') AND NEW.holds_key = 0
BEGIN
    UPDATE webhookkit_deliveries SET key_waiting = 0
    WHERE key_waiting = 1 AND id = (SELECT k.id FROM webhookkit_deliveries AS k
        WHERE k.endpoint_id = NEW.endpoint_id AND k.ordering_key = NEW.ordering_key
            AND k.ordering_key <> '' AND (k.state IN ('pending', 'leased', 'paused') OR k.holds_key = 1)
        ORDER BY k.key_seq LIMIT 1);
END;
CREATE TRIGGER IF NOT EXISTS webhookkit_deliveries_key_deleted
    AFTER DELETE ON webhookkit_deliveries
    WHEN OLD.ordering_key <> '' AND (OLD.state IN ('pending', 'leased', 'paused') OR OLD.holds_key = 1)
BEGIN
    UPDATE webhookkit_deliveries SET key_waiting = 0
    WHERE key_waiting = 1 AND id = (SELECT k.id FROM webhookkit_deliveries AS k
        WHERE k.endpoint_id = OLD.endpoint_id AND k.ordering_key = OLD.ordering_key
            AND k.ordering_key <> '' AND (k.state IN ('pending', 'leased', 'paused') OR k.holds_key = 1)
        ORDER BY k.key_seq LIMIT 1);
END;

-- Enqueue numbers keyed deliveries one after the other (the highest number
-- is one step down this index), so a requeued one keeps its place.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_key_seq
    ON webhookkit_deliveries (key_seq)
    WHERE ordering_key <> '';

-- Deliveries queued behind their key's head (out of the due index), for
-- Backlog.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_waiting
    ON webhookkit_deliveries (next_attempt_at)
    WHERE state = 'pending' AND key_waiting = 1;

-- Deliveries waiting for their endpoint to be enabled, for Backlog.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_paused
    ON webhookkit_deliveries (mode)
    WHERE state = 'paused';

-- Delivery logs, newest first, across tenants and per tenant.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_created
    ON webhookkit_deliveries (created_at, id);
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_tenant_created
    ON webhookkit_deliveries (tenant, created_at, id);

-- Per-endpoint work: pausing, resuming, deleting and bulk replay.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_endpoint
    ON webhookkit_deliveries (endpoint_id, state, finished_at);

-- Pruning: finished deliveries by when they finished, oldest first. Partial,
-- so pending, leased and paused rows are not in it.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_finished
    ON webhookkit_deliveries (finished_at)
    WHERE state IN ('succeeded', 'failed');

-- Attempt log: one row per HTTP request.
CREATE TABLE IF NOT EXISTS webhookkit_attempts (
    id                 TEXT    NOT NULL PRIMARY KEY,
    delivery_id        TEXT    NOT NULL,
    endpoint_id        TEXT    NOT NULL,
    tenant             TEXT    NOT NULL,
    event_id           TEXT    NOT NULL,
    event_type         TEXT    NOT NULL,
    mode               TEXT    NOT NULL,
    number             INTEGER NOT NULL,
    at                 INTEGER NOT NULL,
    duration           INTEGER NOT NULL,  -- nanoseconds
    url                TEXT    NOT NULL,
    request_headers    TEXT,              -- JSON object or NULL
    request_body       BLOB,
    status_code        INTEGER NOT NULL,
    response_headers   TEXT,              -- JSON object or NULL
    response_body      BLOB,
    response_truncated INTEGER NOT NULL,
    error              TEXT    NOT NULL,
    success            INTEGER NOT NULL,
    format             TEXT    NOT NULL DEFAULT ''  -- the endpoint's body format
);

CREATE INDEX IF NOT EXISTS webhookkit_attempts_at
    ON webhookkit_attempts (at, id);
CREATE INDEX IF NOT EXISTS webhookkit_attempts_delivery
    ON webhookkit_attempts (delivery_id, at, id);
CREATE INDEX IF NOT EXISTS webhookkit_attempts_endpoint
    ON webhookkit_attempts (endpoint_id, at, id);
CREATE INDEX IF NOT EXISTS webhookkit_attempts_event
    ON webhookkit_attempts (event_id, at, id);

-- Inbox: the receiver's de-duplication keys and, until handled, the accepted
-- request bodies. A claim wins when the key is absent or its window
-- (expires_at) has ended; handled rows drop the body, dead rows keep it.
CREATE TABLE IF NOT EXISTS webhookkit_inbox (
    key          TEXT    NOT NULL PRIMARY KEY,
    state        TEXT    NOT NULL,  -- claimed, handled, dead
    body         BLOB,
    claimed_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    leased_until INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    finished_at  INTEGER
);

-- Re-driving claimed entries whose processing lease ended.
CREATE INDEX IF NOT EXISTS webhookkit_inbox_lease
    ON webhookkit_inbox (leased_until)
    WHERE state = 'claimed';
-- Listing by state, newest claim first.
CREATE INDEX IF NOT EXISTS webhookkit_inbox_state
    ON webhookkit_inbox (state, claimed_at, key);
-- Pruning handled entries whose window ended.
CREATE INDEX IF NOT EXISTS webhookkit_inbox_expires
    ON webhookkit_inbox (expires_at)
    WHERE state = 'handled';

-- Delivery log by endpoint, newest first (the dashboard's endpoint page,
-- with or without a time range): without it, listing one endpoint's
-- deliveries sorted all of them.
CREATE INDEX IF NOT EXISTS webhookkit_deliveries_endpoint_created
    ON webhookkit_deliveries (endpoint_id, created_at, id);

-- Hourly attempt aggregates (AttemptStats, the dashboard's charts): one row
-- per endpoint and hour (hour: nanoseconds of its UTC start), with the
-- attempts per outcome class and a fixed histogram of their durations
-- (lat_00 .. lat_13, the buckets of store.LatencyBounds). The batches that
-- insert attempts add to them in the same transaction; PruneAttempts
-- deletes the hours that end before its time. A chart reads one row per
-- endpoint and hour, whatever the number of attempts.
CREATE TABLE IF NOT EXISTS webhookkit_attempt_hours (
    endpoint_id TEXT    NOT NULL,
    hour        INTEGER NOT NULL,
    tenant      TEXT    NOT NULL,
    mode        TEXT    NOT NULL,
    n_2xx       INTEGER NOT NULL DEFAULT 0,
    n_4xx       INTEGER NOT NULL DEFAULT 0,
    n_5xx       INTEGER NOT NULL DEFAULT 0,
    n_network   INTEGER NOT NULL DEFAULT 0,
    n_other     INTEGER NOT NULL DEFAULT 0,
    lat_00      INTEGER NOT NULL DEFAULT 0,
    lat_01      INTEGER NOT NULL DEFAULT 0,
    lat_02      INTEGER NOT NULL DEFAULT 0,
    lat_03      INTEGER NOT NULL DEFAULT 0,
    lat_04      INTEGER NOT NULL DEFAULT 0,
    lat_05      INTEGER NOT NULL DEFAULT 0,
    lat_06      INTEGER NOT NULL DEFAULT 0,
    lat_07      INTEGER NOT NULL DEFAULT 0,
    lat_08      INTEGER NOT NULL DEFAULT 0,
    lat_09      INTEGER NOT NULL DEFAULT 0,
    lat_10      INTEGER NOT NULL DEFAULT 0,
    lat_11      INTEGER NOT NULL DEFAULT 0,
    lat_12      INTEGER NOT NULL DEFAULT 0,
    lat_13      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, hour)
);
-- A tenant's charts, and the pruning of old hours.
CREATE INDEX IF NOT EXISTS webhookkit_attempt_hours_tenant
    ON webhookkit_attempt_hours (tenant, mode, hour);
CREATE INDEX IF NOT EXISTS webhookkit_attempt_hours_hour
    ON webhookkit_attempt_hours (hour);
