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
    order = np.lexsort((vals, codes))
    codes_s = codes[order]
    vals_s = vals[order]
    ng = len(uniques)
    counts = np.bincount(codes_s, minlength=ng)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = uniques.copy()
    out["count"] = counts
    for p in ps:
        k = np.ceil(np.round(counts * p, 9)).astype(np.int64)
        k = np.clip(k, 1, np.maximum(counts, 1)) - 1
        out[label(p)] = np.where(counts > 0, vals_s[starts + k], np.nan)
    return out[cols].reset_index(drop=True)


def _group_codes(d: pd.DataFrame, by: list[str]):
    if not by:
        return np.zeros(len(d), dtype=np.int64), pd.DataFrame(index=[0])
    g = d.groupby(by, sort=True, observed=True, dropna=False)
    codes = g.ngroup().to_numpy()
    uniques = g.size().reset_index()[by]
    return codes, uniques
