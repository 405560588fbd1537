"""The blocks of one splittable input (klog text): planned, run, merged in order and written here.

A splittable format says how to parse its blocks (``plan(stream, ctx) -> BlockSpec``) and parses one
(``parse_block(block, ctx) -> (tables, counts)``, pure); this module does everything else
(docs/internals.md, "The ingest engine"):

- planning: a plain file (no compression, not in an archive) of :data:`PROCESS_MIN_BYTES` or more
  with stateless wrappers is cut into byte ranges of whole records (:data:`PROCESS_BLOCK`), which
  the task reads itself (:func:`range_task`); another large input into blocks of bytes
  (:func:`bytes_task`); anything else into unwrapped line chunks parsed in this process
  (:func:`chunk_task`, threads);
- running: on a block runner (:mod:`kubelog.engine.executors`: threads, the local process pool of
  :mod:`kubelog.engine.pool`, or the Dask cluster), at most ``width + 1`` blocks in flight (byte
  ranges, which the tasks read themselves: :data:`RANGES_IN_FLIGHT`, :func:`in_flight`);
- merging, in file order: the line accounting, the Dec→Jan year rollover across blocks (a block after
  one moves its times a year on), the rows (small tables through the input's part writer; the
  ``requests`` and ``messages`` of a block parsed in a worker process are a part file the task wrote,
  ``<table>/part-<source>-L<first line>.parquet``), the blocks lost to a parser error (named).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from .. import run as runmod
from .. import tables
from ..errors import RunFailed, output_error
from ..formats.base import Block, BlockSpec, Context, Counts
from ..remote import RemoteRun
from ..sources import lines as L
from . import executors
from . import pool as local

PROCESS_MIN_BYTES = 64 << 20  # a plain input this large is parsed by worker processes
PROCESS_BLOCK = 16 << 20  # block of a large input handed to a worker process
RANGES_IN_FLIGHT = 8  # byte ranges submitted and not yet merged, at least (in_flight)
# Wrappers that need no state across blocks (CRI partial lines and Docker chunks do).
STATELESS_WRAPPERS = {"rfc3339", "journald", "prow", "jenkins", "minikube", "grep-n"}
WORKER_TABLES = ("requests", "messages")  # a worker process writes a block's rows of these itself


@dataclass
class BlockResult:
    """What a block's task returns: its rows (``{table: [columns or Arrow table, ...]}``), its
    accounting and the part files it wrote itself (``{table: (path, rows)}``)."""

    tables: dict = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)
    written: dict = field(default_factory=dict)


# -- the tasks (run in this process, a worker process or a Dask worker) ----------------------------


def parse(spec: BlockSpec, ch: L.LineChunk, first: bool, ctx: Context | None = None) -> BlockResult:
    """``ch`` through the format's ``parse_block`` (a fresh context unless ``ctx``)."""
    from .. import formats

    tabs, counts = formats.get(spec.format).parse_block(Block(ch, first), ctx or spec.context())
    return BlockResult(tabs, counts)


def chunk_task(spec: BlockSpec, ch: L.LineChunk, first: bool) -> BlockResult:
    """An unwrapped chunk, parsed in this process (threads); its rows go to the input's writer."""
    return parse(spec, ch, first)


def range_task(
    path: str, start: int, end: int, first_line: int, n: int, spec: BlockSpec, part_root: str | None, first: bool
) -> BlockResult:
    """Bytes ``[start, end)`` of a plain file (whole lines, ``n`` of them), read and parsed here."""
    from .. import formats

    rstats = L.ReaderStats()
    read_range = formats.get(spec.format).read_range
    with open(path, "rb") as f:
        text = read_range(f.fileno(), start, end - start, n, spec) if read_range else None
        if text is None:  # the careful split (no fast reader, or the range is not valid UTF-8)
            data = os.pread(f.fileno(), end - start, start)
            if not data.endswith(b"\n"):
                data += b"\n"
            text = L.block_to_array(data, first_line, rstats)
            del data  # the lines are in text now
    ch = L.LineChunk(text, np.arange(first_line, first_line + n, dtype=np.int64), n)
    return _in_worker(ch, rstats, first_line, spec, part_root, first)


