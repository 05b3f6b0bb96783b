#!/usr/bin/env bash
# What the feed counter costs writers: pgbench, 8 clients, the write pattern of a write (a version
# row, the feed position, the event, the notification, COMMIT), with a sequence and without
# notification, with a sequence and the notification, with the shared counter taken by the
# writer's last statement (the design before migration feed_at_commit), and with the counter
# taken inside COMMIT by a deferred trigger (the design in use).
# Usage: scripts/feed-bench.sh [SERVER_URL] [SECONDS]
set -euo pipefail
SERVER=${1:-postgres://postgres@127.0.0.1:5432/postgres}
SECONDS_EACH=${2:-10}
DB=feed_bench_$$
BASE=${SERVER%/*}
psql "$SERVER" -qc "CREATE DATABASE $DB"
WORK=$(mktemp -d)
trap 'psql "$SERVER" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; rm -rf "$WORK"' EXIT
psql "$BASE/$DB" -q <<'SQL'
CREATE TABLE feed_head (id integer PRIMARY KEY, position bigint NOT NULL);
INSERT INTO feed_head VALUES (1, 0);
CREATE SEQUENCE feed_seq;
CREATE TABLE versions (id bigserial PRIMARY KEY, record jsonb NOT NULL);
CREATE TABLE events (position bigint PRIMARY KEY, version bigint NOT NULL);
CREATE TABLE versions_at_commit (id bigserial PRIMARY KEY, record jsonb NOT NULL);
CREATE FUNCTION feed_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p bigint;
BEGIN
    UPDATE feed_head SET position = position + 1 WHERE id = 1 RETURNING position INTO p;
    INSERT INTO events VALUES (p, NEW.id);
    PERFORM pg_notify('registry_feed', '');
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER feed_event AFTER INSERT ON versions_at_commit DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION feed_event();
SQL
cat > "$WORK/sequence.sql" <<'SQL'
BEGIN;
INSERT INTO versions (record) VALUES ('{"name": "Công ty TNHH An Phát", "version": 2}') RETURNING id \gset
INSERT INTO events VALUES (nextval('feed_seq'), :id);
COMMIT;
SQL
cat > "$WORK/sequence_notify.sql" <<'SQL'
BEGIN;
INSERT INTO versions (record) VALUES ('{"name": "Công ty TNHH An Phát", "version": 2}') RETURNING id \gset
INSERT INTO events VALUES (nextval('feed_seq'), :id);
SELECT pg_notify('registry_feed', '');
COMMIT;
SQL
cat > "$WORK/counter.sql" <<'SQL'
BEGIN;
INSERT INTO versions (record) VALUES ('{"name": "Công ty TNHH An Phát", "version": 2}') RETURNING id \gset
UPDATE feed_head SET position = position + 1 WHERE id = 1 RETURNING position \gset
INSERT INTO events VALUES (:position, :id);
SELECT pg_notify('registry_feed', '');
COMMIT;
SQL
cat > "$WORK/counter_at_commit.sql" <<'SQL'
BEGIN;
INSERT INTO versions_at_commit (record) VALUES ('{"name": "Công ty TNHH An Phát", "version": 2}');
COMMIT;
SQL
for script in sequence sequence_notify counter counter_at_commit; do
    psql "$BASE/$DB" -qc "TRUNCATE events" >/dev/null
    [ "${script#counter}" != "$script" ] && psql "$BASE/$DB" -qc "UPDATE feed_head SET position = 0" >/dev/null
    out=$(pgbench -n -c 8 -j 2 -T "$SECONDS_EACH" -f "$WORK/$script.sql" "$BASE/$DB" 2>&1)
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    lat=$(echo "$out" | sed -n 's/^latency average = \(.*\)$/\1/p')
    printf '%-18s %8s writes/s   latency %s\n' "$script" "$tps" "$lat"
done
