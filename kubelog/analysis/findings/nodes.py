"""Nodes that became NotReady (``node_transitions`` milestone ``notready``); severity error.
Weight: ``nodes_notready``."""

from __future__ import annotations

from .base import Ctx, Evidence, _hms, register


@register("nodes_notready", order=150)
def nodes_notready(ctx: Ctx) -> None:
    """Nodes whose Ready condition went false."""
    nt = ctx.table("node_transitions")
    if not len(nt):
        return
    nr = nt[nt["milestone"] == "notready"]
    if not len(nr):
        return
    nodes = nr["node"].unique()
    ctx.add(
        "error",
        f"{len(nodes)} node(s) became NotReady: " + ", ".join(map(str, nodes[:5])),
        "Nodes whose Ready condition went false during the run.",
        [
            Evidence(ctx.where(r["source_id"], r["line_no"]), f"{_hms(r['ts'])} {r['node']} NotReady ({r['origin']})")
            for _, r in nr.head(4).iterrows()
        ],
        kind="nodes_notready",
        weight="nodes_notready",
    )
