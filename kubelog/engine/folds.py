"""The blocks of a folded input (the audit JSON log): prepared anywhere, folded in order here.

A folded format reads its input as blocks of whole lines whose preparing is a pure function of the
block (``format.prepare(first_line, data) -> Prepared``: parse, classify, the rows final at the block,
its accounting, a small carry) and whose state across blocks is an ordered fold over the carries
(``format.fold(ctx)``: the audit log's events that wait for a later stage of their request).  This
module runs it (docs/internals.md, "The ingest engine"):

- a plain file (no compression, not in an archive) of :data:`kubelog.engine.blocks.PROCESS_MIN_BYTES`
  or more is cut into byte ranges of whole lines (:func:`file_ranges`: this process reads the file once,
  in order, hashes it and counts its lines); each range is a task (:func:`range_task`) on the local
  process pool or the Dask cluster (:func:`kubelog.engine.executors.block_runner`), which reads its bytes,
  prepares them and writes the block's ``requests`` rows to a part file of its own
  (``requests/part-<source>-L<first line>.parquet``); the small tables, the accounting and the carry come
  back and are merged in file order (:class:`FoldMerge`), at most
  :data:`kubelog.engine.blocks.RANGES_IN_FLIGHT` ranges in flight (:func:`kubelog.engine.blocks.in_flight`);
- any other input is read here as a stream, its blocks prepared ahead on threads
  (:func:`kubelog.engine.readahead.ordered_map`) and folded in order, its rows through the input's writer.

Either way the rows, the accounting and the manifest are those of the format's serial parse
(tests/test_engine_folds.py).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pyarrow as pa

from .. import tables
from ..formats.base import Context, Prepared
from . import blocks, executors, readahead
from . import pool as local

#: Pieces this process reads the file in (they stay in the CPU cache while hashed and counted).
RANGE_PIECE = 256 << 10
#: The tables a range's task writes to a part file itself (the others come back to this process).
WORKER_TABLES = ("requests",)


@dataclass
class FoldResult(blocks.BlockResult):
    """A block's task result (:class:`kubelog.engine.blocks.BlockResult`) and its carry for the fold."""

    carry: Any = None
    too_long: int | None = None  # the line number of a line over the fold's max_line (nothing else)


# -- the tasks -------------------------------------------------------------------------------------


def range_task(
    path: str,
    start: int,
    end: int,
    first_line: int,
    n: int,
    prepare: Callable[[int, bytes], Prepared],
    source_id: int,
    part_root,
    first: bool = False,
) -> FoldResult:
    """Bytes ``[start, end)`` of a plain file (``n`` whole lines from ``first_line``), read and prepared
    here (a worker process, a Dask worker); the ``requests`` rows written to a part file of their own."""
    local.freeze_imports()
    with open(path, "rb") as f:
        data = _pread(f.fileno(), end - start, start)
    if len(data) != end - start:  # the file shrank since it was cut (a log rotated meanwhile?)
        raise OSError(f"{path}: {end - start} bytes expected at offset {start}, {len(data)} read")
    p = prepare(first_line, data)
    del data
    if p.n != n:
        raise ValueError(f"{path}: the range had {n} lines when it was cut, {p.n} when read")
    return _result(p, source_id, first_line, part_root)


