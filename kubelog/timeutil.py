"""Time helpers: Go durations, year-less klog/syslog stamps, year anchoring, zones.

Nothing here looks at today's date.  Year-less timestamps get their year from
in-band evidence (:func:`year_evidence`), resolved per input by
:func:`resolve_year`; the Dec 31 → Jan 1 rollover is handled by
:func:`rollover_years`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where used: importing this module (the CLI, workers) stays light
    import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NS = 1_000_000_000


def _pd():
    import pandas

    return pandas


MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}

# -- Go time.Duration strings -------------------------------------------------

_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "Âµs": 1_000,
    "ms": 1_000_000,
    "s": NS,
    "m": 60 * NS,
    "h": 3600 * NS,
}
DUR_SIMPLE = r"^(?P<i>[0-9]+)(?:\.(?P<f>[0-9]+))?(?P<u>ns|us|µs|μs|Âµs|ms|s|m|h)$"
DUR_COMPOUND = r"^(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?P<s>[0-9]+)(?:\.(?P<f>[0-9]+))?s$"
_DUR_ONE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|μs|Âµs|ms|s|m|h)")


def int_or(arr: pa.Array, default: int = 0) -> np.ndarray:
    """Cast a string array of digits to int64; empty or null (an RE2 group that did not take part) → default."""
    a = pc.fill_null(arr, "")
    a = pc.if_else(pc.equal(a, ""), str(default), a)
    return pc.cast(a, pa.int64()).to_numpy()


def parse_duration_ns(s: str) -> int | None:
    """Exact nanoseconds of a Go duration string (``1.926865ms`` → 1926865); None if invalid.

    >>> parse_duration_ns("8m18.00060226s")
    498000602260
    """
    if s is None:
        return None
    s = s.strip()
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    if s == "0":
        return 0
    pos = 0
    total = 0
    for m in _DUR_ONE.finditer(s):
        if m.start() != pos:
            return None
        num, unit = m.groups()
        ip, _, fp = num.partition(".")
        mult = _UNIT_NS[unit]
        total += int(ip) * mult + (int((fp + "0" * 9)[:9]) * mult) // NS if fp else int(ip) * mult
        pos = m.end()
    if pos != len(s) or pos == 0:
        return None
    return -total if neg else total


def durations_ns(arr: pa.Array) -> np.ndarray:
    """Vectorized :func:`parse_duration_ns` over a string array; invalid → -1.

    Exact integer arithmetic: no float rounding, so ``start = end - latency`` is exact.
    """
    n = len(arr)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return out
    simple = pc.extract_regex(arr, DUR_SIMPLE)
    ok = pc.is_valid(simple).to_numpy(zero_copy_only=False)
    if ok.any():
        idx = np.flatnonzero(ok)
        sub = simple.filter(pa.array(ok))
        ip = pc.cast(sub.field("i"), pa.int64()).to_numpy()
        fr = sub.field("f")
        fr9 = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.fill_null(fr, ""), 9, "0"), 0, 9)
        fv = pc.cast(fr9, pa.int64()).to_numpy()
        units = sub.field("u").to_numpy(zero_copy_only=False)
        mult = (
            np.array([_UNIT_NS[u] for u in units], dtype=np.int64)
            if len(units) < 64
            else _pd().Series(units).map(_UNIT_NS).to_numpy(dtype=np.int64)
        )
        # frac * mult / 1e9 exactly: mult divides 1e9 for ns..s; for m/h multiply first (fits int64)
        small = mult <= NS
        val = ip * mult
        val[small] += fv[small] // (NS // mult[small])
        big = ~small
        if big.any():
            val[big] += fv[big] * (mult[big] // NS)
        out[idx] = val
    rest = ~ok
    if rest.any():
        idx = np.flatnonzero(rest)
        sub = arr.filter(pa.array(rest))
        comp = pc.extract_regex(sub, DUR_COMPOUND)
        cok = pc.is_valid(comp).to_numpy(zero_copy_only=False)
        if cok.any():
            c = comp.filter(pa.array(cok))
            h = int_or(c.field("h"), 0)
            m = int_or(c.field("m"), 0)
            s = pc.cast(c.field("s"), pa.int64()).to_numpy()
            f9 = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.fill_null(c.field("f"), ""), 9, "0"), 0, 9)
            f = pc.cast(f9, pa.int64()).to_numpy()
            out[idx[cok]] = ((h * 60 + m) * 60 + s) * NS + f
        # anything else (negative, odd forms): slow path
        left = idx[~cok]
        if len(left):
            vals = arr.take(pa.array(left)).to_pylist()
            for i, v in zip(left, vals):
                r = parse_duration_ns(v) if v is not None else None
                out[i] = -1 if r is None or r < 0 else r
    return out


def format_duration(ns: int) -> str:
    """Go's ``time.Duration.String()`` for a non-negative integer of nanoseconds."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < NS:
        for unit, div in (("ns", 1), ("µs", 1000), ("ms", 1_000_000)):
            if u < div * 1000:
                ip, fp = divmod(u, div)
                digits = len(str(div)) - 1
                s = str(ip) + (("." + str(fp).rjust(digits, "0").rstrip("0")) if fp else "") + unit
                break
    else:
        h, rem = divmod(u, 3600 * NS)
        m, rem = divmod(rem, 60 * NS)
        sec, frac = divmod(rem, NS)
        s = f"{sec}" + (("." + str(frac).rjust(9, "0").rstrip("0")) if frac else "") + "s"
        if h:
            s = f"{h}h{m}m" + s
        elif m:
            s = f"{m}m" + s
    return ("-" if neg else "") + s


