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

METHODS = ("nearest-rank", "linear", "lower", "higher", "nearest", "midpoint", "hazen", "weibull",
           "median_unbiased", "normal_unbiased", "inverted_cdf")
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


def grouped_percentiles(df: pd.DataFrame, by: list[str], value: str = "latency_s",
                        ps=DEFAULT_PERCENTILES, method: str = "nearest-rank") -> pd.DataFrame:
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
            out[label(p)] = g.quantile(p, interpolation=method if method in ("linear", "lower", "higher", "nearest", "midpoint") else "linear") \
                if method in ("linear", "lower", "higher", "nearest", "midpoint") else \
                g.apply(lambda s, p=p: float(np.quantile(s.to_numpy(), p, method=method)))
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
        seg = vals_g[starts[g]:starts[g] + c]
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
