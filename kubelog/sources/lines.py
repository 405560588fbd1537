"""Line chunking and wrapper removal for text inputs.

:func:`iter_chunks` reads a binary stream in blocks of complete lines, turns
each block into an Arrow string array (one element per physical line, no
Python object per line), removes the line wrapper(s) the input carries and
yields :class:`LineChunk` objects.  Text formats (klog, e2e logs, audit with a
hostname prefix, ...) parse these chunks with vectorized Arrow compute.

Wrappers (docs/formats/klog.md, docs/formats/e2e-log.md), detected on the head of
the input and removed per physical line, stacked up to three deep:

``cri``         ``<RFC3339Nano> <stdout|stderr> <P|F>[:tags] <payload>`` (P chunks joined)
``docker-json`` ``{"log":"...","stream":"stderr","time":"..."}`` (16 KiB chunks joined)
``rfc3339``     ``<RFC3339Nano> <payload>`` (must-gather current.log, ``kubectl logs --timestamps``)
``journald``    ``Mon DD hh:mm:ss[.uuuuuu] host unit[pid]: <payload>`` (also rsyslog without pid)
``prow``        ``I0421 06:13:41.920] <payload>`` (bootstrap.py build-log.txt)
``jenkins``     ``HH:MM:SS <payload>`` (Jenkins timestamper)
``minikube``    ``* <payload>`` with ``==> name <==`` section headers
``grep-n``      ``1736:<payload>``
ANSI colour escapes are removed everywhere when the head contains any.

The wrapper's own timestamp is kept (``LineChunk.wrapper_ts``): it often
carries the year the klog header lacks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import native

BLOCK = 4 << 20  # bytes read per block (bounds memory: ~10x this per block in flight)
READ_PIECE = 1 << 20
RANGE_PIECE = 256 << 10  # iter_file_ranges reads in pieces this large (they stay in the CPU cache)
MAX_LINE = 32 << 20  # a longer physical line is counted ("overlong line") and skipped
OVERLONG = "overlong line (> 32 MiB, skipped)"  # its reason (ingest also names the first on stderr)

RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
ANSI_RE = r"\x1b\[[0-9;?]*[A-Za-z]"


@dataclass
class Wrapper:
    """One line wrapper: how to recognise it and how to strip it (RE2-compatible regexes)."""

    name: str
    head_re: str  # matched (re.match) against head lines to detect
    strip_re: str  # extract_regex pattern with a `payload` group and optional ts/host/tag/stream
    min_share: float = 0.6  # share of non-empty head lines that must match
    marker_re: str | None = None  # lines that belong to the wrapper itself (counted, removed)
    marker_reason: str = ""


WRAPPERS: list[Wrapper] = [
    Wrapper("docker-json", r'\{"log": ?"', r"^(?P<payload>.*)$", 0.8),
    Wrapper(
        "cri",
        rf"{RFC3339} (?:stdout|stderr) (?:[PF](?::\S+)? )?",
        rf"^(?P<ts>{RFC3339}) (?P<stream>stdout|stderr) (?:(?P<tag>[PF])(?::\S*)? )?(?P<payload>.*)$",
        0.6,
    ),
    Wrapper("rfc3339", rf"{RFC3339} ", rf"^(?P<ts>{RFC3339}) (?P<payload>.*)$", 0.6),
    Wrapper(
        "journald",
        rf"(?:{MONTHS}) [ 0-3]\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ [^\s:\[]+(?:\[\d+\])?: ",
        rf"^(?P<ts>(?:{MONTHS}) [ 0-3]\d \d\d:\d\d:\d\d(?:\.\d+)?) (?P<host>\S+) (?P<unit>[^\s:\[]+)(?:\[\d+\])?: ?(?P<payload>.*)$",
        0.5,
        marker_re=r"^-- (?:Logs begin at|No entries|Journal begins at|Boot [0-9a-f]+|Reboot) ",
        marker_reason="journald marker line",
    ),
    Wrapper(
        "prow",
        r"[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{3}\] ",
        r"^(?P<ts>[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{3})\] ?(?P<payload>.*)$",
        0.5,
    ),
    Wrapper("jenkins", r"\d\d:\d\d:\d\d ", r"^(?P<ts>\d\d:\d\d:\d\d) (?P<payload>.*)$", 0.8),
    Wrapper(
        "minikube",
        r"\* ",
        r"^\* ?(?P<payload>.*)$",
        0.5,
        marker_re=r"^(?:\* )?==> .* <==$",
        marker_reason="minikube section header",
    ),
    Wrapper("grep-n", r"\d+:[IWEF]\d{4} ", r"^\d+:(?P<payload>.*)$", 0.8),
]
WRAPPER_BY_NAME = {w.name: w for w in WRAPPERS}


def detect_wrappers(head_lines: list[str], max_depth: int = 3) -> list[str]:
    """Names of the wrappers around ``head_lines``, outermost first."""
    found: list[str] = []
    lines = [l for l in head_lines if l.strip()]
    for _ in range(max_depth):
        if not lines:
            break
        hit = None
        for w in WRAPPERS:
            if w.name in found:
                continue
            rx = re.compile(w.head_re)
            mk = re.compile(w.marker_re) if w.marker_re else None
            cand = [l for l in lines if not (mk and mk.match(l))]
            if not cand:
                continue
            share = sum(1 for l in cand if rx.match(l)) / len(cand)
            if share >= w.min_share:
                hit = w
                break
        if hit is None:
            break
        found.append(hit.name)
        lines = [_strip_one(hit, l) for l in lines]
    return found


def _strip_one(w: Wrapper, line: str) -> str:
    if w.name == "docker-json":
        try:
            return json.loads(line).get("log", "").rstrip("\n")
        except (ValueError, AttributeError):
            return line
    m = re.match(w.strip_re, line)
    return m.group("payload") if m else line


def has_ansi(head: bytes) -> bool:
    return b"\x1b[" in head


@dataclass
class LineChunk:
    """A block of logical lines after wrapper removal.

    Attributes
    ----------
    text : pa.StringArray
        Payload of each logical line (no trailing newline).
    line_no : np.ndarray[int64]
        1-based physical line number where each logical line starts.
    wrapper_ts : pa.Array or None
        ``timestamp[ns, UTC]`` of the outermost wrapper that carries a full date, else None.
    wrapper_clock : pa.Array or None
        Raw wrapper time text for year-less wrappers (journald/prow/jenkins), else None.
    host : pa.Array or None
        Host name from a journald/syslog prefix.
    unit : pa.Array or None
        Syslog tag (program / unit name) from a journald/syslog prefix.
    n_physical : int
        Physical lines consumed from the stream for this chunk (lines read).
    joined : int
        Physical lines folded into the previous logical line (CRI P chunks, Docker
        16 KiB chunks): count them as continuation lines.
    """

    text: pa.Array
    line_no: np.ndarray
    n_physical: int
    wrapper_ts: pa.Array | None = None
    wrapper_clock: pa.Array | None = None
    host: pa.Array | None = None
    joined: int = 0
    unit: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.text)


@dataclass
class ReaderStats:
    """What the reader itself counted (overlong lines, markers, bad UTF-8)."""

    counted: dict = field(default_factory=dict)  # reason -> [count, examples]
    invalid_utf8_lines: int = 0
    first_invalid_utf8: int | None = None
    skipped: int = 0  # lines read but never yielded (overlong): the caller adds them to lines_read

    def add(self, reason: str, line_no: int, text: str, n: int = 1):
        c = self.counted.setdefault(reason, [0, []])
        c[0] += n
        if len(c[1]) < 5:
            c[1].append((line_no, text[:300]))

    def skip_overlong(self, line_no: int, text: str) -> None:
        """A line longer than :data:`MAX_LINE`: counted, and read although no chunk holds it."""
        self.add(OVERLONG, line_no, text)
        self.skipped += 1


def iter_blocks(
    stream: BinaryIO,
    block: int = BLOCK,
    stats: ReaderStats | None = None,
    boundary: Callable[[bytes], bool] | None = None,
) -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(data, first_line_no, n_lines)`` blocks of whole lines.

    ``data`` ends with a newline (one is added to a final unterminated line).
    With ``boundary``, a block is only cut before a line for which
    ``boundary(line)`` is true (so multi-line records stay in one block), looking
    at most 10,000 lines ahead.
    A physical line longer than :data:`MAX_LINE` is counted in ``stats`` as
    "overlong line" and not yielded (but its line number is consumed).
    """
    stats = stats or ReaderStats()
    line_no = 1
    buf = b""
    eof = False
    skipping_long = False
    failure: Exception | None = None
    while not eof or buf:
        if not eof:
            # read in 1 MiB pieces so that a stream that breaks (truncated gzip)
            # loses at most the last piece: what was readable is still parsed
            parts = []
            got = 0
            while got < block:
                try:
                    more = stream.read(min(READ_PIECE, block - got))
                except Exception as e:  # noqa: BLE001 - re-raised after the readable part
                    failure = e
                    more = b""
                if not more:
                    eof = True
                    break
                parts.append(more)
                got += len(more)
            buf += b"".join(parts)
        if skipping_long:
            nl = buf.find(b"\n")
            if nl < 0:
                buf = b""
                continue
            buf = buf[nl + 1 :]
            skipping_long = False
            line_no += 1
            continue
        cut = buf.rfind(b"\n")
        if cut < 0:
            if eof:
                if buf:
                    data, buf = buf + b"\n", b""
                    yield data, line_no, 1
                    line_no += 1
                break
            if len(buf) > MAX_LINE:
                stats.skip_overlong(line_no, buf[:200].decode("utf-8", "replace"))
                buf = b""
                skipping_long = True
            continue
        if not eof and len(buf) < block and boundary is None:
            continue  # read more to make a full block
        data, rest = buf[: cut + 1], buf[cut + 1 :]
        if boundary is not None and not eof and rest:
            # move the cut back to the last record start within the block
            data, rest = _cut_at_boundary(data, rest, boundary)
            if not data:
                if len(buf) > 4 * block:  # no boundary anywhere: give up on it
                    data, rest = buf[: cut + 1], buf[cut + 1 :]
                else:
                    continue
        elif boundary is not None and not eof and not rest and len(buf) < block:
            continue
        buf = rest
        n = count_newlines(data)
        if len(data) > MAX_LINE:  # may hold a line longer than MAX_LINE (kept while a record boundary was sought)
            yield from _without_overlong(data, line_no, stats)
        else:
            yield data, line_no, n
        line_no += n
    if failure is not None:
        raise failure


