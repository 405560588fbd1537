"""What every input format implements, and the per-input context it is given.

A format is a module in ``kubelog/formats/`` that defines a :class:`Format`
instance named ``FORMAT``.  The registry (:mod:`kubelog.formats`) imports them
all and asks their sniffers, in ``priority`` order (lower first), whether they
claim an input.  A format is pure parsing; the engine (:mod:`kubelog.engine`) runs it:

* a format that can be split into blocks of lines (klog) gives ``plan(stream, ctx) ->``
  :class:`BlockSpec` (decisions made on the input's head: zone, component, wrappers) and
  ``parse_block(block, ctx) -> (tables, counts)`` (one :class:`Block` of whole records to its rows
  and :class:`Counts`); the engine cuts the input, runs the blocks where it chooses, merges them in
  order (the accounting, the year rollover across blocks) and writes the parts;
* any other format gives ``parse(stream, ctx)``, which reads the whole input and hands rows to the
  run writer through ``ctx.emit(table, data)``.

Line accounting (the invariant every parser keeps, checked by the framework)::

    lines_read == record_lines + continuation_lines + sum(counted lines)

* ``record_lines``: physical lines that start a record.  Each record produces
  exactly one *primary* row (``requests``, ``messages``, ``traces``,
  ``test_log``, ``events``, ...); derived rows (``trace_steps``,
  ``pod_transitions`` from a pod object, ...) are not counted.
* ``continuation_lines``: the other physical lines of a multi-line record
  (stack traces, Trace step lines, the lines of a pretty-printed JSON object).
* counted lines: lines that are not part of any record, each with a reason
  (``ctx.count(reason, line_no, text)``), e.g. a shell prompt or a kubectl error.

For documents that are one JSON/YAML object spread over many lines (a pod
list, an event list) the parser counts one record line per emitted primary
object and the rest as continuation lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

import pyarrow as pa

from .. import tables

MAX_EXAMPLES = 5
EXAMPLE_CHARS = 300


@dataclass
class Head:
    """What sniffers see: the first bytes of an input (decompressed) and its name."""

    name: str  # display path, e.g. "artifacts.tgz!master/kube-apiserver.log"
    data: bytes  # up to HEAD_BYTES of the decompressed content

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def lines(self, n: int = 200) -> list[str]:
        ls = self.text.splitlines()
        if len(self.data) >= HEAD_BYTES and ls:
            ls = ls[:-1]  # the last one may be cut
        return ls[:n]


HEAD_BYTES = 64 * 1024


@dataclass
class Stat:
    reason: str
    severity: str = "warning"
    count: int = 0
    examples: list = field(default_factory=list)


class Context:
    """Per-input state handed to a format's ``parse``.

    Attributes
    ----------
    source_id : int
        Index of the input in the manifest.
    name : str
        Display name of the input (used in messages: "name:line: ...").
    clock : str
        Clock domain of the times this input carries (``apiserver``, ``test``,
        ``node/<host>``).  A format may refine it (``ctx.clock = ...``) when it
        learns the host, before emitting rows.
    year : int or None
        Year anchor for year-less timestamps (klog, syslog, e2e), resolved
        before parsing from in-band evidence; ``year_source`` says where from.
    tz : str
        Zone of year-less local timestamps (``UTC`` by default; ``--tz``).
    """

    def __init__(
        self,
        source_id: int,
        name: str,
        emit: Callable[[str, Any], None],
        *,
        clock: str = "",
        year: int | None = None,
        year_source: str = "",
        tz: str = "UTC",
        options: dict | None = None,
    ):
        self.source_id = source_id
        self.name = name
        self._emit = emit
        self.clock = clock
        self.year = year
        self.year_source = year_source
        self.tz = tz
        self.options = options or {}
        self.lines_read = 0
        self.record_lines = 0
        self.continuation_lines = 0
        self.stats: dict[str, Stat] = {}
        self.rows: dict[str, int] = {}
        self.info: dict[str, Any] = {}  # free-form facts for the manifest (wrapper, component, version ...)
        self.errors: list[str] = []
        # blocks read but not parsed (their parser failed on them): {"first_line", "lines", "bytes",
        # "reason"}; their lines are neither records nor counted (docs/failures.md)
        self.lost: list[dict] = []
        self.lost_lines = 0
        # (sha256 hex, bytes) when the parser read the input file itself (large plain files
        # parsed by worker processes) instead of through the stream
        self.read_externally: tuple[str, int] | None = None

    # -- rows -------------------------------------------------------------
    def emit(self, table: str, data: pa.Table | dict) -> None:
        """Hand rows of ``table`` to the writer; ``source_id`` is filled in."""
        t = (
            tables.conform(table, data)
            if not isinstance(data, pa.Table) or data.schema != tables.schema(table)
            else data
        )
        if t.num_rows == 0:
            return
        if table != "parse_stats":
            sid = t.schema.get_field_index("source_id")
            t = t.set_column(sid, "source_id", tables.repeat_int32(self.source_id, t.num_rows))
        self.rows[table] = self.rows.get(table, 0) + t.num_rows
        if self._emit is not None:
            self._emit(table, t)

    # -- accounting -------------------------------------------------------
    def count(
        self,
        reason: str,
        line_no: int | None = None,
        text: str | bytes | None = None,
        n: int = 1,
        severity: str | None = None,
    ) -> None:
        """Count ``n`` physical lines that are not part of a record, with a reason (declared in
        :mod:`kubelog.formats.reasons`; its severity there unless ``severity`` is given)."""
        if severity is None:
            from .reasons import lookup

            d = lookup(reason)
            severity = d.severity if d is not None else "warning"
        st = self.stats.get(reason)
        if st is None:
            st = self.stats[reason] = Stat(reason, severity)
        st.count += n
        if text is not None and len(st.examples) < MAX_EXAMPLES:
            if isinstance(text, bytes):
                text = text.decode("utf-8", errors="replace")
            st.examples.append({"line_no": line_no, "text": text[:EXAMPLE_CHARS]})

    def count_many(
        self, reason: str, line_nos: Iterable[int], texts: Iterable[str], n: int, severity: str = "warning"
    ) -> None:
        """Count ``n`` lines at once; examples taken from the first of ``line_nos``/``texts``."""
        st = self.stats.get(reason)
        if st is None:
            st = self.stats[reason] = Stat(reason, severity)
        st.count += n
        for ln, tx in zip(line_nos, texts):
            if len(st.examples) >= MAX_EXAMPLES:
                break
            st.examples.append({"line_no": int(ln), "text": (tx or "")[:EXAMPLE_CHARS]})

    def error(self, msg: str, line_no: int | None = None) -> None:
        """Record a problem the user must see: "<name>:<line>: msg"."""
        where = f"{self.name}:{line_no}" if line_no else self.name
        self.errors.append(f"{where}: {msg}")

    def lose(self, first_line: int, n: int, reason: str, byte_range: tuple[int, int] | None = None) -> None:
        """Record lines ``first_line`` … ``first_line + n - 1`` as read but lost (not parsed): they
        show as lost in the accounting (``kubelog info``), never as balanced."""
        self.lost.append(
            {
                "first_line": int(first_line),
                "lines": int(n),
                "bytes": list(byte_range) if byte_range else None,
                "reason": reason,
            }
        )
        self.lost_lines += int(n)
        self.error(f"lines {first_line}-{first_line + n - 1} lost (not parsed): {reason}", first_line)

    @property
    def counted_lines(self) -> int:
        return sum(s.count for s in self.stats.values())

    def check_accounting(self) -> None:
        """Count any lines the parser left unaccounted (a parser bug, reported loudly)."""
        missing = self.lines_read - self.record_lines - self.continuation_lines - self.counted_lines - self.lost_lines
        if missing > 0:
            self.count("unaccounted (parser bug)", None, None, n=missing, severity="error")
        elif missing < 0:
            self.error(f"accounting overshoot by {-missing} lines (parser bug)")

    def stats_table(self) -> pa.Table:
        st = [s for s in self.stats.values() if s.count]
        if not st:
            return tables.conform("parse_stats", {})
        import numpy as np

        # built from buffers, not from Python objects: an ingest's main process (where a folded input's
        # accounting ends) then never imports pandas (tables.strings)
        return tables.conform(
            "parse_stats",
            {
                "source_id": tables.repeat_int32(self.source_id, len(st)),
                "reason": tables.strings([s.reason for s in st]),
                "severity": tables.strings([s.severity for s in st]),
                "count": pa.Array.from_buffers(
                    pa.int64(), len(st), [None, pa.py_buffer(np.array([s.count for s in st], np.int64))]
                ),
                "examples": tables.strings([json.dumps(s.examples, ensure_ascii=False) for s in st]),
            },
        )


@dataclass
class Counts:
    """The line accounting of one block, which :func:`Format.parse_block` returns beside its rows
    (the engine adds the blocks' counts up in file order)."""

    record_lines: int = 0
    continuation_lines: int = 0
    counted: dict = field(default_factory=dict)  # reason -> [n, severity, [(line_no, text)]]
    errors: list = field(default_factory=list)  # ctx.error() messages ("name:line: msg")
    # month * 32 + day of the block's first and last record and the Dec→Jan rollovers inside it
    # (year-less time stamps): the engine moves later blocks a year on when the year turns between them
    first_ord: int | None = None
    last_ord: int | None = None
    rollovers: int = 0
    invalid_utf8: tuple = (0, None)  # (lines, first line) the block's reader replaced bytes in

    def count(self, reason: str, severity: str, n: int, examples: list) -> None:
        c = self.counted.setdefault(reason, [0, severity, []])
        c[0] += n
        c[2].extend(examples[: MAX_EXAMPLES - len(c[2])])

    def add_context(self, ctx: "Context") -> None:
        """What was counted and reported through ``ctx`` while parsing the block (extractors)."""
        for reason, st in ctx.stats.items():
            self.count(reason, st.severity, st.count, [(e["line_no"], e["text"]) for e in st.examples])
        self.errors.extend(ctx.errors)
        ctx.stats, ctx.errors = {}, []  # taken: a context kept for the next block starts empty


@dataclass
class Prepared:
    """What a folded format's ``prepare(first_line, data)`` gives for one block of whole lines: a pure
    function of the block, run wherever the engine chooses (its worker processes, Dask, threads).  The
    engine writes ``tables`` and adds ``counts`` up in file order, and hands ``carry`` to the format's
    fold, in file order (the state across blocks)."""

    n: int  # physical lines of the block
    tables: dict  # {table: [columns, ...]}: rows final at this block
    counts: Counts
    carry: Any = None  # picklable: what the fold needs of the block


@dataclass
class Block:
    """A block of whole records of one input (the lines of ``lines``, a
    :class:`kubelog.sources.lines.LineChunk`, wrappers removed); ``first``: the input's first block."""

    lines: Any
    first: bool = False


@dataclass
class BlockSpec:
    """What a splittable format's ``plan`` decided for one input from its head: everything
    ``parse_block`` needs to parse any block of it, in any process (picklable)."""

    format: str
    source_id: int
    name: str
    clock: str
    year: int
    tz: str
    info: dict
    wrappers: list  # line wrappers to remove (kubelog.sources.lines), outermost first
    ansi: bool
    record_start: str  # regex of a record's first line: blocks are cut before one
    # True: a block's parse depends on the blocks before it (state kept in the context): the engine
    # parses them one after the other in one process, with one context
    in_order: bool = False
    options: dict = field(default_factory=dict)  # the format's own options, in the block's ctx.options

    def context(self) -> "Context":
        """A fresh per-block context (no writer: the engine writes the block's rows)."""
        ctx = Context(
            self.source_id, self.name, None, clock=self.clock, year=self.year, tz=self.tz, options=dict(self.options)
        )
        ctx.info.update(self.info)
        return ctx


class Source(Protocol):
    """The opened input a format parses (see :mod:`kubelog.sources`)."""

    name: str

    def read(self, n: int = -1) -> bytes: ...


MAX_DOCUMENT = 512 << 20


def line_count(data: bytes) -> int:
    """Physical lines in ``data`` (a last line without a newline counts)."""
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def read_document(stream, ctx: Context, what: str = "document", max_bytes: int = MAX_DOCUMENT) -> bytes | None:
    """Read a whole one-document input (JSON, XML, YAML) for formats that cannot stream it.

    Does not touch the line accounting (the caller counts the lines it parses).  An
    input larger than ``max_bytes`` is refused: its lines are read, added to
    ``ctx.lines_read`` and counted as ``"<what> too large (not parsed)"`` with an
    error naming the limit, and None is returned.
    """
    chunks, n = [], 0
    while True:
        b = stream.read(8 << 20)
        if not b:
            return b"".join(chunks)
        n += len(b)
        chunks.append(b)
        if n > max_bytes:
            lines = sum(c.count(b"\n") for c in chunks)
            last = b
            while True:
                b = stream.read(8 << 20)
                if not b:
                    break
                lines += b.count(b"\n")
                last = b
            lines += 0 if last.endswith(b"\n") else 1
            ctx.lines_read += lines
            ctx.count(f"{what} too large (not parsed)", 1, None, n=lines, severity="error")
            ctx.error(f"{what} larger than {max_bytes >> 20} MiB: refused (split it into smaller files)")
            return None


def refuse_document(ctx: Context, data: bytes, n_lines: int, what: str, err: Exception) -> None:
    """Count every line of a document that does not parse, with the parser's message."""
    ctx.count(f"invalid {what} (not parsed)", 1, data[:200], n=n_lines, severity="error")
    ctx.error(f"invalid {what}: {err}")


def load_json_document(stream, ctx: Context):
    """Read and decode a one-document JSON input, adding its lines to ``ctx.lines_read``.

    Returns ``(doc, n_lines)``; ``doc`` is None when the input was refused (too large)
    or is not valid JSON (its lines are then counted, with the decoder's message).
    """
    import json as _json

    data = read_document(stream, ctx, "JSON document")
    if data is None:
        return None, 0
    n = line_count(data)
    ctx.lines_read += n
    try:
        return _json.loads(data), n
    except ValueError as e:
        refuse_document(ctx, data, n, "JSON", e)
        return None, n


@dataclass
class Format:
    """A registered input format.

    Parameters
    ----------
    name : str
        Short unique name (``klog``, ``audit-json``, ``e2e-log`` ...), used by ``kubelog ingest --input-format``.
    description : str
        One line for ``kubelog formats``.
    priority : int
        Sniffers run in increasing priority; the first that claims an input wins.
        Specific formats (JSON with a ``kind``) come before generic ones (klog text).
    sniff : callable(Head) -> bool
        Must be cheap and must not claim other formats' samples (negative tests).
    parse : callable(stream, Context) -> None, optional
        Reads the whole binary stream, emits rows and keeps the line accounting (a format that
        cannot be split).
    plan : callable(stream, Context) -> BlockSpec, optional
        A splittable format: looks at the head (``stream.peek``) and says how to parse its blocks.
    parse_block : callable(Block, Context) -> (tables, Counts), optional
        One block's rows (``{table: [columns, ...]}``) and accounting; pure (no writing).
    read_range : callable(fd, start, length, n_lines, BlockSpec) -> lines or None, optional
        A faster reader of a plain file's byte range for ``parse_block`` (None: the engine's).
    prepare : callable(first_line, bytes) -> Prepared, optional
        A folded format (the audit log): one block of whole lines to its final rows, accounting and carry;
        pure (no writing, no state), so the engine runs it in any process.
    fold : callable(Context) -> fold, optional
        With ``prepare``: the input's ordered fold over the blocks' carries: ``block_bytes`` and
        ``max_line`` (how to cut the input: blocks of whole lines, lines over ``max_line`` bytes never
        read whole), ``add(carry)`` in file order, ``too_long(line_no)``, ``finish()``, ``abort()``.
    clock : callable(Head) -> str, optional
        Default clock domain for inputs of this format.
    tables : tuple of str
        Tables the format writes (for docs).
    """

    name: str
    description: str
    priority: int
    sniff: Callable[[Head], bool]
    parse: Callable[[Any, Context], None] | None = None
    tables: tuple[str, ...] = ()
    clock: Callable[[Head], str] | None = None
    year_evidence: Callable[[Head], Any] | None = None
    plan: Callable[[Any, Context], BlockSpec] | None = None
    parse_block: Callable[[Block, Context], tuple] | None = None
    read_range: Callable[..., Any] | None = None
    prepare: Callable[[int, bytes], Prepared] | None = None
    fold: Callable[[Context], Any] | None = None
