#!/usr/bin/env bash
# llama-server beside `cargo run -p tally-local --example local_throughput`:
# prompt processing of the same ~131-token prompt, and PARALLEL concurrent 128-token greedy
# generations of the same counting prompt (ignore_eos). Start the server first, e.g.
#   llama-server -m MODEL.gguf --port 8190 -t 1 -tb 1 --parallel 4 -c 4096 --no-webui
# Usage: llama_server.sh PORT PARALLEL   (needs curl, jq, bc)
port=$1; par=$2
words="The history of mathematics spans many centuries and cultures. "
text=$(printf "$words%.0s" $(seq 1 13))
curl -s localhost:$port/completion -d "$(jq -n --arg p "$text" '{prompt:$p,n_predict:1,cache_prompt:false}')" >/dev/null
curl -s localhost:$port/completion -d "$(jq -n --arg p "$text" '{prompt:$p,n_predict:1,cache_prompt:false}')" | jq -c '{pp_tokens:.timings.prompt_n, pp_per_s:.timings.prompt_per_second}'
start=$(date +%s.%N)
for i in $(seq 1 $par); do
  curl -s localhost:$port/completion -d '{"prompt":"1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,","n_predict":128,"ignore_eos":true,"temperature":0,"cache_prompt":false}' | jq -c '{n:.timings.predicted_n, per_s:.timings.predicted_per_second}' &
done
wait
end=$(date +%s.%N)
echo "parallel $par: wall $(echo "$end - $start" | bc) s, aggregate $(echo "$par * 128 / ($end - $start)" | bc -l | cut -c1-6) tok/s"
