#!/usr/bin/env bash
# Benchmark: `isms oscal resolve` against compliance-trestle 5.2 (PyPI), side by side.
#
# Workload (issue 4): load and schema-validate the full SP 800-53 Rev 5 catalog (legacy 1.0.0
# edition, 1,189 controls), resolve the MODERATE baseline profile against it, write the
# resolved catalog as JSON; each tool as a whole process.
#
# Both tools get the same inputs: a copy of NIST's MODERATE profile whose import points at a
# local copy of the catalog (trestle cannot follow the profile's back-matter rlinks offline).
#
# Env: CARGO_TARGET_DIR (default <repo>/target), TRESTLE_VENV (default
# /var/tmp/isms-bench-venv-trestle), RUNS (default 20), ISMS_DATA (default <repo>/testdata),
# OURS (a command prefix to use instead of the auto-detected binary).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA=${ISMS_DATA:-$REPO/testdata}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
VENV=${TRESTLE_VENV:-/var/tmp/isms-bench-venv-trestle}
RUNS=${RUNS:-20}
CATALOG_SRC=$DATA/oscal/nist-sp800-53-rev5/legacy-catalog-oscal-1.0.0/NIST_SP-800-53_rev5_catalog.json
PROFILE_SRC=$DATA/oscal/nist-sp800-53-rev5/profiles/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json

WORK=$(mktemp -d /tmp/isms-bench-oscal.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "== build (release)"
( cd "$REPO" && CARGO_TARGET_DIR=$TARGET cargo build --release -q -p isms-oscal --example oscal )
if [[ -n ${OURS:-} ]]; then
    read -r -a OURS_CMD <<<"$OURS"
elif [[ -x $TARGET/release/isms ]] && "$TARGET/release/isms" oscal resolve --help >/dev/null 2>&1; then
    OURS_CMD=("$TARGET/release/isms" oscal)
else
    OURS_CMD=("$TARGET/release/examples/oscal")
fi
echo "ours: ${OURS_CMD[*]}"

echo "== trestle venv ($VENV)"
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import trestle' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'compliance-trestle==5.2.*'
fi
TRESTLE_VERSION=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("compliance-trestle"))')
echo "compliance-trestle $TRESTLE_VERSION"

echo "== inputs ($WORK)"
mkdir -p "$WORK/.trestle"           # trestle wants a workspace root for its fetch cache
cp "$CATALOG_SRC" "$WORK/NIST_SP-800-53_rev5_catalog.json"
python3 - "$PROFILE_SRC" "$WORK/moderate_profile.json" "$WORK/NIST_SP-800-53_rev5_catalog.json" <<'PY'
import json, sys
src, dst, catalog = sys.argv[1:4]
p = json.load(open(src))
for imp in p["profile"]["imports"]:
    imp["href"] = catalog
json.dump(p, open(dst, "w"), indent=2)
PY

OURS_RESOLVE=("${OURS_CMD[@]}" resolve "$WORK/moderate_profile.json" --catalog "$WORK/NIST_SP-800-53_rev5_catalog.json" -o "$WORK/out-isms.json")
TRESTLE_RESOLVE=("$VENV/bin/python" "$REPO/bench/oscal/trestle_resolve.py" "$WORK" "$WORK/moderate_profile.json" "$WORK/out-trestle.json")

echo "== check both outputs once"
"${OURS_RESOLVE[@]}"
"${TRESTLE_RESOLVE[@]}"
"${OURS_CMD[@]}" validate "$WORK/out-isms.json"
python3 - "$WORK/out-isms.json" "$WORK/out-trestle.json" <<'PY'
import json, sys
def counts(path):
    cat = json.load(open(path))["catalog"]
    c = {"groups": 0, "top": 0, "enhancements": 0, "params": 0}
    ids = []
    def control(x, depth):
        ids.append(x["id"])
        c["top" if depth == 0 else "enhancements"] += 1
        c["params"] += len(x.get("params", []))
        for y in x.get("controls", []):
            control(y, depth + 1)
    for g in cat.get("groups", []):
        c["groups"] += 1
        c["params"] += len(g.get("params", []))
        for x in g.get("controls", []):
            control(x, 0)
    for x in cat.get("controls", []):
        control(x, 0)
    return c, ids
(a, ai), (b, bi) = counts(sys.argv[1]), counts(sys.argv[2])
print("isms   ", a)
print("trestle", b)
print("same control ids:", sorted(ai) == sorted(bi), "| same order:", ai == bi)
if a != {"groups": 18, "top": 177, "enhancements": 110, "params": 506}:
    sys.exit("unexpected counts from isms")
PY

quote() { printf '%q ' "$@"; }
echo "== timing: whole process, $RUNS runs each"
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/hf.json" \
        -n isms "$(quote "${OURS_RESOLVE[@]}")" \
        -n trestle "$(quote "${TRESTLE_RESOLVE[@]}")" \
        -n "isms validate catalog" "$(quote "${OURS_CMD[@]}" validate "$WORK/NIST_SP-800-53_rev5_catalog.json")"
    python3 - "$WORK/hf.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ours, trestle, val = r["isms"], r["trestle"], r["isms validate catalog"]
print(f"isms oscal resolve    : {ours['mean']*1000:7.1f} ms ± {ours['stddev']*1000:.1f} (median {ours['median']*1000:.1f})")
print(f"trestle 5.2 resolve   : {trestle['mean']*1000:7.1f} ms ± {trestle['stddev']*1000:.1f} (median {trestle['median']*1000:.1f})")
print(f"isms oscal validate   : {val['mean']*1000:7.1f} ms (3 MB catalog, whole process)")
print(f"ratio trestle / isms  : {trestle['mean']/ours['mean']:.1f}x (wall clock)")
cpu = lambda x: x["user"] + x["system"]
print(f"CPU (user+sys)        : isms {cpu(ours)*1000:.1f} ms, trestle {cpu(trestle)*1000:.1f} ms, ratio {cpu(trestle)/cpu(ours):.1f}x")
load = open("/proc/loadavg").read().split()[:3]
print(f"load average          : {' '.join(load)} on {__import__('os').cpu_count()} CPUs")
PY
else
    t() { local s e; s=$(date +%s%N); for _ in $(seq "$RUNS"); do "$@" >/dev/null; done; e=$(date +%s%N); echo $(( (e - s) / RUNS / 1000 )); }
    a=$(t "${OURS_RESOLVE[@]}"); b=$(t "${TRESTLE_RESOLVE[@]}")
    echo "isms oscal resolve : $((a / 1000)) ms"
    echo "trestle 5.2        : $((b / 1000)) ms"
    python3 -c "print(f'ratio trestle / isms: {$b/$a:.1f}x')"
fi
