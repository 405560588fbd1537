"""Whole-run ingest: a complete synthetic Kubemark run, per format and in total, as ratios in one run (issue 20).

Makes (once, cached in --dir) a complete run with kubelog's generator (`kubelog synth --era 1.28`):
kube-apiserver.log, audit.log, events.json, pods.json, e2e.log, kube-scheduler.log, hollow-node logs,
junit. Then, in this run:

In --rounds rounds, one after the other (so that each ratio is of neighbouring measurements):
1. `kubelog ingest` of the whole run directory (library call): total MB/s and lines/s, and per input its
   parse seconds from the manifest (MB/s and lines/s per format);
2. `kubelog ingest` of kube-apiserver.log alone: the access-log path's MB/s, the yardstick of the
   whole-run target (all inputs together ≥ 60 % of it);
each with its wall seconds, the CPU seconds of all processes (this one and the worker processes:
``TreeCPU`` of bench_dask.py) and the 1-minute load average before it (the machine is shared).
Then once:
3. library floors: pyarrow.json.read_json of audit.log; json.loads of events.json and pods.json;
4. a naive per-line parser: json.loads per line of audit.log; for events.json and pods.json the per-object
   reference parser (`objects.parse(..., columnar=False)`, the code before issue 20).
The peak memory of the first whole-run ingest (a fresh process, as one `kubelog ingest` command) summed over
all its processes (this one, the fork server and the worker processes; Rss and Pss from
/proc/<pid>/smaps_rollup every 100 ms, as bench_ingest.py does): Pss is the measure of the target (a page
shared by several processes, the fork server's preloaded imports, counts once; Rss counts it in each).

Prints Markdown for bench/README.md. Usage:
    python bench/bench_run.py [--nodes 100] [--scale 3] [--rounds 3] [--dir /tmp/kubelog-bench-run] [--run DIR]
                              [--no-floors]
To compare two codes in one session, run it alternately with PYTHONPATH=<the other tree> and --no-floors.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import synthetic_run


class _PeakMem:
    """Peak of the summed Rss/Pss (MB) of this process and its descendants while active."""

    def __enter__(self):
        import os
        import threading

        sys.path.insert(0, str(Path(__file__).parent))
        from bench_ingest import _tree_mem_kb

        self.rss = self.pss = 0
        self.stop = threading.Event()

        def run():
            while not self.stop.is_set():
                r, p = _tree_mem_kb(os.getpid())
                self.rss, self.pss = max(self.rss, r), max(self.pss, p)
                self.stop.wait(0.1)

        self.t = threading.Thread(target=run, daemon=True)
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join()
        self.rss, self.pss = self.rss / 1024, self.pss / 1024


def load() -> str:
    import os

    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def timed(fn, repeat: int):
    out, res = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out), res


def measured(fn):
    """(wall s, CPU s of this process tree, 1-min load average before, result) of one call of ``fn``."""
    import os

    from bench_dask import TreeCPU

    ld = os.getloadavg()[0]
    cpu = TreeCPU()
    cpu.start()
    t = time.perf_counter()
    res = fn()
    wall = time.perf_counter() - t
    return wall, cpu.stop(), ld, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--scale", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/kubelog-bench-run")
    ap.add_argument(
        "--run", help="an existing run directory instead (e.g. a cut of the generated one: memory flat in size?)"
    )
    ap.add_argument(
        "--no-floors",
        action="store_true",
        help="the rounds only (no library floors, no naive parsers: to alternate codes)",
    )
    a = ap.parse_args()
    run_dir = Path(a.run) if a.run else synthetic_run(Path(a.dir), a.nodes, a.scale)
    inputs = sorted(p for p in run_dir.iterdir() if p.name != "truth.json")
    import pyarrow.json as pj

    import kubelog

    def ingest(paths):
        def go():
            with tempfile.TemporaryDirectory() as d:
                return kubelog.ingest([str(p) for p in paths], Path(d) / "r").inputs

        return go

    total_mb = sum(p.stat().st_size for p in inputs) / 1e6
    ap_log = run_dir / "kube-apiserver.log"
    ap_mb = ap_log.stat().st_size / 1e6
    load0 = load()
    rounds = []
    for r in range(a.rounds):
        if r == 0:
            with _PeakMem() as mem:
                whole = measured(ingest(inputs))
        else:
            whole = measured(ingest(inputs))
        rounds.append((whole, measured(ingest([ap_log]))))
    ins = rounds[len(rounds) // 2][0][3]  # the per-input seconds of one round (the middle one)
    lines = sum(e["lines_read"] for e in ins)
    print(
        f"Load average (1/5/15 min) before: {load0}, after the rounds: {load()}. Peak memory of the first whole-run "
        f"ingest, all processes: Pss {mem.pss:,.0f} MB (target ≤ 600 MB), Rss {mem.rss:,.0f} MB."
    )
    print()
    print(
        f"Whole run: {len(inputs)} inputs, {total_mb:,.0f} MB, {lines:,} lines; the access-log path alone: "
        f"kube-apiserver.log, {ap_mb:,.0f} MB."
    )
    print()
    print(
        "| round | load before (whole / alone) | whole run: wall s / CPU s | MB/s | access log alone: wall s / CPU s "
        "| MB/s | whole / access log MB/s (target ≥ 60 %) | same, MB per CPU-s |"
    )
    print("|---|---|---|---:|---|---:|---:|---:|")
    ratios = []
    for r, ((w, c, ld, _), (aw, ac, ald, _)) in enumerate(rounds, 1):
        ratios.append(total_mb / w / (ap_mb / aw))
        print(
            f"| {r} | {ld:.1f} / {ald:.1f} | {w:.2f} / {c:.2f} | {total_mb / w:,.1f} | {aw:.2f} / {ac:.2f} | "
            f"{ap_mb / aw:,.1f} | {100 * ratios[-1]:.0f} % | {100 * (total_mb / c) / (ap_mb / ac):.0f} % |"
        )
    wm = statistics.median(x[0][0] for x in rounds)
    am = statistics.median(x[1][0] for x in rounds)
    wc = statistics.median(x[0][1] for x in rounds)
    ac = statistics.median(x[1][1] for x in rounds)
    print(
        f"| median | | {wm:.2f} / {wc:.2f} | {total_mb / wm:,.1f} | {am:.2f} / {ac:.2f} | {ap_mb / am:,.1f} | "
        f"{100 * total_mb / wm / (ap_mb / am):.0f} % | {100 * (total_mb / wc) / (ap_mb / ac):.0f} % |"
    )
    print()
    if a.no_floors:
        print(f"kubelog from {Path(kubelog.__file__).parent}; load average at the end: {load()}.")
        return
    audit = run_dir / "audit.log"
    floor_audit, _ = timed(lambda: pj.read_json(audit), 1)

    def loads():
        with open(audit, "rb") as f:
            for line in f:
                json.loads(line)

    naive_audit, _ = timed(loads, 1)
    from kubelog.formats import objects as O
    from kubelog.formats.base import Context

    def objects_parse(p, columnar):
        def go():
            import io

            with open(p, "rb") as f:
                O.parse(io.BufferedReader(f), Context(0, p.name, lambda t, d: None), columnar=columnar)

        return go

    print("Per input, the middle round's whole run (parse seconds from its manifest); floors measured once after:")
    print()
    print("| input | format | MB | lines | parse (s) | MB/s | lines/s | library floor (s) | naive per-line (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for e in sorted(ins, key=lambda e: -e["bytes"]):
        name = Path(e["path"]).name
        mb = e["bytes"] / 1e6
        s = e.get("parse_seconds") or float("nan")
        floor = naive = "–"
        if name == "audit.log":
            floor, naive = f"{floor_audit:.2f} (pyarrow.json.read_json)", f"{naive_audit:.2f} (json.loads loop)"
        elif name in ("events.json", "pods.json"):
            p = run_dir / name
            f_s, _ = timed(lambda p=p: json.loads(p.read_bytes()), 3)
            fast, _ = timed(objects_parse(p, True), 3)
            ref, _ = timed(objects_parse(p, False), 1)
            floor = f"{f_s:.2f} (json.loads of the file; objects.parse alone {fast:.2f} = {fast / f_s:.1f}x)"
            naive = f"{ref:.2f} (per-object reference)"
        elif name == "kube-apiserver.log":
            floor = f"{am:.2f} (this input alone, whole ingest, median)"
        print(
            f"| {name} | {e['format']} | {mb:,.1f} | {e['lines_read']:,} | {s:.2f} | {mb / s:,.1f} | "
            f"{e['lines_read'] / s:,.0f} | {floor} | {naive} |"
        )
    print()
    print(f"Load average at the end: {load()}.")


if __name__ == "__main__":
    main()
