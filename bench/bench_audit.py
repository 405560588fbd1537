"""Audit-log ingest against the library floor, as ratios measured in one run (issue 20).

Makes (once, cached in --dir) a complete synthetic Kubemark run with kubelog's generator
(`kubelog synth --era 1.28 --nodes N --scale S`), then times, three times each, median:

1. floor: ``pyarrow.json.read_json`` of the audit log into typed columns (schema inferred, all threads);
2. kubelog ingest of the audit log alone (every requests column classified, node/pod milestones,
   line accounting, SHA-256, Parquet written), as a library call;
3. the same with the columnar path off (every block line by line, every URI classified: the reference);
4. a ``json.loads`` loop over the lines (no classification, nothing written).

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
    floor = timed(lambda: pj.read_json(audit), a.repeat)

    def ingest():
        with tempfile.TemporaryDirectory() as d:
            kubelog.ingest([str(audit)], Path(d) / "r")

    kl = timed(ingest, a.repeat)
    ref_parse = A.parse_json
    with mock.patch.object(A.FORMATS[0], "parse", lambda s, c: ref_parse(s, c, columnar=False)):
        ref = timed(ingest, 1)

    def loads():
        with open(audit, "rb") as f:
            for line in f:
                json.loads(line)

    naive = timed(loads, 1)
    print(
        "| MB | events | pyarrow.json.read_json (s) | kubelog ingest (s) | ratio to read_json (target ≤ 1.5) "
        "| MB/s | line-by-line reference (s) | json.loads loop (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {mb:,.0f} | {lines:,} | {floor:.2f} | {kl:.2f} | {kl / floor:.2f}x | {mb / kl:,.0f} | {ref:.2f} | "
        f"{naive:.2f} |"
    )


if __name__ == "__main__":
    main()
