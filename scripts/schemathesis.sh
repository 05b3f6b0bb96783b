#!/usr/bin/env bash
# Schemathesis against the service's own /openapi.json: the debug binary on a fresh database with
# demo data and a private data directory, fuzzed with a key of each role and without a key (no
# 5xx, no answer that breaks the document, no crash). Exits non-zero on any failure; the database
# and the data directory are removed at the end. Needs `st` (pip install schemathesis) and psql.
#
# Usage: scripts/schemathesis.sh [SERVER_URL]   (default $REGISTRY_TEST_DATABASE_URL, or
#        postgres://postgres@127.0.0.1:5432/postgres). SCHEMATHESIS_EXAMPLES (default 15) and
#        SCHEMATHESIS_SEED (default 1) bound and fix the run; SCHEMATHESIS_OUT=DIR keeps the reports
#        and the service's log. The operation-level allowances are in
#        tests/schemathesis/schemathesis.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SERVER=${1:-${REGISTRY_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-15}
SEED=${SCHEMATHESIS_SEED:-1}
DB=registry_schemathesis_$$
URL=${SERVER%/*}/$DB
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/registry
WORK=$(mktemp -d)
SERVE_PID=

log() { printf '[schemathesis] %s\n' "$*" >&2; }

cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  psql "$SERVER" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || log "could not drop $DB"
  if [ -n "${SCHEMATHESIS_OUT:-}" ]; then
    mkdir -p "$SCHEMATHESIS_OUT" && cp "$WORK"/st-*.txt "$WORK"/serve.log "$WORK"/schemathesis.toml "$SCHEMATHESIS_OUT"/ 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if command -v st >/dev/null; then
  ST=(st)
elif python3 -c 'import schemathesis' 2>/dev/null; then
  ST=(python3 -m schemathesis.cli)
else
  log "schemathesis is missing: python3 -m pip install schemathesis"
  exit 1
fi
started=$(date +%s)

log "building the debug binary"
cargo build --locked --quiet --bin registry

export DATABASE_URL=$URL REGISTRY_DATA_DIR=$WORK/var REGISTRY_LOG=info
"$BIN" migrate >/dev/null 2>&1
declare -A KEY
for role in portal transport tax authority admin; do
  KEY[$role]=$("$BIN" clients add "schemathesis-$role" --role "$role" 2>/dev/null)
done

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
log "starting the service on $BASE (database $DB)"
# Rate limits off: the fuzzer is one client sending as fast as it can.
REGISTRY_RATE_CLIENT=0 REGISTRY_RATE_ADDRESS=0 REGISTRY_RATE_AUTH_FAILURES=0 \
  "$BIN" serve --demo --demo-count 200 --bind "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 120); do
  curl -sf "$BASE/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVE_PID" 2>/dev/null || { tail -n 30 "$WORK/serve.log" >&2; log "the service did not start"; exit 1; }
  sleep 0.5
done
curl -sf "$BASE/readyz" >/dev/null || { tail -n 30 "$WORK/serve.log" >&2; log "the service is not ready"; exit 1; }

# Real identifiers, so that generated requests reach records and not only 404s: demo codes, and
# an enterprise of SPEC Appendix A with a branch and a road-transport licence.
# The register's dates are legal dates in Vietnam (UTC+7), where it may already be tomorrow.
today=$(date -u -d "+7 hours" +%F)
next_year=$(date -u -d "+7 hours +1 year" +%F)
code=$(curl -sf "$BASE/v1/enterprises" -H "Authorization: Bearer ${KEY[portal]}" -H 'Content-Type: application/json' \
  -d @tests/common/appendix_a.json | python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])')
unit=$(curl -sf "$BASE/v1/enterprises/$code/units" -H "Authorization: Bearer ${KEY[portal]}" -H 'Content-Type: application/json' \
  -d '{"kind": "branch", "name": "Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát tại Hồ Chí Minh",
       "address": {"street": "Số 5 Nguyễn Huệ", "ward_code": "26743", "province_code": "79"}}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["unit_code"])')
curl -sf "$BASE/v1/enterprises/$code/licenses" -H "Authorization: Bearer ${KEY[transport]}" -H 'Content-Type: application/json' \
  -d "{\"number\": \"GP-VT-$code\", \"kind\": \"road_transport_business\", \"issued_on\": \"$today\",
       \"expires_on\": \"$next_year\", \"status\": \"valid\"}" >/dev/null
{
  echo "\"$code\""
  curl -sf "$BASE/v1/search?limit=20" | python3 -c 'import json, sys; [print(json.dumps(h["code"])) for h in json.load(sys.stdin)["hits"]]'
} >"$WORK/codes.dict"
echo "\"$unit\"" >"$WORK/units.dict"
# Filters of the 2025 units, and feed cursors that this feed handed out.
curl -sf "$BASE/v1/reference/provinces" | python3 -c 'import json, sys; [print(json.dumps(p["code"])) for p in json.load(sys.stdin)]' >"$WORK/provinces.dict"
curl -sf "$BASE/v1/reference/provinces/79/wards" | python3 -c 'import json, sys; [print(json.dumps(w["code"])) for w in json.load(sys.stdin)]' >"$WORK/wards.dict"
for after in "" "&after=$(curl -sf "$BASE/v1/changes?limit=7" -H "Authorization: Bearer ${KEY[tax]}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["next"])')"; do
  curl -sf "$BASE/v1/changes?limit=3$after" -H "Authorization: Bearer ${KEY[tax]}" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["next"]))'
done >"$WORK/cursors.dict"
echo "\"GP-VT-$code\"" >"$WORK/licenses.dict"
# The people of SPEC Appendix A (an owner and legal representative, and an owner).
printf '"%s"\n' 001080012345 001185054321 >"$WORK/people.dict"
printf '"\\"v%s\\""\n' 1 2 3 4 >"$WORK/etags.dict"
{
  cat tests/schemathesis/schemathesis.toml
  cat <<EOF

# Written by scripts/schemathesis.sh: identifiers of this run's register.
[dictionaries]
codes = { from-file = "$WORK/codes.dict" }
units = { from-file = "$WORK/units.dict" }
licenses = { from-file = "$WORK/licenses.dict" }
etags = { from-file = "$WORK/etags.dict" }
provinces = { from-file = "$WORK/provinces.dict" }
wards = { from-file = "$WORK/wards.dict" }
cursors = { from-file = "$WORK/cursors.dict" }
people = { from-file = "$WORK/people.dict" }

[parameters]
"path.code" = { dictionary = "codes", probability = 0.5 }
"path.unit_code" = { dictionary = "units", probability = 0.5 }
"path.number" = { dictionary = "licenses", probability = 0.5 }
"header.If-Match" = { dictionary = "etags", probability = 0.5 }
"query.province" = { dictionary = "provinces", probability = 0.8 }
"query.ward" = { dictionary = "wards", probability = 0.8 }
"query.after" = { dictionary = "cursors", probability = 0.5 }
"path.identity_number" = { dictionary = "people", probability = 0.5 }
EOF
} >"$WORK/schemathesis.toml"

failed=()
for who in admin portal transport tax authority none; do
  auth=()
  [ "$who" != none ] && auth=(-H "Authorization: Bearer ${KEY[$who]}")
  log "st run as $who (seed $SEED, at most $EXAMPLES examples per operation)"
  if ! "${ST[@]}" --config-file "$WORK/schemathesis.toml" run "$BASE/openapi.json" "${auth[@]}" \
    --checks all --phases examples,coverage,fuzzing,stateful --max-examples "$EXAMPLES" --seed "$SEED" \
    --workers 1 --no-color >"$WORK/st-$who.txt" 2>&1; then
    cat "$WORK/st-$who.txt"
    failed+=("$who")
  else
    grep -E '^(=+ .* =+|  [0-9]+ generated.*)$' "$WORK/st-$who.txt" >&2 || true
  fi
  kill -0 "$SERVE_PID" 2>/dev/null || { failed+=("crash"); break; }
done

# No crash and no 5xx, also where no check of the run looked.
if kill -0 "$SERVE_PID" 2>/dev/null && curl -sf "$BASE/readyz" >/dev/null; then
  :
else
  log "the service died or is no longer ready"
  failed+=("service")
fi
# (actix-http logs a request it cannot parse, such as a header with a NUL byte, as an error of its
# own; the client got a 400 and the service did nothing wrong.)
if sed 's/\x1b\[[0-9;]*m//g' "$WORK/serve.log" | grep -aE 'panicked| ERROR ' |
  grep -av 'actix_http::h1::dispatcher: stream error: request parse error' >&2; then
  log "the service panicked or logged an error, such as a 5xx answer (lines above)"
  failed+=("log")
fi

log "done in $(($(date +%s) - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "no failures"
