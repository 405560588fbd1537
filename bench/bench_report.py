"""`kubelog report` on a large generated run: time per section, peak memory, PDF pages (issue #21).

Ratios, not absolute seconds (the machine is shared): every section's time is given as a multiple of
one read + de-duplication of the run's API requests (``api_requests``, the floor any report pays), and
the whole report as the same multiple. The report runs in a child process so that its peak RSS is its
own.

Usage:
  python bench/bench_report.py --run RUN_DIR            # an ingested run
  python bench/bench_report.py --nodes 100 --scale 2    # generate (kubelog synth), ingest, then report
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from kubelog.run import open_run
from kubelog.report import build
from kubelog.analysis.latency import api_requests
run = open_run(sys.argv[1])
t = time.perf_counter()
df, _ = api_requests(run, columns=["verb", "resource", "subresource", "scope", "latency_s", "start_ts"])
base = time.perf_counter() - t
n = len(df)
del df
marks = []
t0 = time.perf_counter()
res = build(run, sys.argv[2], pdf=True, progress=lambda i, k, what: marks.append((what, time.perf_counter() - t0)))
total = time.perf_counter() - t0
print(json.dumps({"requests": n, "baseline_s": base, "total_s": total, "marks": marks, "pages": res["pdf_pages"],
                  "sections": res["sections"],
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", help="an ingested run directory")
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--scale", type=float, default=2.0, help="kubelog synth --scale (extra API traffic)")
    ap.add_argument("--out", help="report directory (default: a temporary one)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kubelog-bench-report-"))
    run = a.run
    if not run:
        raw, run = tmp / "raw", tmp / "run"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kubelog.cli",
                "synth",
                "--out",
                str(raw),
                "--era",
                "1.28",
                "--nodes",
                str(a.nodes),
                "--scale",
                str(a.scale),
                "--skew",
                "test=0s,nodes=0s",
                "--seed",
                "5",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [sys.executable, "-m", "kubelog.cli", "ingest", str(raw), "--out", str(run), "-q"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    out = a.out or str(tmp / "report")
    p = subprocess.run([sys.executable, "-c", CHILD, str(run), out], check=True, capture_output=True, text=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    base = r["baseline_s"]
    print(f"run: {run} ({r['requests']:,} API requests after de-duplication)")
    print(f"baseline (read + de-duplicate the requests once): {base:.1f} s")
    print(
        f"report: {r['total_s']:.1f} s = {r['total_s'] / base:.1f}x the baseline; peak RSS {r['maxrss_mb']:.0f} MB; "
        f"PDF {r['pages']} pages"
    )
    marks = r["marks"] + [("end", r["total_s"])]
    for (what, t), (_, t2) in zip(marks, marks[1:]):
        print(f"  {what:<36} {t2 - t:7.1f} s  {(t2 - t) / base:5.2f}x")
    bad = {k: v for k, v in r["sections"].items() if v != "ok"}
    if bad:
        print(f"sections not ok: {bad}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