def _without_overlong(data: bytes, line_no: int, stats: ReaderStats) -> Iterator[tuple[bytes, int, int]]:
    """The block ``data`` (whole lines from line ``line_no``) as blocks without its lines longer than
    :data:`MAX_LINE`: those are counted in ``stats`` and skipped, as everywhere else.  Such a line
    reaches a block when :func:`iter_blocks` holds on to a record while it looks for the next record
    start (up to 4 blocks: with 16 MiB blocks, more than MAX_LINE)."""
    import numpy as np

    nl = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    starts = np.r_[0, nl[:-1] + 1]
    long = np.flatnonzero(nl + 1 - starts > MAX_LINE)  # length with its newline, as iter_file_ranges
    at, first = 0, 0  # the next byte and line (index) to hand out
    for j in long.tolist():
        if j > first:
            yield data[at : int(starts[j])], line_no + first, j - first
        stats.skip_overlong(line_no + j, data[int(starts[j]) : int(starts[j]) + 200].decode("utf-8", "replace"))
        at, first = int(nl[j]) + 1, j + 1
    if first == 0:
        yield data, line_no, len(nl)
    elif first < len(nl):
        yield data[at:], line_no + first, len(nl) - first


def read_pieces(fd: int, size: int, buf: bytearray, hasher=None) -> Iterator[tuple[int, int, int]]:
    """Read the plain file ``fd`` of ``size`` bytes once, in order, into ``buf`` a piece at a time,
    feeding ``hasher`` (a hashlib object) and counting newlines while the piece is in the CPU cache:
    yields ``(offset, bytes read, newlines)`` for each piece (``buf[:bytes read]`` holds it until the
    next).  Stops early if the file shrank.  The reading loop of :func:`iter_file_ranges` and of the
    audit log's range planning (:func:`kubelog.engine.folds.file_ranges`)."""
    import os

    view = memoryview(buf)
    rpos = 0
    while rpos < size:
        k = os.preadv(fd, [view[: min(len(buf), size - rpos)]], rpos)
        if k <= 0:
            break
        chunk = view[:k]
        if hasher is not None:
            hasher.update(chunk)
        yield rpos, k, count_newlines(chunk)
        rpos += k


