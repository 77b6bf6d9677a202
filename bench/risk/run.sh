#!/usr/bin/env bash
# Risk register benchmark (issue 11): seeds 100,000 risks over 20,000 assets in one
# organisation through `isms risk import`, then measures
#   - the import (wall time),
#   - `isms report risks` as XLSX, CSV and PDF (wall time, peak resident memory),
#   - GET /api/v1/risks?q=WORDS&sort=level&limit=50 (bearer token),
#   - the register page /risks?q=WORDS&sort=level (session; holds the heat map),
#   - the register page unfiltered (the heat map over all 100,000 risks),
#   - the heat map alone (GET /api/v1/risks/heat-map),
# each with wrk at 16 connections (p50/p99, requests/s).
# Usage: bench/risk/run.sh [seconds-of-load]      RISKS=n ASSETS=n to scale;
#        ISMS_BENCH_DATABASE=postgres://... to run on that PostgreSQL database only
#        (a fresh, empty one); ISMS_BENCH_POSTGRES=postgres://user:pw@host:port (a
#        server) runs SQLite and then PostgreSQL on a database created for the run
#        and dropped after it, printing both engines' figures.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."
secs=${1:-10}
risks=${RISKS:-100000}
assets=${ASSETS:-20000}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
# ISMS_BIN=path uses a binary already built (release) instead of building one.
if [ -n "${ISMS_BIN:-}" ]; then
  bin=$ISMS_BIN
else
  cargo build --release -q -p isms
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/isms
fi
python_gen() { python3 "$here/gen.py" "$1" "$risks" "$assets"; }
run_one() {
(
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
export ISMS_DATABASE_URL="${1:-sqlite://$work/bench.db}" RUST_LOG=warn
echo "== database: ${ISMS_DATABASE_URL%%:*}, $risks risks over $assets assets; load average: $(cut -d" " -f1-3 /proc/loadavg)"
"$bin" org create "Bench Ltd" >/dev/null
printf 'correct horse battery' | "$bin" user add bench@example.test --org bench-ltd --role admin --password-stdin >/dev/null
python_gen "$work/risks.csv"
echo "CSV: $(du -h "$work/risks.csv" | cut -f1)"

# measure LABEL CMD... : wall seconds and peak resident memory of one run.
measure() {
  local label=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
  t1=$(date +%s%N)
  printf '%-28s %8.2f s   peak RSS %6.1f MB\n' "$label" "$(awk "BEGIN{print ($t1 - $t0) / 1e9}")" \
    "$(awk -F': ' '/Maximum resident set size/ {print $2 / 1024}' "$work/time.txt")"
}
measure "import $risks risks" "$bin" risk import "$work/risks.csv" --org bench-ltd
for f in xlsx csv pdf; do
  measure "export $f" "$bin" report risks --org bench-ltd --format $f -o "$work/risks.$f"
done
ls -l "$work"/risks.xlsx "$work"/risks.pdf | awk '{printf "  %s %.1f MB\n", $9, $5 / 1048576}'

token=$("$bin" token create bench@example.test --org bench-ltd 2>/dev/null)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.01; done
jar=$work/cookies
csrf=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"//')
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf_token=$csrf&email=bench@example.test&password=correct+horse+battery" "http://127.0.0.1:$port/login"
session=$(awk '$6 == "isms_session" {print $7}' "$jar")
[ -n "$session" ] || { echo "login failed"; exit 1; }
api="http://127.0.0.1:$port/api/v1/risks?q=ransomware%20backup&sort=level&limit=50"
n=$(curl -fsS -H "Authorization: Bearer $token" "$api" | python3 -c 'import json,sys;d=json.load(sys.stdin);print(len(d["items"]), "items, next:", d["next"])')
echo "API page: $n"

load() {
  local label=$1; shift
  echo "$label (wrk -t2 -c16 -d${secs}s):"
  wrk -t2 -c16 -d"${secs}s" --latency "$@" | grep -E "Requests/sec|Non-2xx|  50%|  99%" | sed 's/^/  /'
}
load "GET /api/v1/risks?q=ransomware backup&sort=level&limit=50" -H "Authorization: Bearer $token" "$api"
load "register page /risks?q=ransomware backup&sort=level" -H "Cookie: isms_session=$session" "http://127.0.0.1:$port/risks?q=ransomware+backup&sort=level"
load "register page /risks (heat map of all risks)" -H "Cookie: isms_session=$session" "http://127.0.0.1:$port/risks"
load "GET /api/v1/risks/heat-map (counts and SVG)" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/risks/heat-map"
echo "server resident memory after load: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
echo "load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
)
}

if [ -n "${ISMS_BENCH_DATABASE:-}" ]; then
  run_one "$ISMS_BENCH_DATABASE"
else
  run_one ""
  if [ -n "${ISMS_BENCH_POSTGRES:-}" ]; then
    db="isms_bench_$$"
    psql "${ISMS_BENCH_POSTGRES%/}/postgres" -qc "CREATE DATABASE $db" >/dev/null
    status=0
    run_one "${ISMS_BENCH_POSTGRES%/}/$db" || status=$?
    psql "${ISMS_BENCH_POSTGRES%/}/postgres" -qc "DROP DATABASE $db" >/dev/null || true
    exit $status
  fi
fi
