"""Audit-log ingest against the library floor, as ratios measured in one run (issue 20).

Makes (once, cached in --dir) a complete synthetic Kubemark run with kubelog's generator
(`kubelog synth --era 1.28 --nodes N --scale S`), then, in --rounds rounds, one after the other:

1. floor: ``pyarrow.json.read_json`` of the audit log into typed columns (schema inferred, all threads);
2. kubelog ingest of the audit log alone (every requests column classified, node/pod milestones,
   line accounting, SHA-256, Parquet written), as a library call: its byte ranges on the local worker
   processes (the fork server is started in the first round and stays, as in one ``kubelog`` command).

Each with its wall seconds, the CPU seconds of all processes involved (this one and the worker processes,
sampled from /proc: ``TreeCPU`` of bench_dask.py) and the 1-minute load average before it: on the shared
2-core machine the wall ratio moves with the others' load, the CPU ratio much less.  Then once each (skip
with --no-reference): the same ingest with the columnar path off (every block line by line, every URI
classified: the reference), and a ``json.loads`` loop over the lines (no classification, nothing written).

Prints Markdown rows for bench/README.md. Usage:
    python bench/bench_audit.py [--nodes 100] [--scale 3] [--dir /tmp/kubelog-bench-audit] [--rounds 3]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

from _common import synthetic_run, timed
from bench_dask import TreeCPU


def load1() -> float:
    return os.getloadavg()[0]


def measured(fn) -> tuple[float, float, float]:
    """(wall s, CPU s of this process tree, load average before) of one call of ``fn``."""
    ld = load1()
    cpu = TreeCPU()
    cpu.start()
    t0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    return wall, cpu.stop(), ld


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--scale", type=float, default=3.0)
    ap.add_argument("--dir", default="/tmp/kubelog-bench-audit")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-reference", action="store_true", help="skip the line-by-line and json.loads references")
    a = ap.parse_args()
    audit = synthetic_run(Path(a.dir), a.nodes, a.scale) / "audit.log"
    import pyarrow.json as pj

    import kubelog
    from kubelog.formats import audit as A

    mb = audit.stat().st_size / 1e6
    lines = sum(1 for _ in open(audit, "rb"))

    def ingest():
        with tempfile.TemporaryDirectory() as d:
            kubelog.ingest([str(audit)], Path(d) / "r")

    rows = []
    for _ in range(a.rounds):
        rows.append((measured(lambda: pj.read_json(audit)), measured(ingest)))
    print(
        "| round | load before (floor / ingest) | pyarrow.json.read_json: wall s / CPU s | kubelog ingest: wall s / "
        "CPU s | ratio wall (target ≤ 1.5) | ratio CPU | MB/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for r, ((fw, fc, fl), (kw, kc, kl)) in enumerate(rows, 1):
        print(
            f"| {r} | {fl:.1f} / {kl:.1f} | {fw:.2f} / {fc:.2f} | {kw:.2f} / {kc:.2f} | {kw / fw:.2f}x | "
            f"{kc / fc:.2f}x | {mb / kw:,.0f} |"
        )
    med = lambda i, j: statistics.median(x[i][j] for x in rows)  # noqa: E731
    print(
        f"| median | | {med(0, 0):.2f} / {med(0, 1):.2f} | {med(1, 0):.2f} / {med(1, 1):.2f} | "
        f"{med(1, 0) / med(0, 0):.2f}x | {med(1, 1) / med(0, 1):.2f}x | {mb / med(1, 0):,.0f} |"
    )
    print()
    print(f"{mb:,.0f} MB, {lines:,} events; load average (1 min) at the end {load1():.1f}.")
    if a.no_reference:
        return
    reference = functools.partial(A.prepare_block, columnar=False)
    with mock.patch.object(A.FORMATS[0], "prepare", reference):
        ref = timed(ingest, 1)

    def loads():
        with open(audit, "rb") as f:
            for line in f:
                json.loads(line)

    naive = timed(loads, 1)
    print(f"Line-by-line reference (same ingest, columnar path off): {ref:.2f} s; json.loads loop: {naive:.2f} s.")


if __name__ == "__main__":
    main()
