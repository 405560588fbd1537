"""Helpers the benchmark scripts share (run as ``python bench/NAME.py``: this folder is on sys.path)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path


def timed(fn, repeat: int, clock=time.perf_counter) -> float:
    """Median seconds of ``repeat`` calls of ``fn`` by ``clock`` (wall; ``time.process_time``: this process's
    CPU)."""
    out = []
    for _ in range(repeat):
        t = clock()
        fn()
        out.append(clock() - t)
    return statistics.median(out)


def alternated(runs: dict, repeat: int, clock=time.perf_counter) -> dict:
    """``{name: median seconds}`` of ``repeat`` rounds, each calling every ``runs[name]()`` once in turn (so
    that a change of load on the machine meets every contender alike)."""
    got = {k: [] for k in runs}
    for _ in range(repeat):
        for k, fn in runs.items():
            t = clock()
            fn()
            got[k].append(clock() - t)
    return {k: statistics.median(v) for k, v in got.items()}


def synthetic_run(base: Path, nodes: int, scale: float, seed: int = 1) -> Path:
    """A complete synthetic 1.28 Kubemark run (``kubelog synth``, clocks in sync), made once and cached
    in ``base``; returns its directory."""
    run_dir = Path(base) / (f"synth-1.28-{nodes}n-x{scale:g}" + ("" if seed == 1 else f"-s{seed}"))
    if not (run_dir / "truth.json").exists():
        from kubelog.synth import generate

        generate(run_dir, seed=seed, nodes=nodes, era="1.28", skew="test=0s,nodes=0s", scale=scale)
    return run_dir
