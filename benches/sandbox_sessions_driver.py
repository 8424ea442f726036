#!/usr/bin/env python3
"""Drives TIR-like sessions against a sandbox's HTTP API and reports snippets/s.

Works against `tally sandbox` and NeMo-Skills' newest sandbox server alike: each request carries
the session id both as the body's `session_id` (Tally) and the `X-Session-ID` header (NeMo-Skills,
whose nginx routes on it), language "ipython"; each session ends with `DELETE /sessions/<id>`,
as NeMo-Skills' newest client does. Every output is checked; a wrong one fails the run.
Standard library only, so the same driver (and interpreter) measures both sides.

  sandbox_sessions_driver.py --url http://127.0.0.1:6000 --sessions 200 --concurrency 16 \
      [--pss-root PID ...]   # also report the peak PSS of those processes' trees
      [--no-delete]          # leave the sessions open (for a server without DELETE)
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid


def session_snippets(i):
    """One TIR trajectory (code a model writes for one problem) and what each block prints."""
    return [
        (f"import sympy as sp\nx = sp.Symbol('x')\nmine = {i}", ""),
        ("sols = sp.solve(x**2 - 5*x + 6, x)\nprint(sols)", "[2, 3]\n"),
        ("import numpy as np\na = np.arange(100)\nprint(int((a**2).sum()))", "328350\n"),
        (
            "total = 0\nfor k in range(1, 2001):\n    if k % 3 == 0 or k % 5 == 0:\n"
            "        total += k\nprint(total)",
            f"{sum(k for k in range(1, 2001) if k % 3 == 0 or k % 5 == 0)}\n",
        ),
        ("print(sols[2])", "IndexError"),  # a failing block: only the error name is checked
        ("sp.simplify(sp.sin(x)**2 + sp.cos(x)**2), sp.Rational(3, 4) + sp.Rational(1, 6)", "(1, 11/12)\n"),
        ("print(mine * 2, total % 7)", f"{2 * i} {sum(k for k in range(1, 2001) if k % 3 == 0 or k % 5 == 0) % 7}\n"),
    ]


class Client:
    def __init__(self, url, timeout):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout + 30)
            try:
                data = json.dumps(body).encode() if body is not None else None
                h = {"Content-Type": "application/json"} if data is not None else {}
                h.update(headers or {})
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                text = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, text
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise


def run_session(client, i, timeout, failures, delete=True):
    sid = str(uuid.uuid4())
    n = 0
    for code, want in session_snippets(i):
        status, text = client.request(
            "POST",
            "/execute",
            {
                "generated_code": code,
                "timeout": timeout,
                "language": "ipython",
                "session_id": sid,
                "std_input": "",
                "max_output_characters": 1000,
                "traceback_verbosity": "Plain",
            },
            {"X-Session-ID": sid},
        )
        n += 1
        try:
            r = json.loads(text)
        except ValueError:
            r = {"raw": text[:200].decode(errors="replace")}
        got = (r.get("stdout") or "") + (r.get("stderr") or "")
        ok = status == 200 and (want in got if want == "IndexError" else r.get("stdout") == want)
        if not ok:
            failures.append({"session": i, "code": code, "want": want, "status": status, "got": r})
    if not delete:
        return n
    status, text = client.request("DELETE", "/sessions/" + sid, headers={"X-Session-ID": sid})
    if status != 200:
        failures.append({"session": i, "delete": status, "body": text[:200].decode(errors="replace")})
    return n


def tree_pss_kib(roots):
    """Summed PSS of `roots` and every process below them."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    total, stack, procs = 0, list(roots), 0
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        procs += 1
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total, procs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--label", default="")
    ap.add_argument("--pss-root", type=int, action="append", default=[])
    ap.add_argument("--no-delete", action="store_true", help="leave sessions open (servers without DELETE)")
    args = ap.parse_args()

    next_i = [0]
    lock = threading.Lock()
    failures, counts = [], []
    peak = {"pss_kib": 0, "procs": 0}
    done = threading.Event()

    def sampler():
        while not done.wait(0.5):
            pss, procs = tree_pss_kib(args.pss_root)
            peak["pss_kib"] = max(peak["pss_kib"], pss)
            peak["procs"] = max(peak["procs"], procs)

    def worker():
        client = Client(args.url, args.timeout)
        n = 0
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= args.sessions:
                break
            n += run_session(client, i, args.timeout, failures, not args.no_delete)
        counts.append(n)

    if args.pss_root:
        threading.Thread(target=sampler, daemon=True).start()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - started
    done.set()
    snippets = sum(counts)
    report = {
        "label": args.label,
        "sessions": args.sessions,
        "snippets": snippets,
        "seconds": round(secs, 2),
        "snippets_per_s": round(snippets / secs, 1),
        "wrong": len(failures),
        "deleted": not args.no_delete,
    }
    if args.pss_root:
        time.sleep(1.0)  # let the last DELETEs' process kills land
        pss, procs = tree_pss_kib(args.pss_root)
        report.update(
            peak_pss_mib=round(peak["pss_kib"] / 1024, 1),
            peak_processes=peak["procs"],
            after_pss_mib=round(pss / 1024, 1),
            after_processes=procs,
        )
    print(json.dumps(report))
    for f in failures[:5]:
        print("WRONG:", json.dumps(f)[:600], file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
