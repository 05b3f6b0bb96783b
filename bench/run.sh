#!/usr/bin/env bash
# The SPEC §5 benchmark, in one run, each figure beside its peer's (see bench/README.md):
#
#   bench/run.sh [COUNT]          # default 2,000,000 enterprises
#
# Settings (environment): BENCH_PG (server URL, default postgres://postgres@127.0.0.1:5432),
# BENCH_DB (database, default registry_bench: dropped and created), BENCH_WORK (data file, index,
# default ./var/bench), BENCH_SECS (seconds per throughput run, default 30), BENCH_MIXED_SECS
# (the mixed-load run, default 0 = skipped; 1800 for the 30-minute run), BENCH_MIXED_RATE
# (requests/s of the mixed load, default 500), BENCH_KEEP_DB=1 to reuse an imported database.
#
# Writes bench/results/<date>/*.json and then runs bench/report.py, which fills BENCHMARKS.md and
# draws bench/results/<date>/latency.png.
set -euo pipefail

COUNT=${1:-2000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
DB=${BENCH_DB:-registry_bench}
WORK=${BENCH_WORK:-$ROOT/var/bench}
SECS=${BENCH_SECS:-30}
MIXED_SECS=${BENCH_MIXED_SECS:-0}
MIXED_RATE=${BENCH_MIXED_RATE:-500}
PORT=${BENCH_PORT:-18080}
OUT=${BENCH_OUT:-$ROOT/bench/results/$(date -u +%Y%m%d-%H%M)}
URL=http://127.0.0.1:$PORT
export DATABASE_URL=$PG/$DB
export REGISTRY_DATA_DIR=$WORK/data
export REGISTRY_LOG=${REGISTRY_LOG:-warn}

mkdir -p "$OUT" "$WORK"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(round($(now) - $1, 3))"; }

log "building (release)"
(cd "$ROOT" && cargo build --release --locked --bin registry --example bench_driver) >&2
BIN=$ROOT/target/release/registry
DRIVER=$ROOT/target/release/examples/bench_driver

cat >"$OUT/machine.json" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "cores": $(nproc), "memory_kb": $(awk '/MemTotal/ {print $2}' /proc/meminfo),
 "kernel": "$(uname -r)", "cpu": "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)",
 "postgres": "$(psql "$PG/postgres" -Atc 'SHOW server_version')", "count": $COUNT, "secs": $SECS,
 "load_before": "$(cut -d' ' -f1-3 /proc/loadavg)", "commit": "$(git -C "$ROOT" rev-parse --short HEAD)"}
EOF

# 1. Data: generated once per count and seed, reused by later runs.
DATA=$WORK/generated-$COUNT-seed42.ndjson
if [ ! -s "$DATA" ]; then
  log "generating $COUNT enterprises"
  t=$(now)
  "$BIN" generate --count "$COUNT" --seed 42 --out "$DATA"
  echo "{\"seconds\": $(since "$t"), \"bytes\": $(stat -c %s "$DATA")}" >"$OUT/generate.json"
fi

# 2. Import plus indexing, into a new database.
if [ "${BENCH_KEEP_DB:-0}" != 1 ] || ! psql "$DATABASE_URL" -Atc 'SELECT 1' >/dev/null 2>&1; then
  log "importing into $DB"
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  psql "$PG/postgres" -qc "CREATE DATABASE $DB"
  rm -rf "$REGISTRY_DATA_DIR"
  "$BIN" migrate
  t=$(now)
  /usr/bin/time -f '%M' -o "$OUT/import.maxrss" "$BIN" import "$DATA" 2>"$OUT/import.log"
  secs=$(since "$t")
  echo "{\"seconds\": $secs, \"records\": $COUNT, \"max_rss_kb\": $(tail -1 "$OUT/import.maxrss")}" >"$OUT/import.json"
  log "imported in $secs s"
fi
psql "$DATABASE_URL" -qc "VACUUM ANALYZE"

