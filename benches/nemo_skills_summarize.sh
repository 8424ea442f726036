#!/usr/bin/env bash
# Times NeMo-Skills' own `summarize_results` (Python, seed commit 3e064820) against
# `tally summarize-results --compat nemo-skills` on the same directory, on this machine, in the
# same run, and prints a markdown table for docs/performance.md.
#
#   benches/nemo_skills_summarize.sh              # full run (needs the tally binary)
#   benches/nemo_skills_summarize.sh --nemo-only  # set up + check + time the NeMo-Skills side only
#
# Environment (all optional):
#   NEMO_SKILLS_SRC   git checkout or bare git repo of https://github.com/NVIDIA/NeMo-Skills that
#                     contains the seed commit (default: /work/.mirror/NVIDIA+NeMo-Skills/repo if
#                     present). The source is extracted at run time into a scratch dir, never into
#                     this repository.
#   TALLY_BIN         the tally binary (default: ${CARGO_TARGET_DIR:-<repo>/target}/debug/tally)
#   TALLY_SHARED_DIR  shared data dir (default: <repo>/../shared); the workload is bench/graded-64
#   TALLY_CACHE_DIR   where the Python venv lives (default: $HOME/.cache/tally) -> nemo-skills-venv
#   PYTHON            interpreter used to create the venv (default: python3; 3.11 was measured before)
#   RUNS              hyperfine runs per command (default 10, at least 10)
#   WARMUP            hyperfine warmup runs per command (default 3)
#   INPROC_CALLS      timed in-process summarize_results calls (default 9, after 1 warmup call)
#   QUIET_LOAD        wait until the 1-minute load average is below this (default 1.0) ...
#   QUIET_WAIT_MAX    ... for at most this many seconds (default 120)
#   KEEP_SCRATCH=1    keep the scratch dir (outputs, hyperfine JSON) instead of deleting it
set -euo pipefail

SEED=3e064820f6e41d2fa3c40bea2cc9931fac0bf363
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="$REPO/benches/nemo_skills_requirements.txt"
# Absolute paths: the timed commands run from a scratch dir.
SHARED="$(realpath -m "${TALLY_SHARED_DIR:-$REPO/../shared}")"
WORKLOAD="$SHARED/bench/graded-64"
EXPECTED="$SHARED/bench/graded-64.expected.txt"
CACHE="$(realpath -m "${TALLY_CACHE_DIR:-$HOME/.cache/tally}")"
VENV="$CACHE/nemo-skills-venv"
PYTHON="${PYTHON:-python3}"
TALLY_BIN="$(realpath -m "${TALLY_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/debug/tally}")"
DEFAULT_MIRROR=/work/.mirror/NVIDIA+NeMo-Skills/repo
RUNS="${RUNS:-10}"
WARMUP="${WARMUP:-3}"
INPROC_CALLS="${INPROC_CALLS:-9}"
QUIET_LOAD="${QUIET_LOAD:-1.0}"
QUIET_WAIT_MAX="${QUIET_WAIT_MAX:-120}"

SCRIPT_LINE="benches/nemo_skills_summarize.sh${*:+ $*}"
for v in RUNS WARMUP INPROC_CALLS; do
    if [[ -n "${!v:-}" ]]; then SCRIPT_LINE="$v=${!v} $SCRIPT_LINE"; fi
done
NEMO_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --nemo-only) NEMO_ONLY=1 ;;
        -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 10 ]] || die "RUNS must be an integer >= 10 (got '$RUNS')"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer (got '$WARMUP')"
[[ "$INPROC_CALLS" =~ ^[0-9]+$ && "$INPROC_CALLS" -ge 1 ]] || die "INPROC_CALLS must be a positive integer"

# ---------------------------------------------------------------------------------------------
# Preconditions (fail before spending minutes on setup).
[[ -d "$WORKLOAD/eval-results/comp-math-24-25" ]] \
    || die "workload not found: $WORKLOAD/eval-results/comp-math-24-25 (set TALLY_SHARED_DIR to the shared/ dir)"
[[ -f "$EXPECTED" ]] || die "golden stdout not found: $EXPECTED"
if [[ "$NEMO_ONLY" == 0 && ! -x "$TALLY_BIN" ]]; then
    die "tally binary not found or not executable: $TALLY_BIN
  build it with 'cargo build --workspace' (or 'just build'), or point TALLY_BIN at it;
  '$0 --nemo-only' sets up and times the NeMo-Skills side alone"
fi
[[ -f "$REQ" ]] || die "requirements file missing: $REQ"
command -v "$PYTHON" >/dev/null || die "python interpreter '$PYTHON' not found (set PYTHON)"
command -v git >/dev/null || die "git is required to extract NeMo-Skills"

