# Tally sandbox fork-server. Runs INSIDE the sandbox (bubblewrap or the Landlock fallback), as an
# unprivileged uid, under the worker's rlimits and seccomp filter. Never run it on the host as root.
#
# Protocol with the Rust worker (src/worker.rs): one JSON object per line on stdin, one JSON
# object per line on the original stdout. Everything else this process or its children print
# goes to /dev/null or stderr, so a snippet can never forge a protocol line.
#
#   -> {"op": "run", "id": 7, "code": "...", "timeout": 10.0, "session": null | "17",
#       "create": true}
#   <- {"id": 7, "status": "completed|error|timeout|memory_limit|killed|session_lost",
#       "stdout": "...", "stderr": "..."}
#   -> {"op": "close", "id": 8, "session": "17"}      <- {"id": 8, "closed": true | false}
#
# A session key is the service's (unique for the life of the service, never reused). A run for a
# key this server does not hold is answered "session_lost" unless "create" is set: state that is
# gone (the holder died, this worker is a restarted one) is reported, never silently replaced by
# an empty namespace.
#
# Model: the libraries are imported (and sympy's caches warmed) once, here. Each stateless snippet
# runs in a freshly forked child (own process group, CPU rlimit, wall timeout enforced here with
# killpg). A session is a long-lived "holder" process owning the namespace; each snippet of the
# session runs in a child forked from the holder. If the snippet succeeds, the child *becomes*
# the holder (the old one exits), otherwise the child is discarded and the state stays as it was
# before the snippet. That is NeMo-Skills' "re-run the history, dropping failed snippets",
# without re-running anything.
import ctypes
import json
import math
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time
import warnings

# Safety latch: this server kills every process it started (but its session holders) and empties
# its scratch directory after each request. That is right inside a sandbox slot (a /tmp of its
# own) and destructive anywhere else, so it refuses to run unless the Rust worker launched it.
if os.environ.get("TALLY_SANDBOX_WORKER") != "1" or os.getuid() == 0 or os.geteuid() == 0:
    sys.stderr.write("forkserver.py: refusing to run outside a tally-sandbox worker slot\n")
    sys.exit(2)
OUTPUT_CAP = int(os.environ.get("TALLY_SANDBOX_OUTPUT_CAP", 1 << 20))
TMP = os.environ["TALLY_SANDBOX_TMP"]

# The protocol channel is a private copy of fd 1; fd 1 itself then points at stderr so that a
# stray print from a library during import cannot corrupt the protocol.
_proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
os.dup2(2, 1)
_proto_in = sys.stdin

warnings.filterwarnings("ignore")

# Orphaned grandchildren (an adopted session holder whose parent exited) are re-parented here,
# so that this process can reap and sweep them even without a PID namespace.
try:
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
except Exception:
    pass


def _preload():
    import mpmath  # noqa: F401
    import numpy  # noqa: F401
    import scipy  # noqa: F401
    import scipy.optimize  # noqa: F401
    import scipy.special  # noqa: F401
    import sympy

    # Warm sympy's caches in the parent: otherwise every forked child redoes the first-call work
    # (measured: 18 snippets/s cold against ~100/s warm).
    x, y = sympy.symbols("x y")
    sympy.factor(x**2 - 1)
    sympy.solve(x**2 - 4, x)
    sympy.solve([x + y - 3, x - y - 1], [x, y])
    sympy.simplify(sympy.sin(x) ** 2 + sympy.cos(x) ** 2)
    sympy.integrate(x**2, (x, 0, 1))
    sympy.Rational(1, 3) + sympy.sqrt(2)
    sympy.expand((x + 1) ** 5)
    sympy.limit(sympy.sin(x) / x, x, 0)
    sympy.latex(sympy.Rational(3, 4))


_preload()


