"""What the apiserver did in the window compared with the rest of the run: one unit per finding.

Evidence query: the requests (access log preferred over audit for the same requests, kubelet
servers left out), split by start time into the window ``[w0, w1]`` (apiserver clock) and the
rest. Rates are per minute; "comparable" means the rest of the run is long enough (≥ 60 s or half
the window) to compare with. Weights: ``apiserver_*``, ``silent_*``, ``watch_restarts``.
"""

from __future__ import annotations

import pandas as pd

from .. import stats
from .base import Ctx, Evidence, _dur, _hms, _req_text, register

#: error responses: 405 (MethodNotAllowed), 409 (Conflict), 429 (throttled) and 5xx
_ERROR_CODES = {405, 409, 429}


def _split(ctx: Ctx) -> dict | None:
    """The requests in and out of the window, computed once; None without requests or window."""

    def compute():
        rq = ctx.rq
        if not len(rq) or ctx.w0 is None:
            return None
        t = rq["start_ts"].fillna(rq["ts"])
        win_s = max((ctx.w1 - ctx.w0).total_seconds(), 1.0)
        rest_s = max(ctx.span_s - win_s, 1.0)
        codes = rq["code"].fillna(-1).astype(int)
        return {
            "inw": ((t >= ctx.w0) & (t <= ctx.w1)).to_numpy(),
            "win_s": win_s,
            "rest_s": rest_s,
            "comparable": rest_s >= 60 or rest_s >= 0.5 * win_s,
            "err": (codes.isin(list(_ERROR_CODES)) | (codes >= 500)).to_numpy(),
        }

    return ctx.memo("apiserver_split", compute)


@register("apiserver_overview", order=120)
def apiserver_overview(ctx: Ctx) -> None:
    """Requests per client in the window (and their rate outside it)."""
    s = _split(ctx)
    if s is None:
        return
    rq, inw, win_s, rest_s, comparable = ctx.rq, s["inw"], s["win_s"], s["rest_s"], s["comparable"]
    n_in = int(inw.sum())
    by_client = pd.DataFrame({"client": rq["client"].fillna("?").to_numpy(), "in": inw})
    g = by_client.groupby("client")["in"].agg(["sum", "count"])
    g["rate_in"] = g["sum"] / win_s * 60
    g["rate_out"] = (g["count"] - g["sum"]) / rest_s * 60
    g = g.sort_values("sum", ascending=False)
    n_err_in = int((s["err"] & inw).sum())
    parts = [
        f"{c} {int(r['sum'])} ({r['rate_in']:.0f}/min" + (f" vs {r['rate_out']:.0f}/min" if comparable else "") + ")"
        for c, r in g.head(6).iterrows()
    ]
    ctx.add(
        "info",
        f"apiserver in the window: {n_in} requests, {n_err_in} error responses",
        f"Requests started in the window ({_dur(win_s)}) by client"
        + (" (rate in the window vs in the rest of the run)" if comparable else "")
        + ": "
        + "; ".join(parts)
        + ".",
        [],
        kind="apiserver_overview",
        weight="apiserver_overview",
    )


