"""Trace blocks: slow requests, and the long-running ones (pod log reads, watches) set apart.

Evidence query: the ``traces`` table; a Trace's request path is its ``url`` field or, in old
formats whose header is ``Trace "Get /api/v1/…"``, the path in its name (:func:`trace_url`).
Severity: error when the longest slow trace is ≥ 30 s, warning ≥ 5 s, else info; long-running
traces are info. Weights: ``traces.*``, ``traces_long_running``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .base import Ctx, Evidence, _dur, _first_line, _hms, register


def trace_url(name, url) -> str:
    """The request path of a Trace block: its ``url`` field, else (old formats, ``Trace "Get /api/v1/…"``)
    the path in its name; "" when neither has one."""
    if isinstance(url, str) and url:
        return url
    m = re.match(r'\s*"?[A-Za-z]+ (/[^\s"]*)', name if isinstance(name, str) else "")
    return m.group(1) if m else ""


def trace_long_running(name, url) -> bool:
    """True for a Trace of a request that lasts as long as its client wants: a watch, a proxy/exec/attach/
    port-forward, or a pod log read (``Get …/pods/X/log``: the handler's trace spans the stream, and old
    formats print the path without ``?follow=true``) — RequestInfo's long-running rule
    (:func:`kubelog.formats.requestinfo.classify_one`) plus every ``log`` read."""
    from ...formats.requestinfo import VERB_METHOD, classify_one

    u = trace_url(name, url)
    if not u:
        return False
    m = re.match(r'\s*"?([A-Za-z]+)', name if isinstance(name, str) else "")
    verb = m.group(1).lower() if m else "get"
    method = VERB_METHOD.get(verb, verb.upper())
    info = classify_one(method, u)
    return bool(info["long_running"] or verb == "watch" or (method == "GET" and info["subresource"] == "log"))


def _classified(ctx: Ctx):
    """The Trace blocks with a total time, and which of them are long-running (computed once)."""

    def compute():
        tr = ctx.table(
            "traces", columns=["ts", "started_ts", "name", "total_s", "url", "user_agent", "source_id", "line_no"]
        )
        if not len(tr):
            return tr, np.zeros(0, dtype=bool)
        tr = tr.dropna(subset=["total_s"])
        pairs = tr[["name", "url"]].drop_duplicates()
        lr_keys = {(n, u) for n, u in pairs.itertuples(index=False) if trace_long_running(n, u)}
        lr = np.array([(n, u) in lr_keys for n, u in tr[["name", "url"]].itertuples(index=False)], dtype=bool)
        return tr, lr

    return ctx.memo("traces", compute)


@register("traces_long_running", order=130)
def traces_long_running(ctx: Ctx) -> None:
    """Trace blocks of pod log reads and watches: as long as the client reads, not a slowness."""
    tr, lr = _classified(ctx)
    long_tr = tr[lr & (tr["total_s"] >= 1.0).to_numpy()] if len(tr) else tr
    if not len(long_tr):
        return
    lt = long_tr.sort_values("total_s", ascending=False)
    ctx.add(
        "info",
        f"{len(lt)} Trace block(s) of long-running requests (pod log reads, watches), longest "
        f"{_dur(float(lt['total_s'].iloc[0]))}",
        "A pod log follow or a watch lasts as long as its client reads; its Trace says nothing about "
        "storage or apiserver slowness, so these are left out of the slow-request traces.",
        [
            Evidence(
                ctx.where(r["source_id"], r["line_no"]),
                f'Trace "{_first_line(r["name"], 120)}"'
                + (f" {trace_url(None, r['url'])}" if isinstance(r["url"], str) and r["url"] else "")
                + f" total {_dur(r['total_s'])} (ended {_hms(r['ts'])})",
            )
            for _, r in lt.head(2).iterrows()
        ],
        kind="traces_long_running",
        weight="traces_long_running",
    )


@register("traces", order=131)
def traces(ctx: Ctx) -> None:
    """Slow-request Trace blocks (≥ 1 s, long-running ones left out); at the 1-minute request timeout
    they mean storage (etcd) calls were not answering."""
    tr, lr = _classified(ctx)
    if not len(tr):
        return
    tr = tr[~lr]
    w0, w1 = ctx.w0, ctx.w1
    if w0 is not None:
        inw = (tr["ts"] >= w0) & (tr["ts"] <= w1 + pd.Timedelta(minutes=1))
    else:
        inw = pd.Series(True, index=tr.index)
    slow = tr[tr["total_s"] >= 1.0]
    if not len(slow):
        return
    top = slow.sort_values("total_s", ascending=False)
    n_in = int(inw[slow.index].sum())
    mx = float(top["total_s"].iloc[0])
    ev = [
        Evidence(
            ctx.where(r["source_id"], r["line_no"]),
            f'Trace "{_first_line(r["name"], 120)}" total {_dur(r["total_s"])} (ended {_hms(r["ts"])})',
        )
        for _, r in top.head(4).iterrows()
    ]
    kinds = top["name"].fillna("").str.split(" ").str[0].value_counts().head(5)
    sev = "error" if mx >= 30 else ("warning" if mx >= 5 else "info")
    where = f", {n_in} of them in the window" if w0 is not None else ""
    ctx.add(
        sev,
        f"{len(slow)} slow-request Trace blocks, longest {_dur(mx)}",
        f"Trace blocks ≥ 1 s{where}: "
        + ", ".join(f"{k or '?'} {v}" for k, v in kinds.items())
        + (
            ". Traces at the 1-minute request timeout mean storage (etcd) calls were not answering."
            if mx >= 55
            else "."
        ),
        ev,
        kind="traces",
        weight=f"traces.{sev}",
    )
