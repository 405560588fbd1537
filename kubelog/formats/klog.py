"""klog / glog text logs of every Kubernetes component (docs/formats/klog.md).

The parser is vectorized: blocks of lines become Arrow arrays, the header is
matched with one anchored RE2 pattern, header-less lines are attached to the
record before them (continuation lines: stack traces, Trace steps, ``key=<``
blocks, ``logging error output``), and records are handed to *extractors*:

* :mod:`kubelog.formats.httplog` — access-log records → ``requests``
* extractors registered by other modules (Trace blocks → ``traces``/``trace_steps``,
  kubelet/scheduler pod records → ``pod_transitions``, ...) through
  :func:`register_extractor`

Records no extractor consumes go to ``messages``.  This module is pure parsing: :func:`plan`
decides from the input's head how to read it (wrappers, zone, component, clock) and
:func:`parse_block` turns one block of whole records into rows and their line accounting; the
engine (:mod:`kubelog.engine.blocks`) cuts the input into blocks, runs them (threads, worker
processes, Dask), merges them in order and writes the parts.

The klog header scan has two implementations, chosen in one place (:func:`block_scanner`): the C
scanner (:mod:`kubelog.formats.fastscan`) and the Arrow reference (:class:`ArrowScan`); both give
the same intermediate columns, and tests/test_fastscan.py checks whole runs are identical.

Lines that are not klog records and not continuations (a shell prompt, ``set -x``
lines, a trailing kubectl error, ``Flag --x has been deprecated`` notices, the
klog file header) are counted in ``parse_stats`` with their reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import native, tables, timeutil
from ..sources import lines as L
from . import fastscan, httplog
from .base import Block, BlockSpec, Context, Counts, Format, Head

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


# -- the header scan: two implementations of the same intermediate columns ----------------------


class ArrowScan:
    """The klog header scan of a block on Arrow compute (the reference).

    Both scans give, for the block's lines ``text``: :meth:`headers` (which lines start a record),
    :meth:`times` (the local time of every record, from fixed columns, with the year anchored and
    Dec→Jan rollovers), :meth:`access_log` (the records that are structured access-log lines, as
    ``requests`` columns) and :meth:`prefixes` (level, pid, file, line and message of the other
    records)."""

    def __init__(self, text, year: int):
        self.text, self.year = text, year

    def headers(self) -> np.ndarray:
        return pc.fill_null(pc.match_substring_regex(self.text, HEADER_START), False).to_numpy(zero_copy_only=False)

    def set_headers(self, is_hdr: np.ndarray, hrows: np.ndarray) -> None:
        self.hrows = hrows
        self.htext = self.text.filter(pa.array(is_hdr)) if len(hrows) < len(self.text) else self.text

    def times(self) -> tuple:
        """``(local ns, valid, rollovers, first ord, last ord)`` of the records."""
        htext = self.htext
        mm = pc.cast(pc.utf8_slice_codeunits(htext, 1, 3), pa.int64()).to_numpy()
        dd = pc.cast(pc.utf8_slice_codeunits(htext, 3, 5), pa.int64()).to_numpy()
        tm = pc.utf8_slice_codeunits(htext, 6, 21)
        hh = pc.cast(pc.utf8_slice_codeunits(tm, 0, 2), pa.int64()).to_numpy()
        mi = pc.cast(pc.utf8_slice_codeunits(tm, 3, 5), pa.int64()).to_numpy()
        ss = pc.cast(pc.utf8_slice_codeunits(tm, 6, 8), pa.int64()).to_numpy()
        us = pc.cast(pc.utf8_slice_codeunits(tm, 9, 15), pa.int64()).to_numpy()
        roll, last_ord = timeutil.rollover_years(mm, dd, None)
        years = self.year + roll
        valid = timeutil.valid_dates(years, mm, dd) & (hh < 24) & (mi < 60) & (ss < 61)
        days = timeutil.days_from_civil(years, np.where(valid, mm, 1), np.where(valid, dd, 1))
        local = ((days * 86400 + hh * 3600 + mi * 60 + ss) * 1_000_000 + us) * 1000
        return local, valid, int(roll[-1]) if len(roll) else 0, int(mm[0] * 32 + dd[0]), last_ord

    def access_log(self, rec_id: np.ndarray) -> tuple:
        """``(records, make)``: the records that are structured access-log lines (indexes among the
        records) and ``make(ts_ns) -> requests columns`` for them."""
        erows = np.flatnonzero(pc.match_substring(self.htext, '] "HTTP" verb="').to_numpy(zero_copy_only=False))
        if not len(erows):
            return erows, None
        nrec = len(self.hrows)
        ok, cols = httplog.extract_e_fast(self.htext.take(pa.array(erows)) if len(erows) < nrec else self.htext)
        return erows[ok], lambda ts_ns: httplog.to_requests(cols, ts_ns, "", "httplog")

    def prefixes(self, rest: np.ndarray) -> tuple:
        """``(lines, None)`` of the records ``rest`` (their prefixes are cut by the regex path)."""
        nrec = len(self.hrows)
        return (self.htext.take(pa.array(rest, pa.int64())) if len(rest) < nrec else self.htext), None


class CScan(ArrowScan):
    """The same columns from the C scanner (:mod:`kubelog.formats.fastscan`, one pass over the
    block, given the year); lines it does not accept are left to :class:`ArrowScan`'s methods."""

    def __init__(self, text, year: int):
        super().__init__(text, year)
        self.sc = fastscan.scan(text, year=year)

    def headers(self) -> np.ndarray:
        return self.sc.is_hdr

    def set_headers(self, is_hdr: np.ndarray, hrows: np.ndarray) -> None:
        self.hrows = hrows  # the header lines are cut out only for the records the scanner did not take

    def times(self) -> tuple:
        _, local, valid, rollovers, first_ord, last_ord = self.sc.times
        return local, valid, rollovers, first_ord, last_ord

    def access_log(self, rec_id: np.ndarray) -> tuple:
        idx = rec_id[self.sc.e_rows]
        cols = self.sc.cols
        return idx, lambda ts_ns: httplog.native_requests(cols, ts_ns)

    def prefixes(self, rest: np.ndarray) -> tuple:
        """From a raw block the scanner has the prefix fields and message starts of the records it did
        not take (``other``); else their lines."""
        rows = self.hrows[rest]
        other = self.sc.other if isinstance(self.text, fastscan.RawLines) else None
        if other is not None and np.array_equal(other["rows"], rows):
            return None, other
        return self.text.take(pa.array(rows, pa.int64())), None


