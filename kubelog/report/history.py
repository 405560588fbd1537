"""The history report: page 1 lists the regressions worst first, then one small chart per headline
metric over builds with the detected changes marked, every change, the runs and the method.

Rendered with the run report's machinery (:mod:`kubelog.report.render`: the autoescaping Jinja2
environment, the inlined stylesheet, WeasyPrint for the PDF; charts are SVG data URIs from
:func:`kubelog.report.plots.to_data_uri`), so the HTML is self-contained.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..analysis import history as H
from ..analysis.matrix import HEADLINE_RESOURCES, HEADLINE_VERBS
from . import plots
from .model import generated_at
from .render import css, environment, write_pdf

MAX_CHARTS = 24


def _fmt(v, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if unit == "s":
        return f"{v * 1000:.3g} ms" if abs(v) < 1 else f"{v:.3g} s"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def headline_metrics(h: H.History) -> list[str]:
    """Metrics charted: every metric with a change (worst first), then the whole-run p99 of the
    headline API groups, pod start-up p50/p99 and the test duration."""
    out = list(dict.fromkeys(h.changes["metric"]))
    t = h.table
    lat = t[(t["family"] == "latency") & (t["bucket"] == "all") & (t["stat"] == "p99")]
    for res in HEADLINE_RESOURCES:
        for verb in HEADLINE_VERBS:
            out += sorted(
                m for m in lat["metric"].unique() if m.startswith(f"{verb} {res} ") or m.startswith(f"{verb} {res}/")
            )
    out += [
        m for m in ("pod pod_startup @all p50", "pod pod_startup @all p99", "test duration") if m in set(t["metric"])
    ]
    return list(dict.fromkeys(out))[:MAX_CHARTS]


def chart(h: H.History, metric: str, searched: dict | None = None):
    """One metric over the runs: valid points, left-out points (x), changes (dashed line at the
    first build of the new level, segment medians).  ``searched``: ``{metric: (valid, left out)}``
    of :func:`kubelog.analysis.history.series` (computed here when not given)."""
    plt = plots._mpl()
    fig, ax = plt.subplots(figsize=(3.4, 1.9))
    if searched is None:
        searched = {m: (g, bad) for m, g, bad in H.series(h.table[h.table["metric"] == metric], h.options)}
    valid, excluded = searched.get(metric, (None, None))
    if valid is None:  # not a searched series (or no values): plot what there is
        valid = h.table[(h.table["metric"] == metric) & h.table["value"].notna()].sort_values("position")
        excluded = valid.iloc[0:0]
    unit = valid["unit"].iloc[0] if len(valid) else ""
    scale, ylabel = (1000.0, "ms") if unit == "s" and len(valid) and valid["value"].max() < 1 else (1.0, unit)
    ax.plot(valid["position"], valid["value"] * scale, ".", ms=3, color="#1f4e99")
    if len(excluded):
        ax.plot(excluded["position"], excluded["value"] * scale, "x", ms=4, color="#999", label="left out")
    ch = h.changes[h.changes["metric"] == metric]
    for r in ch.itertuples():
        ax.axvline(r.position - 0.5, color="#b00" if r.direction == "regression" else "#070", ls="--", lw=1)
    if len(ch):  # segment medians between the changes
        cuts = (
            [int(valid["position"].min())] + sorted(int(p) for p in ch["position"]) + [int(valid["position"].max()) + 1]
        )
        for a, b in zip(cuts[:-1], cuts[1:]):
            seg = valid[(valid["position"] >= a) & (valid["position"] < b)]["value"]
            if len(seg):
                ax.hlines(seg.median() * scale, a, b - 1, color="#444", lw=1)
    runs = h.runs
    ticks = np.linspace(0, len(runs) - 1, min(5, len(runs))).round().astype(int) if len(runs) else []
    ax.set_xticks(ticks)
    ax.set_xticklabels([runs["label"].iloc[i] for i in ticks], fontsize=6)
    ax.set_ylabel(ylabel, fontsize=7)
    ax.tick_params(axis="y", labelsize=6)
    return plots.to_data_uri(fig)


def _ratio_ci(r) -> str:
    """A change's size: its ratio with the 95 % interval, or the shift where no ratio is defined."""
    return f"{r.ratio:.2f}× ({r.ratio_low:.2f}–{r.ratio_high:.2f})" if pd.notna(r.ratio) else _fmt(r.shift, r.unit)


