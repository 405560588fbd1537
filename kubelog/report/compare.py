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
* ``flag`` — ``regression`` when the CI lies above 0 **and** ``new_s > base_s · (1 + tolerance)``
  **and** the change rests on more than one request (the next lower order statistic of the new run
  is still beyond the tolerance); ``improvement`` the same way down; ``inconclusive`` when the
  change is larger than the tolerance but the CI contains 0 or one request carries it (a p99 of
  fewer than 100 requests is their maximum: a 90× jump of it may be one slow call) — never
  ``unchanged``; ``unchanged`` when the change is within the tolerance or the CI contains 0 with the
  change within the tolerance; ``only in base`` / ``only in new`` for a cell missing in one run;
  ``too few`` when a side has fewer than ``min_n`` requests (no CI).

Each group is also compared over the whole run (``bucket == "all"``); :func:`group_verdicts`
sums a group up as ``worse``, ``better``, ``mixed``, ``inconclusive``, ``unchanged`` or
``not comparable`` from those rows.

Pod start-up (:func:`compare_pod_phases`): the same percentiles, intervals and flags for each phase
of :func:`kubelog.analysis.pods.pod_startup` (create→schedule … create→watch), over the pods whose
two ends are known in that run.

Clocks: the latencies are durations on the apiserver's clock and need no correction, but three things
compared rest on other clocks: the load bucket of a request (the running-pod timeline is read from
kubelet records and pod dumps on the nodes' clocks, progress lines on the test machine's), the pod
start-up phases whose two ends are on different clocks (schedule→run: apiserver → node) and the pod
start-up SLO verdicts (those phases, and percentiles the test reported from its own clock).  With ``corrections`` (one :class:`kubelog.analysis.skew.Corrections` per run, as
``kubelog compare --correct-skew/--offset`` makes them) each run's offsets are applied to its own
timeline, phases and verdicts before anything is compared, so that a clock that is wrong in one run does not
show as a regression of the other.
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

COLUMNS = list(DEFAULT_BY) + [
    "bucket",
    "percentile",
    "n_base",
    "n_new",
    "base_s",
    "new_s",
    "delta_s",
    "rel_change",
    "ci_low_s",
    "ci_high_s",
    "mw_p",
    "flag",
]


def cell_samples(run: Run, nodes: int | None = None, offsets: dict | None = None) -> dict:
    """``{(verb, resource, subresource, scope, bucket): sorted latencies (s)}`` of a run's API requests.

    ``offsets``: ``{clock domain: θ seconds}`` (:meth:`kubelog.analysis.skew.Corrections.pod_offsets`)
    applied to the load timeline the buckets come from (:func:`kubelog.analysis.load.load_timeline`).
    """
    tl = loadmod.load_timeline(run, nodes=nodes, offsets=offsets)
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
    # the whole run per group (every request with a start time, whatever its bucket)
    a = df[list(DEFAULT_BY) + ["latency_s"]].copy()
    for c in DEFAULT_BY:
        a[c] = a[c].fillna("").astype(str)
    a = a[codes >= 0].sort_values(list(DEFAULT_BY) + ["latency_s"], kind="stable")
    for key, g in a.groupby(list(DEFAULT_BY), sort=False):
        out[tuple(key) + ("all",)] = g["latency_s"].to_numpy(float)
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


