"""Vectorised (numpy + Arrow compute) versions of the Go/klog printing in :mod:`.gofmt`.

Used by the generators to format hundreds of thousands of lines per second. Each function
returns a ``pyarrow.StringArray`` whose elements equal the scalar function applied per row
(tested against :func:`kubelog.synth.gofmt.go_duration` and ``KlogClock``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_join = pc.binary_join_element_wise


def cat(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and Python strings (scalars)."""
    return _join(*parts, "")


def istr(v) -> pa.Array:
    return pc.cast(pa.array(np.asarray(v, dtype=np.int64)), pa.string())


def zpad(v, width: int) -> pa.Array:
    return pc.utf8_lpad(istr(v), width=width, padding="0")


def _frac(v: np.ndarray, digits: int) -> pa.Array:
    s = pc.utf8_rtrim(zpad(v, digits), characters="0")
    return pc.if_else(pa.array(v == 0), "", cat(".", s))


def _dur_branch(u: np.ndarray, kind: int) -> pa.Array:
    if kind == 0:
        return cat(istr(u), "ns")
    if kind == 1:
        return cat(istr(u // 1_000), _frac(u % 1_000, 3), "µs")
    if kind == 2:
        return cat(istr(u // 1_000_000), _frac(u % 1_000_000, 6), "ms")
    secs = u // 1_000_000_000
    s = cat(istr(secs % 60), _frac(u % 1_000_000_000, 9), "s")
    mins = secs // 60
    hours = mins // 60
    mpart = pc.if_else(pa.array(mins > 0), cat(istr(mins % 60), "m"), "")
    hpart = pc.if_else(pa.array(hours > 0), cat(istr(hours), "h"), "")
    return cat(hpart, mpart, s)


def go_duration(ns) -> pa.Array:
    """Go ``time.Duration.String()`` for non-negative integer ns, vectorised."""
    u = np.asarray(ns, dtype=np.int64)
    if (u < 0).any():
        raise ValueError("negative durations are not supported by the vectorised formatter")
    br = (u >= 1_000).astype(np.int8) + (u >= 1_000_000) + (u >= 1_000_000_000)
    order = np.argsort(br, kind="stable")
    parts = []
    for k in range(4):
        sel = order[br[order] == k]
        if len(sel):
            parts.append(_dur_branch(u[sel], k))
    out = pa.concat_arrays(parts) if len(parts) > 1 else parts[0]
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    out = out.take(pa.array(inv))
    if (u == 0).any():
        out = pc.if_else(pa.array(u == 0), "0s", out)
    return out


def klog_stamp(ns) -> pa.Array:
    """``MMDD hh:mm:ss.uuuuuu`` (UTC, µs truncated) for integer ns since the epoch."""
    import datetime as _dt

    ns = np.asarray(ns, dtype=np.int64)
    us_all = ns // 1000
    sec = us_all // 1_000_000
    s0 = int(sec.min())
    rel = sec - s0
    uniq = np.flatnonzero(np.bincount(rel))
    ep = _dt.datetime(1970, 1, 1)
    pref = [f"{ep + _dt.timedelta(seconds=s0 + int(r)):%m%d %H:%M:%S}." for r in uniq]
    pos = np.zeros(int(rel.max()) + 1, dtype=np.int64)
    pos[uniq] = np.arange(len(uniq))
    return cat(take(pref, pos[rel]), zpad(us_all % 1_000_000, 6))


def klog_header(sev, ns, pid: int, caller) -> pa.Array:
    """``I0620 12:33:17.389016      11 httplog.go:132] `` vectorised (sev/caller scalar or arrays)."""
    return cat(sev, klog_stamp(ns), f" {pid:7d} ", caller, "] ")


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def uuid4(rng: np.random.Generator, n: int) -> pa.Array:
    """n random version-4 UUID strings, from ``rng`` (deterministic)."""
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    hx = np.empty((n, 32), dtype=np.uint8)
    hx[:, 0::2] = _HEX[b >> 4]
    hx[:, 1::2] = _HEX[b & 15]
    hx[:, 12] = ord("4")
    hx[:, 16] = np.frombuffer(b"89ab", dtype=np.uint8)[b[:, 15] & 3]
    out = np.empty((n, 36), dtype=np.uint8)
    out[:, 0:8] = hx[:, 0:8]
    out[:, 9:13] = hx[:, 8:12]
    out[:, 14:18] = hx[:, 12:16]
    out[:, 19:23] = hx[:, 16:20]
    out[:, 24:36] = hx[:, 20:32]
    out[:, [8, 13, 18, 23]] = ord("-")
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(out.tobytes()))


def take(values: list[str], idx) -> pa.Array:
    """``values[idx]`` as a string array."""
    return pa.array(values, type=pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))