def build_model(h: H.History) -> dict:
    """Everything the template shows, as strings."""
    c = h.changes
    runs = h.runs
    reg = c[c["direction"] == "regression"]
    reg_columns = ["metric", "from build", "previous", "before", "after", "ratio (95 % CI)", "p", "left out"]
    regressions = [
        [
            r.metric,
            r.build,
            r.previous,
            _fmt(r.before, r.unit),
            _fmt(r.after, r.unit),
            _ratio_ci(r),
            f"{r.p_value:.1e}",
            r.excluded,
        ]
        for r in reg.itertuples()
    ]
    change_columns = [
        "metric",
        "build",
        "direction",
        "before",
        "after",
        "ratio (95 % CI)",
        "p",
        "runs before/after",
        "left out",
    ]
    changes = [
        (
            r.direction,
            [
                r.metric,
                r.build,
                r.direction,
                _fmt(r.before, r.unit),
                _fmt(r.after, r.unit),
                _ratio_ci(r),
                f"{r.p_value:.1e}",
                f"{r.n_before}/{r.n_after}",
                r.excluded,
            ],
        )
        for r in c.itertuples()
    ]
    mv = h.moved if h.moved is not None else pd.DataFrame(columns=H.CHANGE_COLUMNS + ["cell_n_before", "cell_n_after"])
    moved_columns = ["metric", "build", "before", "after", "ratio", "bucket n before → after"]
    moved = [
        [
            r.metric,
            r.build,
            _fmt(r.before, r.unit),
            _fmt(r.after, r.unit),
            f"{r.ratio:.2f}×" if pd.notna(r.ratio) else _fmt(r.shift, r.unit),
            f"{r.cell_n_before:g} → {r.cell_n_after:g}",
        ]
        for r in mv.itertuples()
    ]
    run_columns = ["#", "build / start", "started (UTC)", "source", "outcome", "duration", "clock skew", "run"]
    run_rows = [
        (
            "fail" if str(r.skew).startswith("skewed") else "",
            [
                r.position,
                r.label,
                r.started.strftime("%Y-%m-%d %H:%M:%S") if pd.notna(r.started) else "",
                r.source,
                r.outcome or "",
                _fmt(r.duration_s, "s"),
                r.skew or "",
                r.run,
            ],
        )
        for r in runs.itertuples()
    ]
    o = h.options
    order = h.table["order_by"].iloc[0] if len(h.table) else "build"
    skewed = runs[runs["skew"].astype(str).str.startswith("skewed")]
    first, last = (runs["label"].iloc[0], runs["label"].iloc[-1]) if len(runs) else ("", "")
    summary = (
        f"{len(runs)} runs from {first} to {last} (ordered by {'build number' if order == 'build' else 'start time'}); "
        f"{len(reg)} regression(s) and {len(c) - len(reg)} improvement(s) detected; "
        f"clock-skewed runs: {', '.join(skewed['label']) or 'none'}."
    )
    notes = [
        f"Clock-skewed run {r.label}: {r.skew} — left out of the pod start-up phases that cross the skewed "
        f"clock{' (kept: --include-invalid)' if not o.exclude_invalid else ''}; its API latencies (one clock) "
        f"are kept."
        for r in skewed.itertuples()
    ]
    need = ", ".join(f"{s} {max(o.min_n, H.support_n(q, o.confidence))}" for s, q in H.STATS)
    method = [
        "Series: per metric, the runs in order; a percentile is left out (too few samples) below "
        f"{need} values (at least {o.min_n}, and enough for its {o.confidence:.0%} order-statistic interval to "
        "close inside the sample), and with clock skew beyond the tolerance a run is left out "
        "of the pod start-up phases whose ends are on the skewed clock. Series with fewer than "
        f"{o.min_runs} valid runs are not searched.",
        f"Candidates: ruptures PELT, least-squares cost on robust z-scores of log values, penalty {o.penalty:g}·ln(runs), "
        f"segments of at least {o.min_size} runs.",
        f"Each candidate: Mann–Whitney U between its two neighbouring segments (two-sided); kept when p < {o.alpha:g} / "
        f"(series searched), the ratio of the segment medians is ≥ {o.min_ratio:g} (or ≤ 1/{o.min_ratio:g}) and its "
        f"{o.confidence:.0%} percentile-bootstrap interval ({o.bootstrap} resamples) excludes 1.",
        "A change of a load bucket's cell at which the bucket's own n changes as well (its change point within "
        f"{o.min_size} runs) is a change of the bucket's contents, not of the latency at that load: it is listed "
        "apart, not as a change.",
        "docs/history.md describes the method, its parameters and the measurements behind them.",
    ]
    heads = headline_metrics(h)
    t = h.table
    searched = {m: (g, bad) for m, g, bad in H.series(t[t["metric"].isin(heads) | (t["family"] == "skew")], o)}
    charts = [(m, chart(h, m, searched)) for m in heads]
    return {
        "title": "kubelog history — " + (f"builds {first}–{last}" if len(runs) else "no runs"),
        "generated": generated_at(),
        "version": __version__,
        "summary": summary,
        "reg_columns": reg_columns,
        "reg_numeric": [1, 2, 3, 4, 5, 6],
        "regressions": regressions,
        "notes": notes,
        "charts": charts,
        "chart_note": "Dots: valid values; x: left out; dashed line: a detected change "
        "(red regression, green improvement); grey lines: segment medians.",
        "change_columns": change_columns,
        "changes": changes,
        "moved_columns": moved_columns,
        "moved": moved,
        "moved_note": "The bucket's sample count changed at the same build: the cell holds other requests or pods "
        "from there on (for example, containers that start later make the cluster reach each load level later). "
        "Read them next to the pod start-up changes of the same builds.",
        "run_columns": run_columns,
        "runs": run_rows,
        "method": method,
    }


def render_history_html(model: dict) -> str:
    return environment().get_template("history.html.j2").render(css=css(), **model)


def build_history_report(h: H.History, out_dir, *, pdf: bool = True) -> dict:
    """Write ``history.html`` and, with ``pdf``, ``history.pdf`` into ``out_dir`` (created).

    Returns ``{"html": Path, "pdf": Path, "pdf_pages": int}`` (PDF keys only when written); raises
    :class:`kubelog.report.PDFUnavailable` after writing the HTML when WeasyPrint is missing.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = render_history_html(build_model(h))
    paths: dict = {"html": out / "history.html"}
    paths["html"].write_text(html, encoding="utf-8")
    if pdf:
        paths["pdf"] = out / "history.pdf"
        doc = write_pdf(html, paths["pdf"])
        paths["pdf_pages"] = len(doc.pages)
    return paths