if [[ -z "${NEMO_SKILLS_SRC:-}" ]]; then
    if [[ -d "$DEFAULT_MIRROR" ]]; then
        NEMO_SKILLS_SRC="$DEFAULT_MIRROR"
    else
        die "NeMo-Skills source not found. Clone it and point NEMO_SKILLS_SRC at the clone:
  git clone https://github.com/NVIDIA/NeMo-Skills /path/to/NeMo-Skills
  NEMO_SKILLS_SRC=/path/to/NeMo-Skills $0"
    fi
fi
[[ -d "$NEMO_SKILLS_SRC" ]] || die "NEMO_SKILLS_SRC is not a directory: $NEMO_SKILLS_SRC"
nsgit() { git -c safe.directory='*' -C "$NEMO_SKILLS_SRC" "$@"; }
nsgit rev-parse --git-dir >/dev/null 2>&1 \
    || die "NEMO_SKILLS_SRC is not a git repository (checkout or bare): $NEMO_SKILLS_SRC"
nsgit cat-file -e "$SEED^{commit}" 2>/dev/null \
    || die "NEMO_SKILLS_SRC ($NEMO_SKILLS_SRC) lacks the seed commit $SEED; run 'git fetch' there (it is on NVIDIA/NeMo-Skills main, 2025-05-02)"

# ---------------------------------------------------------------------------------------------
# hyperfine
if ! command -v hyperfine >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        say "installing hyperfine (apt-get)"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null \
            || die "apt-get install hyperfine failed"
    else
        die "hyperfine not found: install it (apt-get install hyperfine, or cargo install hyperfine)"
    fi
fi

# ---------------------------------------------------------------------------------------------
# Scratch dir: NeMo-Skills tree + a writable copy of the workload (summarize writes metrics.json).
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/tally-nemo-bench.XXXXXX")"
if [[ "${KEEP_SCRATCH:-0}" == 1 ]]; then
    trap 'echo "scratch dir kept: $SCRATCH" >&2' EXIT
else
    trap 'rm -rf "$SCRATCH"' EXIT
fi
[[ "$SCRATCH" != *[[:space:]]* ]] || die "scratch dir path contains whitespace: $SCRATCH (set TMPDIR)"

say "extracting NeMo-Skills $SEED from $NEMO_SKILLS_SRC"
NS_TREE="$SCRATCH/nemo-skills"
mkdir -p "$NS_TREE"
nsgit archive "$SEED" | tar -x -C "$NS_TREE"
[[ -f "$NS_TREE/nemo_skills/pipeline/summarize_results.py" ]] || die "extracted tree lacks nemo_skills/pipeline/summarize_results.py"

cp -r "$WORKLOAD" "$SCRATCH/graded-64"
chmod -R u+w "$SCRATCH/graded-64"
rm -f "$SCRATCH/graded-64/eval-results/metrics.json"

# ---------------------------------------------------------------------------------------------
# Python venv (reused while the requirements file is unchanged).
REQ_HASH="$(sha256sum "$REQ" | cut -d' ' -f1)"
STAMP="$VENV/.tally-requirements.sha256"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$REQ_HASH" ]]; then
    say "reusing venv $VENV"
else
    say "creating venv $VENV with $("$PYTHON" --version 2>&1) (one-time, about a minute)"
    mkdir -p "$CACHE"
    "$PYTHON" -m venv --clear "$VENV" || die "'$PYTHON -m venv' failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps -r "$REQ" \
        || die "pip install -r $REQ failed (PyPI reachable? supported Python version?)"
    "$VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null \
        || { "$VENV/bin/python" -m pip check || true; die "inconsistent venv (pip check above)"; }
    echo "$REQ_HASH" > "$STAMP"
fi
PYVER="$("$VENV/bin/python" -c 'import sys; print(".".join(map(str, sys.version_info[:3])))')"
[[ "$PYVER" == 3.11.* ]] || echo "note: venv Python is $PYVER; the earlier baseline used 3.11.7" >&2

export PYTHONPATH="$NS_TREE"
unset PYTHONDONTWRITEBYTECODE  # let the extracted tree cache its bytecode, as an installed copy would
"$VENV/bin/python" -c 'import nemo_skills.pipeline.summarize_results' 2>"$SCRATCH/import.err" \
    || { tail -5 "$SCRATCH/import.err" >&2; die "cannot import nemo_skills.pipeline.summarize_results in $VENV (see above); add the missing package to $REQ"; }

# The whole-process NeMo-Skills command: exactly a user's call of summarize_results on the dir.
cat > "$SCRATCH/nemo_summarize.py" <<'EOF'
from nemo_skills.pipeline.summarize_results import summarize_results
summarize_results(results_dir='graded-64')
EOF

