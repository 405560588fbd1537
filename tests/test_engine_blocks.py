"""The engine owns execution; a format is pure parsing (issue 19 item 1, docs/internals.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

FORMATS = Path(__file__).resolve().parent.parent / "kubelog" / "formats"
# what only the engine may use: pools, threads, processes, the run's part writer, the engine itself
EXECUTION = {"concurrent", "multiprocessing", "threading", "kubelog.run", "kubelog.engine", "kubelog.workers"}


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports, relative imports resolved against kubelog.formats."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = ["kubelog", "formats"][: 3 - node.level]
                base = ".".join(pkg + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize("path", sorted(FORMATS.glob("*.py")), ids=lambda p: p.name)
def test_a_format_module_is_pure_parsing(path):
    """No format module runs pools, threads or processes, or writes parts (klog.py ran its own
    process pool and wrote Parquet parts from its worker code)."""
    bad = {m for m in _imports(path) if any(m == e or m.startswith(e + ".") for e in EXECUTION)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_klog_is_splittable_by_the_engine():
    from kubelog import formats

    f = formats.get("klog")
    assert f.parse is None and f.plan is not None and f.parse_block is not None


def _block(lines: list[str]):
    from kubelog.formats.base import Block
    from kubelog.sources import lines as L

    text = pa.array(lines, pa.string())
    return Block(L.LineChunk(text, np.arange(1, len(lines) + 1, dtype=np.int64), len(lines)), first=True)


def _spec(year=2023):
    from kubelog.formats import klog
    from kubelog.formats.base import BlockSpec

    return BlockSpec(
        "klog",
        0,
        "kube-apiserver.log",
        "apiserver",
        year,
        "UTC",
        {"component": "kube-apiserver"},
        [],
        False,
        klog.HEADER_START,
    )


@pytest.mark.skipif("not __import__('kubelog.native').native.module()")
def test_parse_block_same_with_the_c_scanner_and_the_arrow_reference(monkeypatch):
    """One block through klog.parse_block with each implementation of the header scan
    (klog.block_scanner chooses): the same rows and the same accounting."""
    from kubelog import tables
    from kubelog.formats import fastscan, klog
    from kubelog.synth.bench import write_apiserver_log
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "a.log"
        write_apiserver_log(p, 2_000, seed=9)
        lines = p.read_text().splitlines()
    lines += [
        "+ set -x line",
        "E0101 00:00:01.000000 7 x.go:1] after new year",
        "\tgoroutine 1 [running]:",
        "I1231 23:59:59.000000 7 y.go:2] december",
    ]
    got = []
    for native in (True, False):
        monkeypatch.setattr(fastscan, "available", lambda native=native: native)
        assert isinstance(klog.block_scanner(pa.array(["x"]), 2023), klog.CScan if native else klog.ArrowScan)
        tabs, counts = klog.parse_block(_block(lines), _spec().context())
        got.append(({t: pa.concat_tables([tables.conform(t, c) for c in cs]) for t, cs in tabs.items()}, counts))
    (a, ca), (b, cb) = got
    assert a.keys() == b.keys() and all(a[t].equals(b[t]) for t in a)
    assert ca == cb and ca.record_lines + ca.continuation_lines + sum(c[0] for c in ca.counted.values()) == len(lines)
    assert ca.rollovers == 1  # Dec -> Jan inside the block (the engine adds it to later blocks)


def test_the_engine_moves_later_blocks_a_year_on():
    """The year rollover across blocks is the engine's merge: a block whose first record is in
    January after a block that ended in December gets its times a year later."""
    from kubelog.engine.blocks import BlockResult, Merge
    from kubelog.formats.base import Context, Counts

    got = []
    ctx = Context(0, "a.log", lambda t, d: got.append(d.column("ts").to_pylist()[0].year))
    m = Merge(ctx)
    ts = pa.array([pa.scalar(1_700_000_000 * 10**9, pa.timestamp("ns", tz="UTC")).value], pa.timestamp("ns", tz="UTC"))
    for first, last in ((11 * 32 + 1, 12 * 32 + 31), (1 * 32 + 1, 1 * 32 + 2)):
        m.add(
            BlockResult(
                {"messages": [{"ts": ts, "msg": ["x"], "line_no": [1]}]},
                Counts(record_lines=1, first_ord=first, last_ord=last),
            )
        )
    assert got == [2023, 2024] and ctx.record_lines == 2


class _CountingRunner:
    """A block runner of ``width`` workers that runs each task when submitted and records how many
    were submitted and not yet merged (``peak``)."""

    def __init__(self, width: int):
        from concurrent.futures import Future

        self.width, self.Future = width, Future
        self.out = self.peak = 0

    def warm_up(self):
        return None

    def check_started(self):
        pass

    def submit(self, fn, *args):
        fut = self.Future()
        fut.set_result(fn(*args))
        self.out += 1
        self.peak = max(self.peak, self.out)
        return fut

    def result(self, fut, doing):
        self.out -= 1
        return fut.result()


@pytest.mark.parametrize("ranges", [False, True])
def test_byte_ranges_keep_more_blocks_in_flight(ranges):
    """The byte ranges of a plain file (a task reads its own bytes: a waiting one holds nothing) are
    submitted up to ``RANGES_IN_FLIGHT`` ahead of the merge, so that the workers keep ranges queued while
    this process is busy for longer than a block takes; other blocks (which carry their bytes) at most
    one per worker beside the one merged next.  Every block merged once, in order."""
    from kubelog.engine import blocks
    from kubelog.formats.base import Context

    merged = []

    class _Merge:
        progress = None

        def add(self, res, n, end):
            merged.append(res)

    runner = _CountingRunner(2)
    jobs = ((lambda i, first: i, (i,), 1, (i, 1, None)) for i in range(40))
    blocks._ordered(Context(0, "x", None), _Merge(), runner, jobs, ranges=ranges)
    assert merged == list(range(40))
    assert runner.peak == (blocks.RANGES_IN_FLIGHT if ranges else 3)
    assert blocks.RANGES_IN_FLIGHT > 3
