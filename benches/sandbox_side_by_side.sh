#!/usr/bin/env bash
# Code-execution sessions side by side, same workload, same run: `tally sandbox` against
# NeMo-Skills' newest sandbox server run without its container — WORKERS uwsgi workers of one
# process each behind nginx hashing the X-Session-ID header (session affinity), as its image's
# start script sets it up. The workload (benches/sandbox_sessions_driver.py): SESSIONS TIR-like
# sessions of 7 blocks (sympy solve/simplify, numpy, a loop, a failing block, state read back),
# CONCURRENCY at a time, every output checked, each session ended with DELETE /sessions/<id>.
#
#   TALLY_BIN=<target>/release/tally WORKERS=2 SESSIONS=200 CONCURRENCY=16 \
#       benches/sandbox_side_by_side.sh [both|tally|nemo]
#
# TALLY_BEFORE_BIN=<an older tally>: also measure it (same workload, sessions left open when it
# has no DELETE), for a before/after of Tally's own side.
#
# NeMo-Skills' side needs its server file: NEMO_SKILLS_SERVER=<local_sandbox_server.py>, or
# NEMO_SKILLS_REPO=<a git directory of NVIDIA/NeMo-Skills> (default: the snapshot the `fetch`
# tool puts at /work/.mirror/NVIDIA+NeMo-Skills/repo; its HEAD's file is used, and never copied
# into this repository). Also nginx (installed with apt-get when missing and run as root) and a
# venv at $TALLY_CACHE_DIR/nemo-skills-sandbox-venv (made here with pip: flask, uwsgi, psutil,
# ipython, and the sympy/numpy/scipy/mpmath versions of Tally's sandbox venv). When any of that
# is missing the script says so and measures Tally alone.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
which_side="${1:-both}"
tally="${TALLY_BIN:-${CARGO_TARGET_DIR:-$here/target}/release/tally}"
workers="${WORKERS:-$(nproc)}"
sessions="${SESSIONS:-200}"
concurrency="${CONCURRENCY:-16}"
cache="${TALLY_CACHE_DIR:-$HOME/.cache/tally}"
tally_venv="$cache/sandbox-venv"
nemo_venv="$cache/nemo-skills-sandbox-venv"
repo="${NEMO_SKILLS_REPO:-/work/.mirror/NVIDIA+NeMo-Skills/repo}"
driver="$here/benches/sandbox_sessions_driver.py"
py="$tally_venv/bin/python"  # the driver is stdlib-only; any python3 would do

work="$(mktemp -d)"
chmod 755 "$work"  # nginx workers (not root) reach the uwsgi sockets through it
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_health() {  # url, seconds
    local deadline=$((SECONDS + $2))
    until curl -sf --max-time 2 "$1/health" >/dev/null 2>&1; do
        if ((SECONDS > deadline)); then echo "no answer from $1/health after $2 s" >&2; return 1; fi
        sleep 0.5
    done
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); workers $workers, sessions $sessions, concurrency $concurrency"

