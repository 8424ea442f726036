#!/usr/bin/env bash
# tally view on a results directory (default ../shared/bench/graded-64, 256 problems × 64 seeds):
# time until it listens (index + summaries), first contentful paint of each page as headless
# Chromium's Performance API reports it (view.js writes it on <html data-fcp-ms>), the server's
# peak RSS (VmHWM) after serving them, and the two screenshots of docs/viewer.md.
# Usage: OUT=docs bash benches/viewer_first_paint.sh [RESULTS_DIR]
set -euo pipefail
T=${TALLY:-${CARGO_TARGET_DIR:-target}/debug/tally}
RUN=${1:-../shared/bench/graded-64}
P=$(mktemp -d)
B="chromium --headless --virtual-time-budget=3000 --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=$P"
t0=$(date +%s%N)
$T view $RUN --port 0 > "$P/view.log" 2>&1 &
pid=$!
until grep -q http "$P/view.log"; do sleep 0.01; done
t1=$(date +%s%N)
url=$(grep -o 'http://[^ ]*' "$P/view.log" | sed 's#/$##')
echo "listening after $(( (t1-t0)/1000000 )) ms: $(cat "$P/view.log")"
for page in "/" "/r/0/comp-math-24-25" "/r/0/comp-math-24-25?sort=hard" "/r/0/comp-math-24-25/p/0" "/r/0/comp-math-24-25/s/0/0"; do
  s=$(date +%s%N)
  dom=$($B --dump-dom "$url$page" 2>/dev/null)
  e=$(date +%s%N)
  echo "$page: first-contentful-paint $(echo "$dom" | grep -o 'data-fcp-ms="[0-9]*"') ; chromium wall $(( (e-s)/1000000 )) ms; DOM $(echo "$dom" | wc -c) bytes; html $(curl -s "$url$page" | wc -c) bytes"
done
$B --window-size=1280,900 --screenshot=${OUT:-.}/viewer-grid.png "$url/r/0/comp-math-24-25?sort=hard" 2>/dev/null
$B --window-size=1280,900 --screenshot=${OUT:-.}/viewer-sample.png "$url/r/0/comp-math-24-25/s/0/1" 2>/dev/null
grep -E "VmHWM|VmRSS" /proc/$pid/status
kill $pid
rm -rf "$P"
