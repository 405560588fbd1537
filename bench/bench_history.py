"""Benchmark of `kubelog history` (issue #23): time per run, speed-up with workers, and the
change-point detectors compared on the planted history.

    .venv/bin/python bench/bench_history.py [--runs 60] [--time-runs 20] [--out DIR] [--seed 1]

1. generates a planted history (kubelog.synth.history: get pods 2x from build k, +1.5 s container
   start from build k', one run with node clocks 12 s ahead) and ingests every build with
   ``kubelog ingest --each-run`` (kubelog.engine.store), once on 1 and once on 2 local worker
   processes (the load average before → after each step is printed: the machine is shared);
2. times the per-run work (:func:`kubelog.analysis.history.collect`) over ``--time-runs`` runs in
   this process, on a 2-process pool, and on a 2-worker Dask LocalCluster (cluster start included,
   and reported separately);
3. compares change-point detectors on the whole history's table, each followed by the same
   acceptance stage (Mann-Whitney, bootstrap interval, minimum ratio): ruptures PELT and BinSeg with
   several costs, and Apache Otava's E-divisive when it can be imported (``PYTHONPATH`` pointing at
   an ``pip install --no-deps --target`` copy of apache-otava: it pins numpy==2.2.0).

Prints Markdown tables for bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


from kubelog.analysis import history as H


def _load() -> str:
    return "{:.1f}".format(os.getloadavg()[0])


def _ruptures(algo: str, model: str):
    import ruptures as rpt

    def bp(y, o):
        n = len(y)
        if n < 2 * o.min_size:
            return []
        z = H._robust_z(y).reshape(-1, 1)
        cls = rpt.Pelt if algo == "pelt" else rpt.Binseg
        a = cls(model=model, min_size=o.min_size, jump=1).fit(z)
        return [b for b in a.predict(pen=o.penalty * math.log(n)) if b < n]

    return bp


def _otava():
    try:
        from otava.analysis import compute_change_points_orig
    except ImportError:
        return None

    def bp(y, o):
        cps, _ = compute_change_points_orig(list(H._robust_z(y)), max_pvalue=0.01, seed=0)
        return sorted(int(c.index) for c in cps if 0 < int(c.index) < len(y))

    return bp


def _otava_windowed():
    try:
        from otava.analysis import compute_change_points
    except ImportError:
        return None

    def bp(y, o):
        cps, _ = compute_change_points(list(H._robust_z(y)), window_len=30, max_pvalue=0.001)
        return sorted(int(c.index) for c in cps if 0 < int(c.index) < len(y))

    return bp


def score(ch, truth):
    lat = next(p for p in truth["planted"] if p["kind"] == "latency")["build"]
    pod = next(p for p in truth["planted"] if p["kind"] == "pod_startup")["build"]
    b = ch["build"].astype(int)
    found_lat = bool((((b - lat).abs() <= 1) & ch["metric"].str.startswith("get pods resource @all")).any())
    found_pod = bool((((b - pod).abs() <= 1) & ch["metric"].str.startswith("pod schedule_to_run @all")).any())
    far = ch[[min(abs(x - lat), abs(x - pod)) > 1 for x in b]]
    return found_lat, found_pod, len(far), "; ".join(far["metric"] + " @" + far["build"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--time-runs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    from kubelog.synth.history import generate_history

    root = a.out or Path(tempfile.mkdtemp(prefix="kubelog-bench-history-"))
    try:
        t0 = time.perf_counter()
        truth = generate_history(root / "hist", runs=a.runs, seed=a.seed, jobs=2)
        t1 = time.perf_counter()
        print(f"generate {a.runs} runs (2 processes): {t1 - t0:.1f} s (load average {_load()})")
        # kubelog ingest --each-run: every build of the job, 1 then 2 local worker processes
        from kubelog.engine import Options
        from kubelog.engine.store import ingest_each_run

        job = Path(truth["builds"][0]["dir"]).parent
        print(
            f"\n| ingest --each-run ({a.runs} runs) | wall s | s per run | speed-up | load average |\n|---|---|---|---|---|"
        )
        base = None
        for n in (1, 2):
            store = root / f"store{n}"
            la = _load()
            t = time.perf_counter()
            res = ingest_each_run(job, store, options=Options(jobs=n))
            w = time.perf_counter() - t
            assert res.exit_code == 0, [r.message for r in res.results if not r.ok]
            base = base or w
            print(
                f"| {n} worker{'s' if n > 1 else ''} (--jobs {n}) | {w:.1f} | {w / a.runs:.2f} | {base / w:.2f}x | {la} → {_load()} |"
            )
        runs = H.find_runs([store])  # the store's index
        sub = runs[: a.time_runs]
        H.run_metrics(sub[0])  # imports and caches outside the timing
        c0, w0 = time.process_time(), time.perf_counter()
        for r in sub[1:6]:
            H.run_metrics(r)
        print(
            f"run_metrics, in this process: {(time.process_time() - c0) / 5:.2f} CPU-s per run "
            f"({(time.perf_counter() - w0) / 5:.2f} s wall); load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} CPUs"
        )
        print(
            f"\n| history per-run work ({len(sub)} runs) | wall s | s per run | speed-up | load average |\n|---|---|---|---|---|"
        )
        base = None
        for label, kw in (
            ("in-process (1 worker)", dict(workers=1)),
            ("process pool, 2 workers", dict(workers=2)),
            ("Dask LocalCluster, 2 workers (start included)", dict(scheduler="local:2")),
        ):
            la = _load()
            t = time.perf_counter()
            tab = H.collect(sub, **kw)
            w = time.perf_counter() - t
            base = base or w
            print(f"| {label} | {w:.1f} | {w / len(sub):.2f} | {base / w:.2f}x | {la} → {_load()} |")
        from distributed import LocalCluster

        t = time.perf_counter()
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0").close()
        print(f"\n(a 2-worker LocalCluster alone starts and stops in {time.perf_counter() - t:.1f} s)")
        t = time.perf_counter()
        tab = H.collect(runs, workers=2)
        print(
            f"\nwhole history ({len(runs)} runs), process pool 2 workers: {time.perf_counter() - t:.1f} s; "
            f"table {len(tab):,} rows"
        )
        print(
            "\n| detector (+ same acceptance) | planted latency found | planted pod start-up found | "
            "changes elsewhere | detection s |\n|---|---|---|---|---|"
        )
        detectors = [
            ("ruptures PELT, l2 (default)", _ruptures("pelt", "l2")),
            ("ruptures BinSeg, l2", _ruptures("binseg", "l2")),
            ("ruptures PELT, l1", _ruptures("pelt", "l1")),
            ("ruptures PELT, rank", _ruptures("pelt", "rank")),
            ("ruptures PELT, rbf", _ruptures("pelt", "rbf")),
            ("Apache Otava E-divisive (compute_change_points_orig, p<0.01)", _otava()),
            ("Apache Otava windowed (compute_change_points, window 30)", _otava_windowed()),
        ]
        orig = H.breakpoints
        try:
            for label, fn in detectors:
                if fn is None:
                    print(f"| {label} | not importable | | | |")
                    continue
                H.breakpoints = fn
                t = time.perf_counter()
                try:
                    ch = H.detect_changes(tab)
                except Exception as e:  # noqa: BLE001 — report a detector's failure as a result
                    print(f"| {label} | error: {type(e).__name__} {e} | | | |")
                    continue
                w = time.perf_counter() - t
                fl, fp, nfar, far = score(ch, truth)
                print(
                    f"| {label} | {'yes' if fl else 'no'} | {'yes' if fp else 'no'} | {nfar}"
                    f"{' (' + far + ')' if far else ''} | {w:.1f} |"
                )
        finally:
            H.breakpoints = orig
    finally:
        if a.out is None:
            shutil.rmtree(root)


if __name__ == "__main__":
    sys.exit(main())
