"""Known signatures of failed scalability runs, and 403 floods.

Evidence query: each pattern of :data:`SIGNATURES` over message texts, test-log lines, failure
messages, Trace steps and events (RE2 through pyarrow for large tables, Python ``re`` otherwise;
the two agree on every pattern, tests/test_diagnose.py). Severity: the signature's own, an error
signature with fewer than 3 lines a warning. Weights: ``signature.*`` (plus up to 6 for the
number of lines), ``apiserver_403*``.
"""

from __future__ import annotations

import math
import re

from .. import stats
from ._failures import _core_message
from .base import (
    Ctx,
    Evidence,
    _arrow_text,
    _contains,
    _dur,
    _first_line,
    _hms,
    _msg_text,
    _req_text,
    _test_text,
    register,
)
from .weights import WEIGHTS

#: known signatures: (kind, severity, regex over message texts, title)
SIGNATURES = [
    (
        "nan_encoder",
        "critical",
        r"json: unsupported value: (?:NaN|\+Inf)",
        "saturation never ran: the saturation summary held NaN/+Inf (Error building encoder; the It failed before "
        "saturation started)",
    ),
    (
        "lsar_405",
        "critical",
        r"(?i)MethodNotAllowed.*localsubjectaccessreviews|"
        r"localsubjectaccessreviews.*(?:405|MethodNotAllowed|not allowed)",
        "MethodNotAllowed on localsubjectaccessreviews: apiserver/controller-manager run without certificates "
        "(namespace creation crawls)",
    ),
    (
        "kubeconfig",
        "critical",
        r"(?i)kubeconfig[\w./-]*\"?:? (?:no such file or directory|not found|does not exist)|kubectl: (?:command )?not found|"
        r"error loading config file|(?:stat|open) \S*kubeconfig\S*: no such file|"
        r"invalid configuration: no configuration has been provided",
        "kubeconfig or kubectl missing",
    ),
    ("only_n_started", "error", r"Only \d+ pods started out of \d+", "RC runner: only part of the pods started"),
    (
        "image_pull",
        "error",
        r"ErrImagePull|ImagePullBackOff|Failed to pull image|Back-off pulling image|pull access denied|"
        r"manifest unknown|ErrImageNeverPull",
        "image pull failures",
    ),
    (
        "etcd",
        "error",
        r"etcdserver: request timed out|etcdserver: leader changed|etcdserver: too many requests|"
        r"context deadline exceeded|Txn call failed|connection refused[^\n]*:2379|"
        r"createTransport failed to connect",
        "etcd unavailable or too slow (context deadline exceeded / request timed out)",
    ),
    (
        "handler_timeout",
        "warning",
        r"timeout or abort while handling|http: Handler timeout",
        "apiserver request handlers timed out",
    ),
    (
        "node_not_found",
        "error",
        r"node \"[^\"]+\" not found|Unable to register node",
        "a node never registered (kubelet cannot find its Node object)",
    ),
    ("crashloop", "warning", r"CrashLoopBackOff|Back-off restarting failed container", "containers crash-looping"),
    ("evicted", "warning", r"\bEvicted\b|The node was low on resource", "pods evicted"),
    ("oom", "warning", r"OOMKilled|Out of memory|oom-kill", "out of memory"),
    (
        "watch_errors",
        "info",
        r"watch chan error|very short watch|Unexpected watch close|too old resource version|"
        r"required revision has been compacted",
        "watch errors (clients relist)",
    ),
]


