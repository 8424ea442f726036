"""Agreement of math-verify 0.7.0 with the labels of ../shared/grader-cases/dev.jsonl (per source)
and of the boxed MATH/AIME rows of ../shared/model-outputs/dev.jsonl: the anchor column of
docs/grading.md. Run with the venv made by benches/grade_side_by_side.sh:

    ~/.cache/tally/math-verify-venv/bin/python benches/grader_anchor_agreement.py
"""
import collections
import json
import os
import sys

from math_verify import parse, verify

shared = os.environ.get("TALLY_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


def agree_table(rows, key):
    stats = collections.defaultdict(lambda: [0, 0, 0, 0])  # n, agree, fp, fn
    for src, label, got in rows:
        s = stats[src]
        s[0] += 1
        s[1] += label == got
        s[2] += got and not label
        s[3] += label and not got
    total = [sum(v[i] for v in stats.values()) for i in range(4)]
    print(f"\n{key}")
    print("| source | n | math-verify agree | FP | FN |\n|---|---|---|---|---|")
    for src, (n, a, fp, fn) in sorted(stats.items()):
        print(f"| {src} | {n} | {100 * a / n:.2f} % | {fp} | {fn} |")
    print(f"| **all** | {total[0]} | **{100 * total[1] / total[0]:.2f} %** | {total[2]} | {total[3]} |")


def wrap(s):
    """math-verify extracts LaTeX only between delimiters: wrap bare answers like NeMo-Skills does."""
    s = str(s)
    return s if ("$" in s or "\\boxed" in s or "\\(" in s) else f"${s}$"


def mv(gold, pred, bare_pred):
    try:
        g = parse(wrap(gold))
        p = parse(wrap(pred) if bare_pred else str(pred))
        return bool(verify(g, p))
    except Exception:
        return False


rows = []
for line in open(os.path.join(shared, "grader-cases", "dev.jsonl")):
    r = json.loads(line)
    if r.get("conflicting_labels"):
        continue
    rows.append((r["suite"], bool(r["equal"]), mv(r["gold"], r["pred"], len(str(r["pred"])) < 80)))
agree_table(rows, "grader-cases/dev.jsonl (labelled pairs, conflicting_labels skipped)")

rows = []
for line in open(os.path.join(shared, "model-outputs", "dev.jsonl")):
    r = json.loads(line)
    text = r.get("response") or r.get("generation") or r.get("output") or ""
    if "\\boxed" not in text:
        continue
    src = r.get("dataset") or "?"
    if not any(k in str(src).lower() for k in ("math", "aime")) or "gsm" in str(src).lower() or "omni" in str(src).lower():
        continue
    label = r.get("correct", r.get("is_correct", r.get("label")))
    rows.append((src, bool(label), mv(r.get("gold", r.get("expected_answer")), text, False)))
if rows:
    agree_table(rows, "model-outputs/dev.jsonl (boxed MATH + AIME rows)")
else:
    print("model-outputs: field names not recognised; see SOURCES.md", file=sys.stderr)
