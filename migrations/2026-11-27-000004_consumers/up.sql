-- Consumers and security (SPEC §1, §3): road-transport licences and the personal-data access log.

-- Road-transport licences recorded by the transport ministry. Each recording is also a version of
-- its enterprise (whose record lists its licences) with a `license_recorded` feed event, written
-- in the same transaction; this table is the look-up by number and keeps numbers unique.
CREATE TABLE licenses (
    number          text PRIMARY KEY CHECK (number ~ '^[A-Z0-9][A-Z0-9./-]{2,63}$'),
    enterprise_code text NOT NULL REFERENCES enterprises (code),
    kind            text NOT NULL,
    issued_on       date NOT NULL,
    expires_on      date NOT NULL CHECK (expires_on > issued_on),
    status          text NOT NULL CHECK (status IN ('valid', 'suspended', 'revoked')),
    record          jsonb NOT NULL,
    recorded_at     timestamptz NOT NULL,
    actor           text NOT NULL
);
CREATE INDEX licenses_enterprise ON licenses (enterprise_code);

-- Who read personal data, and when: every full view of an enterprise, every verification (whose
-- claims hold identity numbers), and every bulk read (export, change feed pages). Written in
-- batches by each instance, never one insert per read on the hot path.
CREATE TABLE access_log (
    id          bigserial PRIMARY KEY,
    read_at     timestamptz NOT NULL,
    client      text NOT NULL,
    role        text NOT NULL,
    -- The enterprise read; null for a bulk read of many.
    code        text,
    -- 'enterprise', 'as_of', 'verify', 'export', 'changes'.
    action      text NOT NULL,
    -- What the bulk read covered (feed positions, snapshot cursor), or the as_of asked for.
    detail      text,
    request_id  text
);
CREATE INDEX access_log_code ON access_log (code, read_at) WHERE code IS NOT NULL;
CREATE INDEX access_log_bulk ON access_log (read_at) WHERE code IS NULL;