# -- civil dates, vectorized ---------------------------------------------------


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 for proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = np.asarray(y, dtype=np.int64) - (np.asarray(m) <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    m = np.asarray(m, dtype=np.int64)
    d = np.asarray(d, dtype=np.int64)
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def valid_dates(y, m, d) -> np.ndarray:
    m = np.asarray(m)
    d = np.asarray(d)
    y = np.asarray(y)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    mdays = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 0, 12)]
    mdays = mdays + ((m == 2) & leap)
    return (m >= 1) & (m <= 12) & (d >= 1) & (d <= mdays)


def rollover_years(month: np.ndarray, day: np.ndarray, prev_ord: int | None = None) -> tuple[np.ndarray, int | None]:
    """Years to add per row for Dec 31 → Jan 1 rollovers in year-less stamps.

    A jump back of more than ~half a year in month/day order (``12-31`` →
    ``01-01``) starts a new year; small backward jitter does not.  Returns the
    per-row offsets and the last ordinal (to continue in the next chunk).
    """
    if len(month) == 0:
        return np.zeros(0, dtype=np.int64), prev_ord
    ordv = np.asarray(month, dtype=np.int64) * 32 + np.asarray(day, dtype=np.int64)
    prev = np.empty_like(ordv)
    prev[0] = ordv[0] if prev_ord is None else prev_ord
    prev[1:] = ordv[:-1]
    jump = (prev - ordv) > 6 * 32
    return np.cumsum(jump), int(ordv[-1])


def local_to_utc_ns(local_ns: np.ndarray, tz: str) -> np.ndarray:
    """Convert wall-clock ns (as if UTC) in zone ``tz`` to true UTC ns."""
    if tz in ("UTC", "Z", "", None):
        return local_ns
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", tz)
    if m:
        off = (int(m.group(2)) * 3600 + int(m.group(3)) * 60) * NS
        return local_ns - off if m.group(1) == "+" else local_ns + off
    pd = _pd()
    s = pd.to_datetime(pd.Series(local_ns), unit="ns")
    loc = s.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    return loc.astype("int64").to_numpy()


# -- year evidence -------------------------------------------------------------

TRUST = {  # lower is more trusted (DESIGN §4)
    "user": 0,
    "wrapper": 1,
    "klog-file-header": 2,
    "trace-date": 3,
    "rfc3339-in-band": 4,
    "artifact-name": 5,
    "run": 6,
    "mtime": 9,
}


@dataclass
class YearEvidence:
    year: int
    month: int
    day: int
    source: str  # key of TRUST
    detail: str  # e.g. 'wrapper timestamp "2021-08-03T09:31:05Z" at line 1'

    @property
    def trust(self) -> int:
        return TRUST.get(self.source, 8)