# 3. The peers' structures, on the same rows: FTS (unaccent + GIN), pg_trgm, and the codes.
log "building the peers' indexes"
t=$(now)
psql "$DATABASE_URL" -q <<'SQL'
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE OR REPLACE FUNCTION bench_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent', $1) $$;
DROP TABLE IF EXISTS bench_fts, bench_codes;
CREATE TABLE bench_fts AS SELECT code, name_vi AS name FROM enterprises;
ALTER TABLE bench_fts ADD PRIMARY KEY (code);
ALTER TABLE bench_fts ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', bench_unaccent(name))) STORED;
CREATE INDEX bench_fts_tsv ON bench_fts USING gin (tsv);
CREATE INDEX bench_fts_trgm ON bench_fts USING gin (bench_unaccent(lower(name)) gin_trgm_ops);
CREATE TABLE bench_codes AS SELECT row_number() OVER () AS i, code FROM (SELECT code FROM enterprises ORDER BY md5(code)) c;
ALTER TABLE bench_codes ADD PRIMARY KEY (i);
VACUUM ANALYZE bench_fts;
VACUUM ANALYZE bench_codes;
SQL
echo "{\"seconds\": $(since "$t")}" >"$OUT/peer_setup.json"
# Look-ups draw uniformly from every code; the hot set (the first 20,000) shows what the cache gives.
psql "$DATABASE_URL" -Atc "SELECT code FROM bench_codes ORDER BY i" >"$WORK/codes.txt"
head -20000 "$WORK/codes.txt" >"$WORK/codes-hot.txt"
NCODES=$(wc -l <"$WORK/codes.txt")

# 4. The service.
log "starting the service"
"$BIN" serve --bind "127.0.0.1:$PORT" --rate-client 0 --rate-address 0 --rate-auth-failures 0 \
  >"$OUT/serve.log" 2>&1 &
SERVICE=$!
trap 'kill $SERVICE 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -fs "$URL/readyz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "$URL/readyz" >/dev/null
# The import judged each record on its own owners; the ownership worker follows the chains of those
# with enterprise owners (SPEC §7) before anything is measured.
log "waiting for the ownership worker to follow the imported chains"
t=$(now)
queued=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM ownership_recompute")
until [ "$(psql "$DATABASE_URL" -Atc 'SELECT count(*) FROM ownership_recompute')" = 0 ]; do sleep 1; done
echo "{\"seconds\": $(since "$t"), \"queued\": $queued, \"versions\": $(psql "$DATABASE_URL" -Atc \
  "SELECT count(*) FROM enterprise_versions WHERE actor = 'ownership'")}" >"$OUT/ownership_settle.json"
PORTAL=$("$BIN" clients add "bench-portal-$$" --role portal)
TAX=$("$BIN" clients add "bench-tax-$$" --role tax)
export BENCH_PORTAL_KEY=$PORTAL BENCH_TAX_KEY=$TAX

memory() { awk '/VmRSS|VmHWM/ {gsub(":", "", $1); printf "\"%s_kb\": %s, ", $1, $2}' "/proc/$SERVICE/status"; }