run_tally() {  # binary, label
    local bin="$1" label="$2"
    [[ -x "$bin" ]] || { echo "no tally binary at $bin (cargo build --release -p tally, or set TALLY_BIN)" >&2; return 1; }
    local port; port="$(free_port)"
    "$bin" sandbox --listen "127.0.0.1:$port" --workers "$workers" >"$work/$label.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait_health "http://127.0.0.1:$port" 300 || { cat "$work/$label.log" >&2; return 1; }
    local extra=""
    # An older tally without DELETE /sessions answers 404 or 405 there.
    local probe; probe="$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$port/sessions/probe")"
    [[ "$probe" == 404 && -n "$(curl -s "http://127.0.0.1:$port/health" | grep -o lost_sessions)" ]] || extra="--no-delete"
    echo "== $label: tally sandbox ($bin)${extra:+ — no DELETE, sessions left open}"
    # shellcheck disable=SC2086
    "$py" "$driver" --url "http://127.0.0.1:$port" --sessions "$sessions" \
        --concurrency "$concurrency" --label "$label" --pss-root "$pid" $extra
    curl -s "http://127.0.0.1:$port/health"; echo
    kill -TERM "$pid"; wait "$pid" || true
}

nemo_server_file() {
    if [[ -n "${NEMO_SKILLS_SERVER:-}" ]]; then
        cp "$NEMO_SKILLS_SERVER" "$1"
    elif [[ -d "$repo" ]]; then
        git --git-dir="$repo" show HEAD:nemo_skills/code_execution/local_sandbox/local_sandbox_server.py >"$1"
        echo "NeMo-Skills commit: $(git --git-dir="$repo" log -1 --format='%h %cs' HEAD)"
    else
        return 1
    fi
}

setup_nemo() {
    if ! command -v nginx >/dev/null; then
        [[ "$(id -u)" == 0 ]] || { echo "nginx missing (apt-get install nginx-light)" >&2; return 1; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
    fi
    if [[ ! -x "$nemo_venv/bin/uwsgi" ]]; then
        local pins
        pins="$("$tally_venv/bin/python" -m pip freeze 2>/dev/null | grep -iE '^(sympy|numpy|scipy|mpmath)==' | tr '\n' ' ')"
        /usr/bin/python3 -m venv "$nemo_venv"
        "$nemo_venv/bin/pip" install --quiet flask psutil ipython uwsgi $pins
    fi
}

run_nemo() {
    setup_nemo || return 1
    mkdir -p "$work/app" "$work/sock" "$work/nginx"
    nemo_server_file "$work/app/main.py" || { echo "no NeMo-Skills server file (set NEMO_SKILLS_SERVER or NEMO_SKILLS_REPO)" >&2; return 1; }
    local i upstream="" roots=""
    for i in $(seq 1 "$workers"); do
        # One process per worker: the state of a session lives in it (stateful mode).
        cat >"$work/worker$i.ini" <<EOF
[uwsgi]
module = main
callable = app
chdir = $work/app
processes = 1
master = true
die-on-term = true
http-socket = $work/sock/worker$i.sock
chmod-socket = 666
listen = 100
http-timeout = 300
socket-timeout = 300
disable-logging = true
EOF
        WORKER_NUM=$i "$nemo_venv/bin/uwsgi" --ini "$work/worker$i.ini" >"$work/worker$i.log" 2>&1 &
        pids+=("$!")
        roots+="--pss-root $! "
        upstream+="        server unix:$work/sock/worker$i.sock;"$'\n'
    done
    local deadline=$((SECONDS + 300))
    for i in $(seq 1 "$workers"); do
        until curl -sf --max-time 2 --unix-socket "$work/sock/worker$i.sock" http://localhost/health >/dev/null 2>&1; do
            ((SECONDS < deadline)) || { echo "NeMo-Skills worker $i did not start" >&2; cat "$work/worker$i.log" >&2; return 1; }
            sleep 0.5
        done
    done
    local port; port="$(free_port)"
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    map \$http_x_session_id \$affinity { "" \$request_id; default \$http_x_session_id; }
    upstream workers {
        hash \$affinity consistent;
$upstream    }
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 10M;
        location / {
            proxy_pass http://workers;
            proxy_set_header X-Session-ID \$http_x_session_id;
            proxy_read_timeout 1200s;
            proxy_buffering off;
            proxy_next_upstream off;
        }
    }
}
EOF
    nginx -c "$work/nginx/nginx.conf" &
    pids+=("$!")
    wait_health "http://127.0.0.1:$port" 60 || { cat "$work/nginx/error.log" >&2; return 1; }
    echo "== NeMo-Skills sandbox ($workers uwsgi workers + nginx, no container)"
    # shellcheck disable=SC2086
    "$py" "$driver" --url "http://127.0.0.1:$port" --sessions "$sessions" \
        --concurrency "$concurrency" --label nemo-skills $roots
}

run_tally_sides() {
    if [[ -n "${TALLY_BEFORE_BIN:-}" ]]; then run_tally "$TALLY_BEFORE_BIN" tally-before; fi
    run_tally "$tally" tally
}

case "$which_side" in
    tally) run_tally_sides ;;
    nemo) run_nemo ;;
    both)
        run_nemo || echo "NeMo-Skills' side could not run (see above); Tally's side only" >&2
        run_tally_sides
        ;;
    *) echo "usage: $0 [both|tally|nemo]" >&2; exit 2 ;;
esac