# In-process: import once, then time summarize_results(...) calls (stdout captured, not printed).
cat > "$SCRATCH/nemo_inproc.py" <<'EOF'
import contextlib, io, json, statistics, sys, time
t0 = time.perf_counter()
from nemo_skills.pipeline.summarize_results import summarize_results
t_import = time.perf_counter() - t0
n = int(sys.argv[1])
times = []
for i in range(n + 1):  # the first call is a warmup (dataset module import, caches)
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        summarize_results(results_dir='graded-64')
    dt = time.perf_counter() - t0
    if i > 0:
        times.append(dt)
print(json.dumps({"import_s": t_import, "calls_s": times, "median_s": statistics.median(times)}))
EOF

cd "$SCRATCH"

# ---------------------------------------------------------------------------------------------
# Correctness: both outputs must be NeMo-Skills' exact stdout (run from here, dir named graded-64).
say "checking NeMo-Skills' output against $(basename "$EXPECTED")"
"$VENV/bin/python" nemo_summarize.py > nemo.out 2> nemo.err \
    || { cat nemo.err >&2; die "NeMo-Skills summarize_results failed"; }
if ! cmp -s nemo.out "$EXPECTED"; then
    diff "$EXPECTED" nemo.out | head -20 >&2 || true
    die "NeMo-Skills' stdout differs from $EXPECTED: this is not the baseline the golden came from"
fi
cp graded-64/eval-results/metrics.json nemo.metrics.json
echo "NeMo-Skills stdout == golden ($(wc -l < nemo.out) lines)" >&2

TALLY_MATCH="n/a"
if [[ "$NEMO_ONLY" == 0 ]]; then
    say "checking tally's output against $(basename "$EXPECTED")"
    rm -f graded-64/eval-results/metrics.json
    "$TALLY_BIN" summarize-results graded-64 --compat nemo-skills > tally.out 2> tally.err \
        || { cat tally.err >&2; die "tally summarize-results failed"; }
    if cmp -s tally.out "$EXPECTED"; then
        TALLY_MATCH="yes"
        echo "tally stdout == golden" >&2
    else
        TALLY_MATCH="NO"
        echo "WARNING: tally's stdout differs from the golden (timings are still reported):" >&2
        diff "$EXPECTED" tally.out | head -20 >&2 || true
    fi
    if [[ ! -f graded-64/eval-results/metrics.json ]]; then
        echo "WARNING: tally wrote no graded-64/eval-results/metrics.json" >&2
    elif cmp -s graded-64/eval-results/metrics.json nemo.metrics.json; then
        echo "metrics.json: identical to NeMo-Skills' (same file order)" >&2
    else
        echo "note: metrics.json differs from NeMo-Skills' (k < 64 entries depend on the order glob returns files)" >&2
    fi
fi

# ---------------------------------------------------------------------------------------------
# Wait for a quiet machine (other builds share the cores).
load1() { cut -d' ' -f1 /proc/loadavg; }
say "waiting for 1-minute load < $QUIET_LOAD (at most ${QUIET_WAIT_MAX}s); now $(load1)"
waited=0
while awk -v l="$(load1)" -v q="$QUIET_LOAD" 'BEGIN { exit !(l >= q) }'; do
    if (( waited >= QUIET_WAIT_MAX )); then
        echo "WARNING: machine still busy after ${QUIET_WAIT_MAX}s (load $(load1)); timings may be inflated" >&2
        break
    fi
    sleep 5; waited=$((waited + 5))
done
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "timing starts: load average $LOAD_START (waited ${waited}s), $(nproc) CPUs" >&2

# ---------------------------------------------------------------------------------------------
# Whole-process timings with hyperfine, both commands in one invocation.
NEMO_CMD="$VENV/bin/python $SCRATCH/nemo_summarize.py"
TALLY_CMD="$TALLY_BIN summarize-results graded-64 --compat nemo-skills"
HF=(hyperfine --warmup "$WARMUP" --runs "$RUNS" --export-json "$SCRATCH/hyperfine.json" --style basic)
# No intermediate shell when possible (hyperfine >= 1.13, paths without spaces).
HF_HELP="$(hyperfine --help 2>&1 || true)"
if [[ "$HF_HELP" == *--shell* && "$VENV$TALLY_BIN" != *[[:space:]]* ]]; then
    HF+=(-N)
else
    NEMO_CMD="$(printf '%q %q' "$VENV/bin/python" "$SCRATCH/nemo_summarize.py")"
    TALLY_CMD="$(printf '%q' "$TALLY_BIN") summarize-results graded-64 --compat nemo-skills"
fi
HF+=(--command-name "nemo-skills summarize_results" "$NEMO_CMD")
if [[ "$NEMO_ONLY" == 0 ]]; then
    HF+=(--command-name "tally summarize-results --compat nemo-skills" "$TALLY_CMD")