class CappedWriter:
    """A text stream that keeps the first OUTPUT_CAP characters and counts the rest, so that a
    snippet printing 100 MB costs neither memory nor a huge protocol line."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self):
        self.parts, self.kept, self.dropped = [], 0, 0

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        room = OUTPUT_CAP - self.kept
        if room > 0:
            piece = s[:room]
            self.parts.append(piece)
            self.kept += len(piece)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        raise OSError("captured stream has no file descriptor")

    def getvalue(self):
        return "".join(self.parts)


def _make_shell():
    """IPython's InteractiveShell in Plain traceback mode, as NeMo-Skills' wrapper uses; a small
    emulation when IPython is not installed (differences are documented in lib.rs)."""
    try:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        cfg = Config()
        cfg.HistoryManager.enabled = False  # no sqlite file, no history thread to break fork()
        shell = InteractiveShell(config=cfg)
        shell.InteractiveTB.set_mode("Plain")
        # NeMo-Skills' fresh shell (IPython 9.1) echoes `Out[1]: `, which its client removes.
        # Newer IPython numbers the prompt execution_count - 1 (`Out[0]: `): pin it to 1.
        shell.execution_count += 1 - shell.displayhook.prompt_count
        try:
            shell.colors = "nocolor"
            shell.InteractiveTB.set_colors("nocolor")
        except Exception:
            pass
        return IPythonShell(shell)
    except Exception:
        return PlainShell()


class IPythonShell:
    kind = "ipython"

    def __init__(self, shell):
        self.shell = shell

    def run(self, code):
        r = self.shell.run_cell(code)
        err = r.error_before_exec or r.error_in_exec
        return err


class PlainShell:
    """Without IPython: exec the cell, echo the last expression as `Out[1]: repr`, print
    tracebacks on stdout in the shape of IPython's Plain mode."""

    kind = "plain"

    def __init__(self):
        self.ns = {"__name__": "__main__", "__builtins__": __builtins__}

    def run(self, code):
        import ast
        import linecache
        import traceback

        fname = "<ipython-input-1-tally>"
        linecache.cache[fname] = (len(code), None, code.splitlines(True), fname)
        try:
            tree = ast.parse(code, fname, "exec")
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            body = compile(tree, fname, "exec")
            last = compile(last, fname, "eval") if last is not None else None
        except SyntaxError as e:
            lines = traceback.format_exception_only(type(e), e)
            print("  File %s:%s" % (fname, e.lineno))
            print("".join(l for l in lines if not l.lstrip().startswith("File ")).rstrip("\n"))
            return e
        try:
            exec(body, self.ns)
            if last is not None:
                value = eval(last, self.ns)
                if value is not None:
                    self.ns["_"] = value
                    text = repr(value)
                    print("Out[1]: " + ("\n" if "\n" in text else "") + text)
            return None
        except BaseException as e:  # noqa: BLE001 - the snippet's error is its output
            out = ["Traceback (most recent call last):"]
            tb = e.__traceback__.tb_next  # skip this frame
            for fs in traceback.extract_tb(tb):
                if fs.filename == fname:
                    out.append("  File %s:%d" % (fname, fs.lineno))
                else:
                    out.append("  File %s:%d, in %s" % (fs.filename, fs.lineno, fs.name))
                if fs.line:
                    out.append("    " + fs.line)
            out.extend(l.rstrip("\n") for l in traceback.format_exception_only(type(e), e))
            print("\n".join(out))
            return e


SHELL = _make_shell()


# ---- length-prefixed messages on pipes (between this process, holders and children) ----------


def write_msg(fd, obj):
    data = json.dumps(obj).encode("utf-8")
    buf = struct.pack("<Q", len(data)) + data
    while buf:
        n = os.write(fd, buf)
        buf = buf[n:]


def _read_exact(fd, n, deadline):
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return b""  # EOF
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_msg(fd, deadline=None):
    """Returns the message, None on timeout, or "EOF"."""
    head = _read_exact(fd, 8, deadline)
    if head is None:
        return None
    if len(head) < 8:
        return "EOF"
    (n,) = struct.unpack("<Q", head)
    body = _read_exact(fd, n, deadline)
    if body is None:
        return None
    if len(body) < n:
        return "EOF"
    return json.loads(body)


# ---- running one snippet -----------------------------------------------------------------------


def child_setup(timeout):
    """In a freshly forked child: own process group (so the wall timeout can kill everything it
    spawns), no access to the protocol stdio, and a CPU-time limit a little above the timeout."""
    os.setpgid(0, 0)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu = int(math.ceil(timeout)) + 1
    if hard != resource.RLIM_INFINITY:
        cpu = min(cpu, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))


