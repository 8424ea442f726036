#!/usr/bin/env bash
# Prepare this machine for `tally-sandbox`: bubblewrap, and a Python venv with the TIR libraries.
#
# Idempotent: re-running it only installs what is missing. Meant for a fresh Debian 12 machine
# run as root (the CI machine kind); as a normal user it skips apt and only builds the venv.
#
# Env:
#   TALLY_CACHE_DIR        cache root (default: $HOME/.cache/tally); the venv goes to
#                          $TALLY_CACHE_DIR/sandbox-venv
#   TALLY_SANDBOX_PYTHON   interpreter to build the venv from (default: /usr/bin/python3).
#                          It must live under /usr: the sandbox binds only /usr and the venv.
#   TALLY_SANDBOX_NO_APT=1 never call apt-get (fail instead when something is missing)
#
# No users are created: the sandbox runs each worker under a numeric uid of its own
# (default 61000 + slot), which needs no passwd entry.
set -euo pipefail

cache_dir="${TALLY_CACHE_DIR:-$HOME/.cache/tally}"
venv="$cache_dir/sandbox-venv"
python="${TALLY_SANDBOX_PYTHON:-/usr/bin/python3}"
packages=(sympy numpy scipy mpmath ipython)

log() { printf 'sandbox-setup: %s\n' "$*" >&2; }

apt_install() {
    if [[ "${TALLY_SANDBOX_NO_APT:-0}" == 1 ]]; then
        log "missing $*, and TALLY_SANDBOX_NO_APT=1"; exit 1
    fi
    if [[ "$(id -u)" != 0 ]]; then
        log "missing $*; run this script as root (or install them) first"; exit 1
    fi
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
[[ -x "$python" ]] || need+=(python3)
if [[ -x "$python" ]] && ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    need+=(python3-venv)
elif [[ ! -x "$python" ]]; then
    need+=(python3-venv)
fi
if ((${#need[@]})); then apt_install "${need[@]}"; fi

case "$(readlink -f "$python")" in
    /usr/*) ;;
    *) log "warning: $python is outside /usr; the sandbox will not see its standard library" ;;
esac

mkdir -p "$cache_dir"
if [[ ! -x "$venv/bin/python" ]]; then
    log "creating $venv"
    "$python" -m venv "$venv"
fi
# Import check first, so a complete venv costs one interpreter start and no pip call.
if ! "$venv/bin/python" -c 'import sympy, numpy, scipy, mpmath, IPython' >/dev/null 2>&1; then
    log "installing ${packages[*]} into $venv"
    "$venv/bin/python" -m pip install -q "${packages[@]}"
fi
# The sandbox runs as unprivileged uids: the venv must be world-readable, never world-writable.
chmod -R go+rX,go-w "$venv"
# The workers run as uids without a home; their path to the venv must be traversable.
d="$venv"
while [[ "$d" != / ]]; do
    d="$(dirname "$d")"
    perm="$(stat -c %A "$d")"
    if [[ "${perm:9:1}" != x && "${perm:9:1}" != t ]]; then
        log "making $d traversable (o+x) so the sandbox uids can reach the venv"
        chmod o+x "$d"
    fi
done

bwrap_path="$(command -v bwrap)"
echo "bwrap=$bwrap_path"
echo "venv=$venv"
echo "python=$venv/bin/python"
"$venv/bin/python" -c 'import sympy, numpy, scipy, mpmath, IPython, sys; print("versions=python %s, sympy %s, numpy %s, scipy %s, mpmath %s, ipython %s" % (sys.version.split()[0], sympy.__version__, numpy.__version__, scipy.__version__, mpmath.__version__, IPython.__version__))'
