#!/usr/bin/env bash
# `tally generate` against an instant local server, beside `wrk` on the same server, in one run.
#
#   benches/generate_vs_wrk.sh [TALLY_BIN...]
#
# Serves the torture harness's deterministic OpenAI-compatible server (no faults, no latency;
# `tally-torture serve`), measures wrk's request rate on it (POST /v1/completions, 64
# connections, 2 threads), then times each given tally binary (default: target/debug/tally)
# generating PROBLEMS × SEEDS samples with 64 in flight (whole process, fresh output dir,
# best of RUNS). Prints samples/s and the ratio to wrk. Giving two binaries (before/after a
# change) compares them under the same conditions.
#
# Env: PROBLEMS (5000), SEEDS (4), INFLIGHT (64), RUNS (3), WRK_SECONDS (10),
#      TORTURE_BIN (default: tally-torture next to the first tally binary).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
bins=("$@")
[[ ${#bins[@]} -eq 0 ]] && bins=("$target/debug/tally")
torture="${TORTURE_BIN:-$(dirname "${bins[0]}")/tally-torture}"
problems="${PROBLEMS:-5000}" seeds="${SEEDS:-4}" inflight="${INFLIGHT:-64}" runs="${RUNS:-3}"
wrk_s="${WRK_SECONDS:-10}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
"$torture" serve --port 0 > "$work/url" &
server_pid=$!
for _ in $(seq 100); do [[ -s "$work/url" ]] && break; sleep 0.05; done
url=$(head -1 "$work/url")
echo "server: $url (tally-torture serve, instant, no faults)"

python3 - "$work/problems.jsonl" "$problems" <<'PY'
import json, sys, random
r = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        a, b = r.randint(10, 999), r.randint(10, 999)
        f.write(json.dumps({"id": f"p{i}", "problem": f"What is {a} + {b}?", "expected_answer": str(a + b)}) + "\n")
PY

# The same request tally sends (a short completion, greedy), for wrk.
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "fault-model", "prompt": "<|im_start|>user\\nSolve the following math problem. Make sure to put the answer (and only answer) inside \\\\boxed{}.\\n\\nWhat is 512 + 256?<|im_end|>\\n<|im_start|>assistant\\n", "max_tokens": 64, "temperature": 0.0, "top_p": 0.95, "seed": 0}'
LUA
wrk_rps=$(wrk -t2 -c"$inflight" -d"${wrk_s}s" -s "$work/post.lua" "${url%/v1}/v1/completions" | awk '/Requests\/sec/ {print $2}')
echo "wrk: ${wrk_rps} requests/s (64 connections, 2 threads, ${wrk_s} s)"

for bin in "${bins[@]}"; do
    best=""
    for r in $(seq "$runs"); do
        rm -rf "$work/out"
        t0=$(date +%s.%N)
        "$bin" generate --server_type=vllm --server_address="$url" --output_dir="$work/out" \
            --num_random_seeds="$seeds" ++input_file="$work/problems.jsonl" \
            ++prompt_template=qwen-instruct ++prompt_config=generic/math \
            ++max_concurrent_requests="$inflight" ++inference.tokens_to_generate=64 >/dev/null 2>"$work/err" \
            || { echo "$bin failed:"; cat "$work/err"; exit 1; }
        t1=$(date +%s.%N)
        s=$(python3 -c "print(f'{$problems*$seeds/($t1-$t0):.0f}')")
        [[ -z "$best" || "$s" -gt "$best" ]] && best=$s
        lines=$(cat "$work"/out/output-rs*.jsonl | wc -l)
        [[ "$lines" -eq $((problems*seeds)) ]] || { echo "$bin wrote $lines records, expected $((problems*seeds))"; exit 1; }
    done
    ratio=$(python3 -c "print(f'{$best/$wrk_rps*100:.1f}')")
    echo "$bin: best of $runs: ${best} samples/s = ${ratio}% of wrk ($problems problems × $seeds seeds, $inflight in flight, whole process)"
done