def bytes_task(
    data: bytes, first_line: int, n: int, spec: BlockSpec, part_root: str | None, first: bool
) -> BlockResult:
    """A block of bytes (whole lines) of a large input that is not a plain file, parsed here."""
    rstats = L.ReaderStats()
    ch = L.LineChunk(
        L.block_to_array(data, first_line, rstats), np.arange(first_line, first_line + n, dtype=np.int64), n
    )
    return _in_worker(ch, rstats, first_line, spec, part_root, first)


def write_block_part(t: pa.Table, table: str, source_id: int, first_line: int, part_root) -> tuple[str, int]:
    """``t`` (rows of ``table``) as the part file of the block of ``source_id`` that starts at
    ``first_line``, written by the task that parsed it (so the parts of an input sort in file order);
    ``part_root``: the temporary run directory, or a :class:`kubelog.remote.RemoteRun`.  Returns
    (path, rows)."""
    t = t.set_column(t.schema.get_field_index("source_id"), "source_id", tables.repeat_int32(source_id, t.num_rows))
    stem = f"part-{source_id:05d}-L{first_line:012d}"
    if isinstance(part_root, RemoteRun):  # a run at a URL: written through its fsspec filesystem
        d, path, fs = None, part_root.part_path(table, stem), part_root.fs
    else:
        d = Path(part_root) / table
        path, fs = d / f"{stem}.parquet", None
    try:
        if d is None:
            part_root.makedirs(table)
        else:
            d.mkdir(exist_ok=True)  # not its parents: a temporary run directory removed meanwhile stays gone
        runmod.write_part(path, table, t, fs)
    except OSError as e:  # disk full, read-only: the run fails
        raise output_error(path, e) from None
    return str(path), t.num_rows


def _in_worker(
    ch: L.LineChunk, rstats: L.ReaderStats, first_line: int, spec: BlockSpec, part_root: str | None, first: bool
) -> BlockResult:
    local.freeze_imports()
    if spec.wrappers or spec.ansi:
        ch = L.unwrap(ch, spec.wrappers, spec.ansi, rstats, {})
    res = parse(spec, ch, first)
    for reason, (cnt, ex) in rstats.counted.items():
        res.counts.count(reason, "info", cnt, ex)
    res.counts.invalid_utf8 = (rstats.invalid_utf8_lines, rstats.first_invalid_utf8)
    for table in WORKER_TABLES if part_root else ():
        parts = res.tables.pop(table, None)
        if not parts:
            continue
        # the bulk tables are written here, in the worker, to a part file of their own named by
        # the block's first line (so the parts of an input sort in file order); the rest goes back
        t = pa.concat_tables([tables.conform(table, c, dictionary=len(parts) == 1) for c in parts])
        if t.num_rows == 0:
            continue
        res.written[table] = write_block_part(t, table, spec.source_id, first_line, part_root)
    for table, parts in res.tables.items():  # the small tables go back as Arrow tables: cheaper to
        res.tables[table] = [tables.conform(table, c) for c in parts]  # pickle than lists of objects
    return res


# -- merging, in file order ---------------------------------------------------------------------


def shift_years(cols: dict, k: int) -> dict:
    """Move the year-less time columns of a block ``k`` years forward (Dec→Jan across blocks).

    ``started_ts`` of traces is not moved: it is printed with its year (as within a block)."""
    import pandas as pd

    out = dict(cols)
    for c in ("ts", "start_ts"):
        if c in out and out[c] is not None:
            s = pd.Series(out[c].to_pandas() if hasattr(out[c], "to_pandas") else out[c])
            out[c] = pa.array(s + pd.DateOffset(years=k), pa.timestamp("ns", tz="UTC"))
    return out


