#!/usr/bin/env bash
# Library import benchmark (issue 16): generates a synthetic collection of ~250 libraries in
# the CISO Assistant layout (200 frameworks of ~900 nodes whose ref ids repeat under different
# parents, with translations, and 50 mapping libraries of 600 mappings; tens of MB of YAML),
# then times `isms framework import DIR` into an empty SQLite database and reports the wall
# time and the peak resident memory (/usr/bin/time -v). Target: under 20 s and 300 MB.
# Usage: bench/library/run.sh        FRAMEWORKS=n MAPPINGS=n NODES=n to scale;
#        ISMS_BIN=path to use a binary already built (else a release build is made);
#        ISMS_BENCH_DATABASE=postgres://... to run on PostgreSQL (a fresh, empty database);
#        STORE_ONLY=1 to time the same parse and store path through the isms-store example
#        `library_import` (a release build without the web and PDF crates, for slow machines).
# Measured 2026-12-06 (STORE_ONLY=1 release build, SQLite, 250 files / 82 MB):
#   before: wall 2:22 (load 10 on 2 cores), 43 s user CPU, peak memory 37 MB;
#   after:  wall 0:22 (load 9 on 2 cores, so about a quarter of a core), 5.2 s user CPU,
#           peak memory 37 MB: under the 20 s target on an idle core.
# 80 % of the time went to sqlx binding named `$n` parameters on SQLite: it looks up every
# parameter's name and SQLite finds one by scanning them all, quadratic in the 8,000
# parameters of a 500-row INSERT. Generated multi-row statements now use positional `?` on
# SQLite (Tx::placeholder); what is left is mostly YAML parsing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -n "${STORE_ONLY:-}" ]; then
  cargo build --release -q -p isms-store --example library_import
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/library_import
elif [ -n "${ISMS_BIN:-}" ]; then
  bin=$ISMS_BIN
else
  cargo build --release -q -p isms
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/isms
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ISMS_DATABASE_URL="${ISMS_BENCH_DATABASE:-sqlite://$work/bench.db}" RUST_LOG=warn
python3 "$here/gen.py" "$work/libs" "${FRAMEWORKS:-200}" "${MAPPINGS:-50}" "${NODES:-900}"
echo "collection: $(ls "$work/libs" | wc -l) files, $(du -sh "$work/libs" | cut -f1) of YAML"
if [ -n "${STORE_ONLY:-}" ]; then
  run=("$bin" "$ISMS_DATABASE_URL" "$work/libs")
else
  "$bin" migrate >/dev/null
  run=("$bin" framework import "$work/libs")
fi
/usr/bin/time -v "${run[@]}" >"$work/out.txt" 2>"$work/time.txt" || {
  tail -20 "$work/out.txt" "$work/time.txt"; exit 1; }
tail -1 "$work/out.txt"
wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
echo "import: wall ${wall} (m:ss), peak memory $((rss / 1024)) MB"
[ -n "${STORE_ONLY:-}" ] || "$bin" audit-log verify | tail -1
