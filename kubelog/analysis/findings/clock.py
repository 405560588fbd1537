"""The clock finding: the test machine's clock against the apiserver's.

Evidence query: the offset (skew analysis or e2e anchor pairs, computed before the units run), the
e2e-reported pod startup and the startup measured on object timestamps. Severity: critical when
a reported pod-startup latency is the offset (the e2e test computes watch − create across the two
clocks) — ranked above the failure it explains — else warning (≥ 60 s) or info. Weights: ``clock.*``.
"""

from __future__ import annotations

import pandas as pd

from .. import stats
from .base import Ctx, Evidence, _dur, _go_dur, register


def _object_startup(ctx: Ctx) -> pd.Series:
    """Pod startup (created → started/ready) per pod from object sources (pods-json, watch, audit), seconds."""
    pt = ctx.table("pod_transitions", columns=["namespace", "pod", "milestone", "ts", "origin"])
    if not len(pt):
        return pd.Series(dtype=float)
    pt = pt[pt["origin"].isin(["pods-json", "watch", "pods-yaml"])]
    a = pt[pt["milestone"] == "created"].groupby(["namespace", "pod"])["ts"].min()
    b = pt[pt["milestone"].isin(["ready", "started", "container_started"])].groupby(["namespace", "pod"])["ts"].min()
    d = (b - a).dropna().dt.total_seconds()
    return d[d >= 0]


@register("clock", order=110)
def clock(ctx: Ctx) -> None:
    """The test clock against the apiserver clock; a pod-startup latency of hours that is that offset."""
    failures, off = ctx.failures, ctx.off
    ps = ctx.table("perf_summaries")
    e2e_ps = ps[(ps["metric"] == "pod_startup") & ps["origin"].isin(["e2e-log"])] if len(ps) else ps
    e2e_p50 = float(e2e_ps["p50_s"].dropna().iloc[0]) if len(e2e_ps) and e2e_ps["p50_s"].notna().any() else None
    obj = _object_startup(ctx)
    obj_p50 = stats.percentile(obj.to_numpy(), 0.5) if len(obj) else None
    theta = off.get("offset_s")
    slo = [f for f in failures if f.kind == "pod_startup_slo"]
    slo_val = None
    for f in slo:
        v = _go_dur(f.groups.get("value", "")) if f.groups.get("value") else None
        if v is not None:
            slo_val = v
            break
    est = theta
    how = off.get("source", "")
    if e2e_p50 is not None and e2e_p50 > 600 and obj_p50 is not None and obj_p50 < 60:
        if est is None or abs(est) < 60:
            est, how = e2e_p50 - obj_p50, "e2e-reported pod startup minus object-derived startup"
    big_val = slo_val is not None and slo_val >= 600
    if est is None or abs(est) < 60:
        if big_val:
            ev = [f.evidence[0] for f in slo[:1] if f.evidence]
            ctx.add(
                "critical",
                f"pod startup latency {_dur(slo_val)} is almost certainly a clock offset, not a slow cluster",
                f"The reported latency is {_dur(slo_val)}; a density run with that startup time would not have finished. "
                "No test-clock anchor could be paired to measure the offset.",
                ev,
                kind="clock",
                weight="clock.offset_unmeasured",
            )
        return
    ev = list(off.get("evidence", []))[:4]
    for f in slo[:1]:
        ev = f.evidence[:1] + ev
    if len(e2e_ps):
        r = e2e_ps.iloc[0]
        ev.append(
            Evidence(
                ctx.where(r["source_id"], r["line_no"]),
                f"e2e pod_startup p50 {_dur(r['p50_s'])}, p90 {_dur(r['p90_s'])}, p99 {_dur(r['p99_s'])}",
            )
        )
    detail = (
        f"The test machine's clock is {_dur(abs(est))} {'ahead of' if est > 0 else 'behind'} the apiserver's "
        f"(estimate from {how})."
    )
    if obj_p50 is not None:
        detail += (
            f" Pod startup measured on object timestamps (pods created → started, {len(obj)} pods) has "
            f"p50 {_dur(obj_p50)}."
        )
    explains = slo_val is not None and abs(slo_val - abs(est)) < max(0.1 * abs(est), 120)
    reported = (
        e2e_p50 is not None
        and abs(est) > 600
        and abs(e2e_p50 - abs(est)) < max(0.1 * abs(est), 120)
        and (obj_p50 is None or obj_p50 < 60)
    )
    for sentence in off.get("findings") or []:
        detail += f" Skew analysis: {sentence}"
    if explains or reported or (big_val and abs(est) > 600):
        shown = slo_val if slo_val is not None else e2e_p50
        title = f"pod startup latency {_dur(shown)} is a clock offset, not a slow cluster"
        detail += (
            " The e2e test computes watch − create across the two clocks, so the offset lands in the latency; "
            "the cluster itself started pods in seconds."
        )
        ctx.add("critical", title, detail, ev, kind="clock", weight="clock.offset_explains")
    else:
        sev = "warning" if abs(est) >= 60 else "info"
        ctx.add(
            sev,
            f"test clock is {_dur(abs(est))} {'ahead of' if est > 0 else 'behind'} the apiserver clock",
            detail + " Latencies the test computes across clocks (e2e pod startup, run→watch) include it.",
            ev,
            kind="clock",
            weight="clock.offset_hours" if abs(est) >= 3600 else "clock.offset",
        )