def iter_file_ranges(
    fd: int,
    size: int,
    block: int = BLOCK,
    stats: ReaderStats | None = None,
    boundary: Callable[[bytes], bool] | None = None,
    hasher=None,
) -> Iterator[tuple[int, int, int, int]]:
    """:func:`iter_blocks` over a plain file (descriptor ``fd`` of ``size`` bytes) as byte ranges.

    Yields ``(start, end, first_line_no, n_lines)`` ranges of whole lines instead of their
    bytes, so that worker processes read their block themselves; this side reads the file once,
    in order, in pieces of :data:`RANGE_PIECE` bytes that stay in the CPU cache while they feed
    ``hasher`` (a hashlib object) and are counted (with a block-sized buffer the copy, the hash
    and the count each went through memory, twice the time).  A block ends after its last
    newline once it has ``block`` bytes (before the last record start, when ``boundary`` is
    given, as in :func:`iter_blocks`).  A final line without a newline counts as a line (the
    reader of the range adds the newline); a line longer than the block is a range of its own,
    one longer than :data:`MAX_LINE` is counted in ``stats`` and skipped, as :func:`iter_blocks`
    does.
    """
    import os

    stats = stats or ReaderStats()
    piece = max(1, min(RANGE_PIECE, block))
    buf = bytearray(piece)
    view = memoryview(buf)
    start, line_no = 0, 1  # the current block: its first byte and line number
    nl = 0  # newlines in [start, rpos)
    last_nl = -1  # position of the last newline read
    rpos, last_byte = 0, 10
    long_line = False  # [start, rpos) is one line longer than the block, its end not read yet
    for at, k, c in read_pieces(fd, size, buf, hasher):
        rpos, last_byte = at + k, buf[k - 1]
        if c:
            last_nl = at + buf.rfind(b"\n", 0, k)
        if long_line:
            if not c:
                continue
            end = at + buf.find(b"\n", 0, k) + 1
            yield from _long_line(fd, start, end, line_no, stats)
            start, line_no, nl, long_line = end, line_no + 1, c - 1, False
        else:
            nl += c
        if rpos - start < block or rpos >= size:
            continue
        if last_nl < start:  # no newline since the block began: one line longer than the block
            long_line = True
            continue
        end = last_nl + 1
        if boundary is not None:
            end = _file_cut_at_boundary(fd, start, end, boundary, piece)
        after = count_newlines(view[end - at : k]) if end >= at else count_newlines(os.pread(fd, rpos - end, end))
        if end > start:
            yield start, end, line_no, nl - after
        start, line_no, nl = end, line_no + nl - after, after
    if start < rpos:
        if long_line or (nl == 0 and rpos - start > block):
            yield from _long_line(fd, start, rpos, line_no, stats)
        else:
            yield start, rpos, line_no, nl + (last_byte != 10)


