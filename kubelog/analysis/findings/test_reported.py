"""What the test itself reported over the SLO thresholds: API-call latencies (``Top latency metric``
lines, the ``WARNING`` ones, clusterloader2 APIResponsiveness) and pod-startup summaries.

Evidence query: ``perf_summaries`` (metric ``api_call`` through
:func:`kubelog.analysis.slo.reported_api_calls`, metric ``pod_startup``), against the thresholds of
the ``slo`` defaults (``kubemark_2017.api_calls``, ``kubemark_2017.pod_startup``). Saturation-phase
summaries are left out (the SLO is about pods started on a full cluster). Severity: error
over the threshold; an API call only the test flagged (its own, lower threshold) a warning; a pod
startup of hours that the clock finding explains as an offset info. Weights: ``test_reported_*``.
"""

from __future__ import annotations

import pandas as pd

from .base import Ctx, Evidence, _dur, register


def _thresholds() -> tuple[float, float]:
    from ..slo import SLOConfig

    cfg = SLOConfig.load()
    return cfg.sli("kubemark_2017.api_calls").threshold_s, cfg.sli("kubemark_2017.pod_startup").threshold_s


def _pcts(r) -> str:
    return " ".join(
        f"{k} {_dur(v)}"
        for k, v in (("p50", r.p50_s), ("p90", r.p90_s), ("p99", r.p99_s))
        if v is not None and not pd.isna(v)
    )


@register("test_reported_api", order=180)
def test_reported_api(ctx: Ctx) -> None:
    """API-call groups the test reported with p99 over the SLO threshold, or flagged itself."""
    from ..slo import reported_api_calls

    rep = reported_api_calls(ctx.run)
    if not len(rep):
        return
    thr, _ = _thresholds()
    over = rep[rep["p99_s"] > thr].sort_values("p99_s", ascending=False)
    flagged = rep[rep["flagged"] & ~(rep["p99_s"] > thr)]
    rows = pd.concat([over, flagged])
    if not len(rows):
        return
    ev = [
        Evidence(
            ctx.where(r.source_id, r.line_no),
            f"{r.group}: {_pcts(r)}"
            + (f" (n={int(r.count)})" if not pd.isna(r.count) else "")
            + (" — flagged by the test" if r.flagged else ""),
        )
        for r in rows.head(4).itertuples()
    ]
    if len(over):
        top = over.iloc[0]
        ctx.add(
            "error",
            f"the test reported {len(over)} API call group(s) over {_dur(thr)}: {top['group']} p99 "
            f"{_dur(top['p99_s'])}" + (", …" if len(over) > 1 else ""),
            f"API-call latencies the test printed (perf_summaries api_call), over the {_dur(thr)} p99 SLO "
            f"(kubemark_2017.api_calls); `kubelog slo` lists them as e2e-reported rows. "
            + (f"{len(flagged)} more the test flagged itself below that threshold." if len(flagged) else ""),
            ev,
            kind="test_reported_api",
            weight="test_reported_api.over",
        )
    else:
        ctx.add(
            "warning",
            f"the test flagged {len(flagged)} API call group(s): {flagged.iloc[0]['group']} p99 "
            f"{_dur(flagged.iloc[0]['p99_s'])}",
            f"Printed as a warning by the test (its own threshold), under the {_dur(thr)} p99 SLO.",
            ev,
            kind="test_reported_api",
            weight="test_reported_api.flagged",
        )


@register("test_reported_pod_startup", order=181)
def test_reported_pod_startup(ctx: Ctx) -> None:
    """Pod-startup summaries the test reported with a percentile over the SLO threshold."""
    ps = ctx.table("perf_summaries")
    if not len(ps):
        return
    _, thr = _thresholds()
    # saturation pods start while the cluster fills up: the 5 s SLO is about the pods started on a full
    # cluster (density's latency pods, cl2's PodStartupLatency), saturation has its own, looser check
    ps = ps[(ps["metric"] == "pod_startup") & (ps["phase"].fillna("") != "saturation")]
    ps = ps.drop_duplicates(["phase", "p50_s", "p90_s", "p99_s"])
    worst = ps[["p50_s", "p90_s", "p99_s"]].max(axis=1)
    over = ps[worst > thr].assign(_w=worst[worst > thr]).sort_values("_w", ascending=False)
    if not len(over):
        return
    r = over.iloc[0]
    col = next(c for c in ("p50_s", "p90_s", "p99_s") if not pd.isna(r[c]) and r[c] > thr)
    ev = [
        Evidence(ctx.where(x.source_id, x.line_no), f"{x.origin} pod_startup ({x.phase or ''}): {_pcts(x)}")
        for x in over.head(3).itertuples()
    ]
    offset = r["_w"] >= 600 and any(f.kind == "clock" and f.severity == "critical" for f in ctx.findings)
    title = f"the test reported pod startup {col[:-2]} {_dur(r[col])} over {_dur(thr)}" + (
        f" ({len(over)} summaries)" if len(over) > 1 else ""
    )
    detail = (
        f"Pod-startup summaries the test printed (perf_summaries pod_startup) over the {_dur(thr)} SLO "
        "(kubemark_2017.pod_startup)."
    )
    if offset:
        ctx.add(
            "info",
            title,
            detail + " Hours, not seconds: the clock finding explains it as the test clock's offset.",
            ev,
            kind="test_reported_pod_startup",
            weight="test_reported_pod_startup.offset",
        )
    else:
        ctx.add("error", title, detail, ev, kind="test_reported_pod_startup", weight="test_reported_pod_startup.over")
