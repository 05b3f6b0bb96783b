#!/usr/bin/env bash
# Installs the BODS validator that scripts/check_bods.py runs: libcovebods (Open Ownership's
# lib-cove-bods, the library behind its online validator) at a fixed version, for `python3`, and
# the org-id.guide list of organisation identifier schemes where libcove2 looks for it.
#
# libcove2 (a dependency of libcovebods) reads `org-ids.json` beside libcove2/common.py and
# fetches http://org-id.guide/download.json whenever that file is missing or was `downloaded`
# before today. The list is taken here from PyPI's `org-id` package instead (its
# org_id/data/download.json, the same document) and written with a `downloaded` date far in the
# future, so the validator never goes to the network at run time and gives the same answer every
# day. Needs no network but PyPI; running it again changes nothing.
#
# Usage: scripts/install_bods_validator.sh   (PYTHON=python3.12 to install for another python)
set -euo pipefail

PYTHON=${PYTHON:-python3}
LIBCOVEBODS_VERSION=0.16.0
ORG_ID_VERSION=0.1.1
# libcove2 compares this with today's date: the list counts as fresh until then.
FRESH_UNTIL=9999-12-31

log() { printf '[bods] %s\n' "$*" >&2; }
pip() {
  # pip warns when it runs as root (as on CI machines); that is intended here.
  PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip --disable-pip-version-check "$@"
}

if "$PYTHON" -c "import importlib.metadata as m, sys, libcovebods; sys.exit(m.version('libcovebods') != '$LIBCOVEBODS_VERSION')" 2>/dev/null; then
  log "libcovebods $LIBCOVEBODS_VERSION is installed"
else
  log "installing libcovebods $LIBCOVEBODS_VERSION with pip"
  pip install --quiet "libcovebods==$LIBCOVEBODS_VERSION"
fi

target=$("$PYTHON" -c 'import os, libcove2.common as c; print(os.path.join(os.path.dirname(os.path.realpath(c.__file__)), "org-ids.json"))')
has_list() {
  "$PYTHON" - "$target" "$FRESH_UNTIL" <<'EOF' 2>/dev/null
import json, sys
with open(sys.argv[1]) as f:
    data = json.load(f)
sys.exit(0 if data.get("downloaded") == sys.argv[2] and any(l.get("code") == "VN-TIN" for l in data["lists"]) else 1)
EOF
}
if has_list; then
  log "org-id.guide list in place: $target"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "downloading org-id $ORG_ID_VERSION (the org-id.guide list) from PyPI"
# A wheel of data only: pure Python, the same for every interpreter.
pip download --quiet --no-deps --python-version 3.13 --only-binary=:all: --dest "$work" "org-id==$ORG_ID_VERSION"
"$PYTHON" - "$work" "$target" "$FRESH_UNTIL" <<'EOF'
import glob, json, os, sys, tempfile, zipfile

work, target, fresh_until = sys.argv[1:4]
(wheel,) = glob.glob(os.path.join(work, "org_id-*.whl"))
with zipfile.ZipFile(wheel) as z:
    data = json.loads(z.read("org_id/data/download.json"))
codes = [entry["code"] for entry in data["lists"]]
if "VN-TIN" not in codes:
    sys.exit(f"the org-id list holds no VN-TIN scheme ({len(codes)} schemes)")
# What libcove2.common.get_orgids_prefixes expects: org-id.guide's download.json, plus the day
# it was downloaded.
data["downloaded"] = fresh_until
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".json")
with os.fdopen(fd, "w") as f:
    json.dump(data, f, indent=2, ensure_ascii=False)
os.chmod(tmp, 0o644)
os.replace(tmp, target)
print(f"[bods] wrote {len(codes)} identifier schemes to {target}", file=sys.stderr)
EOF
