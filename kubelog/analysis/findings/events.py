"""Warning events recorded by the cluster.

Evidence query: ``events`` of type Warning, plus NodeNotReady, Evicted and OOMKilling (type Normal),
counts summed. Severity: error when NodeNotReady, Evicted, FailedScheduling or OOMKilling are
among them, else warning. Weights: ``events.*``.
"""

from __future__ import annotations

from .base import Ctx, Evidence, _first_line, _hms, register


@register("events", order=140)
def events(ctx: Ctx) -> None:
    """Warning events (and the node controller's NodeNotReady, evictions), with those in the window."""
    w0, w1 = ctx.w0, ctx.w1
    ev = ctx.table(
        "events",
        columns=[
            "ts",
            "type",
            "reason",
            "message",
            "count",
            "object_kind",
            "object_name",
            "host",
            "source_id",
            "line_no",
        ],
    )
    if not len(ev):
        return
    # Warning events, plus the node controller's NodeNotReady and evictions, which are type Normal
    warn = ev[(ev["type"] == "Warning") | ev["reason"].isin(["NodeNotReady", "Evicted", "OOMKilling"])]
    if not len(warn):
        return
    cnt = warn.assign(n=warn["count"].fillna(1)).groupby("reason")["n"].sum().sort_values(ascending=False)
    evi = [
        Evidence(
            ctx.where(r["source_id"], r["line_no"]),
            f"{_hms(r['ts'])} {r['type']} {r['reason']} {r['object_kind']}/{r['object_name']}: {_first_line(r['message'], 160)}",
        )
        for _, g in warn.groupby("reason", sort=False)
        for _, r in g.head(1).iterrows()
    ][:4]
    serious = ("NodeNotReady", "Evicted", "FailedScheduling", "OOMKilling")
    sev = "error" if any(r in cnt.index for r in serious) else "warning"
    det = "Warning events recorded by the cluster (count summed)."
    if w0 is not None:
        inw = warn[(warn["ts"] >= w0) & (warn["ts"] <= w1)]
        det += (
            f" {int(inw['count'].fillna(1).sum())} of them in the window"
            + (
                ": "
                + ", ".join(
                    f"{k} ×{int(v)}"
                    for k, v in inw.assign(n=inw["count"].fillna(1))
                    .groupby("reason")["n"]
                    .sum()
                    .sort_values(ascending=False)
                    .head(5)
                    .items()
                )
                if len(inw)
                else ""
            )
            + "."
        )
    ctx.add(
        sev,
        f"{len(warn)} Warning events ({int(cnt.sum())} with repeats): "
        + ", ".join(f"{k} ×{int(v)}" for k, v in cnt.head(5).items()),
        det,
        evi,
        kind="events",
        weight=f"events.{sev}",
    )
