"""Pods stuck between scheduled and started (or never scheduled), and pods in phase Failed.

Evidence query: pod milestones (``pod_transitions``); a missing start counts only where a source
would have shown it (an object dump or watch that holds the pod, or the kubelet log of its node),
and a pod deleted within a minute of being scheduled had no time to start. Severity: critical
when the stuck pods are exactly the ones the failure misses (the stalled counter, ``Only N pods
started``, or the controller the failure names) — then they are folded into that failure's
finding — else error. Weights: ``stuck_pods*``, ``failed_pods``.
"""

from __future__ import annotations

import pandas as pd

from .base import Ctx, Evidence, _hms, _msg_text, register
from .weights import WEIGHTS

#: pod_transitions origins that hold the whole object (its status says whether it started)
_OBJECT_ORIGINS = ("pods-json", "pods-yaml", "watch")


#: pod milestones that prove a pod started
_STARTED = {
    "started",
    "container_started",
    "ready",
    "running",
    "pleg_container_started",
    "containers_ready",
    "running_observed",
    "watch_observed",
    "startup_logged",
    "watched",
}


def _stuck_pods(ctx: Ctx) -> dict | None:
    """Pods that were scheduled but never started, or never scheduled, grouped by node."""
    pt = ctx.table(
        "pod_transitions",
        columns=["namespace", "pod", "node", "milestone", "ts", "origin", "detail", "source_id", "line_no"],
    )
    if not len(pt):
        return None
    ms = pt.groupby(["namespace", "pod"])["milestone"].agg(set)
    started = ms.map(lambda s: bool(s & _STARTED))
    scheduled = ms.map(lambda s: bool(s & {"scheduled", "bound"}))
    # absence of a start only counts where a source would have shown it: an object dump/watch that
    # holds the pod, or a kubelet log of the pod's node
    obj = set(map(tuple, pt.loc[pt["origin"].isin(_OBJECT_ORIGINS), ["namespace", "pod"]].drop_duplicates().to_numpy()))
    kub_nodes = set(pt.loc[pt["origin"] == "kubelet", "node"].dropna().astype(str))
    node_of_pod = pt.dropna(subset=["node"]).groupby(["namespace", "pod"])["node"].first()

    def covered(key) -> bool:
        if key in obj:
            return True
        n = node_of_pod.get(key)
        return n is not None and (n in kub_nodes or any(str(n).endswith("-" + k) for k in kub_nodes))

    cov = pd.Series([covered(k) for k in ms.index], index=ms.index, dtype=bool)
    det = pt.loc[
        pt["origin"].isin(_OBJECT_ORIGINS) & pt["detail"].notna(),
        ["namespace", "pod", "detail", "source_id", "line_no"],
    ]
    term = det[det["detail"].str.contains(r'"phase": ?"(?:Failed|Succeeded)"', regex=True)]
    terminal = set(map(tuple, term[["namespace", "pod"]].to_numpy()))
    cov &= ~pd.Series([k in terminal for k in ms.index], index=ms.index, dtype=bool)
    failed_pods = term[term["detail"].str.contains(r'"phase": ?"Failed"', regex=True)].drop_duplicates(
        ["namespace", "pod"]
    )
    # a pod deleted within a minute of being scheduled (scale-down, cleanup) had no time to start
    sched_ts = pt[pt["milestone"].isin(["scheduled", "bound"])].groupby(["namespace", "pod"])["ts"].min()
    del_ts = pt[pt["milestone"] == "deleted"].groupby(["namespace", "pod"])["ts"].min()
    quick = ((del_ts - sched_ts).dt.total_seconds() < 60).reindex(ms.index).fillna(False).astype(bool)
    pending = ms[scheduled & ~started & cov & ~quick].index
    unsched = ms[~scheduled & ~started & cov & ms.map(lambda s: "created" in s)].index
    res = {"pending": len(pending), "unscheduled": len(unsched), "by_node": {}, "evidence": []}
    if len(failed_pods):
        reasons = failed_pods["detail"].str.extract(r'"reason": ?"([^"]+)"', expand=False).fillna("no reason")
        res["failed"] = {
            "count": len(failed_pods),
            "reasons": reasons.value_counts().to_dict(),
            "evidence": [
                Evidence(ctx.where(r["source_id"], r["line_no"]), f"pod {r['namespace']}/{r['pod']} {r['detail']}")
                for _, r in failed_pods.head(3).iterrows()
            ],
        }
    if not len(pending) and not len(unsched):
        return res if "failed" in res else None
    pt_i = pt.set_index(["namespace", "pod"])
    if len(pending):
        rows = pt_i.loc[pending].reset_index()
        node_of = rows.dropna(subset=["node"]).groupby(["namespace", "pod"])["node"].first()
        by_node = node_of.value_counts()
        res["by_node"] = {str(k): int(v) for k, v in by_node.items()}
        res["pods"] = [(str(p), str(n)) for (_, p), n in node_of.items()]
        sched = rows[rows["milestone"].isin(["scheduled", "bound"])].sort_values("ts")
        res["evidence"] = [
            Evidence(
                ctx.where(r["source_id"], r["line_no"]),
                f"{_hms(r['ts'])} pod {r['pod']} {r['milestone']} on {r['node']} ({r['origin']}); never started",
            )
            for _, r in sched.drop_duplicates(["namespace", "pod"]).head(3).iterrows()
        ]
        all_nodes = pt.loc[pt["milestone"].isin(["scheduled", "bound"]), "node"].dropna().nunique()
        res["all_nodes"] = int(all_nodes)
        # kubelet log of the node(s): last record
        m = ctx.table("messages", columns=["ts", "component", "level", "file", "line", "msg", "source_id", "line_no"])
        if len(m):
            for node in list(by_node.index)[:2]:
                km = m[(m["component"] == "kubelet") & m["msg"].fillna("").str.contains(str(node), regex=False)]
                if not len(km):
                    srcs = [
                        i["source_id"]
                        for i in ctx.run.manifest.get("inputs", [])
                        if str(node) in str(i.get("path", ""))
                    ]
                    km = m[m["source_id"].isin(srcs)]
                if len(km):
                    last = km.sort_values("ts").iloc[-1]
                    res["evidence"].append(
                        Evidence(
                            ctx.where(last["source_id"], last["line_no"]),
                            f"last kubelet record of {node}: " + _msg_text(last),
                        )
                    )
    return res


