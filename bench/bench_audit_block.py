"""Where an audit block's CPU goes: the parts of one ~8 MiB block's task, for one or more codes (issue 20, round 5).

Takes ``--blocks`` blocks of whole lines (8 MiB each) spread over the audit log of the generated run and times,
with the CPU clock of this thread, each part of what a worker does with a block after reading it:
the newline positions and the latency annotations' key (``scan``), ``pyarrow.json`` with the ``{`` check
(``read_json``), the latency annotations of the lines that have them, the ``requests`` columns (classification
included), the block's stages and carry, the Parquet part (``folds._result``: conform and write).  The blocks
are many times the CPU cache, so every pass reads them from memory, as in a worker.  Each code runs in a
subprocess of its own (``PYTHONPATH`` = the tree), the codes alternately ``--rounds`` times; medians over
blocks and rounds.

Usage:
    python bench/bench_audit_block.py [--run DIR] [--blocks 7] [--rounds 3] TREE [TREE ...]
    (TREE: a directory holding the ``kubelog`` package, e.g. ``.`` and an export of the code before)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, os, sys, tempfile, time
import numpy as np
from kubelog.engine import folds
from kubelog.formats import audit
from kubelog.formats.base import Context, Counts, Prepared

path, nblocks, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = os.path.getsize(path)
blocks = []
with open(path, "rb") as f:
    for k in range(nblocks):
        f.seek(int(size * (k + 0.5) / nblocks))
        f.readline()
        d = f.read(audit.READ)
        blocks.append(d[: d.rfind(b"\n") + 1])
T = {}


def tm(key, fn, *a):
    t = time.thread_time()
    r = fn(*a)
    T.setdefault(key, []).append(time.thread_time() - t)
    return r


def scan(data):
    if hasattr(audit, "_scan"):
        got = audit._scan(data)
        return got if len(got) == 3 else (*got, None)  # (round 6: the '{' check in the scan)
    return np.flatnonzero(np.frombuffer(data, np.uint8) == 10), None, None


with tempfile.TemporaryDirectory(prefix="kubelog-bench-block-") as td:
    for r in range(reps + 1):
        if r == 1:
            T.clear()  # the first pass: imports, memos
        for i, data in enumerate(blocks):
            first = 1_000_000 * (i + 1)
            ends, found, braces = tm("scan (newlines, latency key; round 6: the '{' check)", scan, data)
            n = len(ends)
            fast_args = (data, ends, n) if braces is None else (data, ends, n, braces)
            ev = tm("pyarrow.json (before round 6: + the '{' check)", audit._fast, *fast_args)
            lat_args = (data, ends, n) if found is None else (data, ends, n, found)
            lat = tm("latency annotations", audit._latency_annotations_fast, *lat_args)
            ln = np.arange(first, first + n, dtype=np.int64)
            cols = tm("request columns (classification)", audit.request_columns, ev, ln, lat)
            bctx, carry = Context(0, "", None), audit.Carry()
            tabs = tm("stages, carry, milestones", audit._block_events, ev, cols, bctx, carry)
            p = Prepared(n, {t: [c] for t, c in tabs.items()}, Counts(), carry)
            tm("Parquet part (conform, write)", folds._result, p, 1, first, td)
print(audit.__file__, file=sys.stderr)
print(json.dumps({k: v for k, v in T.items()}))
"""


PARSE = "pyarrow.json (before round 6: + the '{' check)"  # a part of _CHILD's


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("trees", nargs="+")
    ap.add_argument("--run", default="/tmp/kubelog-bench-run/synth-1.28-100n-x3")
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=4, help="passes over the blocks per round")
    a = ap.parse_args()
    audit_log = str(Path(a.run) / "audit.log")
    got: dict[str, dict[str, list]] = {t: {} for t in a.trees}
    load0 = os.getloadavg()[0]
    for _ in range(a.rounds):
        for tree in a.trees:
            env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, audit_log, str(a.blocks), str(a.reps)],
                env=env,
                cwd=tempfile.gettempdir(),  # not a checkout: `python -c` puts the working directory first on sys.path
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for k, v in json.loads(out.splitlines()[-1]).items():
                got[tree].setdefault(k, []).extend(v)
    keys = list(next(iter(got.values())))
    print(
        f"CPU ms per ~8 MiB block (median of {a.blocks} blocks x {a.reps} passes x {a.rounds} rounds; load "
        f"{load0:.1f} -> {os.getloadavg()[0]:.1f})"
    )
    print()
    print("| part | " + " | ".join(a.trees) + " |")
    print("|---|" + "---:|" * len(a.trees))
    tot = dict.fromkeys(a.trees, 0.0)
    for k in keys:
        cells = []
        for t in a.trees:
            m = statistics.median(got[t][k]) * 1000
            tot[t] += m
            cells.append(f"{m:.2f}")
        print(f"| {k} | " + " | ".join(cells) + " |")
    print("| **sum** | " + " | ".join(f"**{tot[t]:.2f}**" for t in a.trees) + " |")
    after = [tot[t] - statistics.median(got[t][PARSE]) * 1000 for t in a.trees]
    print("| of it, all but the parse | " + " | ".join(f"{x:.2f}" for x in after) + " |")


if __name__ == "__main__":
    main()