# 5. Look-up by code: the service (wrk, 32 connections) vs pgbench select-by-key (32 clients).
log "look-ups: warming"
CODES=$WORK/codes.txt wrk -t2 -c32 -d10s -s "$ROOT/bench/lookup.lua" "$URL" >/dev/null
pgbench -n -M prepared -c 32 -j 2 -T 10 -D ncodes="$NCODES" -f "$ROOT/bench/select.sql" "$DATABASE_URL" >/dev/null 2>&1
log "look-ups: service, public view"
CODES=$WORK/codes.txt wrk -t2 -c32 -d"${SECS}s" -s "$ROOT/bench/lookup.lua" "$URL" | tail -1 >"$OUT/lookup_public.json"
log "look-ups: service, full view (a key)"
CODES=$WORK/codes.txt KEY=$TAX wrk -t2 -c32 -d"${SECS}s" -s "$ROOT/bench/lookup.lua" "$URL" | tail -1 >"$OUT/lookup_key.json"
log "look-ups: service, public view, hot set of 20,000 codes"
CODES=$WORK/codes-hot.txt wrk -t2 -c32 -d10s -s "$ROOT/bench/lookup.lua" "$URL" >/dev/null
CODES=$WORK/codes-hot.txt wrk -t2 -c32 -d"${SECS}s" -s "$ROOT/bench/lookup.lua" "$URL" | tail -1 >"$OUT/lookup_hot.json"
# pgbench over the first $1 codes, its per-transaction latencies summarised into $2.
pgbench_lookups() {
  rm -rf "$OUT/pgbench" && mkdir -p "$OUT/pgbench"
  (cd "$OUT/pgbench" && pgbench -n -M prepared -c 32 -j 2 -T "$SECS" -D ncodes="$1" -f "$ROOT/bench/select.sql" \
    --log --log-prefix=tx "$DATABASE_URL" >"$OUT/pgbench.txt" 2>&1)
  python3 - "$OUT" "$2" <<'PY'
import glob, json, sys
out, name = sys.argv[1], sys.argv[2]
lat = []
for f in glob.glob(f"{out}/pgbench/tx*"):
    for line in open(f):
        parts = line.split()
        lat.append(int(parts[2]) / 1000.0)
lat.sort()
tps = [l for l in open(f"{out}/pgbench.txt") if l.startswith("tps")][0].split()[2]
at = lambda p: lat[round((len(lat) - 1) * p)]
curve = [[q, at(q / 100)] for q in [1, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97, 98, 99, 99.5, 99.9]]
json.dump({"per_s": float(tps), "requests": len(lat), "latency": {"n": len(lat), "p50_ms": at(.5), "p90_ms": at(.9),
           "p99_ms": at(.99), "p999_ms": at(.999), "max_ms": lat[-1], "curve": curve}}, open(f"{out}/{name}.json", "w"))
PY
  rm -rf "$OUT/pgbench"
}
log "look-ups: pgbench, every code"
pgbench_lookups "$NCODES" lookup_pgbench
log "look-ups: pgbench, hot set"
pgbench_lookups 20000 lookup_pgbench_hot

# 6. Search vs FTS and pg_trgm (2,400 queries: 200 of each of the twelve query forms, so that a
# form's recall is measured on more than a handful of queries); suggest and name check.
log "search"
"$DRIVER" --url "$URL" search --db "$DATABASE_URL" --queries 2400 --trgm-queries 20 >"$OUT/search.json"
log "suggest and name check"
"$DRIVER" --url "$URL" typing --db "$DATABASE_URL" --queries 2000 >"$OUT/typing.json"

# 7. Writes: 16 concurrent writers, and the time until each sampled one is searchable.
log "writes"
"$DRIVER" --url "$URL" writes --writers 16 --secs "$((SECS * 2))" >"$OUT/writes.json"
"$DRIVER" --url "$URL" writes --writers 16 --secs "$((SECS * 2))" --mode change --db "$DATABASE_URL" >"$OUT/changes.json"
# The peer: the same transaction shape in SQL alone is the feed-design benchmark
# (scripts/feed-bench.sh); here the peer is pgbench's own TPC-B-like write at 16 clients.
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ${DB}_pgbench"
psql "$PG/postgres" -qc "CREATE DATABASE ${DB}_pgbench"
pgbench -q -i -s 16 "$PG/${DB}_pgbench" >/dev/null 2>&1
pgbench -n -c 16 -j 2 -T "$SECS" "$PG/${DB}_pgbench" >"$OUT/pgbench_writes.txt" 2>&1
psql "$PG/postgres" -qc "DROP DATABASE ${DB}_pgbench"

