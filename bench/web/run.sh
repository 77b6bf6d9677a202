#!/usr/bin/env bash
# Foundation benchmark: start-up to a healthy /healthz, idle memory, and
# dashboard throughput at 16 connections (wrk), on SQLite.
# Usage: bench/web/run.sh [seconds-of-load]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p isms
bin=$PWD/${CARGO_TARGET_DIR:-target}/release/isms
[ -x "$bin" ] || bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys;print(json.load(sys.stdin)["target_directory"])')/release/isms
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export ISMS_DATABASE_URL="sqlite://$work/bench.db" RUST_LOG=warn
"$bin" org create "Bench Ltd" >/dev/null
printf 'correct horse battery' | "$bin" user add bench@example.test --org bench-ltd --role admin --password-stdin >/dev/null
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')

t0=$(date +%s%N)
"$bin" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.002; done
t1=$(date +%s%N)
echo "startup to healthy /healthz: $(( (t1 - t0) / 1000000 )) ms"
sleep 2
echo "idle resident memory: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"

jar=$work/cookies
csrf=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"//')
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf_token=$csrf&email=bench@example.test&password=correct+horse+battery" "http://127.0.0.1:$port/login"
session=$(awk '$6 == "isms_session" {print $7}' "$jar")
[ -n "$session" ] || { echo "login failed"; exit 1; }
curl -fsS -H "Cookie: isms_session=$session" "http://127.0.0.1:$port/" | grep -q "Bench Ltd"

echo "dashboard, wrk -t2 -c16 -d${secs}s:"
wrk -t2 -c16 -d"${secs}s" --latency -H "Cookie: isms_session=$session" "http://127.0.0.1:$port/" | tee "$work/wrk.txt" | grep -E "Requests/sec|Non-2xx|Latency +|  50%|  99%"
echo "dashboard readiness figure (htmx fragment), wrk -t2 -c16 -d5s:"
wrk -t2 -c16 -d5s --latency -H "Cookie: isms_session=$session" "http://127.0.0.1:$port/readiness/summary" | grep -E "Requests/sec|Non-2xx|  99%"
echo "resident memory after load: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
