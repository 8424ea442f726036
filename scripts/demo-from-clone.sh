#!/usr/bin/env bash
# What a new user gets: clones this repository (HEAD, committed files only) into a temporary
# directory with nothing beside it (no ../shared), runs `just demo` there, and checks that it
# printed a non-zero accuracy and its closing hint.
#
#   bash scripts/demo-from-clone.sh
#
# CARGO_TARGET_DIR is passed through when set (CI sets it), so the clone reuses an existing build
# instead of compiling from cold; unset, the clone builds into its own target/ (the first-build
# time the README gives). Model files come from ~/.cache/tally (downloaded once from PyPI).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/tally"
[[ ! -e "$work/shared" ]] || { echo "error: $work/shared exists" >&2; exit 1; }
cd "$work/tally"
# TALLY_SHARED_DIR would point the demo back at a shared folder: a bare clone has none.
unset TALLY_SHARED_DIR
just demo 2>&1 | tee "$work/demo.log"
grep -q '^Next: ' "$work/demo.log" || { echo "error: the demo did not print its closing hint" >&2; exit 1; }
# The symbolic_correct column (found by its header: other columns such as avg_tokens come
# first) of some row of the gsm8k table must be above zero.
if ! awk -F'|' '/^evaluation_mode/ { col = 0; for (i = 1; i <= NF; i++) { h = $i; gsub(/ /, "", h); if (h == "symbolic_correct") col = i } }
                col && /^(greedy|pass@|majority@)/ { v = $col; sub(/^ +/, "", v); if (v + 0 > 0) found = 1 }
                END { exit !found }' "$work/demo.log"; then
    echo "error: no non-zero symbolic_correct in the demo's tables" >&2
    exit 1
fi
echo "demo from a bare clone: ok"