@register("apiserver_errors", order=121)
def apiserver_errors(ctx: Ctx) -> None:
    """Error responses (405/409/429/5xx) by verb/resource/code: in the window when more frequent there
    than in the rest of the run; without a window, those of the whole run."""
    rq = ctx.rq
    if not len(rq):
        return
    if ctx.w0 is None:
        codes = rq["code"].fillna(-1).astype(int)
        e = rq[(codes.isin(list(_ERROR_CODES)) | (codes >= 500)).to_numpy()]
        if len(e):
            g = e.groupby(["verb", "resource", "code"], dropna=False).size().sort_values(ascending=False)
            parts = [f"{int(n)}× {c} on {v} {r or '(non-resource)'}" for (v, r, c), n in g.head(6).items()]
            ctx.add(
                "warning",
                f"{len(e)} error responses (405/409/429/5xx) in the run",
                "By verb/resource/code: " + "; ".join(parts) + ".",
                [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r)) for _, r in e.head(4).iterrows()],
                kind="apiserver_errors",
                weight="apiserver_errors.run",
            )
        return
    s = _split(ctx)
    err, inw, win_s, rest_s, comparable = s["err"], s["inw"], s["win_s"], s["rest_s"], s["comparable"]
    e = rq[err].assign(_in=inw[err])
    if not len(e):
        return
    g = e.groupby(["verb", "resource", "code"], dropna=False)["_in"].agg(["sum", "count"]).reset_index()
    g["n_in"] = g["sum"].astype(int)
    g["n_out"] = (g["count"] - g["sum"]).astype(int)
    g["rate_in"] = g["n_in"] / win_s * 60
    g["rate_out"] = g["n_out"] / rest_s * 60
    hot = g[(g["n_in"] > 0) & ((g["rate_in"] >= 2 * g["rate_out"]) | (not comparable))]
    hot = hot.sort_values("n_in", ascending=False)
    if not len(hot):
        return
    rows = e[e["_in"]]
    ev = [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r)) for _, r in rows.head(4).iterrows()]
    parts = [
        f"{int(r.n_in)}× {r.code} on {r.verb} {r.resource or '(non-resource)'}"
        + (f" (rest of run: {int(r.n_out)})" if comparable else "")
        for r in hot.head(6).itertuples()
    ]
    n_in = int(hot["n_in"].sum())
    ctx.add(
        "error" if n_in >= 5 else "warning",
        f"{n_in} error responses (405/409/429/5xx) in the window",
        "In the window: "
        + "; ".join(parts)
        + f". Window {_dur(win_s)}, rest {_dur(rest_s)}"
        + ("." if comparable else " (too little of the run outside the window to compare)."),
        ev,
        kind="apiserver_errors",
        weight="apiserver_errors.window_many" if n_in >= 5 else "apiserver_errors.window_few",
    )


@register("apiserver_latency", order=122)
def apiserver_latency(ctx: Ctx) -> None:
    """Latency percentiles (nearest rank) of non-long-running requests in the window vs the rest."""
    s = _split(ctx)
    if s is None or not s["comparable"]:
        return
    rq, inw = ctx.rq, s["inw"]
    lr = rq["long_running"].fillna(False).astype(bool).to_numpy()
    nl = ~lr & rq["latency_s"].notna().to_numpy()
    a, b = rq["latency_s"].to_numpy()[nl & inw], rq["latency_s"].to_numpy()[nl & ~inw]
    if len(a) < 20 or len(b) < 20:
        return
    pa = [stats.percentile(a, p) for p in (0.5, 0.99)]
    pb = [stats.percentile(b, p) for p in (0.5, 0.99)]
    if not (pa[1] > 2 * pb[1] and pa[1] > 0.5):
        ctx.add(
            "info",
            f"API latency in the window is like the rest of the run (p99 {_dur(pa[1])} vs {_dur(pb[1])})",
            f"Non-long-running requests: window n={len(a)} p50 {_dur(pa[0])} p99 {_dur(pa[1])}; "
            f"rest n={len(b)} p50 {_dur(pb[0])} p99 {_dur(pb[1])} (nearest rank). The apiserver was not slow.",
            [],
            kind="apiserver_latency",
            weight="apiserver_latency.same",
        )
    else:
        slow = rq[nl & inw].nlargest(3, "latency_s")
        ctx.add(
            "warning",
            f"API latency p99 {_dur(pa[1])} in the window vs {_dur(pb[1])} in the rest of the run",
            f"Non-long-running requests: window n={len(a)} p50 {_dur(pa[0])} p99 {_dur(pa[1])}; "
            f"rest n={len(b)} p50 {_dur(pb[0])} p99 {_dur(pb[1])} (nearest rank).",
            [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r)) for _, r in slow.iterrows()],
            kind="apiserver_latency",
            weight="apiserver_latency.slow",
        )


