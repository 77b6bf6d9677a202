#!/usr/bin/env bash
# Evidence upload benchmark (issue 12): uploads one large file (1 GB by
# default) through the API (POST /api/v1/controls/{id}/evidence, multipart)
# to the folder blob store of a release `isms serve`, and compares it with
# `cp` of the same file on the same disk (with and without a final sync,
# since the upload syncs its file before answering). Prints the server's
# peak resident memory (VmHWM) and the machine's load average.
# Targets: peak RSS under 100 MB; upload within 2x of cp.
# Usage: bench/evidence/run.sh            SIZE_MB=n to change the size;
#        BENCH_DIR=dir for the disk to use (default /var/tmp);
#        ISMS_BIN=path to use a release binary already built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."
size_mb=${SIZE_MB:-1024}
if [ -n "${ISMS_BIN:-}" ]; then
  bin=$ISMS_BIN
else
  cargo build --release -q -p isms
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/isms
fi
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/isms-evidence-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
export ISMS_DATABASE_URL="sqlite://$work/bench.db" RUST_LOG=warn
"$bin" org create "Bench Ltd" >/dev/null
printf 'correct horse battery' | "$bin" user add bench@example.test --org bench-ltd --role admin --password-stdin >/dev/null
token=$("$bin" token create bench@example.test --org bench-ltd 2>/dev/null)

echo "machine: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "disk: $(df -h "$work" | awk 'NR==2 {print $1, $6}')"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$work/evidence.bin"
sync
echo "file: $size_mb MB of random bytes"

secs() { awk "BEGIN{printf \"%.2f\", ($2 - $1) / 1e9}"; }
t0=$(date +%s%N); cp "$work/evidence.bin" "$work/copy.bin"; t1=$(date +%s%N); sync; t2=$(date +%s%N)
cp_s=$(secs "$t0" "$t1"); cp_sync_s=$(secs "$t0" "$t2")
rm -f "$work/copy.bin"; sync

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" --blob-store "file://$work/blobs" \
  --max-upload-mb $((size_mb + 16)) --reminder-minutes 0 >/dev/null 2>&1 &
pid=$!
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.01; done
base="http://127.0.0.1:$port/api/v1"
control=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name": "Backup restore test", "annex_a": ["8.13"]}' "$base/controls" |
  python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
idle=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$pid/status)

t0=$(date +%s%N)
out=$(curl -fsS -H "Authorization: Bearer $token" -F "file=@$work/evidence.bin;type=application/octet-stream" \
  -F "title=Restore test image" "$base/controls/$control/evidence")
t1=$(date +%s%N)
up_s=$(secs "$t0" "$t1")
peak=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$pid/status)
sha=$(echo "$out" | python3 -c 'import json,sys;print(json.load(sys.stdin)["sha256"])')
[ "$sha" = "$(sha256sum "$work/evidence.bin" | cut -d' ' -f1)" ] || { echo "SHA-256 differs: $out"; exit 1; }
cmp -s "$work/evidence.bin" "$work/blobs/$sha" || { echo "the stored blob differs"; exit 1; }

printf 'cp                      %8s s  (%6.0f MB/s)\n' "$cp_s" "$(awk "BEGIN{print $size_mb / $cp_s}")"
printf 'cp + sync               %8s s  (%6.0f MB/s)\n' "$cp_sync_s" "$(awk "BEGIN{print $size_mb / $cp_sync_s}")"
printf 'API upload (synced)     %8s s  (%6.0f MB/s)  %.2fx cp, %.2fx cp+sync\n' "$up_s" \
  "$(awk "BEGIN{print $size_mb / $up_s}")" "$(awk "BEGIN{print $up_s / $cp_s}")" "$(awk "BEGIN{print $up_s / $cp_sync_s}")"
echo "server peak resident memory (VmHWM): $peak MB (idle before the upload: $idle MB)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
