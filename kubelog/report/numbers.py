"""Numbers for people: seconds without scientific notation, clock offsets as ``+10 h 0 m 12.500 s ± 1 ms``,
percentiles with their n and confidence interval (docs/statistics.md).

Every human-facing number of the report and of ``compare`` goes through these functions; machine
outputs (JSON, CSV, Parquet) keep full floats.
"""

from __future__ import annotations

import math


def _bad(v) -> bool:
    try:
        return v is None or math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def seconds(v, digits: int = 4) -> str:
    """A duration in seconds with ``digits`` significant digits, never in scientific notation.

    Trailing zeros are dropped (``2``, ``0.5``).

    >>> [seconds(x) for x in (0.000012346, 0.0123456, 1.23456, 123.456, 35895.2, 0, 2.0, 0.5)]
    ['0.00001235', '0.01235', '1.235', '123.5', '35,895', '0', '2', '0.5']
    """
    if _bad(v):
        return ""
    v = float(v)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    dec = max(digits - 1 - mag, 0)
    dec = min(dec, 9)
    s = f"{v:,.{dec}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def duration(v) -> str:
    """A duration for prose: ``45.2 s``, ``12 m 3 s``, ``2 h 5 m``.

    >>> [duration(x) for x in (0.0042, 45.25, 723.4, 7530)]
    ['4.2 ms', '45.2 s', '12 m 3 s', '2 h 5 m']
    """
    if _bad(v):
        return "unknown"
    v = float(v)
    if abs(v) < 1:
        return f"{v * 1000:.3g} ms"
    if abs(v) < 60:
        return f"{v:.1f} s"
    m, s = divmod(int(round(v)), 60)
    if m < 60:
        return f"{m} m {s} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} m"


def small_interval(v) -> str:
    """A half width for ``±``: ``1 ms``, ``250 µs``, ``1.2 s``.

    >>> [small_interval(x) for x in (0.001, 0.00025, 1.2, 0.0000004)]
    ['1 ms', '250 µs', '1.2 s', '0.4 µs']
    """
    v = float(f"{abs(float(v)):.6g}")  # float noise of a difference: 0.000999999 is 1 ms
    if v >= 1:
        return f"{v:.3g} s"
    if v >= 1e-3:
        return f"{v * 1e3:.3g} ms"
    return f"{v * 1e6:.3g} µs"


def offset(v, lo=None, hi=None) -> str:
    """A clock offset with its bounds: ``+10 h 0 m 12.500 s ± 1 ms``.

    ``lo``/``hi`` are the interval's bounds (seconds); ± is half its width.  One-sided or missing
    bounds are written as ``≥ …`` / ``≤ …``.  No scientific notation.

    >>> offset(36012.5, 36012.499, 36012.501)
    '+10 h 0 m 12.500 s ± 1 ms'
    >>> offset(-0.8, -0.8005, -0.7995)
    '−0.800 s ± 500 µs'
    >>> offset(float("nan"), 0.5, float("inf"))
    '≥ +0.500 s'
    """

    def hms(x: float) -> str:
        sign = "+" if x >= 0 else "−"
        x = abs(x)
        h, rem = divmod(x, 3600)
        m, s = divmod(rem, 60)
        if round(s, 3) >= 60:
            s, m = 0.0, m + 1
        if h >= 1:
            return f"{sign}{int(h)} h {int(m)} m {s:.3f} s"
        if m >= 1:
            return f"{sign}{int(m)} m {s:.3f} s"
        return f"{sign}{s:.3f} s"

    fin = lambda x: x is not None and not _bad(x) and math.isfinite(float(x))
    if fin(v):
        if fin(lo) and fin(hi):
            return f"{hms(float(v))} ± {small_interval((float(hi) - float(lo)) / 2)}"
        return hms(float(v))
    if fin(lo) and not fin(hi):
        return f"≥ {hms(float(lo))}"
    if fin(hi) and not fin(lo):
        return f"≤ {hms(float(hi))}"
    if fin(lo) and fin(hi):
        return f"{hms((float(lo) + float(hi)) / 2)} ± {small_interval((float(hi) - float(lo)) / 2)}"
    return "unknown"


def ci(lo, hi) -> str:
    """A confidence interval of seconds: ``[0.52, 0.61]``, ``[0.52, >max]`` (unbounded upper side).

    >>> ci(0.5212, float("inf")), ci(float("-inf"), 2.0), ci(0.1, 0.2)
    ('[0.5212, > max]', '[< min, 2]', '[0.1, 0.2]')
    """
    if _bad(lo) and _bad(hi):
        return ""
    a = "< min" if math.isinf(float(lo)) else seconds(lo)
    b = "> max" if math.isinf(float(hi)) else seconds(hi)
    return f"[{a}, {b}]"
