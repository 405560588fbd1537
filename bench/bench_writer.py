"""Parquet writer options for the parts of a large apiserver log, measured (bench/README.md).

1. Generates (once, cached in --dir) the N-line apiserver log with kubelog's deterministic generator
   and ingests it once, to get the worker parts of ``requests`` and ``messages`` (one per 16 MiB
   block), read back as the workers hold them (low-cardinality strings dictionary-encoded).
2. ``write``: writes every such block table with each candidate set of pyarrow.parquet options,
   ``--repeat`` times interleaved, and prints the median seconds (summed over the blocks) and the
   bytes written. The current choice is ``kubelog.run.write_part``.
3. ``ingest``: the whole `ingest()` of the log in a subprocess, ``--repeat`` times, for each
   ``--tree`` (a kubelog source tree on PYTHONPATH: e.g. this one and an export of an older commit),
   interleaved; median wall seconds, and the CPU seconds of the ingest's whole process tree (steadier
   than wall time when the machine is shared).
4. ``executors``: `ingest()` of the log, and of the same number of lines in 8 files, with the local
   executor and with Dask LocalClusters of 1 and 2 workers.

The load average is printed with every result: this machine is shared.

Usage:
    python bench/bench_writer.py write  [--lines 2000000] [--repeat 5]
    python bench/bench_writer.py ingest --tree . /tmp/old [--lines 2000000] [--repeat 5]
    python bench/bench_writer.py executors [--lines 2000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def log_file(d: Path, lines: int) -> Path:
    from kubelog.synth.bench import write_apiserver_log

    d.mkdir(parents=True, exist_ok=True)
    p = d / f"apiserver-{lines}.log"
    if not p.exists():
        write_apiserver_log(p, lines, seed=1)
    return p


def block_tables(log: Path, d: Path):
    """The worker parts of an ingest of ``log``, as Arrow tables the way the workers write them."""
    import pyarrow.parquet as pq

    from kubelog import tables
    from kubelog.engine import ingest

    run = d / f"{log.stem}-run"
    if not (run / "manifest.json").exists():
        shutil.rmtree(run, ignore_errors=True)
        ingest([log], run)
    out = []
    for table in ("requests", "messages"):
        for f in sorted((run / table).glob("part-*-L*.parquet")):
            t = pq.read_table(
                f, read_dictionary=[c for c in tables.dictionary_columns(table) if c in pq.read_schema(f).names]
            )
            out.append((table, t))
    return out


def variants():
    """name -> function(path, table, t) writing one part."""
    import pyarrow.parquet as pq

    from kubelog import run as runmod, tables

    def writer(
        compression=None,
        dictionary="current",
        page_version="1.0",
        row_group=None,
        stats=False,
        delta=False,
        delta_uncompressed=False,
        int_dictionary=False,
        numbers_uncompressed=False,
    ):
        def w(path, table, t):
            comp = tables.compression(table) if compression is None else compression
            if numbers_uncompressed:  # snappy only on the string columns
                comp = {
                    f.name: c
                    if str(f.type) in ("string", "large_string") or str(f.type).startswith("dictionary")
                    else "none"
                    for f, c in zip(t.schema, (comp[f.name] for f in t.schema))
                }
            dic = tables.dictionary_columns(table) if dictionary == "current" else dictionary
            enc = None
            if delta:  # DELTA_BINARY_PACKED for the 64-bit integers and times (sorted-ish: ts, line_no)
                enc = {
                    f.name: "DELTA_BINARY_PACKED"
                    for f in t.schema
                    if str(f.type).startswith("timestamp") or str(f.type) == "int64"
                }
                if delta_uncompressed:
                    comp = {**comp, **{c: "none" for c in enc}}
            if int_dictionary:  # the small integers too (source_id is one value, code a few)
                dic = list(dic) + [f.name for f in t.schema if str(f.type) == "int32"]
            has_dict = any(str(f.type).startswith("dictionary") for f in t.schema)
            pq.write_table(
                t,
                path,
                compression=comp,
                use_dictionary=dic,
                write_statistics=(True if stats else ["ts"] if "ts" in t.column_names else False),
                data_page_version=page_version,
                column_encoding=enc,
                row_group_size=row_group or runmod.PART_ROWS,
                store_schema=not has_dict,
            )

        return w

    return {
        "kubelog.run.write_part (current)": runmod.write_part,
        "snappy everywhere": writer(compression="snappy"),
        "zstd (level 1) everywhere": writer(compression="zstd"),
        "lz4 everywhere": writer(compression="lz4"),
        "no compression": writer(compression="none"),
        "dictionary on every string column": writer(dictionary=True),
        "no dictionary": writer(dictionary=False),
        "data page v2": writer(page_version="2.0"),
        "row groups of 32k rows": writer(row_group=32_768),
        "statistics on every column": writer(stats=True),
        "delta on int64 and times": writer(delta=True),
        "delta on int64 and times, those uncompressed": writer(delta=True, delta_uncompressed=True),
        "dictionary on int32 columns too": writer(int_dictionary=True),
        "numbers and times uncompressed": writer(numbers_uncompressed=True),
        "dictionary on int32 + delta, uncompressed": writer(int_dictionary=True, delta=True, delta_uncompressed=True),
    }


def bench_write(a) -> None:
    import pyarrow.parquet as pq  # noqa: F401

    log = log_file(Path(a.dir), a.lines)
    blocks = block_tables(log, Path(a.dir))
    nrows = sum(t.num_rows for _, t in blocks)
    vs = {k: v for k, v in variants().items() if not a.only or any(o in k for o in a.only)}
    times: dict[str, list[float]] = {k: [] for k in vs}
    size: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.repeat):
            for name, fn in vs.items():
                tot, nbytes = 0.0, 0
                for i, (table, t) in enumerate(blocks):
                    p = Path(tmp) / f"{i}.parquet"
                    t0 = time.process_time()
                    fn(p, table, t)
                    tot += time.process_time() - t0
                    nbytes += p.stat().st_size
                    p.unlink()
                times[name].append(tot)
                size[name] = nbytes
    print(
        f"{len(blocks)} block tables, {nrows:,} rows ({a.lines:,}-line log); CPU seconds, median of "
        f"{a.repeat}; load average {load()}\n"
    )
    print("| writer options | CPU s (median) | min | MB written |")
    print("|---|---:|---:|---:|")
    for name in vs:
        ts = times[name]
        print(f"| {name} | {statistics.median(ts):.3f} | {min(ts):.3f} | {size[name] / 1e6:.1f} |")


def bench_ingest(a) -> None:
    here = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(here))
    log = log_file(Path(a.dir), a.lines)
    # the probe: ingest() timed, and the CPU seconds of its whole process tree (this process, the fork
    # server, the worker processes), sampled from /proc every 20 ms (a worker's last 20 ms are missed)
    code = """import json, os, sys, threading, time
