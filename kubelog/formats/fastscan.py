"""The optional C scanner (``kubelog._fastscan``, source ``kubelog/_native/fastscan.c``).

One pass over a block of lines gives, per line, whether it is a klog header and
its time fields, and for every structured access-log record (variants E–H,
:data:`kubelog.formats.httplog.RE_E`) the request fields, the exact latency in
nanoseconds and the RequestInfo classification
(:func:`kubelog.formats.requestinfo.classify_one` is the reference; the tests
check both agree).  The result is Arrow arrays built on the C buffers without
copying a value.  Lines the scanner does not accept are parsed by the Arrow
path, so results are the same with or without it; without a C compiler at
install time kubelog runs on that path alone (``KUBELOG_NO_NATIVE=1`` forces it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .. import native

STRING_FIELDS = (
    "method",
    "uri",
    "ua",
    "aid",
    "src",
    "apf_pl",
    "apf_fs",
    "verb",
    "api_group",
    "api_version",
    "resource",
    "subresource",
    "namespace",
    "name",
    "scope",
)


def available() -> bool:
    """True when the C scanner is built and not disabled by ``KUBELOG_NO_NATIVE``."""
    return native.module() is not None


@dataclass
class Scan:
    """What :func:`scan` found in ``n`` lines."""

    is_hdr: np.ndarray  # bool[n]
    e_rows: np.ndarray  # int64[k]: lines that are access-log records
    cols: dict  # over the k records: STRING_FIELDS as StringArrays (DICT_FIELDS as
    #                             DictionaryArrays of strings), lat_ns (int64, -1 invalid),
    #                             resp (Int32Array with nulls), hijacked, long_running (BooleanArray)
    times: tuple | None = None  # with a year: (header rows, local ns, valid, rollovers, first ord, last ord)
    other: dict | None = None  # raw blocks: the header lines that are not access-log records (rows,
    #                             level, pid, file start/end, line, message start: see scan_raw)


# the low-cardinality fields, which the scanner returns dictionary-encoded (declared in the C code)
DICT_FIELDS = frozenset(native.built().DICT_FIELDS) if native.built() is not None else frozenset()


def _string(t: tuple) -> pa.Array:
    data, offsets, valid, nulls = t
    n = memoryview(offsets).nbytes // 4 - 1
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data), None if valid is None else pa.py_buffer(valid), nulls
    )


def _dictionary(t: tuple, n: int) -> pa.DictionaryArray:
    """A dictionary column of the scanner: distinct values and an int32 index per row."""
    values, idx, valid, nulls = t
    indices = pa.Array.from_buffers(
        pa.int32(), n, [None if valid is None else pa.py_buffer(valid), pa.py_buffer(idx)], nulls
    )
    return pa.DictionaryArray.from_arrays(indices, _string(values))


class RawLines:
    """The lines of a block of raw bytes, cut out only when asked for (:meth:`take`).

    Stands in for the Arrow array of all lines of a block (``LineChunk.text``) in the klog
    parser: the C scanner has read every line already, and the parser needs the text of only
    the few lines that are not access-log records.
    """

    def __init__(self, data, starts: np.ndarray, ends: np.ndarray, scan: "Scan"):
        self.data, self.starts, self.ends, self.scan = data, starts, ends, scan

    def __len__(self) -> int:
        return len(self.starts)

    def take(self, rows) -> pa.Array:
        rows = np.asarray(rows.to_numpy(zero_copy_only=False) if isinstance(rows, pa.Array) else rows, dtype=np.int64)
        return self.spans(self.starts, self.ends, rows)

    def spans(self, starts: np.ndarray, ends: np.ndarray, rows: np.ndarray | None = None) -> pa.Array:
        """The text of byte spans ``[starts[r], ends[r])`` of the block (int32), for each ``r`` in
        ``rows`` (all spans when None), as a string array."""
        if rows is None:
            rows = np.arange(len(starts), dtype=np.int64)
        offsets, text = native.module().gather(self.data, starts, ends, rows)
        return pa.StringArray.from_buffers(len(rows), pa.py_buffer(offsets), pa.py_buffer(text))


def scan_raw(data, n: int, access_log: bool = True, year: int | None = None) -> RawLines | None:
    """Scan a block of ``n`` whole lines of raw bytes (each ending in a newline); None when
    the block is not valid UTF-8 (the caller then splits it the careful way)."""
    r = native.module().scan(b"", data, 0, n, False, access_log, True, -1 if year is None else year)
    if not r["utf8_ok"]:
        return None
    sc = _scan_result(r)
    return RawLines(data, np.frombuffer(r["starts"], dtype=np.int32), np.frombuffer(r["ends"], dtype=np.int32), sc)


def scan_file(
    fd: int, start: int, length: int, n: int, access_log: bool = True, year: int | None = None
) -> RawLines | None:
    """:func:`scan_raw` of the ``n`` lines in bytes ``[start, start + length)`` of the open file
    ``fd``, read by the scanner itself in pieces that it splits and checks while they are in the
    CPU cache (a final newline is added if the range lacks one)."""
    r = native.module().scan(b"", b"", 0, n, False, access_log, True, -1 if year is None else year, fd, start, length)
    if not r["utf8_ok"]:
        return None
    sc = _scan_result(r)
    return RawLines(r["data"], np.frombuffer(r["starts"], dtype=np.int32), np.frombuffer(r["ends"], dtype=np.int32), sc)


def scan(text, access_log: bool = True, year: int | None = None) -> Scan:
    """Scan a String/LargeString array of lines (see the module docstring); for
    :class:`RawLines` the scan already made.  With ``year`` the result also has the klog
    time of every header line (``times``: rows, local ns, valid, rollovers, first and last
    month/day ordinal), computed as :meth:`kubelog.formats.klog.KlogParser.parse_chunk` does."""
    if isinstance(text, RawLines):
        return text.scan
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    large = text.type == pa.large_string()
    bufs = text.buffers()
    n = len(text)
    empty = b""
    r = native.module().scan(
        bufs[1] if bufs[1] is not None else empty,
        bufs[2] if bufs[2] is not None else empty,
        text.offset,
        n,
        large,
        access_log,
        False,
        -1 if year is None else year,
    )
    return _scan_result(r)


def _scan_result(r: dict) -> Scan:
    e_rows = np.frombuffer(r["e_rows"], dtype=np.int64)
    k = len(e_rows)
    cols = {f: _dictionary(r[f], k) if f in DICT_FIELDS else _string(r[f]) for f in STRING_FIELDS}
    cols["lat_ns"] = np.frombuffer(r["lat_ns"], dtype=np.int64)
    cols["resp"] = pa.Array.from_buffers(pa.int32(), k, [pa.py_buffer(r["resp_valid"]), pa.py_buffer(r["resp"])])
    cols["hijacked"] = pa.array(np.frombuffer(r["hijacked"], dtype=np.uint8).astype(bool), pa.bool_())
    cols["long_running"] = pa.array(np.frombuffer(r["long_running"], dtype=np.uint8).astype(bool), pa.bool_())
    times = None
    if "times" in r:
        rows, local, valid, roll, first, last = r["times"]
        times = (
            np.frombuffer(rows, dtype=np.int64),
            np.frombuffer(local, dtype=np.int64),
            np.frombuffer(valid, dtype=np.uint8).astype(bool),
            roll,
            first,
            last,
        )
    other = None
    if "o_rows" in r and not r["o_big"]:
        other = {
            k: np.frombuffer(r["o_" + k], dtype=t)
            for k, t in (
                ("rows", np.int64),
                ("pid", np.int64),
                ("msg", np.int32),
                ("fs", np.int32),
                ("fe", np.int32),
                ("line", np.int32),
            )
        }
        other["level"] = r["o_level"]
    return Scan(np.frombuffer(r["is_hdr"], dtype=np.uint8).astype(bool), e_rows, cols, times, other)


def classify(method: str, uri: str) -> dict:
    """The C RequestInfo classification of one request (for tests)."""
    return native.module().classify(method, uri)


def duration_ns(text: str) -> int:
    """The C Go-duration parser (for tests); -1 if invalid."""
    return native.module().duration_ns(text)