class Merge:
    """The blocks' results of one input, taken in file order into its context ``ctx``."""

    def __init__(self, ctx: Context, progress=None):
        self.ctx = ctx
        self.year_shift = 0
        self.prev_last = None
        self.invalid = [0, None]
        self.progress = progress  # progress(lines, byte end or None) after each block (engine.core)

    def add(self, res: BlockResult, lines: int = 0, end: int | None = None) -> None:
        ctx, c = self.ctx, res.counts
        ctx.record_lines += c.record_lines
        ctx.continuation_lines += c.continuation_lines
        for reason, (cnt, sev, ex) in c.counted.items():
            ctx.count_many(reason, [e[0] for e in ex], [e[1] for e in ex], cnt, severity=sev)
        if c.invalid_utf8[0]:
            self.invalid[0] += c.invalid_utf8[0]
            self.invalid[1] = self.invalid[1] if self.invalid[1] is not None else c.invalid_utf8[1]
        ctx.errors.extend(c.errors)
        if c.first_ord is not None:
            if self.prev_last is not None and self.prev_last - c.first_ord > 6 * 32:
                self.year_shift += 1
            shift = self.year_shift
            self.prev_last = c.last_ord
            self.year_shift += c.rollovers
        else:
            shift = self.year_shift
        for table, parts in res.tables.items():
            for cols in parts:
                if shift:
                    if isinstance(cols, pa.Table):
                        cols = {n: cols[n] for n in cols.column_names}
                    cols = shift_years(cols, shift)
                ctx.emit(table, cols)
        for table, (path, nrows) in res.written.items():
            ctx.rows[table] = ctx.rows.get(table, 0) + nrows
            if shift:  # a Dec→Jan rollover in an earlier block: move this part's times too
                import pyarrow.parquet as pq

                root = self.ctx.options.get("part_root")
                fs = root.fs if isinstance(root, RemoteRun) else None
                t = pq.read_table(path, filesystem=fs)
                shifted = shift_years({n: t[n] for n in t.column_names}, shift)
                try:
                    runmod.write_part(path, table, pa.table(shifted, schema=t.schema), fs)
                except OSError as e:
                    raise output_error(path, e) from None
        if self.progress is not None:
            self.progress(lines, end)


def in_flight(runner, ranges: bool) -> int:
    """How many blocks may be in flight on ``runner``: ``width + 1`` (one waiting per worker beside the
    one merged next), or for byte ranges (:func:`range_task`, :func:`kubelog.engine.folds.range_task`: a
    task reads its own bytes, so a waiting one holds none) at least :data:`RANGES_IN_FLIGHT`, so that the
    workers have ranges queued while this process is busy for longer than a block takes (its first
    import of pandas in the audit log's fold, ~0.2 s; merging a block with many rows)."""
    return max(runner.width + 1, RANGES_IN_FLIGHT if ranges else 0)


def _ordered(ctx: Context, merge: Merge, runner, jobs, ranges: bool = False) -> None:
    """Submit ``jobs`` ``(fn, args, n_lines, (first_line, n, byte range))`` to ``runner``, at most
    :func:`in_flight` of them at a time, and merge their results in order.  A block whose parser raised
    is lost (its lines named in the accounting) and the input goes on; a worker that died, or
    writing the run that failed, ends the run (:class:`kubelog.errors.RunFailed`)."""
    pending: deque = deque()
    first = True
    limit = in_flight(runner, ranges)
    warm = runner.warm_up()
    if warm is not None:  # while the worker processes start, take ranges ahead (this process reads)
        ahead = []
        for job in jobs:
            ahead.append(job)
            if not warm.is_alive() or len(ahead) >= 256:
                break
        warm.join()
        jobs = itertools.chain(ahead, jobs)

    def merge_next():
        runner.check_started()  # the workers' first jobs said where they imported kubelog from
        fut, (first_line, n, byte_range) = pending.popleft()
        try:
            res = runner.result(fut, f"parsing lines {first_line}-{first_line + n - 1}")
        except RunFailed:
            raise
        except Exception as e:  # this block's parser failed (a bug, an I/O error reading it)
            ctx.lose(first_line, n, f"{type(e).__name__}: {e}".splitlines()[0], byte_range)
            if merge.progress is not None:
                merge.progress(n, byte_range[1] if byte_range else None)
            return
        merge.add(res, n, byte_range[1] if byte_range else None)

    try:
        for fn, args, nlines, span in jobs:
            ctx.lines_read += nlines
            pending.append((runner.submit(fn, *args, first), span))
            first = False
            while len(pending) >= limit:
                merge_next()
    except Exception:  # the input broke (a read error): what was read before is still written
        while pending:
            merge_next()
        raise
    except BaseException:  # interrupted: the runner cancels the rest
        for fut, _ in pending:
            fut.cancel()
        raise
    while pending:
        merge_next()


