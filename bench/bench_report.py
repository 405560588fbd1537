"""`kubelog report` on a large generated run: time per section, peak memory, PDF pages (issue #21).

Ratios, not absolute seconds (the machine is shared): every section's time is given as a multiple of
one read + de-duplication of the run's API requests (``api_requests``, the floor any report pays), and
the whole report as the same multiple, in wall time and in CPU time (user + system of the process: on
a machine shared with other work the CPU time varies much less than the wall time); the load average
before and after is printed. The report runs in a child process so that its peak RSS is its own
(``--report-first``: the report before the baseline, so the peak is the report's alone).

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
import json, os, resource, sys, time
from kubelog.commands.report import arrow_pool_for_report
arrow_pool_for_report()  # Arrow's allocator as `kubelog report RUN_DIR` has it (before pyarrow loads)
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
from kubelog.run import open_run
from kubelog.report import build
from kubelog.analysis.latency import api_requests
if sys.argv[3] == "report-first":  # the report's peak RSS alone, the baseline after it
    order = ["report", "baseline"]
else:
    order = ["baseline", "report"]
out = {"load_before": os.getloadavg()}
for step in order:
    run = open_run(sys.argv[1])
    if step == "baseline":
        t, c = time.perf_counter(), cpu()
        df, _ = api_requests(run, columns=["verb", "resource", "subresource", "scope", "latency_s", "start_ts"])
        out.update(baseline_s=time.perf_counter() - t, baseline_cpu_s=cpu() - c, requests=len(df))
        del df
    else:
        marks = []
        t0, c0 = time.perf_counter(), cpu()
        res = build(run, sys.argv[2], pdf=True,
                    progress=lambda i, k, what: marks.append((what, time.perf_counter() - t0, cpu() - c0)))
        out.update(total_s=time.perf_counter() - t0, total_cpu_s=cpu() - c0, marks=marks, pages=res["pdf_pages"],
                   sections=res["sections"], maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
out["load_after"] = os.getloadavg()
print(json.dumps(out))
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", help="an ingested run directory")
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--scale", type=float, default=2.0, help="kubelog synth --scale (extra API traffic)")
    ap.add_argument("--out", help="report directory (default: a temporary one)")
    ap.add_argument(
        "--report-first",
        action="store_true",
        help="time the report before the baseline, so that the peak RSS is the report's alone",
    )
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
    order = "report-first" if a.report_first else "baseline-first"
    p = subprocess.run([sys.executable, "-c", CHILD, str(run), out, order], check=True, capture_output=True, text=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    base, base_cpu = r["baseline_s"], r["baseline_cpu_s"]
    load = " → ".join("/".join(f"{x:.1f}" for x in r[k]) for k in ("load_before", "load_after"))
    print(f"run: {run} ({r['requests']:,} API requests after de-duplication); load average {load}")
    print(f"baseline (read + de-duplicate the requests once): {base:.1f} s wall, {base_cpu:.1f} s CPU")
    print(
        f"report: {r['total_s']:.1f} s wall = {r['total_s'] / base:.1f}x the baseline; "
        f"{r['total_cpu_s']:.1f} s CPU = {r['total_cpu_s'] / base_cpu:.1f}x; "
        f"peak RSS {r['maxrss_mb']:.0f} MB ({'the report alone' if a.report_first else 'baseline, then the report'}); "
        f"PDF {r['pages']} pages"
    )
    marks = r["marks"] + [("end", r["total_s"], r["total_cpu_s"])]
    for (what, t, c), (_, t2, c2) in zip(marks, marks[1:]):
        print(f"  {what:<36} {t2 - t:7.1f} s {(t2 - t) / base:5.2f}x  CPU {c2 - c:6.1f} s {(c2 - c) / base_cpu:5.2f}x")
    bad = {k: v for k, v in r["sections"].items() if v != "ok"}
    if bad:
        print(f"sections not ok: {bad}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
