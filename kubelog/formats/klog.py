"""klog / glog text logs of every Kubernetes component (docs/formats/klog.md).

The parser is vectorized: blocks of lines become Arrow arrays, the header is
matched with one anchored RE2 pattern, header-less lines are attached to the
record before them (continuation lines: stack traces, Trace steps, ``key=<``
blocks, ``logging error output``), and records are handed to *extractors*:

* :mod:`kubelog.formats.httplog` — access-log records → ``requests``
* extractors registered by other modules (Trace blocks → ``traces``/``trace_steps``,
  kubelet/scheduler pod records → ``pod_transitions``, ...) through
  :func:`register_extractor`

Records no extractor consumes go to ``messages``.  Blocks are parsed in worker
threads (Arrow compute releases the GIL) and written in order.

Lines that are not klog records and not continuations (a shell prompt, ``set -x``
lines, a trailing kubectl error, ``Flag --x has been deprecated`` notices, the
klog file header) are counted in ``parse_stats`` with their reason.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import run as runmod
from .. import workers
from .. import native, tables, timeutil
from ..errors import RunFailed, output_error
from ..sources import lines as L
from . import fastscan, httplog
from .base import Context, Format, Head

HEADER_RE = (
    r"^(?P<sev>[IWEF])(?P<mm>[0-9]{2})(?P<dd>[0-9]{2}) (?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}) +"
    r"(?P<pid>[0-9]+) (?P<file>[^ :\]]+):(?P<line>[0-9]+)\] ?(?P<msg>.*)$"
)
HEADER_START = r"^[IWEF][0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} +[0-9]+ [^ :\]]+:[0-9]+\]"
_HEADER_START_RX = re.compile(HEADER_START)

# Non-record lines: (reason, severity, RE2 pattern).  Checked on header-less lines.
NOT_RECORDS = [
    (
        "klog file header",
        "info",
        r"^(?:Log file created at: |Running on machine: |Binary: Built with |Log line format: )",
    ),
    ("shell prompt", "info", r"^(?:\S+@\S+[:~]\S*\s*[$#]|[$#]) "),
    ("shell trace (set -x)", "info", r"^\++ "),
    ("kubectl/client error", "warning", r"^(?:error: |Error from server|Unable to connect to the server)"),
    ("not klog: deprecation notice", "info", r"^Flag --\S+ has been deprecated"),
]

NOT_RECORDS_ANY = "|".join(f"(?:{rx})" for _, _, rx in NOT_RECORDS)  # some pattern of NOT_RECORDS matches

Extractor = Callable[["Records", Context], tuple]
_EXTRACTORS: list[tuple[int, str, Extractor, bool]] = []


def register_extractor(name: str, fn: Extractor, *, order: int = 50, consumes: bool = True) -> None:
    """Register ``fn(records, ctx) -> (mask, {table: columns})``.

    ``mask`` (bool ndarray over records, or None) marks the records that become
    the extractor's primary rows; with ``consumes=True`` they are not written to
    ``messages``.  Non-consuming extractors (``consumes=False``) derive extra rows
    (e.g. ``pod_transitions`` from kubelet records) and the record stays a message.
    Extractors run in ``order`` (the access log is 10).
    """
    if any(n == name for _, n, _, _ in _EXTRACTORS):
        raise ValueError(f"extractor {name!r} registered twice")
    _EXTRACTORS.append((order, name, fn, consumes))
    _EXTRACTORS.sort(key=lambda x: x[0])


# Modules that register extractors (imported on first use, so that registration
# order does not depend on import order elsewhere).
EXTRACTOR_MODULES: list[str] = ["traces", "podrecords"]
_loaded = False


def _load_extractors() -> None:
    global _loaded
    if _loaded:
        return
    import importlib

    for m in EXTRACTOR_MODULES:
        importlib.import_module(f"kubelog.formats.{m}")
    _loaded = True


@dataclass
class Records:
    """The klog records of one block, as arrays (all of equal length).

    ``msg`` is the first-line message; ``cont`` the continuation lines of each
    record joined with ``\\n`` (null when none); ``last_cont`` the last of them.
    ``ts_ns`` is UTC nanoseconds on the writer's clock (year anchored).
    """

    line_no: np.ndarray
    ts_ns: np.ndarray
    level: pa.Array
    pid: pa.Array
    file: pa.Array
    line: pa.Array
    msg: pa.Array
    cont: pa.Array
    last_cont: pa.Array
    n_cont: np.ndarray
    clock: pa.Array
    wrapper_ts: pa.Array | None = None
    unit: pa.Array | None = None  # syslog tag of each record (journald/syslog wrapper), else None

    def __len__(self) -> int:
        return len(self.line_no)

    def take(self, idx: np.ndarray) -> "Records":
        ia = pa.array(idx, pa.int64())
        return Records(
            self.line_no[idx],
            self.ts_ns[idx],
            self.level.take(ia),
            self.pid.take(ia),
            self.file.take(ia),
            self.line.take(ia),
            self.msg.take(ia),
            self.cont.take(ia),
            self.last_cont.take(ia),
            self.n_cont[idx],
            self.clock.take(ia),
            None if self.wrapper_ts is None else self.wrapper_ts.take(ia),
            None if self.unit is None else self.unit.take(ia),
        )

    def full_text(self, i: int) -> str:
        """The whole record (message + continuation lines) of row ``i``."""
        m = self.msg[i].as_py() or ""
        c = self.cont[i].as_py()
        return m if c is None else m + "\n" + c


@dataclass
class ChunkResult:
    tables: dict = field(default_factory=dict)  # table -> list of column dicts
    record_lines: int = 0
    continuation_lines: int = 0
    counted: dict = field(default_factory=dict)  # reason -> [n, severity, [(line_no, text)]]
    first_ord: int | None = None
    last_ord: int | None = None
    rollovers: int = 0
    orphans: int = 0  # continuation lines before the block's first record
    orphan_examples: list = field(default_factory=list)
    invalid_utf8: tuple = (0, None)  # (lines, first line) seen by a worker process
    errors: list = field(default_factory=list)  # ctx.error() calls made in a worker process
    written: dict = field(default_factory=dict)  # table -> (part file, rows) written by a worker process

    def count(self, reason, severity, n, examples):
        c = self.counted.setdefault(reason, [0, severity, []])
        c[0] += n
        c[2].extend(examples[: 5 - len(c[2])])


class KlogParser:
    """Parses one klog input; see the module docstring."""

    def __init__(self, ctx: Context, component: str = ""):
        _load_extractors()
        self.ctx = ctx
        self.component = component or ctx.info.get("component", "")
        self.year = ctx.year if ctx.year is not None else 1970
        self.tz = ctx.tz or "UTC"

    # -- one block ---------------------------------------------------------------
    def parse_chunk(self, ch: L.LineChunk, first_block: bool) -> ChunkResult:
        res = ChunkResult()
        text = ch.text
        n = len(text)
        if n == 0:
            return res
        # Cheap steps first: a match (no captures) finds the headers; fixed columns give
        # the time; the message is only cut out for records that are not fast-path
        # access-log lines (RE2 submatch extraction over whole lines is what costs).
        sc = fastscan.scan(text, year=self.year) if fastscan.available() else None
        if sc is not None:
            is_hdr = sc.is_hdr
        else:
            is_hdr = pc.fill_null(pc.match_substring_regex(text, HEADER_START), False).to_numpy(zero_copy_only=False)
        nonhdr = np.flatnonzero(~is_hdr)
        junk = np.zeros(n, dtype=bool)
        if len(nonhdr):
            sub = text.take(pa.array(nonhdr))
            any_hit = pc.fill_null(pc.match_substring_regex(sub, NOT_RECORDS_ANY), False).to_numpy(zero_copy_only=False)
            if any_hit.any():  # one pass over all lines; each pattern then over the few that matched
                cand = np.flatnonzero(any_hit)
                csub = sub.take(pa.array(cand))
                for reason, sev, rx in NOT_RECORDS:
                    hit = pc.fill_null(pc.match_substring_regex(csub, rx), False).to_numpy(zero_copy_only=False)
                    hit &= ~junk[nonhdr[cand]]
                    if hit.any():
                        rows = nonhdr[cand[hit]]
                        junk[rows] = True
                        ex = text.take(pa.array(rows[:5])).to_pylist()
                        res.count(reason, sev, len(rows), list(zip(ch.line_no[rows[:5]].tolist(), ex)))
        rec_id = np.cumsum(is_hdr) - 1
        cont = ~is_hdr & ~junk
        orphan = cont & (rec_id < 0)
        if orphan.any():
            rows = np.flatnonzero(orphan)
            otext = text.take(pa.array(rows))
            empty = pc.equal(pc.utf8_trim_whitespace(otext), "").to_numpy(zero_copy_only=False)
            if empty.any():
                res.count("blank line outside a record", "info", int(empty.sum()), [])
            if (~empty).any():
                r2 = rows[~empty]
                ex = text.take(pa.array(r2[:5])).to_pylist()
                reason = (
                    "not a klog record (before the first record)"
                    if first_block
                    else "header-less line at a block boundary"
                )
                res.count(reason, "warning", len(r2), list(zip(ch.line_no[r2[:5]].tolist(), ex)))
            cont &= ~orphan
        res.continuation_lines += int(cont.sum()) + ch.joined
        hrows = np.flatnonzero(is_hdr)
        nrec = len(hrows)
        res.record_lines += nrec
        if nrec == 0:
            return res
        # the header lines; with the C scanner only the records it did not take are cut out
        htext = None if sc is not None else (text.filter(pa.array(is_hdr)) if nrec < n else text)
        # -- continuation text per record (rare: only multi-line records) -------------
        crow = np.flatnonzero(cont)
        n_cont = np.zeros(nrec, dtype=np.int32)
        cont_text = last_cont = None  # (records, texts) for the few records with continuation lines
        if len(crow):
            rid = rec_id[crow]
            np.add.at(n_cont, rid, 1)
            cont_text, last_cont = _continuations(text, crow, rid)
        # -- time from fixed columns ------------------------------------------------------
        if sc is not None:  # computed by the C scanner (it was given the year), as below
            _, local, valid, res.rollovers, res.first_ord, res.last_ord = sc.times
        else:
            mm = pc.cast(pc.utf8_slice_codeunits(htext, 1, 3), pa.int64()).to_numpy()
            dd = pc.cast(pc.utf8_slice_codeunits(htext, 3, 5), pa.int64()).to_numpy()
            tm = pc.utf8_slice_codeunits(htext, 6, 21)
            hh = pc.cast(pc.utf8_slice_codeunits(tm, 0, 2), pa.int64()).to_numpy()
            mi = pc.cast(pc.utf8_slice_codeunits(tm, 3, 5), pa.int64()).to_numpy()
            ss = pc.cast(pc.utf8_slice_codeunits(tm, 6, 8), pa.int64()).to_numpy()
            us = pc.cast(pc.utf8_slice_codeunits(tm, 9, 15), pa.int64()).to_numpy()
            roll, last_ord = timeutil.rollover_years(mm, dd, None)
            res.first_ord = int(mm[0] * 32 + dd[0])
            res.last_ord = last_ord
            res.rollovers = int(roll[-1]) if len(roll) else 0
            years = self.year + roll
            valid = timeutil.valid_dates(years, mm, dd) & (hh < 24) & (mi < 60) & (ss < 61)
            days = timeutil.days_from_civil(years, np.where(valid, mm, 1), np.where(valid, dd, 1))
            local = ((days * 86400 + hh * 3600 + mi * 60 + ss) * 1_000_000 + us) * 1000
        ts_ns = timeutil.local_to_utc_ns(local, self.tz)
        if not valid.all():
            bad = np.flatnonzero(~valid)
            ex = text.take(pa.array(hrows[bad[:5]])).to_pylist()
            res.count(
                "invalid date in klog header (kept, time null)",
                "warning",
                0,
                list(zip(ch.line_no[hrows[bad[:5]]].tolist(), ex)),
            )
        line_no = ch.line_no[hrows]
        clock = self._clock(ch, hrows, nrec)
        wts = None if ch.wrapper_ts is None else ch.wrapper_ts.take(pa.array(hrows))
        units = None if ch.unit is None else ch.unit.take(pa.array(hrows))
        consumed = np.zeros(nrec, dtype=bool)
        # -- fast path: structured access-log lines (1.19+) ------------------------------
        if sc is not None:
            if len(sc.e_rows):
                idx = rec_id[sc.e_rows]
                req = httplog.native_requests(sc.cols, ts_ns[idx])
                self._add_request_cols(res, req, idx, ts_ns, valid, line_no, clock)
                consumed[idx] = True
        else:
            erows = np.flatnonzero(pc.match_substring(htext, '] "HTTP" verb="').to_numpy(zero_copy_only=False))
            if len(erows):
                ok, cols = httplog.extract_e_fast(htext.take(pa.array(erows)) if len(erows) < nrec else htext)
                if ok.any():
                    idx = erows[ok]
                    self._add_requests(res, cols, idx, ts_ns, valid, line_no, clock)
                    consumed[idx] = True
        rest = np.flatnonzero(~consumed)
        if len(rest):
            other = sc.other if sc is not None and isinstance(text, fastscan.RawLines) else None
            if other is not None and np.array_equal(other["rows"], hrows[rest]):
                rtext = None  # the scanner has their prefix fields and message starts
            elif htext is not None:
                rtext, other = (htext.take(pa.array(rest, pa.int64())) if len(rest) < nrec else htext), None
            else:
                rtext, other = text.take(pa.array(hrows[rest], pa.int64())), None
            rec = self._records(
                rtext,
                rest,
                ts_ns,
                line_no,
                clock,
                cont_text,
                last_cont,
                n_cont,
                wts,
                text if other is not None else None,
                other,
                units=units,
            )
            sub_consumed = np.zeros(len(rest), dtype=bool)
            mask, cols = httplog.extract(rec.msg, rec.last_cont)
            if mask.any():
                self._add_requests(res, cols, rest[mask], ts_ns, valid, line_no, clock)
                sub_consumed |= mask
            for _, _name, fn, consumes in _EXTRACTORS:
                todo = np.flatnonzero(~sub_consumed) if consumes else np.arange(len(rest))
                if len(todo) == 0:
                    continue
                sub = rec if len(todo) == len(rest) else rec.take(todo)
                m, tabs = fn(sub, self.ctx)
                for t, tcols in (tabs or {}).items():
                    if tcols:
                        res.tables.setdefault(t, []).append(tcols)
                if consumes and m is not None and np.any(m):
                    sub_consumed[todo[np.asarray(m, dtype=bool)]] = True
            keep = np.flatnonzero(~sub_consumed)
            if len(keep):
                res.tables.setdefault("messages", []).append(self._messages(rec, keep, valid[rest]))
        reqs = res.tables.get("requests")
        if reqs and len(reqs) > 1:  # fast-path and other access-log rows: back in file order
            t = pa.concat_tables([tables.conform("requests", r) for r in reqs])
            res.tables["requests"] = [t.take(pc.sort_indices(t, [("line_no", "ascending")]))]
        return res

    def _add_requests(self, res, cols, idx, ts_ns, valid, line_no, clock) -> None:
        self._add_request_cols(
            res, httplog.to_requests(cols, ts_ns[idx], "", "httplog"), idx, ts_ns, valid, line_no, clock
        )

    def _add_request_cols(self, res, req, idx, ts_ns, valid, line_no, clock) -> None:
        req["clock"] = clock.take(pa.array(idx))
        req["ts"] = timeutil.to_ts_array(ts_ns[idx], valid[idx])
        req["line_no"] = pa.array(line_no[idx], pa.int64())
        req["server"] = tables.repeat(self.component or "", len(idx))
        res.tables.setdefault("requests", []).append(req)

    def _records(
        self, sub, rows, ts_ns, line_no, clock, cont_text, last_cont, n_cont, wts, raw=None, other=None, units=None
    ) -> "Records":
        """Records for header rows ``rows`` (``sub``: their lines): cut the message and the
        pid/file/line prefix; or, from a raw block, take those the C scanner found (``other``)."""
        ia = pa.array(rows, pa.int64())
        ct, lc = _sparse_strings(cont_text, rows), _sparse_strings(last_cont, rows)
        if other is not None:
            k = len(rows)
            level = pa.StringArray.from_buffers(
                k, pa.py_buffer(np.arange(k + 1, dtype=np.int32)), pa.py_buffer(other["level"])
            )
            pid, line = pa.array(other["pid"]), pa.array(other["line"])
            file, msg = raw.spans(other["fs"], other["fe"]), raw.spans(other["msg"], raw.ends[other["rows"]])
        else:
            pos = pc.find_substring(sub, "]").to_numpy()  # the header ends at the first `]`
            msg = _after(sub, np.where(pos < 0, 0, pos + 1))
            width = int(pos.max()) - 21 + 1 if len(pos) else 1
            pre = pc.extract_regex(
                pc.utf8_slice_codeunits(sub, 21, 21 + max(width, 1)),
                r"^ *(?P<pid>[0-9]+) (?P<file>[^ :\]]+):(?P<line>[0-9]+)\]",
            )
            level, file = pc.utf8_slice_codeunits(sub, 0, 1), pre.field("file")
            pid, line = _header_int(pre.field("pid"), pa.int64()), _header_int(pre.field("line"), pa.int32())
        return Records(
            line_no=line_no[rows],
            ts_ns=ts_ns[rows],
            level=level,
            pid=pid,
            file=file,
            line=line,
            msg=msg,
            cont=ct,
            last_cont=lc,
            n_cont=n_cont[rows],
            clock=clock.take(ia),
            wrapper_ts=None if wts is None else wts.take(ia),
            unit=None if units is None else units.take(ia),
        )

    def _process_state(self, wrappers: list[str], ansi: bool) -> dict:
        """What a worker process needs to parse a block of this input."""
        ctx, writer = self.ctx, self.ctx._emit
        return dict(
            source_id=ctx.source_id,
            name=ctx.name,
            clock=ctx.clock,
            year=self.year,
            tz=self.tz,
            info={"component": self.component},
            component=self.component,
            wrappers=wrappers,
            ansi=ansi,
            part_root=str(writer.root) if isinstance(writer, runmod.PartWriter) else None,
        )

    def _clock(self, ch: L.LineChunk, hrows: np.ndarray, nrec: int) -> pa.Array:
        base = self.ctx.clock or self.component or "unknown"
        if ch.host is not None and base.startswith("node"):
            hosts = ch.host.take(pa.array(hrows))
            return pc.binary_join_element_wise("node/", pc.fill_null(hosts, "unknown"), "")
        return tables.repeat(base, nrec)

    def _messages(self, rec: Records, keep: np.ndarray, valid: np.ndarray) -> dict:
        ia = pa.array(keep, pa.int64())
        msg = rec.msg.take(ia)
        st = pc.extract_regex(msg, r'^"(?P<m>(?:[^"\\]|\\.)*)"(?: (?P<kv>.*))?$')
        is_s = pc.is_valid(st)
        m_un = pc.replace_substring(pc.replace_substring(st.field("m"), '\\"', '"'), "\\\\", "\\")
        text = pc.if_else(is_s, m_un, msg)
        kv = pc.if_else(is_s, st.field("kv"), None)
        cont = rec.cont.take(ia)
        text = pc.if_else(pc.is_valid(cont), pc.binary_join_element_wise(text, cont, "\n"), text)
        len(keep)
        return {
            "ts": timeutil.to_ts_array(rec.ts_ns[keep], valid[keep]),
            "clock": rec.clock.take(ia),
            "component": record_components(
                self.component or "", rec.file.take(ia), None if rec.unit is None else rec.unit.take(ia)
            ),
            "level": rec.level.take(ia),
            "pid": rec.pid.take(ia),
            "file": rec.file.take(ia),
            "line": rec.line.take(ia),
            "msg": text,
            "kv": kv,
            "continuation_lines": pa.array(rec.n_cont[keep], pa.int32()),
            "line_no": pa.array(rec.line_no[keep], pa.int64()),
        }

    # -- whole stream ------------------------------------------------------------
    def run(
        self, stream, wrappers: list[str], ansi: bool, threads: int = 2, block: int | None = None, processes: int = 0
    ) -> None:
        """Parse the whole stream: blocks in ``threads`` worker threads, or in ``processes``
        worker processes (large plain inputs; see :func:`parse`), written in order."""
        ctx = self.ctx
        block = block or L.BLOCK
        rstats = L.ReaderStats()
        boundary = L.make_boundary(wrappers, HEADER_START)
        year_shift = 0
        prev_last = None
        first = True
        invalid = [0, None]

        def emit_result(res: ChunkResult):
            nonlocal year_shift, prev_last
            ctx.record_lines += res.record_lines
            ctx.continuation_lines += res.continuation_lines
            for reason, (cnt, sev, ex) in res.counted.items():
                ctx.count_many(reason, [e[0] for e in ex], [e[1] for e in ex], cnt, severity=sev)
            if res.invalid_utf8[0]:
                invalid[0] += res.invalid_utf8[0]
                invalid[1] = invalid[1] if invalid[1] is not None else res.invalid_utf8[1]
            ctx.errors.extend(res.errors)
            if res.first_ord is not None:
                if prev_last is not None and prev_last - res.first_ord > 6 * 32:
                    year_shift += 1
                shift = year_shift
                prev_last = res.last_ord
                year_shift += res.rollovers
            else:
                shift = year_shift
            for table, parts in res.tables.items():
                for cols in parts:
                    if shift:
                        if isinstance(cols, pa.Table):
                            cols = {c: cols[c] for c in cols.column_names}
                        cols = _shift_years(cols, shift)
                    ctx.emit(table, cols)
            for table, (path, nrows) in res.written.items():
                ctx.rows[table] = ctx.rows.get(table, 0) + nrows
                if shift:  # a Dec→Jan rollover in an earlier block: move this part's times too
                    import pyarrow.parquet as pq

                    t = pq.read_table(path)
                    shifted = _shift_years({c: t[c] for c in t.column_names}, shift)
                    try:
                        runmod.write_part(path, table, pa.table(shifted, schema=t.schema))
                    except OSError as e:
                        raise output_error(path, e) from None

        def collect(fut, span):
            """The result of a block's job, or None when its parser raised: then its lines are
            recorded as lost (named in the accounting) and the input goes on.  A worker process that
            died, or writing the run that failed, ends the run (RunFailed)."""
            first_line, n, byte_range = span
            where = f"parsing lines {first_line}-{first_line + n - 1}"
            try:
                return workers.result(fut, ctx.name, where)
            except RunFailed:
                raise
            except Exception as e:  # this block's parser failed (a bug, an I/O error reading it)
                ctx.lose(first_line, n, f"{type(e).__name__}: {e}".splitlines()[0], byte_range)
                return None

        def ordered(pool, jobs, warm=None):
            """Submit jobs keeping at most `width + 1` in flight; emit results in order.  While
            ``warm`` (a thread starting the worker processes) runs, take jobs ahead (a plain
            file's ranges: this process reads and hashes meanwhile instead of waiting)."""
            nonlocal first
            pending: deque = deque()
            width = getattr(pool, "_max_workers", 2)
            if warm is not None:
                ahead = []
                for job in jobs:
                    ahead.append(job)
                    if not warm.is_alive() or len(ahead) >= 256:
                        break
                warm.join()
                jobs = itertools.chain(ahead, jobs)
            unchecked = [warm] if warm is not None else []

            def emit_next():
                if unchecked:  # the workers' first jobs said where they imported kubelog from: done
                    workers.check_started(unchecked.pop())  # by now, no wait
                res = collect(*pending.popleft())
                if res is not None:
                    emit_result(res)

            try:
                for fn, args, nlines, span in jobs:
                    ctx.lines_read += nlines
                    try:
                        fut = pool.submit(fn, *args, first)
                    except BrokenExecutor:  # a worker died before: the pool takes no more work
                        from ..errors import WorkerFailed

                        raise WorkerFailed(
                            f"{ctx.name}: a worker process died (killed, out of memory or "
                            "crashed); the run was not written"
                        ) from None
                    pending.append((fut, span))
                    first = False
                    while len(pending) > width:
                        emit_next()
            except Exception:  # the input broke (a read error): what was read before is still written
                while pending:
                    emit_next()
                raise
            except BaseException:  # interrupted: the caller's pool cancels the rest
                for fut, _ in pending:
                    fut.cancel()
                raise
            while pending:
                emit_next()

        plain = ctx.options.get("plain_path")
        # the blocks' pool: local worker processes, or the engine's (Dask: kubelog.engine.executors)
        pool_for = ctx.options.get("block_pool") or (lambda what: workers.pool(processes, what))
        warm_for = (
            (lambda pool: None)
            if ctx.options.get("block_pool")
            else (lambda pool: workers.spawn_in_background(pool, processes, ctx.name))
        )
        if processes > 1 and plain:
            # a large plain file: the workers read their byte ranges themselves; this process
            # only cuts the file into blocks of whole records, counts lines and hashes it
            import hashlib
            import os

            state = self._process_state(wrappers, ansi)
            sha = hashlib.sha256()
            with open(plain, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                ranges = L.iter_file_ranges(f.fileno(), size, max(block, PROCESS_BLOCK), rstats, boundary, sha)
                with pool_for(ctx.name) as pool:
                    warm = warm_for(pool)
                    ordered(
                        pool,
                        (
                            (_parse_range_in_process, (plain, a, b, first_line, n, state), n, (first_line, n, (a, b)))
                            for a, b, first_line, n in ranges
                        ),
                        warm,
                    )
            ctx.read_externally = (sha.hexdigest(), size)
        elif processes > 1:
            state = self._process_state(wrappers, ansi)
            blocks = L.iter_blocks(stream, max(block, PROCESS_BLOCK), rstats, boundary)
            with pool_for(ctx.name) as pool:
                # no reading ahead here (these blocks are bytes): start the workers, check them
                warm = warm_for(pool)
                if warm is not None:
                    workers.check_started(warm)
                ordered(
                    pool,
                    (
                        (_parse_block_in_process, (data, first_line, n, state), n, (first_line, n, None))
                        for data, first_line, n in blocks
                    ),
                )
        elif threads <= 1:
            for ch in L.iter_chunks(stream, wrappers, ansi, rstats, block=block, boundary=boundary):
                ctx.lines_read += ch.n_physical
                emit_result(self.parse_chunk(ch, first))
                first = False
        else:
            chunks = L.iter_chunks(stream, wrappers, ansi, rstats, block=block, boundary=boundary)
            with ThreadPoolExecutor(max_workers=threads) as pool:
                ordered(
                    pool,
                    (
                        (
                            self.parse_chunk,
                            (ch,),
                            ch.n_physical,
                            (int(ch.line_no[0]) if len(ch.line_no) else 0, ch.n_physical, None),
                        )
                        for ch in chunks
                    ),
                )
        for reason, (cnt, ex) in rstats.counted.items():
            ctx.count_many(reason, [e[0] for e in ex], [e[1] for e in ex], cnt, severity="info")
        ctx.lines_read += rstats.skipped  # overlong lines: read and counted, in no chunk
        n_bad = rstats.invalid_utf8_lines + invalid[0]
        if n_bad:
            first_bad = min(x for x in (rstats.first_invalid_utf8, invalid[1]) if x is not None)
            ctx.error(f"{n_bad} lines were not valid UTF-8 (bytes replaced with U+FFFD)", first_bad)


# Wrappers that need no state across blocks (CRI partial lines and Docker chunks do).
STATELESS_WRAPPERS = {"rfc3339", "journald", "prow", "jenkins", "minikube", "grep-n"}
PROCESS_MIN_BYTES = workers.PROCESS_MIN_BYTES
PROCESS_BLOCK = 16 << 20  # block of a large input handed to a worker process
WORKER_TABLES = ("requests", "messages")  # a worker process writes a block's rows of these itself


def _parse_range_in_process(
    path: str, start: int, end: int, first_line: int, n: int, state: dict, first_block: bool
) -> ChunkResult:
    """Bytes ``[start, end)`` of a plain file (whole lines), parsed in a worker process."""
    import os

    rstats = L.ReaderStats()
    text = None
    with open(path, "rb") as f:
        if fastscan.available() and not state["wrappers"] and not state["ansi"]:
            # the C scanner reads the raw block; the parser cuts out only the lines it needs
            text = fastscan.scan_file(f.fileno(), start, end - start, n, year=state["year"])
        if text is None:  # not valid UTF-8, or no C scanner: the careful split
            data = os.pread(f.fileno(), end - start, start)
            if not data.endswith(b"\n"):
                data += b"\n"
            text = L.block_to_array(data, first_line, rstats)
            del data  # the lines are in text now
    ch = L.LineChunk(text, np.arange(first_line, first_line + n, dtype=np.int64), n)
    return _parse_chunk_in_process(ch, rstats, first_line, state, first_block)


def _parse_block_in_process(data: bytes, first_line: int, n: int, state: dict, first_block: bool) -> ChunkResult:
    """One block of a large input, parsed in a worker process (see :meth:`KlogParser.run`)."""
    rstats = L.ReaderStats()
    ch = L.LineChunk(
        L.block_to_array(data, first_line, rstats), np.arange(first_line, first_line + n, dtype=np.int64), n
    )
    return _parse_chunk_in_process(ch, rstats, first_line, state, first_block)


def _parse_chunk_in_process(
    ch: L.LineChunk, rstats: L.ReaderStats, first_line: int, state: dict, first_block: bool
) -> ChunkResult:
    workers.freeze_imports()
    ctx = Context(state["source_id"], state["name"], None, clock=state["clock"], year=state["year"], tz=state["tz"])
    ctx.info.update(state["info"])
    if state["wrappers"] or state["ansi"]:
        ch = L.unwrap(ch, state["wrappers"], state["ansi"], rstats, {})
    res = KlogParser(ctx, state["component"]).parse_chunk(ch, first_block)
    for reason, st in ctx.stats.items():  # counts made by extractors in this process
        res.count(reason, st.severity, st.count, [(e["line_no"], e["text"]) for e in st.examples])
    for reason, (cnt, ex) in rstats.counted.items():
        res.count(reason, "info", cnt, ex)
    res.invalid_utf8 = (rstats.invalid_utf8_lines, rstats.first_invalid_utf8)
    res.errors = list(ctx.errors)
    root = state.get("part_root")
    for table in WORKER_TABLES if root else ():
        parts = res.tables.pop(table, None)
        if not parts:
            continue
        # the bulk tables are written here, in the worker, to a part file of their own named by
        # the block's first line (so the parts of an input sort in file order); the rest goes back
        t = pa.concat_tables([tables.conform(table, c, dictionary=len(parts) == 1) for c in parts])
        if t.num_rows == 0:
            continue
        t = t.set_column(
            t.schema.get_field_index("source_id"), "source_id", tables.repeat_int32(state["source_id"], t.num_rows)
        )
        d = Path(root) / table
        path = d / f"part-{state['source_id']:05d}-L{first_line:012d}.parquet"
        try:
            d.mkdir(exist_ok=True)  # not its parents: a temporary run directory removed meanwhile stays gone
            runmod.write_part(path, table, t)
        except OSError as e:  # disk full, read-only: the run fails
            raise output_error(path, e) from None
        res.written[table] = (str(path), t.num_rows)
    for table, parts in res.tables.items():  # the small tables go back as Arrow tables: cheaper to
        if table not in WORKER_TABLES:  # pickle than lists of Python objects
            res.tables[table] = [tables.conform(table, c) for c in parts]
    return res


def _header_int(digits: pa.Array, typ: pa.DataType) -> pa.Array:
    """The pid or line digits of klog headers as ``typ``: 0 where there are none, null where the
    number does not fit (it once failed the whole input)."""
    a = pc.fill_null(digits, "")
    big = pc.greater(pc.utf8_length(a), 18)
    v = pc.cast(pc.if_else(pc.or_(big, pc.equal(a, "")), "0", a), pa.int64())
    if typ == pa.int32():
        big = pc.or_(big, pc.greater(v, 2**31 - 1))
    return pc.if_else(big, pa.scalar(None, pa.int64()), v).cast(typ)


def _continuations(text, crow: np.ndarray, rid: np.ndarray) -> tuple:
    """The continuation lines ``crow`` (increasing) of records ``rid``: per record with any, their
    text joined with newlines and the last of them that is not blank (the B/C access-log tail),
    each as ``(records, string array)``.  From a raw block (C scanner) a record whose continuation
    lines follow each other, each ended by a bare newline, is one byte range of the block."""
    gstart = np.flatnonzero(np.r_[True, rid[1:] != rid[:-1]])
    gend = np.r_[gstart[1:], len(crow)] - 1
    keys = rid[gstart]
    lines = text.take(pa.array(crow))
    blank = pc.equal(pc.utf8_trim_whitespace(lines), "").to_numpy(zero_copy_only=False)
    grp = np.repeat(np.arange(len(gstart)), gend - gstart + 1)
    last = np.full(len(gstart), -1, np.int64)
    np.maximum.at(last, grp[~blank], np.flatnonzero(~blank))
    has = last >= 0
    last_cont = (keys[has], lines.take(pa.array(last[has])))
    if isinstance(text, fastscan.RawLines):
        st, en = text.starts, text.ends
        nxt = np.r_[crow[1:], -1]
        joined = (nxt == crow + 1) & (en[crow] + 1 == st[np.minimum(crow + 1, len(st) - 1)])
        joined[gend] = True  # the last line of a record needs no successor
        bad = np.zeros(len(gstart), bool)
        np.logical_or.at(bad, grp, ~joined)
        if not bad.any():
            offs, data = native.module().gather(
                text.data, st[crow[gstart]], en[crow[gend]], np.arange(len(gstart), dtype=np.int64)
            )
            return (keys, pa.StringArray.from_buffers(len(gstart), pa.py_buffer(offs), pa.py_buffer(data))), last_cont
    texts = lines.to_pylist()
    return (
        keys,
        pa.array(["\n".join(texts[a : b + 1]) for a, b in zip(gstart.tolist(), gend.tolist())], pa.string()),
    ), last_cont


def _sparse_strings(by_row: tuple | None, rows: np.ndarray) -> pa.Array:
    """A string array over ``rows`` (increasing: the header rows of a block, from flatnonzero) with
    the value of ``by_row = (keys (increasing), values)`` where a key is a row, else null."""
    if by_row is None or len(by_row[0]) == 0:
        return pa.nulls(len(rows), pa.string())
    keys, values = by_row
    at = np.searchsorted(rows, keys)
    ok = at < len(rows)
    ok[ok] = rows[at[ok]] == keys[ok]
    take = np.full(len(rows), -1, np.int64)
    take[at[ok]] = np.flatnonzero(ok)
    return values.take(pa.array(take, mask=take < 0))


def _after(a: pa.Array, starts: np.ndarray) -> pa.Array:
    """``a[i][starts[i]:]`` without one leading space: the message after a klog header.

    ``starts`` are byte offsets just past the header's ``]`` (so at character boundaries);
    the bytes are gathered in C when built, else with numpy."""
    if len(a) == 0:
        return a
    if a.null_count or a.type != pa.string():
        a = pc.fill_null(a.cast(pa.string()), "")
    _, ob, db = a.buffers()
    offs = np.frombuffer(ob, dtype=np.int32, count=len(a) + 1, offset=a.offset * 4)
    data = np.frombuffer(db, dtype=np.uint8) if db is not None else np.zeros(1, np.uint8)
    ends = offs[1:]
    st = np.minimum(offs[:-1] + starts, ends)
    inside = st < ends
    st = st + (inside & (data[np.where(inside, st, 0)] == 32))
    nat = native.module()
    if nat is not None:
        o, text = nat.gather(
            db if db is not None else b"", st.astype(np.int32), ends.astype(np.int32), np.arange(len(a), dtype=np.int64)
        )
        return pa.StringArray.from_buffers(len(a), pa.py_buffer(o), pa.py_buffer(text))
    lens = (ends - st).astype(np.int64)
    o = np.zeros(len(a) + 1, np.int32)
    np.cumsum(lens, out=o[1:])
    idx = np.repeat(st.astype(np.int64) - o[:-1], lens) + np.arange(int(o[-1]), dtype=np.int64)
    return pa.StringArray.from_buffers(len(a), pa.py_buffer(o), pa.py_buffer(data[idx].tobytes()))


def _shift_years(cols: dict, k: int) -> dict:
    """Move the klog-derived time columns of a block ``k`` years forward (Dec→Jan across blocks).

    ``started_ts`` of traces is not moved: it is printed with its year (as within a block)."""
    import pandas as pd

    out = dict(cols)
    for c in ("ts", "start_ts"):
        if c in out and out[c] is not None:
            s = pd.Series(out[c].to_pandas() if hasattr(out[c], "to_pandas") else out[c])
            out[c] = pa.array(s + pd.DateOffset(years=k), pa.timestamp("ns", tz="UTC"))
    return out


# -- format registration ----------------------------------------------------------


def _head_records(head: Head) -> tuple[list[str], list[str]]:
    lines = head.lines(5000)
    wr = L.detect_wrappers(lines)
    payload = lines
    for w in wr:
        payload = [L._strip_one(L.WRAPPER_BY_NAME[w], l) for l in payload]
    return wr, payload


def sniff(head: Head) -> bool:
    wr, payload = _head_records(head)
    junk = [re.compile(rx.replace("(?:", "(?:")) for _, _, rx in NOT_RECORDS]
    nonblank = [p for p in payload if p.strip() and not any(j.match(p) for j in junk)]
    if not nonblank:
        return False
    hits = sum(1 for p in nonblank if _HEADER_START_RX.match(p))
    # klog files carry much header-less text (stack traces, grpc dumps): a few headers suffice,
    # or a first record that is a klog header
    if hits and _HEADER_START_RX.match(nonblank[0]):
        return True
    return hits >= 1 and (hits >= 5 or hits >= 0.2 * len(nonblank)) and hits >= 0.02 * len(nonblank)


COMPONENT_HINTS = [  # (regex on name or content, component)
    (r"kube-apiserver|apiserver", "kube-apiserver"),
    (r"kube-scheduler|scheduler", "kube-scheduler"),
    (r"kube-controller-manager|controller-manager", "kube-controller-manager"),
    (r"hollow-node|kubemark|kubelet|hyperkube", "kubelet"),
    (r"kube-proxy", "kube-proxy"),
    (r"etcd", "etcd"),
    (r"clusterloader|cl2", "clusterloader2"),
]


# klog source files that only one component logs from: in a file holding several daemons (a node's
# journal, a must-gather's concatenated logs) they name the writer of each record
FILE_COMPONENT = {
    **dict.fromkeys(
        (
            "kubelet.go",
            "kubelet_pods.go",
            "kubelet_node_status.go",
            "kubelet_getters.go",
            "kubelet_volumes.go",
            "kubelet_network_linux.go",
            "kuberuntime_manager.go",
            "kuberuntime_container.go",
            "kuberuntime_sandbox.go",
            "kuberuntime_gc.go",
            "pod_workers.go",
            "pod_startup_latency_tracker.go",
            "prober.go",
            "prober_manager.go",
            "eviction_manager.go",
            "container_manager_linux.go",
            "cpu_manager.go",
            "topology_manager.go",
            "kubelet_server_journal.go",
        ),
        "kubelet",
    ),
    **dict.fromkeys(("cacher.go", "watch_cache.go", "apf_controller.go", "storage_factory.go"), "kube-apiserver"),
    **dict.fromkeys(("schedule_one.go", "scheduler.go", "default_binder.go", "generic_scheduler.go"), "kube-scheduler"),
    **dict.fromkeys(
        (
            "controllermanager.go",
            "replica_set.go",
            "deployment_controller.go",
            "node_lifecycle_controller.go",
            "namespace_controller.go",
            "garbagecollector.go",
            "endpoints_controller.go",
            "range_allocator.go",
        ),
        "kube-controller-manager",
    ),
    **dict.fromkeys(("proxier.go", "server_others.go"), "kube-proxy"),
}
# syslog tags that say nothing about the component (OpenShift runs the kubelet as `hyperkube`)
_FILE_COMPS = list(FILE_COMPONENT.values())
_FILE_KEYS: list = []  # [pa.array of FILE_COMPONENT's keys], built on first use (pa.array at import
#                        time would make pyarrow import pandas in every process that loads the formats)
AMBIGUOUS_UNITS = {"hyperkube", "kube", "k8s", "bash", "sh"}


def _unit_component(unit: str) -> str | None:
    u = unit.lower()
    if u in AMBIGUOUS_UNITS:
        return None
    for rx, comp in COMPONENT_HINTS:
        if re.search(rx, u):
            return comp
    return unit  # another daemon of the journal (crio, containerd, systemd ...): its own name


def record_components(base: str, files: pa.Array, units: pa.Array | None) -> pa.Array:
    """The component of each record: its syslog tag when that names one, else its klog source file
    when only one component logs from that file, else the input's component ``base``."""
    n = len(files)
    names = [base]  # component names; codes index them
    code = np.zeros(n, dtype=np.int32)
    if not _FILE_KEYS:
        _FILE_KEYS.append(pa.array(list(FILE_COMPONENT), pa.string()))
    fi = pc.index_in(files, value_set=_FILE_KEYS[0]).to_numpy(zero_copy_only=False)
    hit = ~np.isnan(fi) if fi.dtype.kind == "f" else fi >= 0
    if hit.any():
        names += _FILE_COMPS
        code[hit] = 1 + fi[hit].astype(np.int32)
    if units is not None:
        uniq = pc.unique(units).drop_null().to_pylist()
        comps = {v: _unit_component(v) for v in uniq}
        comps = {v: c for v, c in comps.items() if c is not None}
        if comps:
            ui = pc.index_in(units, value_set=pa.array(list(comps), pa.string())).to_numpy(zero_copy_only=False)
            uh = ~np.isnan(ui) if ui.dtype.kind == "f" else ui >= 0
            k0 = len(names)
            names += list(comps.values())
            code[uh] = k0 + ui[uh].astype(np.int32)
    if not code.any():
        return tables.repeat(base, n)
    return pa.DictionaryArray.from_arrays(pa.array(code, pa.int32()), pa.array(names, pa.string())).cast(pa.string())


def guess_component(name: str, payload: list[str]) -> str:
    low = name.lower().rsplit("/", 1)[-1]
    for rx, comp in COMPONENT_HINTS:
        if re.search(rx, low):
            return comp
    text = "\n".join(payload)
    if re.search(r'httplog\.go:\d+\] |\] "HTTP" verb=|(?:wrap|panics|handlers)\.go:\d+\] [A-Z]+ /', text):
        return "kube-apiserver"
    if re.search(r"kubelet\.go:\d+\]|kubelet_node_status|pod_startup_latency_tracker", text):
        return "kubelet"
    if re.search(r"schedule_one\.go|scheduler\.go:\d+\]", text):
        return "kube-scheduler"
    return ""


def clock_for(component: str, name: str, payload: list[str]) -> str:
    if component in ("kube-apiserver", "kube-scheduler", "kube-controller-manager", "etcd"):
        return "apiserver"  # master components share the master's clock
    if component == "kubelet":
        base = name.rsplit("/", 1)[-1]
        # Kubemark hollow nodes are named hollow-node-<x> (their pods' nodeName);
        # /var/log/kubelet-<NODE_NAME>.log carries the node name after "kubelet-"
        m = re.search(r"^(hollow-node-[\w.-]+?)(?:\.log)?$", base) or re.search(r"^kubelet-([\w.-]+?)(?:\.log)?$", base)
        if m:
            return f"node/{m.group(1)}"
        for p in payload[:50]:
            m = re.match(r"^Running on machine: (\S+)", p)
            if m:
                return f"node/{m.group(1)}"
        return "node"
    if component == "clusterloader2":
        return "test"
    return component or "unknown"


# -- the zone of the klog headers ----------------------------------------------------
#
# A klog header is the writing process's local wall clock with no zone.  Evidence of that zone in the
# same input: a wrapper that carries true UTC time for each line (Docker json-file "time":"…Z", CRI
# and RFC3339 prefixes) — the header minus the wrapper time is the header's UTC offset; and Go
# time.Time strings the same process printed (Trace "(started: 2019-08-20 20:28:26.1 +0200 CEST)",
# kubelet fields "… +0800 CST"), whose offset is the process's local zone.  "+0000 UTC" in a message
# proves nothing (times decoded from the API print in UTC whatever the local zone is).

_RX_GO_TIME = re.compile(
    r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? ([+-])(\d\d)(\d\d) ([A-Z][A-Za-z]{1,5}|[+-]\d\d)\b"
)
_RX_WRAP_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")
_RX_DOCKER_TIME = re.compile(r'"time": ?"(\d{4}-\d\d-\d\dT[^"]+)"')
_RX_HDR = re.compile(HEADER_RE)


def _fmt_offset(sec: int) -> str:
    sign = "+" if sec >= 0 else "-"
    sec = abs(sec)
    return f"{sign}{sec // 3600:02d}:{sec % 3600 // 60:02d}"


def _wrapper_offset(lines: list[str], wrappers: list[str]) -> tuple[int, str] | None:
    """Median (header wall clock - wrapper UTC time), rounded to 15 min, over the head's lines whose
    wrapper carries a full UTC time and whose payload is a klog header; None without such lines."""
    import datetime as dt

    if not wrappers or wrappers[0] not in ("docker-json", "cri", "rfc3339"):
        return None
    diffs = []
    for raw in lines[:400]:
        if wrappers[0] == "docker-json":
            m = _RX_DOCKER_TIME.search(raw)
            pm = re.search(r'"log": ?"((?:[^"\\]|\\.)*)"', raw)
            payload = pm.group(1) if pm else ""
        else:
            m = _RX_WRAP_TIME.match(raw)
            payload = raw
            for w in wrappers:
                payload = L._strip_one(L.WRAPPER_BY_NAME[w], payload)
        if not m:
            continue
        h = _RX_HDR.match(payload.replace('\\"', '"').replace("\\n", ""))
        if not h:
            continue
        r = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", m.group(1))
        if not r:
            continue
        try:
            w_utc = dt.datetime.fromisoformat(
                f"{r.group(1)}.{(r.group(2) or '')[:6].ljust(6, '0')}{'+00:00' if r.group(3) == 'Z' else r.group(3)}"
            )
        except ValueError:
            continue
        t = h["time"]
        mo, dd, hh, mi, ss, us = int(h["mm"]), int(h["dd"]), int(t[0:2]), int(t[3:5]), int(t[6:8]), int(t[9:15])
        try:
            hdr = dt.datetime(w_utc.year, mo, dd, hh, mi, ss, us, tzinfo=dt.timezone.utc)
        except ValueError:
            continue
        d = (hdr - w_utc.astimezone(dt.timezone.utc)).total_seconds()
        if d > 6 * 30 * 86400:  # header in December, wrapper already in January
            d -= 365 * 86400
        diffs.append(d)
    if not diffs:
        return None
    diffs.sort()
    med = diffs[len(diffs) // 2]
    off = int(round(med / 900.0)) * 900
    if abs(off) > 14 * 3600:
        return None
    return off, f"{wrappers[0]} wrapper times (UTC) vs the klog headers of {len(diffs)} head lines"


def _text_offsets(payload: list[str]) -> dict[int, list[str]]:
    """Non-zero UTC offsets of Go time strings in the head: {offset seconds: [examples]}."""
    out: dict[int, list[str]] = {}
    for p in payload:
        for m in _RX_GO_TIME.finditer(p):
            off = (int(m.group(2)) * 3600 + int(m.group(3)) * 60) * (1 if m.group(1) == "+" else -1)
            if off:
                ex = out.setdefault(off, [])
                if len(ex) < 2:
                    ex.append(m.group(0))
    return out


def decide_zone(ctx: Context, lines: list[str], wrappers: list[str], payload: list[str]) -> None:
    """Set ``ctx.tz`` (when the user did not give ``--tz``) from the zone evidence of the input's head;
    ``ctx.info['tz_evidence']`` says which evidence set it, and disagreeing evidence is reported."""
    explicit = bool(ctx.options.get("tz_explicit"))
    wrap = _wrapper_offset(lines, wrappers)
    texts = _text_offsets(payload)
    chosen = None
    if wrap is not None:
        chosen = (wrap[0], wrap[1])
        for off, ex in texts.items():
            if off != wrap[0]:
                ctx.error(
                    f"zone evidence disagrees: {wrap[1]} give UTC{_fmt_offset(wrap[0])}, but the log prints "
                    f"{ex[0]!r} (UTC{_fmt_offset(off)}); the headers are read as UTC{_fmt_offset(wrap[0])}"
                )
    elif texts:
        best = max(texts, key=lambda o: len(texts[o]))
        chosen = (best, f"time strings the process printed in its local zone ({texts[best][0]!r})")
        others = [o for o in texts if o != best]
        if others:
            ctx.error(
                "zone evidence disagrees: the log prints times in "
                + ", ".join(f"UTC{_fmt_offset(o)} ({texts[o][0]!r})" for o in [best] + others)
                + f" (a daylight-saving change?); the headers are read as UTC{_fmt_offset(best)}"
            )
    if chosen is None:
        return
    zone = "UTC" if chosen[0] == 0 else _fmt_offset(chosen[0])
    if explicit:
        if not _same_zone(ctx.tz, chosen[0]):
            ctx.error(
                f"--tz {ctx.tz} disagrees with the input's own zone evidence: {chosen[1]} say "
                f"UTC{_fmt_offset(chosen[0])}; --tz kept"
            )
        ctx.info["tz_evidence"] = f"--tz (the input's evidence: {chosen[1]} → {zone})"
        return
    ctx.tz = zone
    ctx.info["tz_evidence"] = f"{chosen[1]} → {zone}"


def _same_zone(tz: str, off: int) -> bool:
    if tz in ("UTC", "Z", "", None):
        return off == 0
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", tz)
    if m:
        return (int(m.group(2)) * 3600 + int(m.group(3)) * 60) * (1 if m.group(1) == "+" else -1) == off
    return True  # a named zone (DST-aware): not compared


def parse(stream, ctx: Context) -> None:
    head = Head(ctx.name, stream.peek(64 * 1024))
    wr, payload = _head_records(head)
    decide_zone(ctx, head.lines(5000), wr, payload)
    ansi = L.has_ansi(head.data)
    comp = ctx.info.get("component") or guess_component(ctx.name, payload)
    ctx.info["component"] = comp
    ctx.info["wrapper"] = "+".join(wr)
    if not ctx.clock:
        ctx.clock = clock_for(comp, ctx.name, payload)
    threads = int(ctx.options.get("threads", 2))
    # a large plain input is parsed in worker processes (the GIL between Arrow kernels
    # limits threads); small inputs and stateful wrappers (CRI P lines, Docker chunks) use threads
    procs = 0
    if ctx.options.get("block_pool") is not None:  # the engine's (Dask): its byte ranges are its tasks
        threads = max(threads, 2)
    if (
        threads > 1
        and ctx.options.get("allow_processes", True)
        and int(ctx.options.get("size_hint", 0)) >= PROCESS_MIN_BYTES
        and set(wr) <= STATELESS_WRAPPERS
    ):
        procs = threads
    KlogParser(ctx, comp).run(stream, wr, ansi, threads=threads, processes=procs)


FORMAT = Format(
    name="klog",
    description="klog/glog text logs of any component (apiserver access log, Trace blocks, kubelet, scheduler ...), "
    "plain or wrapped (CRI, Docker json-file, journald/syslog, RFC3339, Prow, minikube)",
    priority=80,
    sniff=sniff,
    parse=parse,
    tables=("requests", "messages", "traces", "trace_steps", "pod_transitions", "events"),
)
