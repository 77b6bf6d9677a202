#!/usr/bin/env bash
# Coverage benchmark (issue 12: "coverage view of 1,000 controls across ISO 27001, CSF 2.0 and
# the SP 800-53 MODERATE baseline under 100 ms"), release build, SQLite:
# - installs CSF 2.0 (OSCAL catalog), the SP 800-53 Rev 5 MODERATE baseline (NIST's resolved
#   profile catalog, stored under the id nist-800-53r5 so the built-in NIST mappings apply)
#   and the CSF 2.0 -> ISO 27001:2022 mapping file;
# - seeds 1,000 applied controls through the API, each linked to one Annex A control, one CSF
#   2.0 subcategory and two SP 800-53 controls (statuses mixed), so every framework is covered
#   directly and through the mappings;
# - measures the coverage page (HTML) and GET /api/v1/coverage/{framework} of each framework:
#   p50 and p99 of RUNS requests (curl's total time, loopback).
# The machine may be shared: the load average is printed with the figures.
# Env: CARGO_TARGET_DIR (default <repo>/target), RUNS (default 100), ISMS_DATA (default <repo>/testdata),
# SKIP_BUILD=1 to measure the release binary already built, ISMS_BIN to measure another binary.
# Usage: bench/controls/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
data=${ISMS_DATA:-$repo/testdata}
runs=${RUNS:-100}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p isms
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
bin=${ISMS_BIN:-$target/release/isms}
pid=
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export ISMS_DATABASE_URL="sqlite://$work/bench.db" RUST_LOG=warn
"$bin" org create "Bench Ltd" >/dev/null
printf 'correct horse battery' | "$bin" user add bench@example.test --org bench-ltd --role admin --password-stdin >/dev/null
token=$("$bin" token create bench@example.test --org bench-ltd 2>/dev/null)
"$bin" framework import "$data/nist-csf-2.0/NIST_CSF_v2.0_catalog.json" >/dev/null
"$bin" framework import --id nist-800-53r5 \
  "$data/oscal/nist-sp800-53-rev5/resolved-catalogs/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json" >/dev/null
"$bin" mapping import "$data/mappings/nist-csf-2.0-to-iso27001-2022.csv" >/dev/null
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.05; done
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $token"

t0=$(date +%s%N)
python3 - "$port" "$token" <<'PY'
import http.client, json, sys
port, token = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port)
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
def call(method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=H)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None
def leaves(slug, pred):
    reqs = call("GET", f"/api/v1/frameworks/{slug}/requirements")
    reqs = reqs["requirements"] if isinstance(reqs, dict) else reqs
    return [r["ref_id"] for r in reqs if pred(r)]
annex = leaves("iso27001-2022", lambda r: r["ref_id"].startswith("A.") and r["ref_id"].count(".") == 2)
csf = leaves("nist-csf-2.0", lambda r: r["ref_id"].count("-") == 1 and "." in r["ref_id"])
sp = leaves("nist-800-53r5", lambda r: "-" in r["ref_id"] and "(" not in r["ref_id"])
assert annex and csf and sp, (len(annex), len(csf), len(sp))
statuses = ["implemented", "in_progress", "planned", "implemented", "retired"]
for i in range(1000):
    call("POST", "/api/v1/controls", {
        "name": f"Control {i:04d}: {sp[i % len(sp)]} measure",
        "owner": "bench@example.test",
        "status": statuses[i % len(statuses)],
        "annex_a": [annex[i % len(annex)][2:]],
        "requirements": [
            {"framework": "nist-csf-2.0", "ref_id": csf[(i * 7) % len(csf)]},
            {"framework": "nist-800-53r5", "ref_id": sp[i % len(sp)]},
            {"framework": "nist-800-53r5", "ref_id": sp[(i * 13 + 5) % len(sp)]},
        ],
    })
print(f"seeded 1,000 controls: {len(annex)} Annex A controls, {len(csf)} CSF 2.0 subcategories, {len(sp)} SP 800-53 controls to link")
PY
t1=$(date +%s%N)
echo "seeding took $(( (t1 - t0) / 1000000 )) ms"

jar=$work/cookies
csrf=$(curl -s -c "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"//')
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf_token=$csrf&email=bench@example.test&password=correct+horse+battery" "$base/login"
session=$(awk '$6 == "isms_session" {print $7}' "$jar")
[ -n "$session" ] || { echo "login failed"; exit 1; }

stats() { # url header n -> "p50 X ms, p99 Y ms"
  curl -fsS -o /dev/null -H "$2" "$1" # warm
  for _ in $(seq "$3"); do curl -fsS -o /dev/null -w '%{time_total}\n' -H "$2" "$1"; done |
    sort -n | awk '{a[NR]=$1} END {i50=int(NR*0.5+0.5); i99=int(NR*0.99+0.5); if (i99<1) i99=1; printf "p50 %6.1f ms, p99 %6.1f ms", a[i50]*1000, a[i99]*1000}'
}
for fw in iso27001-2022 nist-csf-2.0 nist-800-53r5; do
  rows=$(curl -fsS -H "$auth" "$base/api/v1/coverage/$fw" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%d requirements: %d implemented, %d planned only, %d none" % (len(d["rows"]), d["implemented"], d["planned"], d["none"]))')
  echo "$fw ($rows)"
  echo "  coverage page (HTML):            $(stats "$base/coverage/$fw" "Cookie: isms_session=$session" "$runs")"
  echo "  GET /api/v1/coverage/$fw: $(stats "$base/api/v1/coverage/$fw" "$auth" "$runs")"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
