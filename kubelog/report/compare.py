"""Comparison of two runs: per request group × load bucket, the change of each latency percentile.

For every cell (verb, resource, subresource, scope, bucket) present in either run and every
percentile p (nearest rank, as everywhere in kubelog):

* ``base_s``, ``new_s`` — the percentiles (seconds), ``delta_s = new_s − base_s``,
  ``rel_change = delta_s / base_s``;
* ``ci_low_s``, ``ci_high_s`` — a percentile-bootstrap confidence interval (``1 − alpha``) of
  ``delta_s``: each run is resampled with replacement independently, ``n_boot`` times.  The k-th
  smallest value of a resample of n sorted values x is drawn exactly without materialising the
  resample: ``P(X*_(k) ≤ x_j) = P(Binomial(n, (j+1)/n) ≥ k)``, inverted at a uniform draw — so the
  bootstrap costs O(n) per cell, not O(n · n_boot);
* ``mw_p`` — two-sided Mann–Whitney U (rank-sum) test p-value of the two latency samples (one per
  cell, repeated on each percentile row);
* ``flag`` — ``regression`` when the CI lies above 0 **and** ``new_s > base_s · (1 + tolerance)``,
  ``improvement`` when the CI lies below 0 and ``new_s < base_s · (1 − tolerance)``, ``unchanged``
  otherwise; ``only in base`` / ``only in new`` for a cell missing in one run; ``too few`` when a
  side has fewer than ``min_n`` requests (no CI).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..analysis import load as loadmod
from ..analysis.latency import DEFAULT_BY, api_requests
from ..analysis.matrix import DEFAULT_PERCENTILES
from ..analysis.stats import label, nearest_rank_index
from ..run import Run

COLUMNS = list(DEFAULT_BY) + ["bucket", "percentile", "n_base", "n_new", "base_s", "new_s", "delta_s", "rel_change",
                              "ci_low_s", "ci_high_s", "mw_p", "flag"]


def cell_samples(run: Run, nodes: int | None = None) -> dict:
    """``{(verb, resource, subresource, scope, bucket): sorted latencies (s)}`` of a run's API requests."""
    tl = loadmod.load_timeline(run, nodes=nodes)
    if not tl.capacity:
        raise ValueError(f"{run.path}: no capacity: {tl.nodes_source}")
    df, _ = api_requests(run, columns=list(DEFAULT_BY) + ["latency_s", "start_ts"])
    if df.empty:
        return {}
    codes = loadmod.bucket_codes(tl, df["start_ts"])
    labels = np.array(loadmod.bucket_labels(), dtype=object)
    d = df.loc[codes >= 0, list(DEFAULT_BY) + ["latency_s"]].copy()
    for c in DEFAULT_BY:
        d[c] = d[c].fillna("").astype(str)
    d["bucket"] = labels[codes[codes >= 0]]
    d = d.sort_values(list(DEFAULT_BY) + ["bucket", "latency_s"], kind="stable")
    out = {}
    for key, g in d.groupby(list(DEFAULT_BY) + ["bucket"], sort=False):
        out[tuple(key)] = g["latency_s"].to_numpy(float)
    return out