def execute(code):
    """Run one cell with stdout/stderr captured; returns the raw result (formatting is Rust's)."""
    out, err = CappedWriter(), CappedWriter()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        exc = SHELL.run(code)
    except BaseException as e:  # noqa: BLE001 - the shell itself failed
        exc = e
        err.write("%s: %s\n" % (type(e).__name__, e))
    finally:
        sys.stdout, sys.stderr = old
    if exc is None:
        status = "completed"
    elif isinstance(exc, MemoryError):
        status = "memory_limit"
    else:
        status = "error"
    return {
        "status": status,
        "stdout": out.getvalue(),
        "stderr": err.getvalue(),
        "dropped": out.dropped + err.dropped,
    }


def describe_exit(st):
    if os.WIFSIGNALED(st):
        sig = os.WTERMSIG(st)
        if sig == signal.SIGXCPU:
            return "timeout", ""
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return "killed", "Killed by signal %s\n" % name
    code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1
    return "killed", "Process exited with code %d before reporting a result\n" % code


def timed_out():
    return {"status": "timeout", "stdout": "", "stderr": "Timed out\n"}


def killpg_quiet(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


# ---- stateless -----------------------------------------------------------------------------------

_run_counter = 0


def run_stateless(code, timeout):
    global _run_counter
    _run_counter += 1
    workdir = os.path.join(TMP, "run-%d" % _run_counter)
    os.makedirs(workdir, exist_ok=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            child_setup(timeout)
            os.chdir(workdir)
            res = execute(code)
            write_msg(w, res)
        finally:
            os._exit(0)
    os.close(w)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    msg = read_msg(r, time.monotonic() + timeout)
    os.close(r)
    killpg_quiet(pid)  # whatever the snippet left running in its group
    _, st = os.waitpid(pid, 0)
    shutil.rmtree(workdir, ignore_errors=True)
    if msg is None:
        return timed_out()
    if msg == "EOF":
        status, text = describe_exit(st)
        return timed_out() if status == "timeout" else {"status": status, "stdout": "", "stderr": text}
    return msg


# ---- sessions --------------------------------------------------------------------------------------


class Session:
    def __init__(self, sid):
        self.workdir = os.path.join(TMP, "sess-%s" % "".join(c for c in sid if c.isalnum()))
        os.makedirs(self.workdir, exist_ok=True)
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(self.cmd_w)
            os.close(self.res_r)
            os.chdir(self.workdir)
            holder_loop(cmd_r, res_w)
            os._exit(0)
        os.close(cmd_r)
        os.close(res_w)
        self.holder = pid

    def close(self):
        for fd in (self.cmd_w, self.res_r):
            try:
                os.close(fd)
            except OSError:
                pass
        killpg_quiet(self.holder)
        try:
            os.kill(self.holder, signal.SIGKILL)
        except OSError:
            pass
        # Reap it now (it is this server's child, directly or as an adopted orphan), so that the
        # process is gone when the close is answered rather than at the next request's sweep.
        try:
            os.waitpid(self.holder, 0)
        except OSError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)


def holder_loop(cmd_r, res_w):
    """Runs in the session's holder. Returns never: exits when the command pipe closes."""
    os.setpgid(0, 0)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    while True:
        cmd = read_msg(cmd_r)
        if cmd == "EOF" or cmd is None:
            os._exit(0)
        vr, vw = os.pipe()
        pid = os.fork()
        if pid == 0:
            # The snippet's process; it becomes the next holder if the snippet succeeds.
            os.close(vr)
            write_msg(res_w, {"pid": os.getpid()})
            child_setup(cmd["timeout"])
            res = execute(cmd["code"])
            adopt = res["status"] == "completed" and not res["stderr"]
            res["adopted"] = adopt
            # The snippet may have killed the old holder: then this write fails with EPIPE
            # (SIGPIPE ignored for it, or it would kill this process) and there is nothing to
            # tell; this process still becomes the holder, with the state intact.
            old_pipe = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
            try:
                os.write(vw, b"A" if adopt else b"D")
            except OSError:
                pass
            signal.signal(signal.SIGPIPE, old_pipe)
            os.close(vw)
            write_msg(res_w, res)
            if not adopt:
                os._exit(0)
            # New holder: lift the snippet's CPU limit back to the worker's hard limit.
            _, hard = resource.getrlimit(resource.RLIMIT_CPU)
            resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
            continue
        os.close(vw)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        verdict = b""
        try:
            verdict = os.read(vr, 1)
        except OSError:
            pass
        os.close(vr)
        if verdict == b"A":
            os._exit(0)  # the child holds the new state; this process is history
        _, st = os.waitpid(pid, 0)
        if verdict != b"D":
            status, text = describe_exit(st)
            write_msg(res_w, {"crashed": True, "status": status, "stderr": text})


SESSIONS = {}


def run_session(sid, code, timeout, create):
    sess = SESSIONS.get(sid)
    if sess is None:
        if not create:
            return {"status": "session_lost", "stdout": "", "stderr": ""}
        sess = SESSIONS[sid] = Session(sid)
    try:
        write_msg(sess.cmd_w, {"code": code, "timeout": timeout})
    except OSError:
        return drop_session(sid, "Session holder died; session state lost\n")
    deadline = time.monotonic() + timeout
    first = read_msg(sess.res_r, deadline + 2.0)
    if not isinstance(first, dict) or "pid" not in first:
        return drop_session(sid, "Session holder died; session state lost\n")
    child = first["pid"]
    msg = read_msg(sess.res_r, deadline)
    if msg is None:
        killpg_quiet(child)
        sweep()  # kills what escaped the group, so the holder sees the child end
        crash = read_msg(sess.res_r, time.monotonic() + 2.0)
        if not isinstance(crash, dict):
            drop_session(sid, "")
        return timed_out()
    if msg == "EOF":
        return drop_session(sid, "Session holder died; session state lost\n")
    if msg.get("crashed"):
        if msg["status"] == "timeout":
            return timed_out()
        return {"status": msg["status"], "stdout": "", "stderr": msg["stderr"]}
    if msg.pop("adopted", False):
        # The old holder exits now; it is reaped after the answer is sent (see main).
        _exited_holders.append(sess.holder)
        sess.holder = child
    else:
        killpg_quiet(child)
    return msg


# Holders replaced by their snippet's child during the current request.
_exited_holders = []


def reap_exited_holders():
    """Wait for the holders that just handed over their state, so that no zombie of theirs is
    left between requests (they exit right after the handover; waiting costs microseconds)."""
    while _exited_holders:
        pid = _exited_holders.pop()
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass  # not our child (no subreaper) or already reaped


def drop_session(sid, text):
    sess = SESSIONS.pop(sid, None)
    if sess is not None:
        sess.close()
    return {"status": "killed", "stdout": "", "stderr": text}


# ---- housekeeping ---------------------------------------------------------------------------------


def sweep():
    """Kill every process descended from this server except the session holders: background
    processes and escaped forks die with the request. Orphans are re-parented to this server (it
    is a child subreaper), so nothing a snippet started escapes the walk; and processes that are
    not ours (another service's, the host's) are never in it, whatever their uid."""
    me = os.getpid()
    keep = {s.holder for s in SESSIONS.values()}
    children = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
            # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
            ppid = int(stat[stat.rindex(b")") + 2 :].split(None, 2)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    stack = list(children.get(me, ()))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        if pid not in keep:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    reap()


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def clean_tmp():
    keep = {os.path.basename(s.workdir) for s in SESSIONS.values()}
    try:
        names = os.listdir(TMP)
    except OSError:
        return
    for name in names:
        if name in keep:
            continue
        path = os.path.join(TMP, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def main():
    _proto_out.write(json.dumps({"ready": True, "shell": SHELL.kind, "pid": os.getpid()}) + "\n")
    _proto_out.flush()
    for line in _proto_in:
        req = json.loads(line)
        rid = req.get("id")
        if req.get("op") == "close":
            sid = req.get("session")
            sess = SESSIONS.pop(sid, None)
            if sess is not None:
                sess.close()
            resp = {"id": rid, "closed": sess is not None}
        else:
            timeout = float(req.get("timeout") or 10.0)
            sid = req.get("session")
            if sid:
                res = run_session(sid, req["code"], timeout, bool(req.get("create")))
            else:
                res = run_stateless(req["code"], timeout)
            res["id"] = rid
            resp = res
        _proto_out.write(json.dumps(resp) + "\n")
        _proto_out.flush()
        reap_exited_holders()
        sweep()
        if not req.get("session"):
            clean_tmp()


if __name__ == "__main__":
    main()
