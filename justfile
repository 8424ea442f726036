# Tally's tasks. `just demo` runs the main job on the embedded default; `just test` runs every test.
# One cargo profile (dev, optimised) and `--workspace` everywhere, so dependencies build once.

set shell := ["bash", "-euo", "pipefail", "-c"]

shared := env_var_or_default("TALLY_SHARED_DIR", justfile_directory() / ".." / "shared")
out := justfile_directory() / "demo-out"

# List the recipes.
default:
    @just --list

# Build everything (the tally binary lands in target/debug/tally).
build:
    cargo build --workspace

# Run every test of the workspace, with the real services they use: the sandbox's Python
# environment (+ bubblewrap) and llama.cpp's server with SmolLM2-135M (both built/fetched once into
# ~/.cache/tally, outside the clone; the first run takes ~10 minutes on 2 cores).
test: services
    #!/usr/bin/env bash
    set -euo pipefail
    url=$(bash scripts/llama-server.sh start 8181)
    trap 'bash scripts/llama-server.sh stop >/dev/null 2>&1 || true' EXIT
    TALLY_LLAMA_URL="$url" cargo test --workspace --no-fail-fast

# Tests that need no service (fast; tests of real services print a skip note).
test-fast:
    cargo test --workspace

# Install and build what the tests use: bubblewrap + the sandbox's Python venv, llama-server + model.
services:
    bash scripts/sandbox-setup.sh
    bash scripts/llama-server.sh setup

# Prepare comp-math-24-25 and summarize the example outputs, in both modes, with a plot.
demo: build
    #!/usr/bin/env bash
    set -euo pipefail
    tally="${CARGO_TARGET_DIR:-{{justfile_directory()}}/target}/debug/tally"
    rm -rf "{{out}}" && mkdir -p "{{out}}"
    echo "== tally prepare comp-math-24-25 (from {{shared}}/data)"
    "$tally" prepare comp-math-24-25 --source "{{shared}}/data/comp-math-24-25" --data_dir "{{out}}/datasets"
    # Summaries write metrics.json next to the results, so work on a copy of the examples.
    cp -r "{{shared}}/bench/graded-64" "{{out}}/graded-64"
    cd "{{out}}"
    echo; echo "== tally summarize-results graded-64 --compat nemo-skills   (NeMo-Skills' numbers, byte for byte)"
    "$tally" summarize-results graded-64 --compat nemo-skills
    echo; echo "== tally summarize-results graded-64   (Tally's default: unbiased, with intervals)"
    "$tally" summarize-results graded-64 --plot graded-64.svg
    "$tally" summarize-results graded-64 --format csv > /dev/null
    echo; echo "plot: {{out}}/graded-64.svg"

# Time summarize on the 256×64 example (criterion, same profile as the tests).
bench-summarize:
    cargo bench -p tally-benches --bench summarize --profile dev

# Fuzz the grader's parser and comparison (libFuzzer via cargo-fuzz; stable toolchain, no
# sanitizer, optimised build with debug assertions): RUNS inputs from a fixed seed and an empty
# corpus, so a run is reproducible; each input must finish within 5 s. Installs cargo-fuzz if missing.
fuzz RUNS="100000":
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
    cd crates/tally-grade
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-{{justfile_directory()}}/target}/fuzz"
    corpus=$(mktemp -d)
    trap 'rm -rf "$corpus"' EXIT
    cargo fuzz run -s none grade "$corpus" -- -runs={{RUNS}} -seed=1 -max_len=512 -timeout=5

# Format and lint.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