def bootstrap_order_stat(x_sorted: np.ndarray, p: float, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` draws of the nearest-rank p-th percentile of a bootstrap resample of ``x_sorted``.

    Exact: the k-th order statistic of a resample is ``x_j`` with
    ``P(X*_(k) ≤ x_j) = P(Binomial(n, (j+1)/n) ≥ k)``; draws invert that CDF.
    """
    n = len(x_sorted)
    k = nearest_rank_index(n, p) + 1
    cdf = sps.binom.sf(k - 1, n, np.arange(1, n + 1) / n)
    cdf[-1] = 1.0
    j = np.searchsorted(cdf, rng.random(n_boot), side="left")
    return x_sorted[np.minimum(j, n - 1)]


def compare_samples(base: dict, new: dict, *, percentiles=DEFAULT_PERCENTILES, tolerance: float = 0.1,
                    n_boot: int = 2000, alpha: float = 0.05, min_n: int = 5, seed: int = 0) -> pd.DataFrame:
    """:func:`compare_runs` on cell samples (see :func:`cell_samples`); rows in sorted cell order."""
    rng = np.random.default_rng(seed)
    labels = loadmod.bucket_labels()
    border = {b: i for i, b in enumerate(labels)}
    keys = sorted(set(base) | set(new), key=lambda k: (k[:-1], border.get(k[-1], 99)))
    rows = []
    for key in keys:
        a, b = base.get(key), new.get(key)
        na, nb = (0 if a is None else len(a)), (0 if b is None else len(b))
        mw = np.nan
        if na >= min_n and nb >= min_n:
            mw = float(sps.mannwhitneyu(b, a, alternative="two-sided").pvalue)
        for p in percentiles:
            va = a[nearest_rank_index(na, p)] if na else np.nan
            vb = b[nearest_rank_index(nb, p)] if nb else np.nan
            lo = hi = np.nan
            if not na:
                flag = "only in new"
            elif not nb:
                flag = "only in base"
            elif na < min_n or nb < min_n:
                flag = "too few"
            else:
                d = bootstrap_order_stat(b, p, n_boot, rng) - bootstrap_order_stat(a, p, n_boot, rng)
                lo, hi = (float(v) for v in np.quantile(d, [alpha / 2, 1 - alpha / 2]))
                if lo > 0 and vb > va * (1 + tolerance):
                    flag = "regression"
                elif hi < 0 and vb < va * (1 - tolerance):
                    flag = "improvement"
                else:
                    flag = "unchanged"
            delta = vb - va
            rows.append(list(key) + [label(p)[:-2], na, nb, va, vb, delta,
                                     delta / va if na and nb and va > 0 else np.nan, lo, hi, mw, flag])
    out = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("n_base", "n_new"):
        out[c] = out[c].astype(np.int64)
    return out


def compare_runs(base: Run, new: Run, *, tolerance: float = 0.1, n_boot: int = 2000, seed: int = 0,
                 percentiles=DEFAULT_PERCENTILES, alpha: float = 0.05, min_n: int = 5) -> pd.DataFrame:
    """Change of each latency percentile per group × load bucket from ``base`` to ``new``.

    Parameters
    ----------
    base, new : Run
    tolerance : float
        Relative change (0.1 = 10 %) a significant change must exceed to be flagged.
    n_boot : int
        Bootstrap resamples per cell and percentile.
    seed : int
        Seed of the bootstrap (same inputs and seed → same output).
    percentiles : tuple of float
    alpha : float
        1 − confidence level of the interval.
    min_n : int
        Fewer requests than this on a side: no interval, no test, flag ``too few``.

    Returns
    -------
    DataFrame
        ``verb, resource, subresource, scope, bucket, percentile (p10 …), n_base, n_new, base_s,
        new_s, delta_s, rel_change, ci_low_s, ci_high_s, mw_p, flag`` (seconds).
    """
    return compare_samples(cell_samples(base), cell_samples(new), percentiles=percentiles, tolerance=tolerance,
                           n_boot=n_boot, alpha=alpha, min_n=min_n, seed=seed)


def slo_changes(base: Run, new: Run) -> pd.DataFrame:
    """SLO verdicts of both runs side by side: ``sli, group, threshold_s, observed_base_s, n_base,
    verdict_base, observed_new_s, n_new, verdict_new, changed``.

    Raises ImportError/AttributeError when :mod:`kubelog.analysis.slo` is not available.
    """
    from ..analysis.slo import evaluate
    a = evaluate(base).verdicts
    b = evaluate(new).verdicts
    key = ["sli", "group"]
    cols = key + ["threshold_s", "observed_s", "n", "verdict"]
    m = a[cols].merge(b[cols], on=key, how="outer", suffixes=("_base", "_new"), sort=False)
    m["threshold_s"] = m["threshold_s_base"].fillna(m["threshold_s_new"])
    for c in ("verdict_base", "verdict_new"):
        m[c] = m[c].fillna("absent")
    m["changed"] = np.where(m["verdict_base"] != m["verdict_new"], m["verdict_base"] + " → " + m["verdict_new"], "")
    out = m[key + ["threshold_s", "observed_s_base", "n_base", "verdict_base", "observed_s_new", "n_new",
                   "verdict_new", "changed"]]
    return out.reset_index(drop=True)


def compare_model(base: Run, new: Run, table: pd.DataFrame, slo: pd.DataFrame | None, tolerance: float,
                  slo_message: str = "") -> dict:
    """Report model (see :func:`kubelog.report.model.build_model`) of a comparison."""
    from .model import Section, frame_table, generated_at
    from .. import __version__
    s = Section("compare", f"Comparison: {base.path.name} → {new.path.name}")
    counts = table["flag"].value_counts()
    s.paragraphs.append(f"Tolerance {tolerance:.0%}; {int(counts.get('regression', 0))} regressions, "
                        f"{int(counts.get('improvement', 0))} improvements, {int(counts.get('unchanged', 0))} unchanged "
                        f"percentile cells (base {base.path}, new {new.path}).")
    s.paragraphs.append("Confidence intervals: percentile bootstrap of new − base (95 %); p-value: two-sided "
                        "Mann–Whitney U per group × bucket; percentiles by nearest rank.")
    kinds = {"n_base": "n", "n_new": "n", "bucket": "x", "percentile": "x", "rel_change": "s", "mw_p": "s"}
    rc = lambda r: r["flag"] if r["flag"] in ("regression", "improvement") else ""
    flagged = table[table["flag"].isin(["regression", "improvement"])]
    s.tables.append(frame_table("Flagged changes", flagged, kinds, row_class=rc))
    s2 = Section("slo", "SLO verdict changes")
    if slo is None:
        s2.status, s2.message = "unavailable", slo_message
    else:
        s2.tables.append(frame_table("SLO verdicts, base vs new", slo, {"n_base": "n", "n_new": "n"},
                                     row_class=lambda r: "fail" if r["changed"] else ""))
    s3 = Section("all", "Every group × bucket × percentile")
    s3.tables.append(frame_table(f"{len(table):,} rows", table, kinds, row_class=rc))
    return {"title": f"kubelog comparison — {base.path.name} → {new.path.name}", "generated": generated_at(),
            "version": __version__, "sections": [s, s2, s3]}


def build_compare(base: Run, new: Run, out_dir=None, *, tolerance: float = 0.1, n_boot: int = 2000, seed: int = 0,
                  pdf: bool = True) -> dict:
    """Compare two runs; with ``out_dir`` write ``compare.json``, ``compare.html`` and ``compare.pdf``.

    Returns ``{"table": DataFrame, "slo": DataFrame | None, "slo_message": str, "paths": {...}}``.
    """
    import json
    from pathlib import Path
    from ..output import records
    from .render import render_html, write_pdf
    table = compare_runs(base, new, tolerance=tolerance, n_boot=n_boot, seed=seed)
    slo, msg = None, ""
    try:
        slo = slo_changes(base, new)
    except (ImportError, AttributeError) as e:
        msg = f"not available in this version ({type(e).__name__}: {e})"
    paths = {}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        doc = {"base": str(base.path), "new": str(new.path), "tolerance": tolerance, "n_boot": n_boot, "seed": seed,
               "changes": records(table), "slo": None if slo is None else records(slo), "slo_message": msg}
        paths["json"] = out / "compare.json"
        paths["json"].write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        html = render_html(compare_model(base, new, table, slo, tolerance, msg))
        paths["html"] = out / "compare.html"
        paths["html"].write_text(html, encoding="utf-8")
        if pdf:
            paths["pdf"] = out / "compare.pdf"
            write_pdf(html, paths["pdf"])
    return {"table": table, "slo": slo, "slo_message": msg, "paths": paths}