def compare_samples(
    base: dict,
    new: dict,
    *,
    percentiles=DEFAULT_PERCENTILES,
    tolerance: float = 0.1,
    n_boot: int = 2000,
    alpha: float = 0.05,
    min_n: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`compare_runs` on cell samples (see :func:`cell_samples`); rows in sorted cell order."""
    rng = np.random.default_rng(seed)
    labels = ["all"] + loadmod.bucket_labels()
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
                flag = change_flag(a, b, p, lo, hi, tolerance)
            delta = vb - va
            rows.append(
                list(key)
                + [
                    label(p)[:-2],
                    na,
                    nb,
                    va,
                    vb,
                    delta,
                    delta / va if na and nb and va > 0 else np.nan,
                    lo,
                    hi,
                    mw,
                    flag,
                ]
            )
    out = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("n_base", "n_new"):
        out[c] = out[c].astype(np.int64)
    return out


def change_flag(a: np.ndarray, b: np.ndarray, p: float, lo: float, hi: float, tolerance: float) -> str:
    """``regression`` / ``improvement`` / ``inconclusive`` / ``unchanged`` for sorted samples ``a``
    (base) and ``b`` (new), percentile ``p`` and the CI ``[lo, hi]`` of new − base (module docstring)."""
    ka, kb = nearest_rank_index(len(a), p), nearest_rank_index(len(b), p)
    va, vb = a[ka], b[kb]
    up, down = vb > va * (1 + tolerance), vb < va * (1 - tolerance)
    if not (up or down):
        return "unchanged"
    if up:
        # one request fewer above: the next lower order statistic of the new run
        robust = kb > 0 and b[kb - 1] > va * (1 + tolerance)
        return "regression" if lo > 0 and robust else "inconclusive"
    robust = ka > 0 and a[ka - 1] * (1 - tolerance) > vb
    return "improvement" if hi < 0 and robust else "inconclusive"


ORDER = ("worse", "mixed", "better", "inconclusive", "unchanged", "not comparable")


def group_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """One row per group from the whole-run rows (``bucket == "all"``) of :func:`compare_runs`.

    ``verdict``: ``worse`` (some percentile a regression, none an improvement), ``better``,
    ``mixed`` (both), ``inconclusive`` (a change beyond the tolerance that is not established),
    ``unchanged``, ``not comparable`` (too few requests or only in one run); ``detail`` names the
    percentiles with base → new, the relative change and the CI; ordered worse first.
    """
    from . import numbers
    from ..analysis.matrix import display_name

    t = table[table["bucket"] == "all"]
    rows = []
    for key, g in t.groupby(list(DEFAULT_BY), sort=False):
        f = set(g["flag"])
        if "regression" in f and "improvement" in f:
            v = "mixed"
        elif "regression" in f:
            v = "worse"
        elif "improvement" in f:
            v = "better"
        elif "inconclusive" in f:
            v = "inconclusive"
        elif f <= {"unchanged"}:
            v = "unchanged"
        else:
            v = "not comparable"
        parts = []
        for r in g.itertuples(index=False):
            if r.flag in ("regression", "improvement", "inconclusive"):
                rel = f"{r.rel_change:+.0%}" if np.isfinite(r.rel_change) else ""
                parts.append(
                    f"{r.percentile} {numbers.seconds(r.base_s, 3)} → {numbers.seconds(r.new_s, 3)} s "
                    f"({rel}, CI of the difference {numbers.ci(r.ci_low_s, r.ci_high_s)} s"
                    + (", one request carries it" if r.flag == "inconclusive" and r.ci_low_s > 0 else "")
                    + ")"
                )
            elif r.flag in ("too few", "only in base", "only in new") and not parts:
                parts.append(r.flag)
        n = g.iloc[0]
        rows.append(
            {
                **dict(zip(DEFAULT_BY, key)),
                "group": display_name(dict(zip(DEFAULT_BY, key))),
                "n_base": int(n["n_base"]),
                "n_new": int(n["n_new"]),
                "verdict": v,
                "detail": "; ".join(dict.fromkeys(parts)),
            }
        )
    out = pd.DataFrame(rows, columns=list(DEFAULT_BY) + ["group", "n_base", "n_new", "verdict", "detail"])
    out["_o"] = out["verdict"].map({k: i for i, k in enumerate(ORDER)})
    return (
        out.sort_values(["_o", "n_new"], ascending=[True, False], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def compare_runs(
    base: Run,
    new: Run,
    *,
    tolerance: float = 0.1,
    n_boot: int = 2000,
    seed: int = 0,
    percentiles=DEFAULT_PERCENTILES,
    alpha: float = 0.05,
    min_n: int = 5,
    corrections=None,
) -> pd.DataFrame:
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
    corrections : (Corrections, Corrections), optional
        The clock corrections of ``base`` and of ``new`` (:func:`kubelog.analysis.skew.corrections`):
        each run's requests are placed in load buckets on its corrected timeline.

    Returns
    -------
    DataFrame
        ``verb, resource, subresource, scope, bucket, percentile (p10 …), n_base, n_new, base_s,
        new_s, delta_s, rel_change, ci_low_s, ci_high_s, mw_p, flag`` (seconds).
    """
    cb, cn = corrections or (None, None)
    return compare_samples(
        cell_samples(base, offsets=cb.pod_offsets() if cb else None),
        cell_samples(new, offsets=cn.pod_offsets() if cn else None),
        percentiles=percentiles,
        tolerance=tolerance,
        n_boot=n_boot,
        alpha=alpha,
        min_n=min_n,
        seed=seed,
    )


#: The phases of :class:`kubelog.analysis.pods.PodStartup.per_pod` compared, in order.
POD_PHASES = ("create_to_schedule", "schedule_to_run", "run_to_watch", "schedule_to_watch", "pod_startup")
POD_COLUMNS = ["phase", "clocks"] + COLUMNS[len(DEFAULT_BY) + 1 :]


def pod_samples(run: Run, corrections=None) -> tuple[dict, dict, dict]:
    """A run's pod start-up phases: ``({phase: sorted seconds}, {phase: clocks}, {phase: (lo, hi)})``.

    Each phase over the pods whose two ends are known (a pod never running has no schedule→run), on
    clocks corrected by ``corrections`` (:class:`kubelog.analysis.skew.Corrections`, or None).
    ``(lo, hi)``: how far a corrected phase may still be from the true one (s), from the offset bounds
    of the clocks of its two ends (:func:`phase_error_range`); (0, 0) without corrections.
    """
    from ..analysis.pods import PHASES, pod_startup

    ps = pod_startup(run, offsets=corrections.pod_offsets() if corrections else None)
    per, pct = ps.per_pod, ps.percentiles
    clocks = dict(zip(pct["phase"], pct["clocks"])) if len(pct) else {}
    out, err = {}, {}
    for ph, a, b in PHASES:
        col = f"{ph}_s"
        if ph not in POD_PHASES or col not in per.columns:
            continue
        ok = np.isfinite(per[col].to_numpy(dtype=float))
        v = np.sort(per[col].to_numpy(dtype=float)[ok])
        if len(v):
            out[ph] = v
            pairs = set(zip(per.loc[ok, f"{a}_clock"], per.loc[ok, f"{b}_clock"]))
            err[ph] = phase_error_range(corrections, pairs) if corrections else (0.0, 0.0)
    return out, clocks, err


def _domain_error(corrections, d) -> tuple[float, float]:
    """Range of (corrected − true) time (s) of a time read on clock ``d``: ``θ − m`` for θ within the
    domain's offset bounds and ``m`` the offset applied (0 when none). A domain without bounds: (0, 0)."""
    if not isinstance(d, str) or not d or d == corrections.reference:
        return 0.0, 0.0
    m = corrections.offsets.get(d, 0.0)
    lo, hi = (
        corrections.intervals.get(d)
        or (corrections.report.intervals.get(d) if corrections.report is not None else None)
        or (m, m)
    )
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return 0.0, 0.0
    return float(lo - m), float(hi - m)


def phase_error_range(corrections, pairs) -> tuple[float, float]:
    """How far a phase corrected with ``corrections`` may be from its true value (corrected − true, s),
    over the (start clock, end clock) ``pairs`` of its pods: the end's error minus the start's."""
    lo, hi = 0.0, 0.0
    for a, b in pairs:
        sl, sh = _domain_error(corrections, a)
        el, eh = _domain_error(corrections, b)
        lo, hi = min(lo, el - sh), max(hi, eh - sl)
    return lo, hi


def compare_pod_phases(
    base: Run,
    new: Run,
    *,
    tolerance: float = 0.1,
    n_boot: int = 2000,
    seed: int = 0,
    percentiles=DEFAULT_PERCENTILES,
    alpha: float = 0.05,
    min_n: int = 5,
    corrections=None,
) -> pd.DataFrame:
    """Change of each pod start-up phase's percentiles from ``base`` to ``new``, flagged as
    :func:`compare_runs` flags latencies.

    ``corrections``: ``(Corrections of base, Corrections of new)``; each run's phases are computed on
    its corrected clocks (a node clock 2 s ahead makes schedule→run 2 s longer, not the kubelet
    slower). An offset is known within bounds, so a corrected phase is too: the interval of the
    difference is widened by what the bounds of both runs allow (:func:`phase_error_range`), and a
    change it no longer establishes is ``inconclusive``, not a regression or an improvement.

    Returns
    -------
    DataFrame
        ``phase, clocks (the clock of each end, as in kubelog pods), percentile, n_base, n_new, base_s,
        new_s, delta_s, rel_change, ci_low_s, ci_high_s, mw_p, flag``; phases in start-up order.
    """
    cb, cn = corrections or (None, None)
    a, ca, ea = pod_samples(base, cb)
    b, cnew, en = pod_samples(new, cn)
    key = lambda ph: (ph, "", "", "", "all")  # noqa: E731  the cell key compare_samples takes
    t = compare_samples(
        {key(k): v for k, v in a.items()},
        {key(k): v for k, v in b.items()},
        percentiles=percentiles,
        tolerance=tolerance,
        n_boot=n_boot,
        alpha=alpha,
        min_n=min_n,
        seed=seed,
    )
    t = t.rename(columns={DEFAULT_BY[0]: "phase"})
    t["clocks"] = [
        ca.get(ph, "")
        if ca.get(ph, "") == cnew.get(ph, "") or not cnew.get(ph)
        else (f"{ca[ph]} | {cnew[ph]}" if ca.get(ph) else cnew[ph])
        for ph in t["phase"]
    ]
    if corrections is not None:
        # true delta = corrected delta − (new's error) + (base's error), each error within its range
        lo_b = t["phase"].map(lambda ph: ea.get(ph, (0.0, 0.0))[0])
        hi_b = t["phase"].map(lambda ph: ea.get(ph, (0.0, 0.0))[1])
        lo_n = t["phase"].map(lambda ph: en.get(ph, (0.0, 0.0))[0])
        hi_n = t["phase"].map(lambda ph: en.get(ph, (0.0, 0.0))[1])
        t["ci_low_s"] = t["ci_low_s"] - hi_n + lo_b
        t["ci_high_s"] = t["ci_high_s"] - lo_n + hi_b
        t.loc[(t["flag"] == "regression") & ~(t["ci_low_s"] > 0), "flag"] = "inconclusive"
        t.loc[(t["flag"] == "improvement") & ~(t["ci_high_s"] < 0), "flag"] = "inconclusive"
    t["_o"] = t["phase"].map({ph: i for i, ph in enumerate(POD_PHASES)})
    return t.sort_values("_o", kind="stable")[POD_COLUMNS].reset_index(drop=True)


def slo_changes(base: Run, new: Run, corrections=None) -> pd.DataFrame:
    """SLO verdicts of both runs side by side: ``sli, group, threshold_s, observed_base_s, n_base,
    verdict_base, observed_new_s, n_new, verdict_new, changed``.

    ``corrections``: ``(Corrections of base, Corrections of new)``; each run's verdicts are evaluated
    with its own (:func:`kubelog.analysis.slo.evaluate`): pod start-up phases across clocks and the
    percentiles the test reported are corrected before the verdicts are compared.
    """
    from ..analysis.slo import evaluate

    cb, cn = corrections or (None, None)
    a = evaluate(base, corrections=cb).verdicts
    b = evaluate(new, corrections=cn).verdicts
    key = ["sli", "group"]
    cols = key + ["threshold_s", "observed_s", "n", "verdict"]
    m = a[cols].merge(b[cols], on=key, how="outer", suffixes=("_base", "_new"), sort=False)
    m["threshold_s"] = m["threshold_s_base"].fillna(m["threshold_s_new"])
    for c in ("verdict_base", "verdict_new"):
        m[c] = m[c].fillna("absent")
    m["changed"] = np.where(m["verdict_base"] != m["verdict_new"], m["verdict_base"] + " → " + m["verdict_new"], "")
    out = m[
        key
        + [
            "threshold_s",
            "observed_s_base",
            "n_base",
            "verdict_base",
            "observed_s_new",
            "n_new",
            "verdict_new",
            "changed",
        ]
    ]
    return out.reset_index(drop=True)


def compare_model(
    base: Run,
    new: Run,
    table: pd.DataFrame,
    slo: pd.DataFrame | None,
    tolerance: float,
    slo_message: str = "",
    clock: dict | None = None,
    pods: pd.DataFrame | None = None,
) -> dict:
    """Report model (see :func:`kubelog.report.model.build_model`) of a comparison.

    Page 1 lists the groups that got worse, better, that changed without it being established
    (inconclusive) and that could not be compared; then the SLO verdicts that changed and the
    flagged cells per load bucket. Every row (group × bucket × percentile) is in the HTML only,
    collapsed.
    """
    from .model import Section, Table, frame_table, generated_at
    from .. import __version__

    gv = group_verdicts(table)
    s = Section("compare", f"1. Comparison: {base.path.name} → {new.path.name}")
    c = gv["verdict"].value_counts()
    s.data["groups"] = {k: int(c.get(k, 0)) for k in ORDER}
    s.paragraphs.append(
        f"Base {base.path} → new {new.path}. Per request group over the whole run: "
        + ", ".join(f"{int(c.get(k, 0))} {k}" for k in ORDER)
        + "."
    )
    if clock:
        s.paragraphs.append(
            "Clocks: " + "; ".join(f"{side} run: " + " ".join(lines) for side, lines in clock.items()) + "."
        )
    s.paragraphs.append(
        f"A group is worse (better) when a percentile p10/p50/p90/p99 moved up (down) by more than "
        f"{tolerance:.0%}, the 95 % bootstrap interval of the difference excludes 0, and more than one "
        "request carries the change; inconclusive when a change beyond the tolerance is not "
        "established (a p99 of fewer than 100 requests is their maximum). docs/statistics.md."
    )
    for verdict, title in (
        ("worse", "Worse"),
        ("better", "Better"),
        ("mixed", "Worse and better"),
        ("inconclusive", "Changed beyond the tolerance, not established"),
        ("not comparable", "Could not be compared"),
    ):
        g = gv[gv["verdict"] == verdict]
        items = [f"{r.group} (n {r.n_base:,} → {r.n_new:,}): {r.detail}" for r in g.itertuples(index=False)]
        s.lists.append(
            (
                f"{title} ({len(g)})",
                items[:25] + ([f"… {len(items) - 25} more in the HTML table below"] if len(items) > 25 else [])
                or ["none"],
            )
        )
    s2 = Section("slo", "2. SLO verdict changes")
    if slo is None:
        s2.status, s2.message = "unavailable", slo_message
    else:
        from .summary import group_name

        ch = slo[slo["changed"] != ""]
        s2.paragraphs.append(f"{len(ch)} of {len(slo)} SLO checks changed verdict.")
        rows = [
            [
                str(r.sli),
                group_name(r.sli, r.group),
                numbers_s(r.threshold_s),
                numbers_s(r.observed_s_base),
                _n(r.n_base),
                str(r.verdict_base),
                numbers_s(r.observed_s_new),
                _n(r.n_new),
                str(r.verdict_new),
            ]
            for r in ch.itertuples(index=False)
        ]
        t = Table(
            "Changed SLO verdicts",
            ["SLI", "group", "threshold (s)", "base (s)", "n base", "base verdict", "new (s)", "n new", "new verdict"],
            rows,
            numeric=[False, False, True, True, True, False, True, True, False],
            pdf_rows=30,
        )
        t.nowrap[0] = True
        s2.tables.append(t)
    s3 = Section("cells", "3. Flagged cells by load bucket")
    kinds = {"n_base": "n", "n_new": "n", "bucket": "x", "percentile": "x", "rel_change": "p", "mw_p": "s"}
    rc = lambda r: r["flag"] if r["flag"] in ("regression", "improvement") else ""
    cells = table[(table["bucket"] != "all") & table["flag"].isin(["regression", "improvement"])].copy()
    cells["rel_change"] = cells["rel_change"] * 100
    cells = cells.rename(
        columns={
            "base_s": "base (s)",
            "new_s": "new (s)",
            "delta_s": "Δ (s)",
            "ci_low_s": "CI low (s)",
            "ci_high_s": "CI high (s)",
            "rel_change": "change",
        }
    )
    kinds2 = {**kinds, "change": "p"}
    t = frame_table(f"Flagged changes ({len(cells):,} cells)", cells.drop(columns=["mw_p"]), kinds2, row_class=rc)
    t.pdf_rows = 40
    t.css = "wide"  # 15 columns: the narrow print of the other wide tables, so the page holds them
    s3.tables.append(t)
    raw = frame_table(f"Every group × bucket × percentile ({len(table):,} rows, raw)", table, kinds, row_class=rc)
    raw.html_only = True
    raw.css = "wide"
    s3.tables.append(raw)
    s4 = Section("pods", "4. Pod start-up phases")
    if pods is not None and len(pods):
        c4 = pods["flag"].value_counts()
        s4.paragraphs.append(
            "Each phase over the pods whose two ends are known in that run; flags as for the latencies. "
            + ", ".join(f"{int(c4.get(k, 0))} {k}" for k in ("regression", "improvement", "inconclusive", "unchanged"))
            + " (phase × percentile)."
            + (
                " Clock corrections applied: the interval of each difference includes what the offset "
                "bounds of both runs allow."
                if clock
                else ""
            )
        )
        t4 = frame_table(
            "Pod start-up phases (seconds)",
            pods.drop(columns=["mw_p"])
            .assign(rel_change=pods["rel_change"] * 100)
            .rename(columns={"rel_change": "change"}),
            {**kinds, "change": "p"},
            row_class=rc,
        )
        t4.css = "wide"
        s4.tables.append(t4)
    else:
        s4.status, s4.message = "unavailable", "no pod start-up phases in either run"
    return {
        "title": f"kubelog comparison — {base.path.name} → {new.path.name}",
        "generated": generated_at(),
        "version": __version__,
        "sections": [s, s2, s3, s4],
        "groups": gv,
    }


def numbers_s(v) -> str:
    from . import numbers

    return numbers.seconds(v)


def _n(v) -> str:
    return "" if v is None or pd.isna(v) else f"{int(v):,}"


def clock_notes(corrections) -> dict:
    """``{"base": [lines], "new": [lines]}``: which offsets were applied to each run and what stayed
    uncorrected (:meth:`kubelog.analysis.skew.Corrections.describe` and its notes); ``{}`` without corrections."""
    if corrections is None:
        return {}
    return {side: [c.describe()] + list(c.notes) for side, c in zip(("base", "new"), corrections)}


def build_compare(
    base: Run,
    new: Run,
    out_dir=None,
    *,
    tolerance: float = 0.1,
    n_boot: int = 2000,
    seed: int = 0,
    pdf: bool = True,
    corrections=None,
) -> dict:
    """Compare two runs; with ``out_dir`` write ``compare.json``, ``compare.html`` and ``compare.pdf``.

    ``corrections``: ``(Corrections of base, Corrections of new)`` (:func:`kubelog.analysis.skew.corrections`
    of each run), applied to each run's load timeline, pod start-up phases and SLO verdicts before
    they are compared.

    Returns ``{"table": DataFrame, "groups": DataFrame (:func:`group_verdicts`), "slo": DataFrame | None,
    "slo_message": str, "clock": {"base": [lines], "new": [lines]} (empty without corrections),
    "pods": DataFrame (:func:`compare_pod_phases`), "paths": {...}}``.
    """
    import json
    from pathlib import Path
    from ..output import records
    from .render import render_html, write_pdf

    table = compare_runs(base, new, tolerance=tolerance, n_boot=n_boot, seed=seed, corrections=corrections)
    clock = clock_notes(corrections)
    pods = compare_pod_phases(base, new, tolerance=tolerance, n_boot=n_boot, seed=seed, corrections=corrections)
    slo, msg = None, ""
    try:
        slo = slo_changes(base, new, corrections)
    except ModuleNotFoundError as e:  # an optional dependency missing; any other error is a bug and surfaces
        msg = f"not available in this version ({type(e).__name__}: {e})"
    paths = {}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        doc = {
            "base": str(base.path),
            "new": str(new.path),
            "tolerance": tolerance,
            "n_boot": n_boot,
            "seed": seed,
            "clock": clock,
            "changes": records(table),
            "pods": records(pods),
            "slo": None if slo is None else records(slo),
            "slo_message": msg,
        }
        paths["json"] = out / "compare.json"
        paths["json"].write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        model = compare_model(base, new, table, slo, tolerance, msg, clock, pods)
        html = render_html(model)
        paths["html"] = out / "compare.html"
        paths["html"].write_text(html, encoding="utf-8")
        if pdf:
            paths["pdf"] = out / "compare.pdf"
            write_pdf(render_html(model, pdf=True), paths["pdf"])
    return {
        "table": table,
        "groups": group_verdicts(table),
        "slo": slo,
        "slo_message": msg,
        "clock": clock,
        "pods": pods,
        "paths": paths,
    }