# 8. Feed catch-up and export.
log "feed catch-up"
"$DRIVER" --url "$URL" feed --max-events "$COUNT" --secs "$((SECS * 4))" >"$OUT/feed.json"
log "export"
t=$(now)
lines=$(curl -fsS -H "Authorization: Bearer $TAX" "$URL/v1/export" | wc -l)
echo "{\"seconds\": $(since "$t"), \"lines\": $lines}" >"$OUT/export.json"
# The peer: psql's own COPY of the same column.
t=$(now)
plines=$(psql "$DATABASE_URL" -Atc "COPY (SELECT record FROM enterprises ORDER BY code) TO STDOUT" | wc -l)
echo "{\"seconds\": $(since "$t"), \"lines\": $plines}" >"$OUT/export_copy.json"

# 8b. Beneficial owners (SPEC §7): an enterprise's owners and a person's control (wrk, 32
# connections, authority key), a change at the top of 1,110 enterprises downstream while 16 writers
# change records, and the BODS export.
log "beneficial owners"
AUTHORITY=$("$BIN" clients add "bench-authority-$$" --role authority)
psql "$DATABASE_URL" -Atc "SELECT c.code FROM bench_codes c JOIN enterprises e USING (code) \
  WHERE e.enterprise_type <> 'private_enterprise' ORDER BY c.i LIMIT 200000" >"$WORK/bo_codes.txt"
psql "$DATABASE_URL" -Atc "SELECT DISTINCT b->'identity'->>'number' FROM enterprises TABLESAMPLE SYSTEM (2), \
  jsonb_array_elements(coalesce(record->'beneficial_owners', record->'owners')) b \
  WHERE b->'identity'->>'number' IS NOT NULL LIMIT 50000" >"$WORK/bo_people.txt"
SUFFIX=/beneficial-owners CODES=$WORK/bo_codes.txt KEY=$AUTHORITY wrk -t2 -c32 -d10s -s "$ROOT/bench/lookup.lua" "$URL" >/dev/null
SUFFIX=/beneficial-owners CODES=$WORK/bo_codes.txt KEY=$AUTHORITY wrk -t2 -c32 -d"${SECS}s" \
  -s "$ROOT/bench/lookup.lua" "$URL" | tail -1 >"$OUT/bo_owners.json"
PREFIX=/v1/people/ SUFFIX=/control CODES=$WORK/bo_people.txt KEY=$AUTHORITY wrk -t2 -c32 -d"${SECS}s" \
  -s "$ROOT/bench/lookup.lua" "$URL" | tail -1 >"$OUT/bo_control.json"
"$DRIVER" --url "$URL" writes --writers 16 --secs "$((SECS * 2))" --mode change --db "$DATABASE_URL" \
  >"$OUT/bo_writes.json" &
WRITERS=$!
sleep 10
python3 "$ROOT/bench/ownership_chain.py" "$URL" "$PORTAL" "$DATABASE_URL" >"$OUT/bo_chain.json"
wait "$WRITERS"
t=$(now)
statements=$(curl -fsS -H "Authorization: Bearer $AUTHORITY" "$URL/v1/beneficial-owners/export" | wc -l)
echo "{\"seconds\": $(since "$t"), \"statements\": $statements}" >"$OUT/bo_export.json"

# 9. Mixed load (issue 8), when asked for.
if [ "$MIXED_SECS" -gt 0 ]; then
  log "mixed load for $MIXED_SECS s at $MIXED_RATE req/s"
  "$DRIVER" --url "$URL" mixed --db "$DATABASE_URL" --secs "$MIXED_SECS" --rate "$MIXED_RATE" --pid "$SERVICE" \
    >"$OUT/mixed.json"
fi

echo "{$(memory)\"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$OUT/memory.json"
kill "$SERVICE"
wait "$SERVICE" 2>/dev/null || true
trap - EXIT
log "results in $OUT"
python3 "$ROOT/bench/report.py" "$OUT"