def block_scanner(text, year: int) -> ArrowScan:
    """The one place the implementation is chosen: the C scanner when built and not disabled
    (``KUBELOG_NO_NATIVE``), else the Arrow reference."""
    return CScan(text, year) if fastscan.available() else ArrowScan(text, year)


class KlogParser:
    """Parses the blocks of one klog input; see the module docstring."""

    def __init__(self, ctx: Context, component: str = ""):
        _load_extractors()
        self.ctx = ctx
        self.component = component or ctx.info.get("component", "")
        self.year = ctx.year if ctx.year is not None else 1970
        self.tz = ctx.tz or "UTC"

    # -- one block ---------------------------------------------------------------
    def parse_chunk(self, ch: L.LineChunk, first_block: bool) -> tuple[dict, Counts]:
        """``({table: [columns, ...]}, Counts)`` of one block of whole records."""
        out: dict = {}
        res = Counts()
        text = ch.text
        n = len(text)
        if n == 0:
            return out, res
        # Cheap steps first: a match (no captures) finds the headers; fixed columns give
        # the time; the message is only cut out for records that are not fast-path
        # access-log lines (RE2 submatch extraction over whole lines is what costs).
        scan = block_scanner(text, self.year)
        is_hdr = scan.headers()
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
            return out, res
        scan.set_headers(is_hdr, hrows)
        # -- continuation text per record (rare: only multi-line records) -------------
        crow = np.flatnonzero(cont)
        n_cont = np.zeros(nrec, dtype=np.int32)
        cont_text = last_cont = None  # (records, texts) for the few records with continuation lines
        if len(crow):
            rid = rec_id[crow]
            np.add.at(n_cont, rid, 1)
            cont_text, last_cont = _continuations(text, crow, rid)
        # -- time from fixed columns ------------------------------------------------------
        local, valid, res.rollovers, res.first_ord, res.last_ord = scan.times()
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
        idx, make = scan.access_log(rec_id)
        if len(idx):
            self._add_request_cols(out, make(ts_ns[idx]), idx, ts_ns, valid, line_no, clock)
            consumed[idx] = True
        rest = np.flatnonzero(~consumed)
        if len(rest):
            rtext, other = scan.prefixes(rest)
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
                self._add_requests(out, cols, rest[mask], ts_ns, valid, line_no, clock)
                sub_consumed |= mask
            for _, _name, fn, consumes in _EXTRACTORS:
                todo = np.flatnonzero(~sub_consumed) if consumes else np.arange(len(rest))
                if len(todo) == 0:
                    continue
                sub = rec if len(todo) == len(rest) else rec.take(todo)
                m, tabs = fn(sub, self.ctx)
                for t, tcols in (tabs or {}).items():
                    if tcols:
                        out.setdefault(t, []).append(tcols)
                if consumes and m is not None and np.any(m):
                    sub_consumed[todo[np.asarray(m, dtype=bool)]] = True
            keep = np.flatnonzero(~sub_consumed)
            if len(keep):
                out.setdefault("messages", []).append(self._messages(rec, keep, valid[rest]))
        reqs = out.get("requests")
        if reqs and len(reqs) > 1:  # fast-path and other access-log rows: back in file order
            t = pa.concat_tables([tables.conform("requests", r) for r in reqs])
            out["requests"] = [t.take(pc.sort_indices(t, [("line_no", "ascending")]))]
        return out, res

    def _add_requests(self, out, cols, idx, ts_ns, valid, line_no, clock) -> None:
        self._add_request_cols(
            out, httplog.to_requests(cols, ts_ns[idx], "", "httplog"), idx, ts_ns, valid, line_no, clock
        )

    def _add_request_cols(self, out, req, idx, ts_ns, valid, line_no, clock) -> None:
        req["clock"] = clock.take(pa.array(idx))
        req["ts"] = timeutil.to_ts_array(ts_ns[idx], valid[idx])
        req["line_no"] = pa.array(line_no[idx], pa.int64())
        req["server"] = tables.repeat(self.component or "", len(idx))
        out.setdefault("requests", []).append(req)

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


