#!/usr/bin/env python3
"""SPEC §7's recomputation bound, measured: a change at the top of a tree of enterprises that hold
one another, and how long until every enterprise downstream has been recomputed by the register.

    python3 bench/ownership_chain.py URL PORTAL_KEY DATABASE_URL [--levels 3] [--fanout 10]

Registers a top enterprise T owned by a person X, then `fanout` enterprises each 80 % owned by T,
`fanout` under each of those, and so on for `levels` levels (10 + 100 + 1,000 = 1,110 downstream by
default); each declares nothing, so every one is flagged with X as an undeclared beneficial owner
(80 %, 64 %, 51.2 % down the levels). Then X sells T to Y: the change is one PATCH, and the
register's worker recomputes the 1,110 enterprises, each of which now flags Y instead of X (a new
version each). Prints one JSON line: the PATCH's latency, and the seconds from its answer until
the recomputation queue is empty and the deepest enterprise flags Y.

Writes running meanwhile (bench/run.sh starts the benchmark driver's writers beside it) show
whether the recomputation holds the register's write rate.
"""
import json
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request

URL, KEY, DB = sys.argv[1], sys.argv[2], sys.argv[3]
LEVELS = int(sys.argv[sys.argv.index("--levels") + 1]) if "--levels" in sys.argv else 3
FANOUT = int(sys.argv[sys.argv.index("--fanout") + 1]) if "--fanout" in sys.argv else 10
rng = random.Random(7)
SYLLABLES = ("an bình cát dương giang hà hải hưng khang kim lâm lộc minh nam ngọc nguyên phát phong phú "
             "quang sơn tài thành thịnh tiến toàn trung trường tuấn việt vinh xuân yên").split()


def call(method, path, body=None, etag=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {KEY}")
    if data is not None:
        req.add_header("Content-Type", "application/merge-patch+json" if method == "PATCH" else "application/json")
    if etag:
        req.add_header("If-Match", etag)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read()), r.headers.get("ETag")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), None


def cccd(year):
    return f"001{0 if year < 2000 else 2}{year % 100:02d}{rng.randrange(10**6):06d}"


def person(name, number, year):
    return {"full_name": name, "position": "Giám đốc", "birth_date": f"{year}-01-15", "nationality": "VN",
            "identity": {"kind": "cccd", "number": number}}


def owner(name, number, capital):
    return {"kind": "individual", "name": name, "nationality": "VN", "identity": {"kind": "cccd", "number": number},
            "capital_vnd": capital}


def register(kind, owners, rep, declared=None):
    for _ in range(20):
        proper = " ".join(rng.choice(SYLLABLES).capitalize() for _ in range(4))
        prefix = "Công ty TNHH MTV" if kind == "llc_single" else "Công ty TNHH"
        body = {"type": kind, "name": {"vi": f"{prefix} Đầu Tư {proper}"},
                "head_office": {"street": "Số 1 đường Lê Lợi", "ward_code": "26743", "province_code": "79"},
                "charter_capital_vnd": sum(o["capital_vnd"] for o in owners),
                "business_lines": [{"vsic": "6619", "main": True}], "legal_representatives": [rep], "owners": owners}
        if declared:
            body["beneficial_owners"] = declared
        status, answer, etag = call("POST", "/v1/enterprises", body)
        if status == 201:
            return answer["code"], etag
        if status != 409:
            raise SystemExit(f"registration refused: {status} {answer}")
    raise SystemExit("no free name after 20 tries")


def sql(query):
    return subprocess.run(["psql", DB, "-Atc", query], check=True, capture_output=True, text=True).stdout.strip()


def declared(name, number, year):
    return [{"full_name": name, "birth_date": f"{year}-01-15", "nationality": "VN",
             "identity": {"kind": "cccd", "number": number}, "basis": ["ownership"], "ownership_percent": 100}]


x_number, y_number = cccd(1970), cccd(1975)
rep = person("Phan Văn Xuân", x_number, 1970)
top, top_etag = register("llc_single", [owner("Phan Văn Xuân", x_number, 1_000_000_000)], rep,
                         declared("Phan Văn Xuân", x_number, 1970))
t = time.time()
level, downstream = [top], []
for _ in range(LEVELS):
    below = []
    for parent in level:
        for _ in range(FANOUT):
            minority = cccd(1985)
            code, _ = register("llc_multi", [
                {"kind": "organisation", "name": f"Doanh nghiệp {parent}", "enterprise_code": parent,
                 "capital_vnd": 800_000_000},
                owner("Đỗ Thị Hoa", minority, 200_000_000)], person("Đỗ Thị Hoa", minority, 1985))
            below.append(code)
    downstream += below
    level = below
built = time.time() - t
deepest = level[-1]
# Let the registrations' own work settle (nothing is queued by a registration).
time.sleep(2)

t0 = time.time()
status, answer, _ = call("PATCH", f"/v1/enterprises/{top}", {
    "owners": [owner("Vũ Thị Yến", y_number, 1_000_000_000)],
    "legal_representatives": [person("Vũ Thị Yến", y_number, 1975)],
    "beneficial_owners": declared("Vũ Thị Yến", y_number, 1975)}, top_etag)
patch_ms = (time.time() - t0) * 1000
if status != 200:
    raise SystemExit(f"the change was refused: {status} {answer}")
answered = time.time()
while True:
    queued = int(sql("SELECT count(*) FROM ownership_recompute"))
    flagged = sql(f"SELECT record->'discrepancies'->0->>'identity_number' FROM enterprises WHERE code = '{deepest}'")
    if queued == 0 and flagged == y_number:
        break
    if time.time() - answered > 600:
        raise SystemExit("the recomputation did not finish in 10 minutes")
    time.sleep(0.05)
done = time.time() - answered
versions = int(sql(f"SELECT count(*) FROM enterprise_versions WHERE actor = 'ownership' "
                   f"AND recorded_at >= to_timestamp({answered - 1})"))
print(json.dumps({"downstream": len(downstream), "levels": LEVELS, "fanout": FANOUT, "build_seconds": round(built, 1),
                  "patch_ms": round(patch_ms, 1), "recompute_seconds": round(done, 3), "versions": versions,
                  "per_s": round(len(downstream) / done, 1) if done else None}))