@register("signatures", order=160)
def signatures(ctx: Ctx) -> None:
    """Known signatures (:data:`SIGNATURES`) in messages, test logs, failure texts, Trace steps and events."""
    w0, w1, rq = ctx.w0, ctx.w1, ctx.rq
    found = []
    m = ctx.table("messages", columns=["ts", "component", "level", "file", "line", "msg", "source_id", "line_no"])
    tl = ctx.table("test_log", columns=["ts", "level", "msg", "source_id", "line_no"])
    sp = ctx.table("test_specs", columns=["failure_message", "source_id", "line_no"])
    ev = ctx.table("events", columns=["ts", "reason", "message", "type", "source_id", "line_no"])
    texts = []
    if len(m):
        texts.append((m, m["msg"].fillna(""), _msg_text))
    if len(tl):
        texts.append((tl, tl["msg"].fillna(""), _test_text))
    if len(sp):
        texts.append((sp, sp["failure_message"].fillna(""), lambda r: _first_line(_core_message(r["failure_message"]))))
    ts_ = ctx.table("trace_steps", columns=["trace_id", "msg", "fields", "source_id", "line_no"])
    if len(ts_):
        texts.append(
            (
                ts_,
                ts_["msg"].fillna("") + " " + ts_["fields"].fillna(""),
                lambda r: f"Trace[{r['trace_id']}] step: {_first_line(r['msg'], 120)} {_first_line(r['fields'], 120)}",
            )
        )
    if len(ev):
        texts.append(
            (
                ev,
                (ev["reason"].fillna("") + " " + ev["message"].fillna("")),
                lambda r: f"{_hms(r['ts'])} {r['type']} {r['reason']}: {_first_line(r['message'], 160)}",
            )
        )
    # one Arrow copy per text column, only worth it for large tables
    texts = [(df, s, fmt, _arrow_text(s) if len(s) > 50_000 else None) for df, s, fmt in texts]
    for kind, sev, pat, title in SIGNATURES:
        total, evid, first_ts, last_ts, n_win = 0, [], None, None, 0
        rx = re.compile(pat)
        for df, s, fmt, arr in texts:
            hit = _contains(s, pat, arr)
            n = int(hit.sum())
            if not n:
                continue
            total += n
            rows = df[hit.to_numpy()]
            if "ts" in rows and rows["ts"].notna().any():
                if w0 is not None:
                    n_win += int(((rows["ts"] >= w0) & (rows["ts"] <= w1)).sum())
                a, b = rows["ts"].min(), rows["ts"].max()
                first_ts = a if first_ts is None else min(first_ts, a)
                last_ts = b if last_ts is None else max(last_ts, b)
            # one example per distinct matched text first (e.g. both "context deadline exceeded" and a grpc error)
            what = s[hit].head(500).map(lambda x: (rx.search(x) or [""])[0])  # noqa: B023
            firsts = list(what.drop_duplicates().index)
            order = firsts + [i for i in what.index if i not in set(firsts)]
            for i in order[: min(2, max(0, 5 - len(evid)))]:
                text = fmt(df.loc[i])
                mt = rx.search(s.at[i])
                if mt and mt.group(0)[:60] not in text:  # the match is further into the record: show it
                    a, b = max(0, mt.start() - 80), min(len(s.at[i]), mt.end() + 80)
                    text += " … " + s.at[i][a:b].replace("\n", " ") + (" …" if b < len(s.at[i]) else "")
                evid.append(Evidence(ctx.where(df.at[i, "source_id"], df.at[i, "line_no"]), text))
        extra = ""
        if kind == "lsar_405" and len(rq):
            h = rq[(rq["resource"] == "localsubjectaccessreviews") & (rq["code"] == 405)]
            total += len(h)
            evid += [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r)) for _, r in h.head(2).iterrows()]
            ns = rq[(rq["resource"] == "namespaces") & (rq["verb"] == "create") & (rq["subresource"].fillna("") == "")]
            if total and len(ns):
                sp = (ns["ts"].max() - ns["ts"].min()).total_seconds()
                extra = (
                    f" Namespace creation: {len(ns)} POST namespaces over {_dur(sp)}"
                    + (f" ({len(ns) / sp * 60:.1f}/min)" if sp > 0 else "")
                    + f", latency p99 {_dur(stats.percentile(ns['latency_s'].to_numpy(), 0.99))}."
                )
        if not total:
            continue
        found.append(kind)
        span = f", {_hms(first_ts)} → {_hms(last_ts)}" if first_ts is not None else ""
        if w0 is not None:
            span += f"; {n_win} in the window"
        if sev == "error" and total < 3:
            sev = "warning"  # one or two lines of an error signature: worth a look, not an explanation
        ctx.add(
            sev,
            f"{title} ({total} lines)",
            f"Known signature '{kind}' matched {total} records{span}.{extra}",
            evid,
            kind=f"signature:{kind}",
            weight=f"signature.{sev}",
            bonus=min(WEIGHTS["signature.count_bonus_max"], math.log10(total + 1) * 2),
        )
    ctx.signatures_found = found


@register("apiserver_403", order=161)
def apiserver_403(ctx: Ctx) -> None:
    """403 floods by resource/client (the node authorizer refusing a kubelet before its Node registered)."""
    rq = ctx.rq
    if not len(rq):
        return
    found = ctx.signatures_found
    f4 = rq[rq["code"] == 403]
    if len(f4) >= 20:
        g = f4.groupby(["resource", "client"], dropna=False).size().sort_values(ascending=False)
        (res, cl), n = g.index[0], int(g.iloc[0])
        extra = (
            " A kubelet refused by the node authorizer on its own csinodes/node objects has not registered its Node."
            if res in ("csinodes", "nodes", "leases") and cl == "kubelet"
            else ""
        )
        ctx.add(
            "error" if "node_not_found" in found else "warning",
            f"{len(f4)} × 403 Forbidden, mostly {res} by {cl} ({n})",
            "403 by resource/client: "
            + ", ".join(f"{r or '-'}/{c} {int(v)}" for (r, c), v in g.head(5).items())
            + "."
            + extra,
            [
                Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r))
                for _, r in f4[f4["resource"] == res].head(2).iterrows()
            ],
            kind="apiserver_403",
            weight="apiserver_403.unregistered" if extra else "apiserver_403",
        )
