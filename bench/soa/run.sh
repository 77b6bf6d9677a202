#!/usr/bin/env bash
# SoA benchmark (issue 5 targets: page < 30 ms, PDF < 1 s, XLSX < 200 ms), on SQLite:
# - the SoA page (93 controls, server-side render) and the JSON list, median of 50 requests;
# - the PDF, XLSX and CSV exports of an approved SoA, median of 20 requests over HTTP;
# - the same exports through `isms report soa` (process start and database open included).
# Usage: bench/soa/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p isms
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
bin=$target/release/isms
pid=
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export ISMS_DATABASE_URL="sqlite://$work/bench.db" RUST_LOG=warn
"$bin" org create "Bench Ltd" >/dev/null
printf 'correct horse battery' | "$bin" user add bench@example.test --org bench-ltd --role admin --password-stdin >/dev/null
token=$("$bin" token create bench@example.test --org bench-ltd 2>/dev/null)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.01; done
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $token"

# A realistic SoA: every control justified, some excluded, owners and reasons set; approved.
curl -fsS -H "$auth" "$base/api/v1/soa" >/dev/null
python3 - "$base" "$token" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
soa = call("GET", "/api/v1/soa")["entries"]
for i, e in enumerate(soa):
    applicable = i % 9 != 4
    body = {"applicable": applicable, "version": e["version"],
            "justification": ("Treats risks R-%d and R-%d from the 2026 risk assessment; required by customer contracts and our ISMS policy. " % (i, i + 7)) * 2,
            "status": ["implemented", "partially_implemented", "planned", "not_implemented"][i % 4],
            "owner": "bench@example.test", "notes": "Reviewed in the quarterly ISMS meeting."}
    if applicable:
        body["reasons"] = ["risk_treatment", "contractual"] if i % 2 else ["legal_regulatory", "business"]
    call("PATCH", "/api/v1/soa/" + e["control_id"], body)
call("POST", "/api/v1/soa/approve", {"note": "bench"})
PY

jar=$work/cookies
csrf=$(curl -s -c "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"//')
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf_token=$csrf&email=bench@example.test&password=correct+horse+battery" "$base/login"
session=$(awk '$6 == "isms_session" {print $7}' "$jar")
[ -n "$session" ] || { echo "login failed"; exit 1; }

median() { # url header n -> median total time in ms
  for _ in $(seq "$3"); do curl -fsS -o /dev/null -w '%{time_total}\n' -H "$2" "$1"; done |
    sort -n | awk '{a[NR]=$1} END {printf "%.1f ms", a[int((NR+1)/2)]*1000}'
}
curl -fsS -H "Cookie: isms_session=$session" "$base/soa" | grep -q "8.34" || { echo "SoA page failed"; exit 1; }
echo "SoA page (93 controls, HTML):     $(median "$base/soa" "Cookie: isms_session=$session" 50)"
echo "SoA JSON (GET /api/v1/soa):       $(median "$base/api/v1/soa" "$auth" 50)"
for f in pdf xlsx csv; do
  echo "export $f over HTTP:               $(median "$base/api/v1/soa/export?format=$f" "$auth" 20)"
done
for f in pdf xlsx csv; do
  t0=$(date +%s%N); "$bin" report soa --org bench-ltd --format $f -o "$work/soa.$f" >/dev/null; t1=$(date +%s%N)
  echo "isms report soa --format $f:      $(( (t1 - t0) / 1000000 )) ms (process included), $(stat -c %s "$work/soa.$f") bytes"
done
