"""Ingest throughput and memory on a large structured apiserver log, as ratios in one run.

Generates (once, cached in --dir) N-line logs with kubelog's deterministic generator
(kubelog.synth.bench), then measures in this run:

0. calibration: `cat` and `wc -l` of the file (this VM's speed varies over the day; DESIGN.md §9
   has 0.07 s and 0.11 s for them);
1. floor: reading the same lines into Arrow string arrays (16 MiB pieces, newline split);
2. kubelog ingest (every request field to Parquet), in a subprocess, with the peak RSS and PSS
   summed over its process tree (worker processes included); and the `kubelog ingest` command
   itself, start-up and imports included;
3. the same ingest with the C scanner disabled (KUBELOG_NO_NATIVE=1: the Arrow path);
4. a straightforward per-line Python `re` parser of the same request fields into pandas.

Prints a Markdown table for bench/README.md. Usage:
    python bench/bench_ingest.py [--lines 2000000 6000000] [--dir /tmp/kubelog-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa


def floor_read(path: Path) -> float:
    """Seconds to merely read the file and split it into Arrow string arrays of lines, streamed
    in 16 MiB pieces (numpy newline search, zero-copy array construction), one thread."""
    t = time.perf_counter()
    carry, n = b"", 0
    with open(path, "rb") as f:
        while True:
            piece = f.read(16 << 20)
            if not piece:
                break
            buf = carry + piece
            nl = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10)
            if len(nl) == 0:
                carry = buf
                continue
            offs = np.empty(len(nl) + 1, np.int32)
            offs[0] = 0
            offs[1:] = nl + 1
            arr = pa.StringArray.from_buffers(len(nl), pa.py_buffer(offs), pa.py_buffer(buf))
            n += len(arr)
            carry = buf[int(nl[-1]) + 1 :]
    assert n > 0
    return time.perf_counter() - t


RX = re.compile(
    r'^[IWEF](\d{4} \d\d:\d\d:\d\d\.\d{6}) +\d+ \S+\] "HTTP" verb="([^"]*)" URI="([^"]*)" latency="([^"]*)" '
    r'userAgent="((?:[^"\\]|\\.)*)" (?:audit-ID="([^"]*)" )?srcIP="([^"]*)".*? resp=(\d+)'
)
UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def naive(path: Path) -> float:
    import pandas as pd

    t = time.perf_counter()
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = RX.match(line)
            if m:
                lat = m.group(4)
                u = re.search(r"[a-zµ]+$", lat).group(0)
                try:
                    v = float(lat[: -len(u)]) * UNITS[u]
                except (KeyError, ValueError):
                    v = float("nan")
                rows.append(
                    (m.group(1), m.group(2), m.group(3), v, m.group(5), m.group(6), m.group(7), int(m.group(8)))
                )
    df = pd.DataFrame(rows, columns=["ts", "verb", "uri", "latency_s", "ua", "audit_id", "src", "code"])
    df.to_parquet(path.with_suffix(".naive.parquet"))
    return time.perf_counter() - t


def _tree_mem_kb(root: int) -> tuple[int, int]:
    """(sum of Rss, sum of Pss) in kB over ``root`` and all its descendants (worker processes
    included).  Rss counts a page shared by several processes once in each; Pss divides it."""
    kids: dict[int, list[int]] = {}
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat") as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(e))
    rss = pss = 0
    todo = [root]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for ln in f:
                    if ln.startswith("Rss:"):
                        rss += int(ln.split()[1])
                    elif ln.startswith("Pss:"):
                        pss += int(ln.split()[1])
        except OSError:
            pass
        todo.extend(kids.get(p, []))
    return rss, pss


def kubelog_ingest(path: Path, out: Path, env: dict | None = None) -> tuple[float, float, dict]:
    """Run an ingest in a subprocess; wall seconds and the peak of the summed RSS of its
    whole process tree (sampled every 100 ms: the main process and its worker processes);
    the peak summed PSS is in the returned dict as ``pss_mb``.  The output of an earlier run is
    removed first, outside the timing: ``--force`` deletes the old run only after the new one is
    complete (~0.05 s for the ~100 part files of a 2M-line run), which is not ingest work."""
    shutil.rmtree(out, ignore_errors=True)
    code = (
        "import sys,time,json;from kubelog.engine import ingest;t=time.perf_counter();"
        f"r=ingest([{str(path)!r}], {str(out)!r}, force=True);dt=time.perf_counter()-t;"
        "print(json.dumps({'s':dt,'rows':r.inputs[0]['rows'],'lines':r.inputs[0]['lines_read']}))"
    )
    # OPENBLAS_NUM_THREADS as the kubelog command sets it (idle OpenBLAS threads spin otherwise)
    p = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, OPENBLAS_NUM_THREADS="1", **(env or {})),
    )
    peak = peak_pss = 0
    while p.poll() is None:
        rss, pss = _tree_mem_kb(p.pid)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(0.1)
    out_text = p.stdout.read()
    if p.returncode:
        raise SystemExit(f"ingest failed ({p.returncode})")
    d = json.loads(out_text.strip().splitlines()[-1])
    d["pss_mb"] = peak_pss / 1024
    return d["s"], peak / 1024, d


def calibration(path: Path) -> tuple[float, float]:
    """Wall seconds of ``cat FILE >/dev/null`` and ``wc -l FILE`` (best of three): the speed of
    this machine at the time of the run, to compare with the figures in DESIGN.md §9 (0.07 s and
    0.11 s on the 2M-line file) — this VM runs at different speeds at different times."""

    def best(cmd: list[str]) -> float:
        ts = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
            ts.append(time.perf_counter() - t)
        return min(ts)

    return best(["cat", str(path)]), best(["wc", "-l", str(path)])


def cli_ingest(path: Path, out: Path) -> float:
    """Wall seconds of the `kubelog ingest` command itself (Python start-up and imports included)."""
    exe = Path(sys.executable).with_name("kubelog")
    shutil.rmtree(out, ignore_errors=True)  # as in kubelog_ingest
    t = time.perf_counter()
    subprocess.run(
        [str(exe), "ingest", str(path), "--out", str(out), "--force", "-q"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, nargs="+", default=[2_000_000, 6_000_000])
    ap.add_argument("--dir", default="/tmp/kubelog-bench")
    ap.add_argument("--skip-naive-above", type=int, default=2_000_000)
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="kubelog ingest runs per size: the median and the best are reported (this VM's "
        "speed drifts by tens of percent within minutes)",
    )
    a = ap.parse_args()
    # kubelog's bytecode, as a regular (non-editable) install has it: with PYTHONDONTWRITEBYTECODE
    # (set on some machines) every process would compile the changed modules again (~0.07 s each)
    import compileall
    import kubelog

    compileall.compile_dir(Path(kubelog.__file__).parent, quiet=1)
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    from kubelog.synth.bench import write_apiserver_log
    from kubelog import native

    print(f"<!-- {native.status()} -->")
    print(
        f"| lines | MB | cat / wc -l (s) | floor: lines→Arrow (s) | kubelog ingest, median of {a.repeat} (s) "
        "| lines/s (median) | best (s) | lines/s (best) "
        "| `kubelog ingest` command (s) | peak RSS, all processes (MB) | peak PSS, all processes (MB) "
        "| same, Arrow path only (s) | naive Python re→pandas (s) | speed-up vs naive (median) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in a.lines:
        p = d / f"apiserver-{n}.log"
        if not p.exists():
            write_apiserver_log(p, n, seed=1)
        mb = p.stat().st_size / 1e6
        cat_s, wc_s = calibration(p)
        fl = floor_read(p)
        runs = [kubelog_ingest(p, d / f"run-{n}") for _ in range(max(1, a.repeat))]
        times = sorted(r[0] for r in runs)
        s, best = times[len(times) // 2], times[0]
        rss, info = max(r[1] for r in runs), {"pss_mb": max(r[2]["pss_mb"] for r in runs)}
        cli_s = cli_ingest(p, d / f"run-{n}-cli")
        arrow_s = (
            kubelog_ingest(p, d / f"run-{n}-arrow", {"KUBELOG_NO_NATIVE": "1"})[0]
            if n <= a.skip_naive_above
            else float("nan")
        )
        nv = naive(p) if n <= a.skip_naive_above else float("nan")
        print(
            f"| {n:,} | {mb:,.0f} | {cat_s:.2f} / {wc_s:.2f} | {fl:.2f} | {s:.2f} | {n / s:,.0f} | {best:.2f} "
            f"| {n / best:,.0f} | {cli_s:.2f} "
            f"| {rss:,.0f} | {info['pss_mb']:,.0f} | {_or_dash(arrow_s, '{:.2f}')} | {_or_dash(nv, '{:.2f}')} "
            f"| {_or_dash(nv / s, '{:.1f}x')} |",
            flush=True,
        )


def _or_dash(x: float, fmt: str) -> str:
    """``fmt`` of x, or a dash for a measurement skipped (NaN)."""
    return "–" if x != x else fmt.format(x)


if __name__ == "__main__":
    main()
