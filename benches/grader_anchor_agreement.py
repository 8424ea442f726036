"""Every grader dev set, side by side: Tally (`tally grade --pairs`), math-verify 0.9.0 and
NeMo-Skills' graders, with false positives and false negatives apart.

Dev sets: the classes of `fixtures/grader-dev/*.jsonl` (answers written differently and near
misses), the labelled pairs of `../shared/grader-cases/dev.jsonl` (per suite; `conflicting_labels`
and multiple-choice-letter rows skipped; the bare-answer suites compared directly, the others
through extraction: Tally's `--pairs --extract`, the graders' own) and the MATH/AIME rows of
`../shared/model-outputs/dev.jsonl` (whole responses: Tally grades them as a sample file, with
`tally grade`; the others extract their own answer). Labels are the truth.

Graders (each in its own Python, spawned by this script):
  * math-verify 0.9.0: `verify(parse(gold), parse(pred))`, bare answers wrapped in `$…$` as
    NeMo-Skills does; a venv with `pip install "math-verify==0.9.0"` (MV_PYTHON).
  * NeMo-Skills 3e064820 (2 May 2025, the seed of the spec, §4.3): sympy `math_equal(pred, gold)`
    of `nemo_skills/code_execution/math_grader.py`; needs sympy and antlr4-python3-runtime==4.11.0
    (NEMO_SYMPY_PYTHON).
  * NeMo-Skills 6bfd6302 (20 May 2025) and the newest commit of the clone: `math_equal(gold, pred)`
    of `nemo_skills/evaluation/math_grader.py` (math-verify based; runs in MV_PYTHON, so on
    math-verify 0.9.0).
  Their code is read from a NeMo-Skills clone (NEMO_SKILLS_REPO) with `git show`, into a scratch
  folder; nothing of it is kept in this repository. Without the clone those columns are skipped.

    python3 -m venv ~/.cache/tally/mv090-venv && ~/.cache/tally/mv090-venv/bin/pip install "math-verify==0.9.0" tqdm
    python3 -m venv ~/.cache/tally/nemo-sympy-venv && \
        ~/.cache/tally/nemo-sympy-venv/bin/pip install sympy==1.14.0 antlr4-python3-runtime==4.11.0
    TALLY_BIN=<target>/debug/tally NEMO_SKILLS_REPO=<clone of NVIDIA/NeMo-Skills> \
        python3 benches/grader_anchor_agreement.py
"""
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("TALLY_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
CACHE = os.environ.get("TALLY_CACHE_DIR", os.path.expanduser("~/.cache/tally"))
MV_PYTHON = os.environ.get("MV_PYTHON", os.path.join(CACHE, "mv090-venv", "bin", "python"))
NEMO_SYMPY_PYTHON = os.environ.get(
    "NEMO_SYMPY_PYTHON", os.path.join(CACHE, "nemo-sympy-venv", "bin", "python")
)
NEMO_REPO = os.environ.get("NEMO_SKILLS_REPO")
PAIR_TIMEOUT = 20  # seconds per pair, on top of each grader's own timeouts

# Suites of grader-cases whose pairs are bare answers (the rest go through extraction).
BARE = {"nemo-skills", "mario-eval", "hendrycks-math", "nemo-skills-answer-judge"}


# ---------------------------------------------------------------------------------------------
# Workers: one grader over a JSONL of {"gold", "pred", "response": bool}, verdicts out.


class PairTimeout(Exception):
    pass


def _alarm(_signum, _frame):
    raise PairTimeout()


def wrap(s):
    s = str(s)
    return s if ("$" in s or "\\boxed" in s or "\\(" in s or "\\[" in s) else f"${s}$"


def worker(kind, src, inp, out):
    if kind == "math-verify":
        from math_verify import parse, verify

        def grade(gold, pred, response):
            return bool(verify(parse(wrap(gold)), parse(pred if response else wrap(pred))))

    else:
        sys.path.insert(0, src)
        import math_grader as mg

        if kind == "nemo-sympy":

            def grade(gold, pred, response):
                p = mg.extract_answer(pred) if response else pred
                return bool(mg.math_equal(str(p), str(gold)))

        else:

            def grade(gold, pred, response):
                p = mg.extract_answer(pred) if response else pred
                return bool(mg.math_equal(gold, p))

    signal.signal(signal.SIGALRM, _alarm)
    with open(inp) as f, open(out, "w") as o:
        for line in f:
            r = json.loads(line)
            signal.alarm(PAIR_TIMEOUT)
            try:
                v = grade(r["gold"], r["pred"], r["response"])
            except PairTimeout:
                v = None
            except Exception:
                v = False
            finally:
                signal.alarm(0)
            o.write(json.dumps(v) + "\n")
            o.flush()


# ---------------------------------------------------------------------------------------------
# Driver.


def load_sets():
    """(set name, row label, gold, pred, is_response, label) for every dev row."""
    rows = []
    dev = os.path.join(ROOT, "fixtures", "grader-dev")
    for name in sorted(os.listdir(dev)):
        if name.endswith(".jsonl"):
            for line in open(os.path.join(dev, name)):
                r = json.loads(line)
                rows.append(("written differently", name[: -len(".jsonl")], r["gold"], r["pred"], False, r["equal"]))
    path = os.path.join(SHARED, "grader-cases", "dev.jsonl")
    if os.path.exists(path):
        for line in open(path):
            r = json.loads(line)
            if r.get("conflicting_labels"):
                continue
            letters = "NativeLetters" in (r.get("options") or {}).get("match_types", [])
            if letters:
                continue  # multiple-choice letters: not an equivalence question
            bare = r["suite"] in BARE
            rows.append(("labelled pairs", r["suite"], str(r["gold"]), str(r["pred"]), not bare, bool(r["equal"])))
    path = os.path.join(SHARED, "model-outputs", "dev.jsonl")
    if os.path.exists(path):
        for line in open(path):
            r = json.loads(line)
            if r["dataset"] not in ("math", "aime24"):
                continue
            src = r["source"].split("@")[0]
            rows.append(("model outputs (boxed)", f"{r['dataset']}:{src}", r["gold"], r["response"], True, bool(r["correct"])))
    return rows


def nemo_sources(scratch):
    """Materialises the NeMo-Skills grader files: {column name: (kind, folder)}."""
    if not NEMO_REPO:
        print("note: NEMO_SKILLS_REPO is not set; NeMo-Skills columns skipped", file=sys.stderr)
        return {}
    stub = os.path.join(scratch, "stub", "nemo_skills")
    os.makedirs(stub)
    open(os.path.join(stub, "__init__.py"), "w").close()
    with open(os.path.join(stub, "utils.py"), "w") as f:
        # The two helpers the grader modules import; nothing else of the package is needed.
        f.write("import glob\n\ndef get_logger_name(path):\n    return 'nemo_skills'\n\n")
        f.write("def unroll_files(patterns):\n    for p in patterns:\n        yield from sorted(glob.glob(p, recursive=True))\n")
    head = subprocess.run(["git", "-C", NEMO_REPO, "rev-parse", "--short=8", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = {}
    for name, kind, commit, path in [
        ("NeMo 3e064820 (spec, sympy)", "nemo-sympy", "3e064820", "nemo_skills/code_execution/math_grader.py"),
        ("NeMo 6bfd6302 (May 2025)", "nemo-mv", "6bfd6302", "nemo_skills/evaluation/math_grader.py"),
        (f"NeMo {head} (newest)", "nemo-mv", "HEAD", "nemo_skills/evaluation/math_grader.py"),
    ]:
        code = subprocess.run(["git", "-C", NEMO_REPO, "show", f"{commit}:{path}"], capture_output=True, text=True)
        if code.returncode:
            print(f"note: {commit}:{path} not found; column skipped", file=sys.stderr)
            continue
        d = os.path.join(scratch, commit)
        os.makedirs(d)
        with open(os.path.join(d, "math_grader.py"), "w") as f:
            f.write(code.stdout)
        out[name] = (kind, d)
    return out


def run_worker(python, kind, src, pairs, scratch, env_path):
    inp = os.path.join(scratch, f"{kind}-{os.path.basename(src)}-in.jsonl")
    outp = inp.replace("-in.jsonl", "-out.jsonl")
    with open(inp, "w") as f:
        for gold, pred, resp in pairs:
            f.write(json.dumps({"gold": gold, "pred": pred, "response": resp}) + "\n")
    env = dict(os.environ, PYTHONPATH=env_path)
    res = subprocess.run([python, os.path.abspath(__file__), "--worker", kind, src, inp, outp], env=env)
    if res.returncode:
        print(f"note: the {kind} worker ({src}) failed; column skipped", file=sys.stderr)
        return None
    return [json.loads(l) for l in open(outp)]


def run_tally(rows, pairs, scratch):
    """Bare pairs and labelled responses through `tally grade --pairs [--extract]`; model
    outputs through `tally grade` on a sample file, as a run grades them."""
    binary = os.environ.get("TALLY_BIN") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "tally"
    )
    verdicts = [None] * len(pairs)
    files = [i for i, r in enumerate(rows) if r[0].startswith("model outputs")]
    samples = os.path.join(scratch, "output.jsonl")
    with open(samples, "w") as f:
        for i in files:
            f.write(json.dumps({"generation": pairs[i][1], "expected_answer": pairs[i][0]}) + "\n")
    subprocess.run([binary, "grade", samples], capture_output=True, check=True)
    for i, line in zip(files, open(samples)):
        r = json.loads(line)
        verdicts[i] = "undecided" if r["grade_status"] == "undecided" else bool(r["is_correct"])
    for extract in (False, True):
        idx = [i for i, p in enumerate(pairs) if p[2] == extract and verdicts[i] is None]
        inp = os.path.join(scratch, f"tally-{extract}.jsonl")
        with open(inp, "w") as f:
            for i in idx:
                f.write(json.dumps({"gold": pairs[i][0], "pred": pairs[i][1]}) + "\n")
        args = [binary, "grade", "--pairs", inp] + (["--extract"] if extract else [])
        res = subprocess.run(args, capture_output=True, text=True, check=True)
        for i, line in zip(idx, res.stdout.splitlines()):
            r = json.loads(line)
            verdicts[i] = "undecided" if r["status"] == "undecided" else bool(r["verdict"])
    return verdicts


def table(rows, columns):
    by_set = collections.OrderedDict()
    for k, r in enumerate(rows):
        by_set.setdefault(r[0], collections.OrderedDict()).setdefault(r[1], []).append(k)
    heads = " | ".join(f"{c} agree / FP / FN" for c in columns)
    for set_name, groups in by_set.items():
        print(f"\n**{set_name}**\n")
        print(f"| rows | n | {heads} |")
        print("|---|---|" + "---|" * len(columns))
        total = [k for ks in groups.values() for k in ks]
        for label, ks in list(groups.items()) + [("**all**", total)]:
            cells = []
            for c, verdicts in columns.items():
                n = agree = fp = fn = und = 0
                for k in ks:
                    v, truth = verdicts[k], rows[k][5]
                    if v == "undecided":
                        und += 1
                        v = False
                    n += 1
                    ok = (v is True) == truth
                    agree += ok
                    fp += (v is True) and not truth
                    fn += truth and not (v is True)
                extra = f" ({und} undecided)" if und else ""
                cells.append(f"{100 * agree / n:.2f} % / {fp} / {fn}{extra}")
            print(f"| {label} | {len(ks)} | " + " | ".join(cells) + " |")


def main():
    rows = load_sets()
    pairs = [(r[2], r[3], r[4]) for r in rows]
    columns = collections.OrderedDict()
    with tempfile.TemporaryDirectory() as scratch:
        columns["Tally"] = run_tally(rows, pairs, scratch)
        if os.path.exists(MV_PYTHON):
            columns["math-verify 0.9.0"] = run_worker(MV_PYTHON, "math-verify", scratch, pairs, scratch, "")
        else:
            print(f"note: {MV_PYTHON} missing; math-verify column skipped", file=sys.stderr)
        for name, (kind, src) in nemo_sources(scratch).items():
            python = NEMO_SYMPY_PYTHON if kind == "nemo-sympy" else MV_PYTHON
            if not os.path.exists(python):
                print(f"note: {python} missing; {name} skipped", file=sys.stderr)
                continue
            columns[name] = run_worker(python, kind, src, pairs, scratch, os.path.join(scratch, "stub"))
    columns = collections.OrderedDict((k, v) for k, v in columns.items() if v is not None)
    print("Labels are the truth. Cells: agreement / false positives / false negatives "
          "(Tally's undecided answers count as not equal).")
    table(rows, columns)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:])
    else:
        main()