def _pread(fd: int, length: int, offset: int) -> bytes:
    out = os.pread(fd, length, offset)
    if len(out) == length or not out:
        return out
    parts = [out]
    got = len(out)
    while got < length:
        b = os.pread(fd, length - got, offset + got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def too_long_task(line_no: int, first: bool = False) -> FoldResult:
    """A line over the fold's ``max_line`` bytes: nothing to parse, only its place in the order."""
    return FoldResult(too_long=line_no)


def _result(p: Prepared, source_id: int, first_line: int, part_root) -> FoldResult:
    res = FoldResult(counts=p.counts, carry=p.carry)
    for table, parts in p.tables.items():
        if part_root and table in WORKER_TABLES:
            # (a part's dictionary-encoded strings as they are: the writer takes their dictionaries)
            t = pa.concat_tables([tables.conform(table, c, dictionary=len(parts) == 1) for c in parts])
            if t.num_rows:
                res.written[table] = blocks.write_block_part(t, table, source_id, first_line, part_root)
            continue
        res.tables[table] = [tables.conform(table, c) for c in parts]  # Arrow tables pickle cheaply
    return res


# -- planning --------------------------------------------------------------------------------------


def file_ranges(fd: int, size: int, block: int, max_line: int, hasher=None) -> Iterator[tuple[int, int, int, int]]:
    """``(start, end, first_line, n_lines)`` byte ranges of whole lines of a plain file (descriptor ``fd``,
    ``size`` bytes), each ending after the last newline once it has ``block`` bytes; ``n_lines`` is 0
    for a line longer than ``max_line`` bytes (its newline excluded), a range of its own that nobody
    reads.  A final line without a newline counts as a line.  The file is read once, in order, in
    :data:`RANGE_PIECE` pieces that feed ``hasher`` (a hashlib object) while in the CPU cache.  The same
    blocks, lines and too-long lines as the format's stream reader (``audit.iter_line_blocks``) but for
    where the blocks end."""
    from ..sources.lines import read_pieces

    piece = max(1, min(RANGE_PIECE, block, max_line))  # a line inside one piece is never too long
    buf = bytearray(piece)
    start, line_no = 0, 1  # the current block: its first byte and line number
    nl = 0  # newlines in [start, rpos)
    last_nl = -1  # the offset of the last newline read
    line_start = 0  # the offset where the line being read began
    skipping = False  # the line from line_start is over max_line, its end not read yet
    rpos, last_byte = 0, 10
    for at, k, c in read_pieces(fd, size, buf, hasher):
        rpos, last_byte = at + k, buf[k - 1]
        if c:
            first_nl = at + buf.find(b"\n", 0, k)
            if skipping or first_nl - line_start > max_line:  # the line that ends here is too long
                if line_start > start:
                    yield start, line_start, line_no, nl
                    line_no += nl
                yield line_start, first_nl + 1, line_no, 0
                line_no += 1
                start, nl, skipping = first_nl + 1, c - 1, False
            else:
                nl += c
            last_nl = at + buf.rfind(b"\n", 0, k)
            line_start = last_nl + 1
        elif not skipping and rpos - line_start > max_line:
            if line_start > start:
                yield start, line_start, line_no, nl
                line_no += nl
            start, nl, skipping = line_start, 0, True
            continue
        if not skipping and rpos - start >= block and last_nl >= start:
            yield start, last_nl + 1, line_no, nl  # every newline read so far is at or before last_nl
            line_no += nl
            start, nl = last_nl + 1, 0
    if skipping:
        yield line_start, rpos, line_no, 0
    elif start < rpos:
        if rpos - line_start > max_line:
            if line_start > start:
                yield start, line_start, line_no, nl
                line_no += nl
            yield line_start, rpos, line_no, 0
        else:
            yield start, rpos, line_no, nl + (last_byte != 10)


# -- merging, in file order -----------------------------------------------------------------------


class FoldMerge(blocks.Merge):
    """The blocks' results of one folded input, in file order: their rows and accounting as
    :class:`kubelog.engine.blocks.Merge` takes them, then their carry into the format's fold."""

    def __init__(self, ctx: Context, fold, progress=None):
        super().__init__(ctx, progress)
        self.fold = fold

    def add(self, res: FoldResult, lines: int = 0, end: int | None = None) -> None:
        if res.too_long is not None:
            self.fold.too_long(res.too_long)
        super().add(res, lines, end)
        if res.carry is not None:
            self.fold.add(res.carry)


def parse_input(fmt, stream, ctx: Context, progress=None) -> None:
    """Parse the folded input ``stream`` of format ``fmt`` (its ``prepare`` and ``fold``) into ``ctx``:
    a large plain file by byte ranges on the local process pool or Dask, anything else here with its
    blocks prepared on threads (module docstring).  ``progress(lines, byte end)`` after each block."""
    o = ctx.options
    threads = int(o.get("threads", 2))
    block_pool = o.get("block_pool")  # the Dask cluster's (engine.executors.DaskBlockPool)
    plain = o.get("plain_path")
    processes = 0
    if threads > 1 and o.get("allow_processes", True) and int(o.get("size_hint", 0)) >= blocks.PROCESS_MIN_BYTES:
        processes = threads
    fold = fmt.fold(ctx)
    merge = FoldMerge(ctx, fold, progress)
    try:
        if plain and (processes > 1 or block_pool is not None):
            _by_ranges(fmt, plain, ctx, fold, merge, processes, block_pool)
        else:
            _here(fmt, stream, ctx, fold, merge, threads)
    except BaseException:
        fold.abort()
        raise
    fold.finish()


def _by_ranges(fmt, plain: str, ctx: Context, fold, merge: FoldMerge, processes: int, block_pool) -> None:
    """A plain file's byte ranges as tasks; this process reads, hashes and cuts it, and merges."""
    part_root = ctx.options.get("part_root")
    sha = hashlib.sha256()
    with open(plain, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        ranges = file_ranges(f.fileno(), size, fold.block_bytes, fold.max_line, sha)

        def jobs():
            for a, b, fl, n in ranges:
                if n == 0:  # a line too long: its place in the order, one line read
                    yield too_long_task, (fl,), 1, (fl, 1, (a, b))
                else:
                    yield range_task, (plain, a, b, fl, n, fmt.prepare, ctx.source_id, part_root), n, (fl, n, (a, b))

        shared = ctx.options.get("process_pool")  # the ingest's worker processes, if it has them
        with executors.block_runner(ctx.name, processes, block_pool, read_ahead=True, shared=shared) as runner:
            blocks._ordered(ctx, merge, runner, jobs(), ranges=True)
    ctx.read_externally = (sha.hexdigest(), size)


def _here(fmt, stream, ctx: Context, fold, merge: FoldMerge, threads: int) -> None:
    """The stream's blocks prepared ahead on threads (one of them reads it), merged here in order."""
    from ..formats.audit import iter_line_blocks  # the blocks of whole lines of any stream

    def prepare(first: int, data: bytes | None):
        return fmt.prepare(first, data) if data is not None else None

    items = iter_line_blocks(stream, fold.max_line, fold.block_bytes)
    mapped = readahead.ordered_map(prepare, items) if threads > 1 else readahead.serial_map(prepare, items)
    try:
        for (first, _data), p in mapped:
            if p is None:
                ctx.lines_read += 1
                merge.add(FoldResult(too_long=first), 1)
                continue
            ctx.lines_read += p.n
            merge.add(FoldResult(tables=p.tables, counts=p.counts, carry=p.carry), p.n)
    finally:
        close = getattr(mapped, "close", None)
        if close is not None:  # stops the read-ahead threads, also after an error here
            close()