fi

say "hyperfine (cwd $SCRATCH, PYTHONPATH=$PYTHONPATH)"
HF_LINE="cd $SCRATCH && PYTHONPATH=$PYTHONPATH $(printf '%q ' "${HF[@]}")"
echo "$HF_LINE" >&2
"${HF[@]}" >&2

# ---------------------------------------------------------------------------------------------
say "NeMo-Skills in-process: summarize_results(results_dir='graded-64') x $INPROC_CALLS after imports (load $(load1))"
INPROC_JSON="$("$VENV/bin/python" nemo_inproc.py "$INPROC_CALLS")"
echo "$INPROC_JSON" >&2

# ---------------------------------------------------------------------------------------------
# Report.
TALLY_VERSION="n/a"
if [[ "$NEMO_ONLY" == 0 ]]; then
    TALLY_VERSION="$("$TALLY_BIN" --version 2>/dev/null | head -1 || true)"
fi
CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo '?')"
export HF_JSON="$SCRATCH/hyperfine.json" INPROC_JSON TALLY_MATCH LOAD_START PYVER TALLY_VERSION CPU \
    RUNS WARMUP INPROC_CALLS SEED NEMO_ONLY HF_LINE SCRIPT_LINE
export NPROC="$(nproc)" HF_VERSION="$(hyperfine --version | head -1)"
"$VENV/bin/python" - <<'EOF'
import json, os, statistics
e = os.environ
hf = json.load(open(e["HF_JSON"]))["results"]
inproc = json.loads(e["INPROC_JSON"])

def ratio(a, b):
    r = a / b
    return f"{r:.0f}" if r >= 10 else f"{r:.1f}"

def fmt(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.3f} s"

def row(name, r):
    t = r["times"]
    return (f"| {name} | **{fmt(statistics.median(t))}** | {fmt(statistics.mean(t))} ± {fmt(statistics.stdev(t))} "
            f"| {fmt(min(t))} … {fmt(max(t))} | {fmt(r['user'] + r['system'])} | {len(t)} |")

nemo = hf[0]
tally = hf[1] if len(hf) > 1 else None
nemo_med = statistics.median(nemo["times"])
ip = inproc["calls_s"]
print()
print("### `summarize-results` on graded-64 (64 seed files × 256 problems, comp-math-24-25)")
print()
print("| what | median | mean ± σ | min … max | CPU (user+sys, mean) | runs |")
print("|---|---|---|---|---|---|")
print(row("NeMo-Skills `summarize_results`, whole process (Python start-up, imports, metrics, print)", nemo))
print(f"| NeMo-Skills `summarize_results(...)` in one process after imports (metric computation) "
      f"| **{fmt(inproc['median_s'])}** | {fmt(statistics.mean(ip))}"
      f"{' ± ' + fmt(statistics.stdev(ip)) if len(ip) > 1 else ''} | {fmt(min(ip))} … {fmt(max(ip))} | – | {len(ip)} |")
print(f"| NeMo-Skills `import nemo_skills.pipeline.summarize_results` (part of the whole process; measured once) "
      f"| {fmt(inproc['import_s'])} | – | – | – | 1 |")
if tally:
    tally_med = statistics.median(tally["times"])
    print(row("Tally `tally summarize-results --compat nemo-skills`, whole process", tally))
    print()
    print(f"- **Whole process: Tally is {ratio(nemo_med, tally_med)}× faster** "
          f"({fmt(nemo_med)} vs {fmt(tally_med)}, medians).")
    print(f"- **NeMo-Skills' metric computation alone vs Tally's whole process: {ratio(inproc['median_s'], tally_med)}×** "
          f"({fmt(inproc['median_s'])} vs {fmt(tally_med)}).")
    print(f"- Tally's stdout identical to NeMo-Skills' golden: {e['TALLY_MATCH']}; NeMo-Skills' stdout identical: yes.")
else:
    print()
    print("- Tally not timed (--nemo-only). NeMo-Skills' stdout identical to the golden: yes.")
print(f"- Machine: {e['CPU']}, {e['NPROC']} CPUs; load average at start {e['LOAD_START']}. "
      f"{e['HF_VERSION']}, {e['WARMUP']} warmup + {e['RUNS']} runs each; in-process: 1 warmup + {e['INPROC_CALLS']} calls.")
print(f"- NeMo-Skills {e['SEED'][:8]} on Python {e['PYVER']} (packages: benches/nemo_skills_requirements.txt); "
      f"tally: {e['TALLY_VERSION']}.")
print()
print("Command line:")
print()
print("```")
print(e["SCRIPT_LINE"])
print("# which ran (scratch dir removed afterwards):")
print(e["HF_LINE"].rstrip())
print("```")
EOF