def _long_line(fd: int, start: int, end: int, line_no: int, stats: ReaderStats):
    """The line ``[start, end)``, longer than a block: a range of its own, or counted and skipped."""
    import os

    if end - start > MAX_LINE:
        stats.skip_overlong(line_no, os.pread(fd, 200, start).decode("utf-8", "replace"))
    else:
        yield start, end, line_no, 1


def _file_cut_at_boundary(fd: int, start: int, end: int, boundary, window: int) -> int:
    """:func:`_range_cut_at_boundary` on the file's bytes ``[start, end)``: first on the last
    ``window`` bytes (the cut is almost always a few lines back), else on the whole block."""
    import os

    w0 = max(start, end - window)
    data = os.pread(fd, end - w0, w0)
    cut = _range_cut_at_boundary(data, 0, len(data), boundary)
    if cut < len(data) or w0 == start:
        return w0 + cut
    data = os.pread(fd, end - start, start)
    return start + _range_cut_at_boundary(data, 0, len(data), boundary)


def _range_cut_at_boundary(buf, start: int, end: int, boundary) -> int:
    """Move ``end`` (just after a newline) back to the start of the last line in
    ``[start, end)`` for which ``boundary(line)`` holds (at most 10,000 lines back)."""
    e = end
    for _ in range(10000):
        s = buf.rfind(b"\n", start, e - 1) + 1
        if s <= start:
            return end
        if boundary(bytes(buf[s : e - 1])):
            return s
        e = s
    return end


