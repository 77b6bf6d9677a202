#!/usr/bin/env bash
# FAIR simulation benchmark (issue 6): isms vs pyfair 0.1a13, whole process, `expected` model.
#   W1: one risk, 1,000,000 iterations.
#   W2: 200 risks x 100,000 iterations, aggregated into a portfolio.
# Usage: bench/fair/run.sh            (REPEAT=n: runs of each, fastest kept; default 5)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${ISMS_BENCH_VENV:-/var/tmp/isms-bench-venv}"
work="${ISMS_BENCH_DIR:-/var/tmp/isms-bench-fair}"
target="${CARGO_TARGET_DIR:-$root/target}"
repeat="${REPEAT:-5}"
mkdir -p "$work"

# /usr/bin/time -v gives wall time and peak RSS of the whole process.
if ! [ -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

# Our binary: `isms risk simulate` once the CLI is wired, else the crate's example.
cd "$root"
# (If the workspace's `isms` does not build right now, fall back to the example and say so.)
if grep -q "run_simulate" crates/isms/src/*.rs 2>/dev/null \
  && cargo build --release -q -p isms 2>"$work/build.txt"; then
  ours=("$target/release/isms" risk simulate)
else
  [ -s "$work/build.txt" ] && echo "note: isms did not build; measuring crates/fair/examples/fair_bench" >&2
  cargo build --release -q -p isms-fair --example fair_bench
  ours=("$target/release/examples/fair_bench")
fi
echo "ours: ${ours[*]}" >&2

# pyfair in a cached virtual environment.
if ! "$venv/bin/python" -c "import pyfair" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pyfair==0.1a13
fi

python3 "$here/gen.py" "$work"

# measure CMD... -> prints "seconds max_rss_kb" of the fastest of $repeat runs
measure() {
  local best_t="" best_m=""
  for _ in $(seq "$repeat"); do
    local t0 t1 t m
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" || {
      cat "$work/err.txt" >&2
      return 1
    }
    t1=$(date +%s%N)
    # Wall time from the clock (time -v only has 10 ms resolution), RSS from time -v.
    t=$(awk "BEGIN{print ($t1 - $t0) / 1e9}")
    m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_m=$m; fi
  done
  echo "$best_t $best_m"
}

printf 'machine: %s, %s cores; repeat %s (fastest kept)\n' "$(uname -m)" "$(nproc)" "$repeat"
printf '%-4s %-8s %10s %12s\n' "load" "tool" "wall s" "max RSS MB"
declare -A T M
for w in w1 w2; do
  read -r t m < <(measure "${ours[@]}" "$work/$w.yaml" --format json)
  T[$w,ours]=$t; M[$w,ours]=$m
  cp "$work/out.txt" "$work/$w.ours.json"
  printf '%-4s %-8s %10.3f %12.1f\n' "$w" isms "$t" "$(awk "BEGIN{print $m/1024}")"
  read -r t m < <(measure "$venv/bin/python" "$here/pyfair_run.py" "$w")
  T[$w,py]=$t; M[$w,py]=$m
  cp "$work/out.txt" "$work/$w.pyfair.txt"
  printf '%-4s %-8s %10.3f %12.1f\n' "$w" pyfair "$t" "$(awk "BEGIN{print $m/1024}")"
done
echo
printf '%-4s %16s %16s\n' "load" "speed-up (x)" "memory ratio"
for w in w1 w2; do
  printf '%-4s %16.1f %16.1f\n' "$w" \
    "$(awk "BEGIN{print ${T[$w,py]}/${T[$w,ours]}}")" \
    "$(awk "BEGIN{print ${M[$w,py]}/${M[$w,ours]}}")"
done
echo
echo "portfolio P50/P99, isms vs pyfair (W2):"
python3 -c "import json;r=json.load(open('$work/w2.ours.json'))['portfolio'];print('  isms   mean %.0f p50 %.0f p99 %.0f'%(r['mean'],r['p50'],r['p99']))"
sed 's/^/  pyfair /' "$work/w2.pyfair.txt"