def _stuck(ctx: Ctx):
    return ctx.memo("stuck_pods", lambda: _stuck_pods(ctx))


@register("failed_pods", order=100)
def failed_pods(ctx: Ctx) -> None:
    """Pods the object dump shows in phase Failed (evictions, errors)."""
    stuck = _stuck(ctx)
    if stuck is None or not stuck.get("failed"):
        return
    fp = stuck["failed"]
    ctx.add(
        "warning",
        f"{fp['count']} pod(s) in phase Failed: " + ", ".join(f"{k} ×{v}" for k, v in fp["reasons"].items()),
        "Pods the object dump shows as Failed (evictions, errors).",
        fp["evidence"],
        kind="failed_pods",
        weight="failed_pods",
    )


@register("stuck_pods", order=101)
def stuck_pods(ctx: Ctx) -> None:
    """Pods scheduled but never started, or never scheduled, by node; folded into the failure they explain."""
    stuck = _stuck(ctx)
    if stuck is None or not (stuck["pending"] or stuck["unscheduled"]):
        return
    by_node = stuck["by_node"]
    nodes_txt = ", ".join(f"{n} ({c})" for n, c in list(by_node.items())[:4])
    if len(by_node) > 4:
        nodes_txt = f"{len(by_node)} nodes: {nodes_txt}, …"
    concentrated = bool(by_node) and stuck.get("all_nodes", 0) >= 2 and len(by_node) <= stuck["all_nodes"] // 2
    missing = set()
    if ctx.primary_stall is not None:
        lp = ctx.primary_stall[1]["last"]
        missing.add(
            int(0 if pd.isna(lp.get("pending")) else lp.get("pending"))
            + int(0 if pd.isna(lp.get("waiting")) else lp.get("waiting"))
        )
    named = None  # a failure that names the controller whose pods are stuck
    for f in ctx.fatal:
        if f.kind == "only_n_started" and f.groups.get("got") and f.groups.get("want"):
            missing.add(int(f.groups["want"]) - int(f.groups["got"]))
        rc = f.groups.get("rc")
        if named is None and rc and any(p.startswith(rc + "-") for p, _ in stuck.get("pods", [])):
            named = f
    matches = (stuck["pending"] + stuck["unscheduled"]) in missing or named is not None
    if named is not None and ctx.primary_stall is None:
        ctx.primary_finding = ctx.failure_finding.get(id(named), ctx.primary_finding)
        ctx.idle_ok = stuck["unscheduled"] == 0  # every pod was created and bound: the controllers had no work
    if matches and ctx.primary_finding is None:
        ctx.primary_finding = next((x for x in ctx.findings if x.kind == "failure:only_n_started"), None)
    title = f"{stuck['pending']} pods scheduled but never started" + (
        f", all on {nodes_txt}" if concentrated else (f" ({nodes_txt})" if nodes_txt else "")
    )
    if stuck["unscheduled"]:
        title += f"; {stuck['unscheduled']} never scheduled"
    det = (
        f"Pod milestones (pod_transitions): {stuck['pending']} pods were bound to a node but never reported a "
        f"started/ready milestone; {stuck['unscheduled']} were created but never scheduled."
    )
    if concentrated:
        det += (
            f" They are concentrated on {len(by_node)} of {stuck.get('all_nodes')} nodes: the kubelet of "
            f"{', '.join(by_node)} stopped starting pods."
        )
    if named is not None:
        det += f" They are the pods of {named.groups['rc']}, the controller the failure names."
    elif matches:
        det += " This is exactly the number the stalled progress counter is missing."
    ctx.add(
        "critical" if matches else "error",
        title,
        det,
        stuck["evidence"][:5],
        kind="stuck_pods",
        weight="stuck_pods.explains" if matches else ("stuck_pods.concentrated" if concentrated else "stuck_pods"),
    )
    if matches and ctx.primary_finding is not None:  # fold the cause into the failure's finding
        top = ctx.primary_finding
        top.score = max(top.score, WEIGHTS["failure.with_cause"])
        top.title += f" — {stuck['pending']} pods stuck Pending" + (f" on {nodes_txt}" if concentrated else "")
        top.detail += (
            f" Cause: {stuck['pending']} pods were scheduled but never started"
            + (f", all on {nodes_txt}" if concentrated else "")
            + "."
        )
        top.evidence += stuck["evidence"][:3]
