#!/usr/bin/env python3
"""Builds the grader fuzzer's seed corpus from real model outputs (at fuzz time; nothing of
../shared is vendored into the repository).

Usage: fuzz-corpus.py SHARED_DIR OUT_DIR [--workload-stride N] [--outputs-stride N]

One file per entry, named by the SHA-1 of its bytes (duplicates collapse), in the fuzz
target's input format `response \\x01 gold`:

* model-outputs/dev.jsonl: every `response` with its `gold` (real responses of several models);
* grader-cases/dev.jsonl: `pred` with `gold`; extraction-dev.jsonl: `response`;
  normalization-dev.jsonl: `input`;
* bench/grading-workload.jsonl: every Nth `generation` with its `expected_answer` (synthetic
  NeMo-Skills-style generations; a sample is enough);
* crates/tally-grade/fuzz/seeds/: the hand-written shapes (nested boxes, `\\boxed{}}`, …).

A missing SHARED_DIR leaves only the hand-written seeds, with a note; with env CI set it is an
error instead.
"""

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

SEP = "\x01"


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def text(v):
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v)


def entries(shared, workload_stride, outputs_stride):
    for i, r in enumerate(jsonl(shared / "model-outputs" / "dev.jsonl")):
        if i % outputs_stride == 0 and text(r.get("response")):
            yield text(r["response"]) + SEP + (text(r.get("gold")) or "")
    cases = shared / "grader-cases"
    for r in jsonl(cases / "dev.jsonl"):
        if text(r.get("pred")) is not None:
            yield text(r["pred"]) + SEP + (text(r.get("gold")) or "")
    for r in jsonl(cases / "extraction-dev.jsonl"):
        if text(r.get("response")):
            yield text(r["response"])
    for r in jsonl(cases / "normalization-dev.jsonl"):
        if text(r.get("input")):
            yield text(r["input"])
    for i, r in enumerate(jsonl(shared / "bench" / "grading-workload.jsonl")):
        if i % workload_stride == 0:
            yield text(r["generation"]) + SEP + (text(r.get("expected_answer")) or "")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shared", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--workload-stride", type=int, default=8)
    p.add_argument("--outputs-stride", type=int, default=1)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    seeds = Path(__file__).resolve().parent.parent / "crates" / "tally-grade" / "fuzz" / "seeds"
    items = [f.read_bytes() for f in sorted(seeds.iterdir()) if f.is_file()]
    if a.shared.is_dir():
        items += [e.encode("utf-8") for e in entries(a.shared, a.workload_stride, a.outputs_stride)]
    elif os.environ.get("CI"):
        sys.exit(f"fuzz-corpus: {a.shared} not found (CI needs the real-output corpus)")
    else:
        print(f"fuzz-corpus: note: {a.shared} not found; hand-written seeds only", file=sys.stderr)
    names = set()
    total = 0
    for b in items:
        name = hashlib.sha1(b).hexdigest()
        if name not in names:
            names.add(name)
            total += len(b)
            (a.out / name).write_bytes(b)
    print(f"fuzz-corpus: {len(names)} inputs, {total / 1e6:.1f} MB in {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