def plan(stream, ctx: Context) -> BlockSpec:
    """How to parse the blocks of this input, from its head: the wrappers, the zone of the headers,
    the component and the clock (set on ``ctx`` for the manifest too)."""
    head = Head(ctx.name, stream.peek(64 * 1024))
    wr, payload = _head_records(head)
    decide_zone(ctx, head.lines(5000), wr, payload)
    comp = ctx.info.get("component") or guess_component(ctx.name, payload)
    ctx.info["component"] = comp
    ctx.info["wrapper"] = "+".join(wr)
    if not ctx.clock:
        ctx.clock = clock_for(comp, ctx.name, payload)
    return BlockSpec(
        format="klog",
        source_id=ctx.source_id,
        name=ctx.name,
        clock=ctx.clock,
        year=ctx.year if ctx.year is not None else 1970,
        tz=ctx.tz or "UTC",
        info={"component": comp},
        wrappers=wr,
        ansi=L.has_ansi(head.data),
        record_start=HEADER_START,
    )


def parse_block(block: Block, ctx: Context) -> tuple[dict, Counts]:
    """One block of whole records: ``({table: [columns, ...]}, Counts)``.  What extractors count
    or report through ``ctx`` is in the counts."""
    out, counts = KlogParser(ctx).parse_chunk(block.lines, block.first)
    counts.add_context(ctx)
    return out, counts


def read_range(fd: int, start: int, length: int, n: int, spec: BlockSpec):
    """A plain file's byte range read by the C scanner itself (split into lines, checked for
    UTF-8 and scanned while in cache: :class:`fastscan.RawLines`); None without the scanner, with
    wrappers, or when the range is not valid UTF-8 (the engine's careful reader then)."""
    if not fastscan.available() or spec.wrappers or spec.ansi:
        return None
    return fastscan.scan_file(fd, start, length, n, year=spec.year)


FORMAT = Format(
    name="klog",
    description="klog/glog text logs of any component (apiserver access log, Trace blocks, kubelet, scheduler ...), "
    "plain or wrapped (CRI, Docker json-file, journald/syslog, RFC3339, Prow, minikube)",
    priority=80,
    sniff=sniff,
    plan=plan,
    parse_block=parse_block,
    read_range=read_range,
    tables=("requests", "messages", "traces", "trace_steps", "pod_transitions", "events"),
)
