#!/usr/bin/env bash
# Bounded cargo-fuzz runs of every importer (FUZZ_SECONDS each, 60 by default).
# Each run first replays the seed corpus and every input kept in
# fuzz/regressions/<target>/ (a crash found once stays a test for ever). A new
# crash fails the run; its input is copied to fuzz/regressions/<target>/ so
# that it can be committed beside the fix.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-60}
export CARGO_TARGET_DIR="${CARGO_FUZZ_TARGET_DIR:-/var/tmp/isms-fuzz-target}"
# cargo fuzz needs nightly flags; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet

targets=$(cargo fuzz list)
cargo fuzz build 2>&1 | grep -vE "^\s+(Compiling|Building)" || true
failed=()
for t in $targets; do
  mkdir -p "corpus/$t" "regressions/$t" "artifacts/$t"
  # Work on a copy of the seeds: the run adds inputs it finds to its first folder.
  work=$(mktemp -d)
  cp -r "corpus/$t/." "$work/" 2>/dev/null || true
  printf 'fuzz %s for %ss (%s seeds, %s regressions)\n' "$t" "$seconds" \
    "$(ls "corpus/$t" | wc -l)" "$(ls "regressions/$t" | wc -l)"
  if ! cargo fuzz run "$t" "$work" "regressions/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
      -print_final_stats=1 2>"$work.log"; then
    tail -40 "$work.log"
    for crash in artifacts/"$t"/*; do
      [ -f "$crash" ] && cp "$crash" "regressions/$t/" && echo "kept $crash as regressions/$t/$(basename "$crash")"
    done
    failed+=("$t")
  else
    grep -E '^stat::number_of_executed_units|^Done' "$work.log" | tr '\n' ' '
    echo
  fi
  rm -rf "$work" "$work.log"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]} (inputs kept under fuzz/regressions/: commit them with the fix)"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a crash"