try:
    from kubelog.engine import ingest
except ImportError:
    from kubelog.ingest import ingest
TICK = os.sysconf("SC_CLK_TCK")
seen = {}
def sample():
    kids = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                st = open(f"/proc/{e}/stat").read()
            except OSError:
                continue
            f = st[st.rindex(")") + 2 :].split()
            kids[int(e)] = (int(f[1]), int(f[11]) + int(f[12]))
    me, tree = os.getpid(), {os.getpid()}
    for _ in range(4):
        tree |= {p for p, (pp, _) in kids.items() if pp in tree}
    for p in tree:
        if p in kids:
            seen[p] = max(seen.get(p, 0), kids[p][1])
stop = False
def loop():
    while not stop:
        sample()
        time.sleep(0.02)
if __name__ == "__main__":
    th = threading.Thread(target=loop, daemon=True)
    th.start()
    t = time.perf_counter()
    r = ingest([sys.argv[1]], sys.argv[2])
    dt = time.perf_counter() - t
    sample()
    stop = True
    print(json.dumps({"s": dt, "cpu": sum(seen.values()) / TICK, "rows": r.inputs[0]["rows"].get("requests")}))
"""
    res: dict[str, list[float]] = {t: [] for t in a.tree}
    cpu: dict[str, list[float]] = {t: [] for t in a.tree}  # CPU seconds of the ingest's process tree
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "probe.py"
        script.write_text(code)
        for i in range(a.repeat):
            for tree in a.tree:
                out = Path(tmp) / f"run-{i}-{len(res[tree])}-{abs(hash(tree))}"
                env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
                r = subprocess.run(
                    [sys.executable, str(script), str(log), str(out)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=tmp,
                )
                d = json.loads(r.stdout.strip().splitlines()[-1])
                res[tree].append(d["s"])
                cpu[tree].append(d["cpu"])
                loads.append(float(load().split()[0]))
                shutil.rmtree(out)
    print(
        f"ingest() of the {a.lines:,}-line log, wall seconds, median of {a.repeat} interleaved; "
        f"1-min load average {min(loads):.1f}–{max(loads):.1f}\n"
    )
    print("| tree | median (s) | min | max | CPU s of all its processes, median | min |")
    print("|---|---:|---:|---:|---:|---:|")
    for tree, ts in res.items():
        print(
            f"| {tree} | {statistics.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} | "
            f"{statistics.median(cpu[tree]):.2f} | {min(cpu[tree]):.2f} |"
        )


def bench_executors(a) -> None:
    """ingest() with each executor: the local default (one large log: its byte ranges on the local
    worker processes; many files: --jobs 2) against Dask LocalClusters of 1 and 2 workers (cluster
    start included), on the one large log and on the same number of lines in 8 files."""
    from kubelog.engine import Options, ingest
    from kubelog.synth.bench import write_apiserver_log

    d = Path(a.dir)
    single = [log_file(d, a.lines)]
    many_dir = d / f"apiserver-8x{a.lines // 8}"
    many_dir.mkdir(parents=True, exist_ok=True)
    many = []
    for i in range(8):
        p = many_dir / f"kube-apiserver-{i}.log"
        if not p.exists():
            write_apiserver_log(p, a.lines // 8, seed=10 + i)
        many.append(p)
    configs = {"local": None, "dask local:1": "local:1", "dask local:2": "local:2"}
    res: dict[tuple, list[float]] = {}
    loads = []
    with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
        for i in range(a.repeat):
            for what, inputs in (("1 file", single), ("8 files", many)):
                for name, sched in configs.items():
                    opts = Options(scheduler=sched, jobs=2 if len(inputs) > 1 and not sched else 1)
                    out = Path(tmp) / f"run-{i}-{what[0]}-{name.replace(' ', '_').replace(':', '')}"
                    t = time.perf_counter()
                    ingest(inputs, out, options=opts)
                    res.setdefault((what, name), []).append(time.perf_counter() - t)
                    loads.append(float(load().split()[0]))
                    shutil.rmtree(out)
    print(
        f"ingest() of {a.lines:,} lines, wall seconds, median of {a.repeat} interleaved; "
        f"1-min load average {min(loads):.1f}–{max(loads):.1f}\n"
    )
    print("| input | executor | median (s) | min | over local (median) |")
    print("|---|---|---:|---:|---:|")
    for (what, name), ts in res.items():
        base = statistics.median(res[(what, "local")])
        print(
            f"| {what} | {name} | {statistics.median(ts):.2f} | {min(ts):.2f} | "
            f"{statistics.median(ts) / base - 1:+.0%} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["write", "ingest", "executors"])
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/kubelog-bench")
    ap.add_argument("--tree", nargs="+", default=["."])
    ap.add_argument("--only", nargs="*", help="write: only the variants whose name contains one of these")
    a = ap.parse_args()
    {"write": bench_write, "ingest": bench_ingest, "executors": bench_executors}[a.what](a)


if __name__ == "__main__":
    main()
