"""Dask's overhead over the local process pool on the ingest of one large apiserver log (issue 19).

Measured side by side in one run, ``--repeat`` times interleaved, ``ingest()`` called in this process
(the kubelog command adds the same start-up to every row):

- ``local pool``: the default (the log's 16 MiB byte ranges on 2 local worker processes of the fork
  server; the server stays up between repetitions, as its start is paid once per command);
- ``dask tcp, 1 worker`` / ``2 workers``: a ``LocalCluster`` (processes, one thread each) started
  before the timings and passed by its address (``--scheduler tcp://…``), which is how a running
  cluster is used; its workers have imported kubelog once (an untimed warm-up ingest);
- ``dask local:1`` / ``local:2``: the ``LocalCluster`` started and stopped inside every ingest.

Wall seconds, and the CPU seconds of all the processes involved (this one, the fork server and its
workers, the clusters' nannies and workers; sampled from /proc), which stay meaningful when the
machine is shared.  Also: the scheduler's round trip per task (``--noop`` no-op tasks on the 2-worker cluster) and each
configuration's MB/s, which docs/distributed.md uses for its estimate.  The 1-minute load average is
printed (this machine is shared).

``--input FILE`` measures another input instead (issue 20: the audit log, whose 8 MiB byte ranges are
tasks the same way).

Usage:
    python bench/bench_dask.py [--lines 2000000] [--repeat 5] [--dir /tmp/kubelog-bench] [--input FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_writer import load, log_file  # noqa: E402


def _noop(i):
    return i


class TreeCPU:
    """CPU seconds of this process and all its descendants (the fork server and its workers, the
    clusters' nannies and workers) between :meth:`start` and :meth:`stop`, sampled from /proc every
    20 ms (so that processes that end within, a LocalCluster started for one ingest, count too).
    The sampling thread's own CPU (~1 ms per sample, 5 % of a core) is not counted."""

    TICK = os.sysconf("SC_CLK_TCK")

    def _snap(self) -> dict:
        kids = {}
        for e in os.listdir("/proc"):
            if e.isdigit():
                try:
                    st = open(f"/proc/{e}/stat").read()
                except OSError:
                    continue
                f = st[st.rindex(")") + 2 :].split()
                kids[int(e)] = (int(f[1]), int(f[11]) + int(f[12]))
        tree = {os.getpid()}
        for _ in range(6):
            tree |= {p for p, (pp, _) in kids.items() if pp in tree}
        return {p: kids[p][1] for p in tree if p in kids}

    def start(self):
        self.base = self._snap()
        self.seen = dict(self.base)
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        t0 = time.thread_time()
        while self.running:
            for p, t in self._snap().items():
                self.seen[p] = max(self.seen.get(p, 0), t)
            time.sleep(0.02)
        self.own = time.thread_time() - t0

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        for p, t in self._snap().items():
            self.seen[p] = max(self.seen.get(p, 0), t)
        return sum(t - self.base.get(p, 0) for p, t in self.seen.items()) / self.TICK - self.own


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/kubelog-bench")
    ap.add_argument("--noop", type=int, default=2000)
    ap.add_argument("--input", help="this file instead of the generated apiserver log (e.g. an audit log)")
    a = ap.parse_args()

    from distributed import Client, LocalCluster

    from kubelog.engine import Options, ingest

    log = Path(a.input) if a.input else log_file(Path(a.dir), a.lines)
    mb = log.stat().st_size / 1e6
    n_tasks = 0
    clusters = {
        n: LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40)
        for n in (1, 2)
    }
    configs = {
        "local pool (2 processes)": None,
        "dask tcp, 1 worker (cluster running)": clusters[1].scheduler_address,
        "dask tcp, 2 workers (cluster running)": clusters[2].scheduler_address,
        "dask local:1 (cluster started in the ingest)": "local:1",
        "dask local:2 (cluster started in the ingest)": "local:2",
    }
    res: dict[str, list[float]] = {k: [] for k in configs}
    cpu: dict[str, list[float]] = {k: [] for k in configs}
    loads = []
    try:
        with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
            for sched in configs.values():  # warm-up, untimed: imports in the workers, the fork server
                if sched is None or sched.startswith("tcp://"):
                    out = Path(tmp) / "warm"
                    ingest([log], out, options=Options(scheduler=sched))
                    shutil.rmtree(out)
            for i in range(a.repeat):
                for name, sched in configs.items():
                    out = Path(tmp) / f"run-{i}"
                    meter = TreeCPU()
                    meter.start()
                    t = time.perf_counter()
                    r = ingest([log], out, options=Options(scheduler=sched))
                    res[name].append(time.perf_counter() - t)
                    cpu[name].append(meter.stop())
                    assert a.input or r.inputs[0]["lines_read"] == a.lines
                    lines = r.inputs[0]["lines_read"]
                    n_tasks = len(list((out / "requests").glob("part-*-L*.parquet")))  # one per range
                    written = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
                    loads.append(float(load().split()[0]))
                    shutil.rmtree(out)
            with Client(clusters[2].scheduler_address) as c:
                c.gather(c.map(_noop, range(100), pure=False))
                t = time.perf_counter()
                c.gather(c.map(_noop, range(a.noop), pure=False))
                per_task = (time.perf_counter() - t) / a.noop
    finally:
        for cl in clusters.values():
            cl.close()
    print(
        f"ingest() of {log.name}, {lines:,} lines ({mb:.0f} MB, {n_tasks} byte-range tasks), "
        f"wall seconds, median of {a.repeat} interleaved; "
        f"1-min load average {min(loads):.1f}–{max(loads):.1f}\n"
    )
    print(
        "| executor | wall median (s) | min | max | MB/s (median) | wall over the local pool | "
        "CPU s, all processes (median) | min | CPU over the local pool |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = statistics.median(res["local pool (2 processes)"])
    cbase = statistics.median(cpu["local pool (2 processes)"])
    for name, ts in res.items():
        med, cmed = statistics.median(ts), statistics.median(cpu[name])
        print(
            f"| {name} | {med:.2f} | {min(ts):.2f} | {max(ts):.2f} | {mb / med:.0f} | {med / base - 1:+.0%} | "
            f"{cmed:.2f} | {min(cpu[name]):.2f} | {cmed / cbase - 1:+.0%} |"
        )
    print(f"\nscheduler round trip per task ({a.noop} no-op tasks, 2 workers): {per_task * 1e3:.2f} ms")
    print(f"run directory written: {written:.0f} MB ({written / mb:.2f} of the log's bytes)")


if __name__ == "__main__":
    main()