def parse_input(spec: BlockSpec, stream, ctx: Context, progress=None) -> None:
    """Parse a splittable input whose plan is ``spec``: its blocks on the runner the options in
    ``ctx.options`` call for (module docstring), merged in order into ``ctx``.  ``progress(lines,
    byte end)`` is called as each block is merged (the byte end of a file range, else None)."""
    o = ctx.options
    threads = int(o.get("threads", 2))
    block_pool = o.get("block_pool")  # the Dask cluster's (engine.executors.DaskBlockPool)
    plain = o.get("plain_path")
    part_root = o.get("part_root")
    stateless = set(spec.wrappers) <= STATELESS_WRAPPERS
    processes = 0
    if spec.in_order:
        threads = 1
    elif block_pool is not None:
        threads = max(threads, 2)
    elif (
        threads > 1 and o.get("allow_processes", True) and int(o.get("size_hint", 0)) >= PROCESS_MIN_BYTES and stateless
    ):
        processes = threads  # the GIL between Arrow kernels limits threads
    block = L.BLOCK
    rstats = L.ReaderStats()
    boundary = L.make_boundary(spec.wrappers, spec.record_start)
    merge = Merge(ctx, progress)
    shared = o.get("process_pool")  # the ingest's worker processes, if it has them (engine.core)
    in_procs = (processes > 1 or (block_pool is not None and stateless)) and not spec.in_order
    if in_procs and plain:
        # a large plain file: the tasks read their byte ranges themselves; this process only cuts
        # the file into blocks of whole records, counts lines and hashes it
        import hashlib

        sha = hashlib.sha256()
        with open(plain, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            ranges = L.iter_file_ranges(f.fileno(), size, max(block, PROCESS_BLOCK), rstats, boundary, sha)
            with executors.block_runner(ctx.name, processes, block_pool, read_ahead=True, shared=shared) as runner:
                _ordered(
                    ctx,
                    merge,
                    runner,
                    ((range_task, (plain, a, b, fl, n, spec, part_root), n, (fl, n, (a, b))) for a, b, fl, n in ranges),
                    ranges=True,
                )
        ctx.read_externally = (sha.hexdigest(), size)
    elif in_procs:
        blocks = L.iter_blocks(stream, max(block, PROCESS_BLOCK), rstats, boundary)
        with executors.block_runner(ctx.name, processes, block_pool, shared=shared) as runner:
            _ordered(
                ctx,
                merge,
                runner,
                ((bytes_task, (data, fl, n, spec, part_root), n, (fl, n, None)) for data, fl, n in blocks),
            )
    elif spec.in_order:  # one context for all blocks, in order, here
        bctx = spec.context()
        first = True
        for ch in L.iter_chunks(stream, spec.wrappers, spec.ansi, rstats, block=block, boundary=boundary):
            ctx.lines_read += ch.n_physical
            merge.add(parse(spec, ch, first, bctx), ch.n_physical)
            first = False
        ctx.info.update({k: v for k, v in bctx.info.items() if k not in spec.info})  # what the parser learnt
    else:
        chunks = L.iter_chunks(stream, spec.wrappers, spec.ansi, rstats, block=block, boundary=boundary)
        with executors.block_runner(ctx.name, 0, None, threads=threads) as runner:
            _ordered(
                ctx,
                merge,
                runner,
                (
                    (
                        chunk_task,
                        (spec, ch),
                        ch.n_physical,
                        (int(ch.line_no[0]) if len(ch.line_no) else 0, ch.n_physical, None),
                    )
                    for ch in chunks
                ),
            )
    for reason, (cnt, ex) in rstats.counted.items():
        ctx.count_many(reason, [e[0] for e in ex], [e[1] for e in ex], cnt, severity="info")
    ctx.lines_read += rstats.skipped  # overlong lines: read and counted, in no chunk
    n_bad = rstats.invalid_utf8_lines + merge.invalid[0]
    if n_bad:
        first_bad = min(x for x in (rstats.first_invalid_utf8, merge.invalid[1]) if x is not None)
        ctx.error(f"{n_bad} lines were not valid UTF-8 (bytes replaced with U+FFFD)", first_bad)
