-- The register's core tables. The full record of each version is kept as JSONB (the document
-- clients read); the columns beside it are what queries filter and lock on.

-- Reference data, loaded at start-up from the binary's embedded copy of data/ (sources in
-- data/README.md). `reference_data` remembers which copy was loaded.
CREATE TABLE reference_data (
    name        text PRIMARY KEY,
    checksum    text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE provinces (
    code        text PRIMARY KEY,
    name        text NOT NULL
);

CREATE TABLE wards (
    code            text PRIMARY KEY,
    province_code   text NOT NULL REFERENCES provinces (code),
    name            text NOT NULL,
    kind            text NOT NULL
);

CREATE TABLE legacy_wards (
    province_code   text NOT NULL,
    ward_code       text NOT NULL,
    province_name   text NOT NULL,
    district_code   text NOT NULL,
    district_name   text NOT NULL,
    ward_name       text NOT NULL,
    new_province_code text,
    new_ward_code   text,
    ambiguous       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (province_code, ward_code)
);

CREATE TABLE vsic (
    edition     text NOT NULL CHECK (edition IN ('2018', '2025')),
    code        text NOT NULL,
    level       smallint NOT NULL,
    name        text NOT NULL,
    parent_code text,
    PRIMARY KEY (edition, code)
);

-- The 2-digit prefix of codes allocated for head offices in each province (SPEC §2.1). Seeded
-- with the province's own code; operators may change it.
CREATE TABLE code_prefixes (
    province_code   text PRIMARY KEY,
    prefix          text NOT NULL CHECK (prefix ~ '^[0-9]{2}$')
);

-- The next serial to try per prefix. The row is locked by the registering transaction, so
-- concurrent registrations in one province take serials one after another and a refused
-- registration gives its serial back.
CREATE TABLE code_serials (
    prefix      text PRIMARY KEY,
    next_serial integer NOT NULL CHECK (next_serial BETWEEN 1 AND 10000000)
);

CREATE TABLE api_clients (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    role            text NOT NULL CHECK (role IN ('portal', 'transport', 'tax', 'admin')),
    key_hash        bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    revoked_at      timestamptz
);

CREATE TABLE enterprises (
    code            text PRIMARY KEY CHECK (code ~ '^[0-9]{10}$'),
    enterprise_type text NOT NULL,
    status          text NOT NULL,
    name_vi         text NOT NULL,
    province_code   text NOT NULL,
    registered_on   date NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    record          jsonb NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX enterprises_province ON enterprises (province_code);

-- Every version of every enterprise: immutable history (SPEC §2.6).
CREATE TABLE enterprise_versions (
    code            text NOT NULL REFERENCES enterprises (code),
    version         integer NOT NULL CHECK (version >= 1),
    kind            text NOT NULL,
    record          jsonb NOT NULL,
    changed_fields  text[] NOT NULL,
    actor           text NOT NULL,
    recorded_at     timestamptz NOT NULL,
    effective_on    date NOT NULL,
    reason          text,
    PRIMARY KEY (code, version)
);

-- The change feed: one event per version, written in the same transaction. `txid` is the
-- writing transaction's id, so that readers can hold back positions whose transactions may still
-- be in flight (see the feed's documentation).
CREATE TABLE feed_events (
    position        bigserial PRIMARY KEY,
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    code            text NOT NULL,
    version         integer NOT NULL,
    kind            text NOT NULL,
    recorded_at     timestamptz NOT NULL,
    FOREIGN KEY (code, version) REFERENCES enterprise_versions (code, version),
    UNIQUE (code, version)
);

CREATE TABLE units (
    unit_code       text PRIMARY KEY,
    enterprise_code text NOT NULL REFERENCES enterprises (code),
    kind            text NOT NULL CHECK (kind IN ('branch', 'representative_office', 'business_location')),
    -- 1–999 for branches and representative offices (CODE-NNN), 1–99999 for business locations.
    seq             integer NOT NULL,
    record          jsonb NOT NULL,
    registered_on   date NOT NULL
);
CREATE UNIQUE INDEX units_dependent_seq ON units (enterprise_code, seq) WHERE kind <> 'business_location';
CREATE UNIQUE INDEX units_location_seq ON units (enterprise_code, seq) WHERE kind = 'business_location';

-- Answers to POST requests that carried an Idempotency-Key: a retry gets the first answer.
CREATE TABLE idempotency_keys (
    client_id       bigint NOT NULL REFERENCES api_clients (id),
    key             text NOT NULL,
    request_hash    bytea NOT NULL,
    status          smallint NOT NULL,
    headers         jsonb NOT NULL,
    body            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);
