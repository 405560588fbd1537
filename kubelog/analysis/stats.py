"""Percentiles with a stated definition.

The default is **nearest rank**, what clusterloader2 uses: for sorted values
``x[0..n-1]`` the p-th percentile (0 < p ≤ 1) is ``x[ceil(n·p) − 1]``.  Other
definitions are numpy's (``linear``, ``lower``, ``higher``, ``nearest``,
``midpoint``, ``hazen``, ``weibull``, ...).  Every percentile travels with its
``n``; an empty group has no percentile (NaN), never zero.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

METHODS = (
    "nearest-rank",
    "linear",
    "lower",
    "higher",
    "nearest",
    "midpoint",
    "hazen",
    "weibull",
    "median_unbiased",
    "normal_unbiased",
    "inverted_cdf",
)
DEFAULT_PERCENTILES = (0.5, 0.9, 0.99)


def nearest_rank_index(n: int, p: float) -> int:
    """0-based index of the nearest-rank p-th percentile of ``n`` sorted values."""
    if n <= 0:
        raise ValueError("no values")
    # round away float noise so that e.g. 100 * 0.99 is exactly rank 99
    k = math.ceil(round(n * p, 9))
    return min(max(k, 1), n) - 1


def percentile(values, p: float, method: str = "nearest-rank") -> float:
    """One percentile of ``values`` (NaN for no values).

    >>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)
    9.0
    """
    a = np.asarray(values, dtype=float)
    a = a[~np.isnan(a)]
    if a.size == 0:
        return float("nan")
    if method == "nearest-rank":
        return float(np.partition(a, nearest_rank_index(a.size, p))[nearest_rank_index(a.size, p)])
    return float(np.quantile(a, p, method=method))


def label(p: float) -> str:
    """Column label of a percentile: 0.5 → ``p50_s``, 0.999 → ``p99.9_s``."""
    s = f"{p * 100:.4f}".rstrip("0").rstrip(".")
    return f"p{s}_s"


def grouped_percentiles(
    df: pd.DataFrame, by: list[str], value: str = "latency_s", ps=DEFAULT_PERCENTILES, method: str = "nearest-rank"
) -> pd.DataFrame:
    """Count and percentiles of ``value`` per group, vectorized (one sort for all groups).

    Returns one row per group: the ``by`` columns, ``count``, and a column per
    percentile named by :func:`label`.
    """
    cols = list(by) + ["count"] + [label(p) for p in ps]
    d = df[list(by) + [value]].dropna(subset=[value])
    if d.empty:
        return pd.DataFrame(columns=cols)
    if method != "nearest-rank":
        g = d.groupby(by, sort=True, observed=True, dropna=False)[value]
        out = g.size().rename("count").to_frame()
        for p in ps:
            out[label(p)] = (
                g.quantile(
                    p,
                    interpolation=method
                    if method in ("linear", "lower", "higher", "nearest", "midpoint")
                    else "linear",
                )
                if method in ("linear", "lower", "higher", "nearest", "midpoint")
                else g.apply(lambda s, p=p: float(np.quantile(s.to_numpy(), p, method=method)))
            )
        return out.reset_index()[cols]
    codes, uniques = _group_codes(d, by)
    vals = d[value].to_numpy(dtype=float)
    ng = len(uniques)
    # counting sort by group (radix, O(n)), then per group select only the needed ranks
    order = np.argsort(codes.astype(np.int32 if ng < 2**31 else np.int64), kind="stable")
    vals_g = vals[order]
    counts = np.bincount(codes, minlength=ng)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = uniques.copy()
    out["count"] = counts
    res = np.full((ng, len(ps)), np.nan)
    for g in np.flatnonzero(counts):
        c = int(counts[g])
        seg = vals_g[starts[g] : starts[g] + c]
        ks = [nearest_rank_index(c, p) for p in ps]
        part = np.partition(seg, sorted(set(ks)))
        res[g] = part[ks]
    for j, p in enumerate(ps):
        out[label(p)] = res[:, j]
    return out[cols].reset_index(drop=True)


def _group_codes(d: pd.DataFrame, by: list[str]):
    """Group code per row (groups in sorted order of the ``by`` columns) and the group keys."""
    if not by:
        return np.zeros(len(d), dtype=np.int64), pd.DataFrame(index=[0])
    key = np.zeros(len(d), dtype=np.int64)
    levels = []
    for c in by:
        codes, uniq = pd.factorize(d[c], sort=True, use_na_sentinel=False)
        levels.append(uniq)
        n = max(len(uniq), 1)
        if key.max(initial=0) > (np.iinfo(np.int64).max // n):
            raise OverflowError("too many distinct groups")
        key = key * n + codes
    gcodes, gkeys = pd.factorize(key, sort=True)
    # decode each group's key back into its column values
    cols = {}
    rem = np.asarray(gkeys, dtype=np.int64)
    for c, uniq in zip(reversed(by), reversed(levels)):
        n = max(len(uniq), 1)
        cols[c] = np.asarray(uniq, dtype=object)[rem % n] if len(uniq) else np.array([], dtype=object)
        rem = rem // n
    uniques = pd.DataFrame({c: cols[c] for c in by})
    return gcodes.astype(np.int64), uniques


# ---------------------------------------------------------------------------------------------
# How far a nearest-rank percentile can be trusted (docs/statistics.md)
# ---------------------------------------------------------------------------------------------


def is_maximum(n: int, p: float) -> bool:
    """True when the nearest-rank p-th percentile of ``n`` values is their maximum (p < 1).

    For p = 0.99 that is every n < 100 (``ceil(0.99 n) = n`` up to n = 100): the "p99" of a small
    sample is simply its slowest value.
    """
    return n > 0 and p < 1 and nearest_rank_index(n, p) == n - 1


def ci_ranks(n: int, p: float, conf: float = 0.95) -> tuple[int | None, int | None, float]:
    """Distribution-free confidence interval of the population p-quantile from order statistics.

    For ``n`` independent draws of a continuous distribution the number of values below the true
    p-quantile ξ is Binomial(n, p), so for 1-based ranks l < u
    ``P(x_(l) ≤ ξ ≤ x_(u)) = F(u − 1) − F(l − 1)`` with F the Binomial(n, p) CDF.  The ranks are
    chosen symmetric in probability: l the largest rank with ``F(l − 1) ≤ (1 − conf)/2`` and u the
    smallest with ``F(u − 1) ≥ 1 − (1 − conf)/2``.

    Returns ``(lo, hi, coverage)``: 0-based indices into the sorted values, ``None`` when that side
    is unbounded (no order statistic of this sample is far enough out: e.g. the upper side of a p99
    when n < ~300), and the exact coverage of the interval (with an unbounded side, of the
    one-sided bound).
    """
    from scipy.stats import binom

    if n <= 0:
        return None, None, 0.0
    a = (1 - conf) / 2
    ks = np.arange(0, n + 1)
    cdf = binom.cdf(ks, n, p)  # cdf[j] = P(B ≤ j)
    # lower: largest l (1-based) with P(B ≤ l − 1) ≤ a
    ok = np.flatnonzero(cdf[:n] <= a)
    lo = int(ok[-1]) + 1 if ok.size else None
    # upper: smallest u with P(B ≤ u − 1) ≥ 1 − a
    ok = np.flatnonzero(cdf[:n] >= 1 - a)
    hi = int(ok[0]) + 1 if ok.size else None
    f_hi = float(cdf[hi - 1]) if hi is not None else 1.0
    f_lo = float(cdf[lo - 1]) if lo is not None else 0.0
    return (lo - 1 if lo is not None else None), (hi - 1 if hi is not None else None), f_hi - f_lo


def percentile_ci(values, p: float, conf: float = 0.95) -> dict:
    """The nearest-rank p-th percentile of ``values`` with its order-statistic confidence interval.

    Returns ``{"n", "value", "lo", "hi", "coverage", "is_max"}``: ``lo``/``hi`` are sample values
    (``-inf``/``inf`` when that side is unbounded, see :func:`ci_ranks`); NaN ``value`` for no values.

    >>> r = percentile_ci(range(1, 1001), 0.5)
    >>> (r["value"], r["lo"], r["hi"])
    (500.0, 469.0, 532.0)
    """
    a = np.sort(np.asarray(values, dtype=float))
    a = a[~np.isnan(a)]
    n = int(a.size)
    if n == 0:
        return {"n": 0, "value": float("nan"), "lo": float("nan"), "hi": float("nan"), "coverage": 0.0, "is_max": False}
    lo, hi, cov = ci_ranks(n, p, conf)
    return {
        "n": n,
        "value": float(a[nearest_rank_index(n, p)]),
        "lo": float(a[lo]) if lo is not None else float("-inf"),
        "hi": float(a[hi]) if hi is not None else float("inf"),
        "coverage": cov,
        "is_max": is_maximum(n, p),
    }


def samples_to_flip(values, p: float, threshold: float) -> int:
    """How many values would have to change side of ``threshold`` to flip the verdict
    "nearest-rank p-th percentile ≤ threshold" (PASS) / "> threshold" (FAIL).

    With ``c`` values above the threshold and ``k = ceil(n·p)`` the percentile's rank, the
    percentile is above the threshold exactly when ``c > n − k``.  A FAIL flips when
    ``c − (n − k)`` slow values were faster; a PASS when ``n − k + 1 − c`` more were slower.
    1 means the verdict depends on a single sample.  0 for no values.
    """
    a = np.asarray(values, dtype=float)
    a = a[~np.isnan(a)]
    n = int(a.size)
    if n == 0:
        return 0
    k = nearest_rank_index(n, p) + 1
    c = int((a > threshold).sum())
    return c - (n - k) if c > n - k else (n - k + 1) - c