def count_newlines(data) -> int:
    """Number of ``\n`` in a bytes-like object (memchr in C when built)."""
    nat = native.module()
    return nat.count_lines(data) if nat is not None else bytes(data).count(b"\n")


def _cut_at_boundary(data: bytes, rest: bytes, boundary) -> tuple[bytes, bytes]:
    end = len(data)
    for _ in range(10000):
        start = data.rfind(b"\n", 0, end - 1) + 1
        if start <= 0:
            return b"", data + rest
        line = data[start : end - 1]
        if boundary(line):
            return data[:start], data[start:] + rest
        end = start
    return data, rest


def block_to_array(data: bytes, first_line: int, stats: ReaderStats) -> pa.Array:
    """Split ``data`` (ending in newline) into a StringArray of lines without line endings."""
    nat = native.module()
    if nat is not None and len(data) < (1 << 31) - 1:
        offsets, text, n, ok = nat.split_lines(data)
        if ok:
            return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    offsets = np.empty(len(nl) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = nl + 1
    binarr = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(nl), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    try:
        s = binarr.cast(pa.large_string())
    except pa.ArrowInvalid:
        s = _repair_utf8(binarr, first_line, stats)
    s = pc.utf8_rtrim(s, characters="\r\n")
    if s.type == pa.large_string() and len(data) < (1 << 31) - 1:
        s = s.cast(pa.string())
    return s


def _repair_utf8(binarr: pa.Array, first_line: int, stats: ReaderStats) -> pa.Array:
    vals = binarr.to_pylist()
    out = []
    for i, v in enumerate(vals):
        try:
            out.append(v.decode("utf-8"))
        except UnicodeDecodeError:
            stats.invalid_utf8_lines += 1
            if stats.first_invalid_utf8 is None:
                stats.first_invalid_utf8 = first_line + i
            out.append(v.decode("utf-8", errors="replace"))
    return pa.array(out, pa.large_string())


# -- wrapper removal -------------------------------------------------------


def _cri_join(text: pa.Array, tag: pa.Array, line_no: np.ndarray, ts, carry: dict):
    """Join CRI P chunks; ``carry`` holds a pending partial line across chunks."""
    t = text.to_pylist()
    g = tag.to_pylist()
    ts_l = ts.to_pylist() if ts is not None else [None] * len(t)
    out_t, out_n, out_ts = [], [], []
    joined = 0
    pend = carry.get("pending")
    for s, tg, ln, w in zip(t, g, line_no.tolist(), ts_l):
        if pend is not None:
            pend[0] += s
            joined += 1
            if tg != "P":
                out_t.append(pend[0])
                out_n.append(pend[1])
                out_ts.append(pend[2])
                pend = None
            continue
        if tg == "P":
            pend = [s, ln, w]
        else:
            out_t.append(s)
            out_n.append(ln)
            out_ts.append(w)
    carry["pending"] = pend
    return out_t, np.array(out_n, dtype=np.int64), out_ts, joined


def _docker_rows(text: pa.Array, line_no: np.ndarray, stats: ReaderStats, carry: dict):
    logs, tss, lns = [], [], []
    joined = 0
    pend = carry.get("pending")
    for s, ln in zip(text.to_pylist(), line_no.tolist()):
        try:
            o = json.loads(s)
            log = o["log"]
            t = o.get("time")
        except (ValueError, KeyError, TypeError):
            if pend is not None:
                logs.append(pend[0])
                tss.append(pend[2])
                lns.append(pend[1])
                pend = None
            logs.append(s)
            tss.append(None)
            lns.append(ln)
            continue
        if pend is not None:
            pend[0] += log
            joined += 1
        else:
            pend = [log, ln, t]
        if pend[0].endswith("\n"):
            logs.append(pend[0][:-1])
            tss.append(pend[2])
            lns.append(pend[1])
            pend = None
    carry["pending"] = pend
    return logs, np.array(lns, dtype=np.int64), tss, joined


def _flush_carry(wrappers, carries) -> LineChunk | None:
    """A partial line still pending at end of stream becomes a line of its own."""
    for w in wrappers:
        c = carries.get(w)
        if c and c.get("pending") is not None:
            s, ln, ts = c["pending"]
            c["pending"] = None
            if w == "docker-json" and s.endswith("\n"):
                s = s[:-1]
            return LineChunk(
                pa.array([s], pa.string()),
                np.array([ln], dtype=np.int64),
                0,
                wrapper_ts=_parse_rfc3339(pa.array([ts], pa.string())),
            )
    return None


def _parse_rfc3339(arr) -> pa.Array:
    import pandas as pd

    s = pd.Series(arr.to_pandas() if isinstance(arr, (pa.Array, pa.ChunkedArray)) else arr, dtype="object")
    ts = pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce")
    return pa.array(ts, type=pa.timestamp("ns", tz="UTC"))


def unwrap(chunk: LineChunk, wrappers: list[str], ansi: bool, stats: ReaderStats, carries: dict) -> LineChunk:
    """Remove ``wrappers`` (outermost first) and ANSI colour from a chunk."""
    text = chunk.text
    line_no = chunk.line_no
    wts = chunk.wrapper_ts
    wclock = chunk.wrapper_clock
    host = chunk.host
    unit = chunk.unit
    joined = chunk.joined
    if ansi:
        text = pc.replace_substring_regex(text, ANSI_RE, "")
    for name in wrappers:
        w = WRAPPER_BY_NAME[name]
        if w.marker_re:
            mk = pc.match_substring_regex(text, w.marker_re)
            mk = mk.fill_null(False)
            if pc.any(mk).as_py():
                idx = np.flatnonzero(mk.to_numpy(zero_copy_only=False))
                tl = text.take(pa.array(idx[:5])).to_pylist()
                for k, i in enumerate(idx):
                    stats.add(w.marker_reason, int(line_no[i]), tl[k] if k < 5 else "")
                keep = pc.invert(mk)
                text = text.filter(keep)
                line_no = line_no[~mk.to_numpy(zero_copy_only=False)]
                for _nm in ("wts", "wclock", "host"):
                    pass
                if wts is not None:
                    wts = wts.filter(keep)
                if wclock is not None:
                    wclock = wclock.filter(keep)
                if host is not None:
                    host = host.filter(keep)
                if unit is not None:
                    unit = unit.filter(keep)
        if name == "docker-json":
            logs, line_no, tss, j = _docker_rows(text, line_no, stats, carries.setdefault(name, {}))
            joined += j
            text = pa.array(logs, pa.string())
            wts = _parse_rfc3339(pa.array(tss, pa.string()))
            wclock = host = unit = None
            continue
        parts = pc.extract_regex(text, w.strip_re)
        ok = pc.is_valid(parts)
        payload = pc.if_else(ok, parts.field("payload"), text)
        names = [parts.type.field(i).name for i in range(parts.type.num_fields)]
        if name == "cri" and "tag" in names:
            tag = parts.field("tag")
            ts_raw = parts.field("ts")
            if pc.any(pc.equal(tag, "P")).as_py() or carries.get(name, {}).get("pending") is not None:
                t, line_no, tsl, j = _cri_join(payload, tag, line_no, ts_raw, carries.setdefault(name, {}))
                joined += j
                payload = pa.array(t, pa.string())
                wts = _parse_rfc3339(pa.array(tsl, pa.string()))
                text = payload
                wclock = host = unit = None
                continue
        if "ts" in names:
            raw_ts = parts.field("ts")
            if name in ("cri", "rfc3339"):
                wts = _parse_rfc3339(raw_ts) if wts is None else wts
            else:
                wclock = raw_ts if wclock is None else wclock
        if "host" in names and host is None:
            host = parts.field("host")
        if "unit" in names and unit is None:
            unit = parts.field("unit")
        text = payload
    return LineChunk(
        text, line_no, chunk.n_physical, wrapper_ts=wts, wrapper_clock=wclock, host=host, joined=joined, unit=unit
    )


def iter_chunks(
    stream: BinaryIO,
    wrappers: list[str],
    ansi: bool = False,
    stats: ReaderStats | None = None,
    block: int = BLOCK,
    boundary: Callable[[bytes], bool] | None = None,
) -> Iterator[LineChunk]:
    """Yield unwrapped :class:`LineChunk` s of ``stream``.

    Sum of ``n_physical`` over all chunks = physical lines read.  Wrapper marker
    lines and overlong lines are counted in ``stats`` (not yielded).
    """
    stats = stats if stats is not None else ReaderStats()
    carries: dict = {}
    for data, first, n in iter_blocks(stream, block, stats, boundary):
        arr = block_to_array(data, first, stats)
        ch = LineChunk(arr, np.arange(first, first + n, dtype=np.int64), n)
        if wrappers or ansi:
            ch = unwrap(ch, wrappers, ansi, stats, carries)
        yield ch
    tail = _flush_carry(wrappers, carries)
    if tail is not None:
        yield tail


def make_boundary(wrappers: list[str], record_re: str) -> Callable[[bytes], bool]:
    """A block-boundary predicate: true when the unwrapped raw line starts a record."""
    rx = re.compile(record_re.encode() if isinstance(record_re, str) else record_re)
    strips = [re.compile(WRAPPER_BY_NAME[w].strip_re.encode()) for w in wrappers if w != "docker-json"]
    if "docker-json" in wrappers:

        def _b(line: bytes) -> bool:
            try:
                o = json.loads(line)
                return bool(rx.match(o.get("log", "").encode()))
            except ValueError:
                return False

        return _b

    def b(line: bytes) -> bool:
        if b" P " in line[:60] and wrappers and wrappers[0] == "cri":
            return False
        for s in strips:
            m = s.match(line)
            if m:
                line = m.group("payload")
        return bool(rx.match(line))

    return b