_RX_KLOG_FILE = re.compile(r"^Log file created at: (\d{4})/(\d\d)/(\d\d) ", re.M)
_RX_T1 = re.compile(r"\(started:? (\d{4})-(\d\d)-(\d\d) \d\d:\d\d:\d\d")
_RX_T3 = re.compile(r"\((\d\d)-(" + "|".join(MONTHS) + r")-(\d{4}) \d\d:\d\d:\d\d\.\d{3}\) \(total time")
_RX_RFC = re.compile(r"(?<![\d.])((?:19|20)\d\d)-(\d\d)-(\d\d)[T ]\d\d:\d\d:\d\d")
_RX_NAME = re.compile(r"((?:19|20)\d\d)-?(\d\d)-?(\d\d)(?:[T_ ]\d\d[:_-]?\d\d|\b|_)")


def year_evidence(text: str, name: str = "", wrapper_first_ts: pd.Timestamp | None = None) -> list[YearEvidence]:
    """Year evidence found in a piece of an input (head or tail) and its name."""
    ev: list[YearEvidence] = []
    if wrapper_first_ts is not None and not _pd().isna(wrapper_first_ts):
        t = wrapper_first_ts
        ev.append(YearEvidence(t.year, t.month, t.day, "wrapper", f"wrapper timestamp {t.isoformat()}"))
    m = _RX_KLOG_FILE.search(text)
    if m:
        ev.append(
            YearEvidence(
                int(m.group(1)),
                int(m.group(2)),
                int(m.group(3)),
                "klog-file-header",
                f"klog file header 'Log file created at: {m.group(1)}/{m.group(2)}/{m.group(3)}'",
            )
        )
    for rx, src in ((_RX_T1, "trace-date"),):
        m = rx.search(text)
        if m:
            ev.append(
                YearEvidence(
                    int(m.group(1)),
                    int(m.group(2)),
                    int(m.group(3)),
                    src,
                    f"Trace start date {m.group(1)}-{m.group(2)}-{m.group(3)}",
                )
            )
    m = _RX_T3.search(text)
    if m:
        ev.append(
            YearEvidence(
                int(m.group(3)),
                MONTHS[m.group(2)],
                int(m.group(1)),
                "trace-date",
                f"Trace start date {m.group(1)}-{m.group(2)}-{m.group(3)}",
            )
        )
    m = _RX_RFC.search(text)
    if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        y = int(m.group(1))
        if y > 1971:
            ev.append(
                YearEvidence(y, int(m.group(2)), int(m.group(3)), "rfc3339-in-band", f"date {m.group(0)} in the text")
            )
    if name:
        m = _RX_NAME.search(name.rsplit("/", 1)[-1]) or _RX_NAME.search(name)
        if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
            ev.append(
                YearEvidence(
                    int(m.group(1)), int(m.group(2)), int(m.group(3)), "artifact-name", f"date in the name {name!r}"
                )
            )
    return ev


def best(evidence: list[YearEvidence]) -> YearEvidence | None:
    return min(evidence, key=lambda e: e.trust) if evidence else None


def year_for_first(ev: YearEvidence, first_month: int | None, first_day: int | None) -> int:
    """The year of a file's first year-less record, given evidence of a (year, month, day).

    Assumes the file spans less than a year: if the first record's month/day
    comes after the evidence's, the first record is in the year before.
    """
    if first_month is None:
        return ev.year
    if (first_month, first_day or 1) > (ev.month, ev.day) and (first_month - ev.month) > 6:
        return ev.year - 1
    if (ev.month - first_month) > 6:  # evidence in Dec, first record in Jan: evidence was last year
        return ev.year + 1
    return ev.year


def to_ts_array(ns: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(ns, type=pa.int64(), mask=None if valid is None else ~valid)
    return arr.cast(pa.timestamp("ns", tz="UTC"))


def utc(ts: str) -> pd.Timestamp:
    pd = _pd()
    return pd.Timestamp(ts).tz_convert("UTC") if pd.Timestamp(ts).tzinfo else pd.Timestamp(ts, tz="UTC")


def from_epoch_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS, tz=timezone.utc)