def _silent(ctx: Ctx) -> list:
    """Clients with ≥ 10 requests before the window and none in it (window ≥ 30 s): the controllers,
    and each node's kubelet (audit user ``system:node:<name>``) — (name, requests before, last request)."""

    def compute():
        rq, w0, w1 = ctx.rq, ctx.w0, ctx.w1
        s = _split(ctx)
        if s is None:
            return []
        groups = [(comp, rq[rq["client"] == comp]) for comp in ("kube-controller-manager", "kube-scheduler")]
        if "user" in rq:
            nodes_u = rq[rq["user"].fillna("").str.startswith("system:node:")]
            groups += [(f"kubelet of {u[len('system:node:') :]}", g) for u, g in nodes_u.groupby("user")]
        out = []
        for comp, c in groups:
            if len(c) < 10:
                continue
            tc = c["start_ts"].fillna(c["ts"])
            before = int((tc < w0).sum())
            inside = int(((tc >= w0) & (tc <= w1)).sum())
            if before >= 10 and inside == 0 and s["win_s"] >= 30:
                out.append((comp, before, c.loc[tc[tc < w0].idxmax()]))
        return out

    return ctx.memo("apiserver_silent", compute)


@register("silent_kubelets", order=123)
def silent_kubelets(ctx: Ctx) -> None:
    """Kubelets that sent requests before the window and none in it."""
    node_silent = [x for x in _silent(ctx) if x[0].startswith("kubelet of ")]
    if not node_silent:
        return
    ctx.add(
        "error",
        f"{len(node_silent)} kubelet(s) went silent in the window: "
        + ", ".join(x[0][len("kubelet of ") :] for x in node_silent[:5]),
        "; ".join(f"{x[0]}: {x[1]} requests before the window, last at {_hms(x[2]['ts'])}" for x in node_silent[:5])
        + ". A kubelet that stops talking to the apiserver stops starting pods and reporting status.",
        [
            Evidence(ctx.where(x[2]["source_id"], x[2]["line_no"]), "last request: " + _req_text(x[2]))
            for x in node_silent[:4]
        ],
        kind="silent_kubelets",
        weight="silent_kubelets",
    )


@register("silent_clients", order=124)
def silent_clients(ctx: Ctx) -> None:
    """The controller-manager or scheduler silent in the window: an error while pods were still to be
    created or bound, expected (info) when there was nothing left for them to do."""
    silent = [x for x in _silent(ctx) if not x[0].startswith("kubelet of ")]
    if not silent:
        return
    lastp = ctx.primary_stall[1]["last"] if ctx.primary_stall else None
    work_left = not ctx.idle_ok and (
        lastp is None
        or (not pd.isna(lastp.get("expected")) and lastp["created"] < lastp["expected"])
        or (not pd.isna(lastp.get("waiting")) and lastp["waiting"] > 0)
    )
    ctx.add(
        "error" if work_left else "info",
        "silent clients: " + ", ".join(s[0] for s in silent) + " sent no requests in the window",
        "; ".join(f"{s[0]}: {s[1]} requests before the window, last at {_hms(s[2]['ts'])}" for s in silent)
        + (
            ". A controller that stops talking to the apiserver stops creating or binding pods."
            if work_left
            else ". Expected here: every pod was already created and scheduled, so they had nothing left to do."
        ),
        [Evidence(ctx.where(s[2]["source_id"], s[2]["line_no"]), "last request: " + _req_text(s[2])) for s in silent],
        kind="silent_clients",
        weight="silent_clients.work_left" if work_left else "silent_clients.idle",
    )


@register("watch_restarts", order=125)
def watch_restarts(ctx: Ctx) -> None:
    """Watches (re)started in the window at ≥ 3× the rate of the rest of the run (relists, broken streams)."""
    s = _split(ctx)
    if s is None:
        return
    rq, w0, w1 = ctx.rq, ctx.w0, ctx.w1
    w = rq[rq["verb"] == "watch"]
    if not len(w):
        return
    tw = w["start_ts"].fillna(w["ts"])
    wi = int(((tw >= w0) & (tw <= w1)).sum())
    rate_in, rate_out = wi / s["win_s"] * 60, (len(w) - wi) / s["rest_s"] * 60
    if wi >= 5 and s["comparable"] and rate_in >= 3 * max(rate_out, 1e-9):
        ev = [
            Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r))
            for _, r in w[((tw >= w0) & (tw <= w1)).to_numpy()].head(3).iterrows()
        ]
        ctx.add(
            "warning",
            f"{wi} watch (re)starts in the window ({rate_in:.1f}/min vs {rate_out:.1f}/min)",
            "Clients re-established watches much more often than in the rest of the run (relists, broken "
            "watch streams).",
            ev,
            kind="watch_restarts",
            weight="watch_restarts",
        )
