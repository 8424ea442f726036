#!/usr/bin/env bash
# Grading speed, side by side on the same pairs in the same run: math-verify 0.7.0 (parse + verify,
# the version NeMo-Skills used in May 2025) in one Python process, and `tally grade --pairs
# --extract` (Tally's policy) pinned to one core. Pairs: the first N generations of
# ../shared/bench/grading-workload.jsonl (expected answer, whole generation).
#
#   TALLY_BIN=<target>/debug/tally N=2000 benches/grade_side_by_side.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${TALLY_SHARED_DIR:-$here/../shared}"
tally="${TALLY_BIN:-${CARGO_TARGET_DIR:-$here/target}/debug/tally}"
n="${N:-2000}"
cache="${TALLY_CACHE_DIR:-$HOME/.cache/tally}"
venv="$cache/math-verify-venv"
[[ -x "$tally" ]] || { echo "no tally binary at $tally (cargo build --workspace, or set TALLY_BIN)" >&2; exit 1; }
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "math-verify==0.7.0"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
head -n "$n" "$shared/bench/grading-workload.jsonl" \
  | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(json.dumps({"gold": r["expected_answer"], "pred": r["generation"]}))' > "$work/pairs.jsonl"

echo "load: $(cut -d" " -f1-3 /proc/loadavg); pairs: $n"
"$venv/bin/python" - "$work/pairs.jsonl" <<'PY'
import json, sys, time
from math_verify import parse, verify
pairs = [json.loads(l) for l in open(sys.argv[1])]
t = time.perf_counter()
ok = 0
for p in pairs:
    ok += bool(verify(parse(p["gold"]), parse(p["pred"])))
dt = time.perf_counter() - t
print(f"math-verify 0.7.0 (1 process): {len(pairs)/dt:,.0f} pairs/s ({dt:.2f} s, {ok} equal)")
PY
start=$(date +%s.%N)
taskset -c 0 "$tally" grade --pairs --extract "$work/pairs.jsonl" --output "$work/out.jsonl"
end=$(date +%s.%N)
python3 - "$work/out.jsonl" "$start" "$end" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
dt = float(sys.argv[3]) - float(sys.argv[2])
ok = sum(1 for r in rows if r["verdict"] is True)
print(f"tally grade --pairs --extract (1 core, whole process): {len(rows)/dt:,.0f} pairs/s ({dt:.2f} s, {ok} equal)")
PY
