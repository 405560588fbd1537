"""Audit-log ingest against the library floor, as ratios measured in one run (issue 20).

Makes (once, cached in --dir) a complete synthetic Kubemark run with kubelog's generator
(`kubelog synth --era 1.28 --nodes N --scale S`), then times, three times each, median:

1. floor: ``pyarrow.json.read_json`` of the audit log into typed columns (schema inferred, all threads);
2. kubelog ingest of the audit log alone (every requests column classified, node/pod milestones,
   line accounting, SHA-256, Parquet written), as a library call;
3. the same with the columnar path off (every block line by line, every URI classified: the reference);
4. a ``json.loads`` loop over the lines (no classification, nothing written).

For 1 and 2 also the CPU seconds of this process, all its threads (``getrusage``): on the shared machine the
wall ratio moves with the load (both use the two cores), the CPU ratio much less.

Prints a Markdown row for bench/README.md. Usage:
    python bench/bench_audit.py [--nodes 100] [--scale 3] [--dir /tmp/kubelog-bench-audit]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from unittest import mock

from _common import synthetic_run, timed


def cpu_timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (this process, all threads) of ``repeat`` calls."""
    import resource
    import statistics
    import time

    wall, cpu = [], []
    for _ in range(repeat):
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        fn()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        wall.append(time.perf_counter() - t0)
        cpu.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--scale", type=float, default=3.0)
    ap.add_argument("--dir", default="/tmp/kubelog-bench-audit")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    audit = synthetic_run(Path(a.dir), a.nodes, a.scale) / "audit.log"
    import pyarrow.json as pj

    import kubelog
    from kubelog.formats import audit as A

    mb = audit.stat().st_size / 1e6
    lines = sum(1 for _ in open(audit, "rb"))
    import os

    load0 = "/".join(f"{x:.1f}" for x in os.getloadavg())
    floor, floor_cpu = cpu_timed(lambda: pj.read_json(audit), a.repeat)

    def ingest():
        with tempfile.TemporaryDirectory() as d:
            kubelog.ingest([str(audit)], Path(d) / "r")

    kl, kl_cpu = cpu_timed(ingest, a.repeat)
    ref_parse = A.parse_json
    with mock.patch.object(A.FORMATS[0], "parse", lambda s, c: ref_parse(s, c, columnar=False)):
        ref = timed(ingest, 1)

    def loads():
        with open(audit, "rb") as f:
            for line in f:
                json.loads(line)

    naive = timed(loads, 1)
    load1 = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Load average (1/5/15 min) before: {load0}, after: {load1}.")
    print()
    print(
        "| MB | events | pyarrow.json.read_json (s) | kubelog ingest (s) | ratio to read_json (target ≤ 1.5) "
        "| MB/s | CPU-s read_json / ingest (ratio) | line-by-line reference (s) | json.loads loop (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {mb:,.0f} | {lines:,} | {floor:.2f} | {kl:.2f} | {kl / floor:.2f}x | {mb / kl:,.0f} | "
        f"{floor_cpu:.1f} / {kl_cpu:.1f} ({kl_cpu / floor_cpu:.2f}x) | {ref:.2f} | {naive:.2f} |"
    )


if __name__ == "__main__":
    main()
