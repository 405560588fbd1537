"""Byte-exact re-implementations of the Go / klog printing the generators need.

* :func:`go_duration` — Go ``time.Duration.String()`` (``929.214µs``, ``8m18.00060226s``).
* :func:`go_time` — Go ``time.Time.String()`` in UTC (``2019-09-27 07:28:26.948385138 +0000 UTC``),
  optionally with the monotonic ``m=+...`` suffix.
* :class:`KlogClock` — klog header prefixes (``I0620 12:33:17.389016      11 file.go:1] ``),
  cached per second so formatting millions of lines stays cheap.
* metav1.Time / MicroTime renderings (whole seconds truncated / 6 digits, UTC ``Z``).

All times are integer nanoseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import datetime as _dt

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _frac(v: int, digits: int) -> str:
    """'.' + v zero-padded to ``digits`` with trailing zeros removed ('' if v == 0)."""
    if v == 0:
        return ""
    s = f"{v:0{digits}d}".rstrip("0")
    return "." + s


def go_duration(ns: int) -> str:
    """Go ``time.Duration(ns).String()``, exactly.

    >>> go_duration(0), go_duration(929214), go_duration(1926865), go_duration(3000145050)
    ('0s', '929.214µs', '1.926865ms', '3.00014505s')
    >>> go_duration(498000602260), go_duration(3723500000000)
    ('8m18.00060226s', '1h2m3.5s')
    """
    ns = int(ns)
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < 1_000_000_000:
        if u < 1_000:
            s = f"{u}ns"
        elif u < 1_000_000:
            s = f"{u // 1_000}{_frac(u % 1_000, 3)}µs"
        else:
            s = f"{u // 1_000_000}{_frac(u % 1_000_000, 6)}ms"
    else:
        secs, frac = divmod(u, 1_000_000_000)
        s = f"{secs % 60}{_frac(frac, 9)}s"
        mins = secs // 60
        if mins:
            s = f"{mins % 60}m" + s
            hours = mins // 60
            if hours:
                s = f"{hours}h" + s
    return "-" + s if neg else s


def go_duration_zero_as_0(ns: int) -> str:
    """Go ``%v`` of a Duration inside a struct printed with ``%v`` — same as String() (``0s``).

    The density ``PodLatencyData`` lists print a zero duration as ``0`` (formats-test §4.4).
    """
    return "0" if int(ns) == 0 else go_duration(ns)


def utc(ns: int) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(microseconds=int(ns) // 1000)


def go_time(ns: int, mono_ns: int | None = None, zone: str = "+0000 UTC") -> str:
    """Go ``time.Time.String()`` of a UTC instant: ``2006-01-02 15:04:05.999999999 +0000 UTC[ m=+1.5]``."""
    ns = int(ns)
    d = utc(ns)
    s = f"{d:%Y-%m-%d %H:%M:%S}{_frac(ns % 1_000_000_000, 9)} {zone}"
    if mono_ns is not None:
        s += f" m=+{mono_ns // 1_000_000_000}.{mono_ns % 1_000_000_000:09d}"
    return s


def rfc3339_sec(ns: int) -> str:
    """metav1.Time JSON: whole seconds, truncated, UTC ``Z``."""
    return f"{utc(ns):%Y-%m-%dT%H:%M:%SZ}"


def rfc3339_micro(ns: int) -> str:
    """metav1.MicroTime JSON: always 6 digits, UTC ``Z``."""
    ns = int(ns)
    return f"{utc(ns):%Y-%m-%dT%H:%M:%S}.{(ns // 1000) % 1_000_000:06d}Z"


def rfc3339_nano(ns: int) -> str:
    """Go ``RFC3339Nano`` in UTC (variable fraction, trailing zeros dropped) — containerd CRI stamps."""
    ns = int(ns)
    return f"{utc(ns):%Y-%m-%dT%H:%M:%S}{_frac(ns % 1_000_000_000, 9)}Z"


def stamp_milli(ns: int) -> str:
    """Go ``time.StampMilli`` (``Jan _2 15:04:05.000``) — the e2e framework's Logf stamp."""
    ns = int(ns)
    d = utc(ns)
    return f"{MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S}.{(ns // 1_000_000) % 1000:03d}"


def trace_date(ns: int) -> str:
    """utiltrace T3 header start time ``02-Jan-2006 15:04:05.000``."""
    ns = int(ns)
    d = utc(ns)
    return f"{d.day:02d}-{MONTHS[d.month - 1]}-{d.year} {d:%H:%M:%S}.{(ns // 1_000_000) % 1000:03d}"


def trace_clock(ns: int) -> str:
    """utiltrace T3 step time ``15:04:05.000``."""
    ns = int(ns)
    return f"{utc(ns):%H:%M:%S}.{(ns // 1_000_000) % 1000:03d}"


def syslog_prefix(ns: int, host: str, prog: str) -> str:
    """rsyslog RFC3164 prefix ``Mar  3 13:23:04 host prog: `` (day space-padded)."""
    d = utc(ns)
    return f"{MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S} {host} {prog}: "


class KlogClock:
    """klog header formatter with a per-second cache.

    ``header(sev, ns, pid, caller)`` → ``I0620 12:33:17.389016      11 httplog.go:132] ``
    (µs truncated, pid right-aligned in 7 columns, no year, UTC).
    """

    def __init__(self):
        self._sec = None
        self._txt = ""

    def stamp(self, ns: int) -> str:
        sec, rem = divmod(int(ns), 1_000_000_000)
        if sec != self._sec:
            d = _EPOCH + _dt.timedelta(seconds=sec)
            self._sec = sec
            self._txt = f"{d:%m%d %H:%M:%S}."
        return f"{self._txt}{rem // 1000:06d}"

    def header(self, sev: str, ns: int, pid: int, caller: str) -> str:
        return f"{sev}{self.stamp(ns)} {pid:7d} {caller}] "


def uuid4_from(b: bytes) -> str:
    """A version-4 UUID string from 16 random bytes (deterministic given the bytes)."""
    h = b.hex()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[b[8] & 3]}{h[17:20]}-{h[20:32]}"
