"""Clock skew from the causal pairs of a run (project issue #7).

The math (interval bounds, drift LP, steps, difference constraints, wording)
is in :mod:`kubelog.analysis.skew_math`; this module extracts the causal pairs
from a run's tables and assembles a :class:`SkewReport`.

Sign convention (as in ``skew_math``): the offset of a domain ``D`` against the
reference ``R`` is ``θ_D = C_D − C_R`` in seconds; ``θ_D > 0`` means D's clock
is ahead, and a time read ``t`` on D is ``t − θ_D`` on R's clock.

Causal pairs extracted (one row each; ``kind`` names the relation):

``api_round_trip``
    The test's log lines around its own API calls, as order statistics, so extra
    requests of the same shape never make a bound wrong:
    *after* the call — "Created replication controller with name: X, namespace: NS"
    (the k-th line follows the k-th POST of replicationcontrollers in NS to
    complete), "Deleting <kind> X took: D" (after the DELETE of X completed),
    "Listing nodes for easy debugging" (after a GET /api/v1/nodes); *before*
    the call — "Resetting latency metrics in apiserver..." (the k-th of n lines
    precedes the (n−k+1)-th latest-starting DELETE /metrics).  Request start
    is ``ts − latency`` (or the audit ``requestReceivedTimestamp``).
``pod_watch``
    The pod's first status write received by the apiserver (request start) →
    the test's watch observation: the watch time is ``creationTimestamp +
    printed e2e latency`` for the pods listed in the "10% worst e2e latencies",
    and the "Found pod 'RC' running" line for the latency pods.
``bind_to_kubelet``
    The binding POST received by the apiserver (request start) → the
    kubelet's first log of the pod (SyncLoop ADD, or the observed running time).
``kubelet_status``
    The kubelet's PLEG ``ContainerStarted`` record →
    the status PATCH/PUT that carries it, completed at the apiserver (request
    end, conservative): the k-th write of the pod, k = 2 + the pod's PLEG records before the
    start record (:func:`_running_writes`; kubelet ``SyncPod`` / status manager).
``api_round_trip`` (clusterloader2)
    ``AutomanagedNamespacePrefix``, ``Step "…" started/ended`` and ``Resources
    cleanup time`` lines of the CL2 log around CL2's own calls
    (:func:`_cl2_round_trips`).

Hollow nodes whose logs sit in per-host directories (the Kubemark log dump's
``<host>/kubelet-<node>.log``) are pooled per host (:func:`node_hosts`).  A drift
is reported only when the data support it (:func:`_drift_unsupported`).
``kubelet_watch``
    The pod's first status write received by the apiserver → the kubelet's
    ``watchObservedRunningTime`` (its own watch saw the running status, written
    at or after the first write).
``bind_to_pod_dump`` / ``pod_dump_ready``
    The kubelet's own stamps in a pod dump (node clock, whole seconds): the binding's receipt →
    ``startTime`` / ``Initialized``; ``Ready`` / ``ContainersReady`` → the pod's last status write before
    its delete (:func:`_pod_dump_pairs`).  They bound every node of the dump, logged or not.
``event``
    An Event's reporter time (``eventTime`` µs, else ``firstTimestamp`` s) →
    its ``metadata.creationTimestamp`` (apiserver, whole seconds).
``kubelet_event``
    The instants in the names of the kubelet's Created / Started / Killing events (ns, node clock)
    against the same pod's bind, graceful and final DELETE (:func:`_kubelet_event_pairs`).
``kubelet_event_post``
    The instant in the name of each of a kubelet's events → the receipt of the POST that stored it:
    a kubelet posts its events one at a time in the order made, so the k-th event of a namespace is
    its k-th events POST (:func:`kubelog.analysis.load.event_post_pairs`, which pairs them only where
    the counts agree).  The largest of these lies below the offset by the least send, under a
    millisecond where one event found the event client's token bucket full: such a clock's estimate
    is its lower bound.
``kubelet_running``
    The instant in the name of a pod's Started event → the pod's last status write before its
    graceful delete (its DELETE or its namespace's teardown), received: the Running write, which
    trails the start by the PLEG relist's wait.  Besides bounding, these pairs give a node clock whose
    interval stays wide (no kubelet log, no graceful delete before a Killing event: a failed run's
    teardown) its estimate: the relist model of :func:`kubelog.analysis.load._relist_estimate`.
``kubelet_running_start``
    The same, from the start's estimate on the node's clock (between the pod's Created and Started
    events, where the pod dumps' ``startedAt`` seconds put it: :func:`kubelog.analysis.load.start_in_gap`)
    instead of Started.  Kubemark's fake Docker client sleeps ~200 ms inside StartContainer holding its
    lock, so the relist waits after Started end that much short of a period: the relist model reads the
    least wait after Started and the longest after the start.

Resolutions: whole-second fields 1 s, klog headers 1 µs, e2e lines 1 ms,
access-log ends 1 µs.  Minimum delays are 0 (unknown) throughout.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..run import Run, memoized
from . import skew_math as sm

__all__ = [
    "PAIR_COLUMNS",
    "KIND_LABELS",
    "causal_pairs",
    "SkewReport",
    "analyze",
    "analyze_pairs",
    "corrected_times",
    "correct",
    "violations_before_after",
    "pod_startup_verdicts",
    "Corrections",
    "corrections",
]

PAIR_COLUMNS = [
    "kind",
    "send_domain",
    "send_ts",
    "recv_domain",
    "recv_ts",
    "min_delay_s",
    "res_send_s",
    "res_recv_s",
    "evidence",
]

#: Human plural names of pair kinds, for the diagnosis text.
KIND_LABELS = {
    "api_round_trip": "API round trips",
    "pod_watch": "pod watch observations",
    "bind_to_kubelet": "binding → kubelet observations",
    "kubelet_status": "kubelet status updates",
    "event": "Event creations",
    "kubelet_event": "kubelet event instants (event names) against the pod's requests",
    "kubelet_running": "Started event instants against the pod's Running status write",
    "kubelet_running_start": "container starts (between Created and Started) against the pod's Running status write",
    "kubelet_event_post": "kubelet event instants against the receipt of the POST that stored each",
    "kubelet_watch": "kubelet watch observations",
    "bind_to_pod_dump": "binding → the kubelet's first status stamp in the pod dump (startTime, Initialized)",
    "pod_dump_ready": "the kubelet's Ready stamp in the pod dump → the pod's Running status write",
}

#: Pairs needed each way before a drift line is fitted (fewer give a drift range but no useful slope).
MIN_DRIFT_PAIRS = 3

RES_E2E = 1e-3  # e2e.log "Jan  2 15:04:05.000" stamps
RES_US = 1e-6  # klog headers, audit, access-log
RES_S = 1.0  # metav1.Time fields


# ---------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------


def _sec(s: pd.Series) -> np.ndarray:
    """Datetime series → float epoch seconds (NaN for NaT)."""
    s = pd.to_datetime(s, utc=True)
    out = s.astype("int64").to_numpy(dtype=float) / 1e9
    out[s.isna().to_numpy()] = np.nan
    return out


class _Where:
    """Vectorised ``file:line`` evidence strings."""

    def __init__(self, run: Run):
        self.run = run
        self.names: dict[int, str] = {}

    def __call__(self, source_id, line_no) -> np.ndarray:
        out = []
        for s, l in zip(np.asarray(source_id), np.asarray(line_no)):
            s = int(s)
            if s not in self.names:
                self.names[s] = self.run.source_name(s)
            out.append(f"{self.names[s]}:{int(l)}")
        return np.array(out, dtype=object)


def _frame(kind, send_domain, send_ts, recv_domain, recv_ts, res_send, res_recv, evidence) -> pd.DataFrame:
    n = len(send_ts)
    df = pd.DataFrame(
        {
            "kind": kind,
            "send_domain": np.broadcast_to(np.asarray(send_domain, dtype=object), (n,)),
            "send_ts": np.asarray(send_ts, dtype=float),
            "recv_domain": np.broadcast_to(np.asarray(recv_domain, dtype=object), (n,)),
            "recv_ts": np.asarray(recv_ts, dtype=float),
            "min_delay_s": 0.0,
            "res_send_s": np.broadcast_to(np.asarray(res_send, dtype=float), (n,)),
            "res_recv_s": np.broadcast_to(np.asarray(res_recv, dtype=float), (n,)),
            "evidence": np.asarray(evidence, dtype=object),
        },
        columns=PAIR_COLUMNS,
    )
    ok = (
        np.isfinite(df["send_ts"])
        & np.isfinite(df["recv_ts"])
        & df["send_domain"].notna()
        & df["recv_domain"].notna()
        & (df["send_domain"] != df["recv_domain"])
    )
    return df[ok]


def _joined(kind, j: pd.DataFrame, where, sender: str, send_ts, recv_ts, res_send, res_recv) -> pd.DataFrame:
    """:func:`_frame` of a join of an apiserver side (columns suffixed ``_a``) and a kubelet side (``_k``):
    ``sender`` ("a" or "k") sent, the other received; clocks and file:line evidence from each side."""
    s, r = sender, "k" if sender == "a" else "a"
    ev = [
        f"{x} → {y}"
        for x, y in zip(where(j[f"source_id_{s}"], j[f"line_no_{s}"]), where(j[f"source_id_{r}"], j[f"line_no_{r}"]))
    ]
    return _frame(
        kind, j[f"clock_{s}"].to_numpy(), send_ts, j[f"clock_{r}"].to_numpy(), recv_ts, res_send, res_recv, ev
    )


#: the columns of the requests the pairs read
REQUEST_COLUMNS = [
    "ts",
    "start_ts",
    "latency_s",
    "clock",
    "method",
    "uri",
    "client",
    "user_agent",
    "namespace",
    "resource",
    "subresource",
    "name",
    "code",
    "source_id",
    "line_no",
]


def _requests(run: Run) -> pd.DataFrame:
    """Deduplicated API requests with float ``end``/``start`` seconds (apiserver clock)."""
    if not run.has("requests"):
        return pd.DataFrame(
            columns=[
                "end",
                "start",
                "clock",
                "method",
                "uri",
                "client",
                "user_agent",
                "namespace",
                "resource",
                "subresource",
                "name",
                "source_id",
                "line_no",
            ]
        )
    from .latency import api_requests

    df, _ = api_requests(run, columns=REQUEST_COLUMNS)  # only what the pairs read (the report keeps these)
    df["end"] = _sec(df["ts"])
    start = _sec(df["start_ts"]) if "start_ts" in df else np.full(len(df), np.nan)
    lat = df["latency_s"].to_numpy(dtype=float) if "latency_s" in df else np.full(len(df), np.nan)
    df["start"] = np.where(np.isfinite(start), start, df["end"].to_numpy() - lat)
    return df


def _is_test_client(req: pd.DataFrame) -> pd.Series:
    ua = req["user_agent"].fillna("").astype(str)
    cl = req["client"].fillna("").astype(str)
    return ua.str.startswith("e2e.test") | cl.str.contains("e2e") | cl.str.contains("clusterloader")


def _order_after(lines: pd.DataFrame, req_end: np.ndarray, req_ev: np.ndarray, where) -> tuple:
    """k-th line (sorted) ← k-th smallest request end: the k-th line follows ≥ k completed requests."""
    lines = lines.sort_values("ts_s", kind="stable")
    o = np.argsort(req_end, kind="stable")
    k = min(len(lines), o.size)
    lines = lines.iloc[:k]
    return (
        req_end[o[:k]],
        lines["ts_s"].to_numpy(),
        lines["clock"].to_numpy(),
        [f"{a} → {b}" for a, b in zip(req_ev[o[:k]], where(lines["source_id"], lines["line_no"]))],
    )


def _event_then_line(kind: str, j: pd.DataFrame, send_clock: str, send_ts: str, where) -> pd.DataFrame:
    """Pairs of an apiserver event (``j[send_clock]``, ``j[send_ts]``, µs) and the test log line that
    follows it (``clock``, ``ts_s``, the e2e log's resolution); evidence ``event → file:line``."""
    return _frame(
        kind,
        j[send_clock].to_numpy(),
        j[send_ts].to_numpy(),
        j["clock"].to_numpy(),
        j["ts_s"].to_numpy(),
        RES_US,
        RES_E2E,
        [f"{a} → {b}" for a, b in zip(j["_ev"], where(j["source_id"], j["line_no"]))],
    )


def _api_round_trips(run: Run, req: pd.DataFrame, tl: pd.DataFrame, where: _Where) -> list[pd.DataFrame]:
    """``api_round_trip`` pairs between the test's log lines and its own requests (test client only).

    Order statistics are taken per test clock (two test logs on two machines are never mixed);
    extra requests of the same shape (another test process, retries) keep every bound valid.
    """
    if tl.empty or req.empty:
        return []
    if tl["clock"].nunique(dropna=True) > 1:
        return [f for _, g in tl.groupby("clock") for f in _api_round_trips(run, req, g, where)]
    out = []
    treq = req[_is_test_client(req)]
    if treq.empty:
        return out
    rev = where(treq["source_id"], treq["line_no"])
    treq = treq.assign(_ev=rev)
    msg = tl["msg"].astype(str)
    # after: Created replication controller with name: X, namespace: NS
    m = msg.str.extract(r"^Created replication controller with name: (?P<name>[^,\s]+), namespace: (?P<ns>[^,\s]+)")
    for ns, g in tl[m["ns"].notna()].groupby(m["ns"][m["ns"].notna()]):
        r = treq[
            (treq["method"] == "POST")
            & (treq["namespace"] == ns)
            & (treq["resource"] == "replicationcontrollers")
            & (treq["subresource"].fillna("") == "")
        ]
        if r.empty:
            continue
        s, t, clk, ev = _order_after(g, r["end"].to_numpy(), r["_ev"].to_numpy(), where)
        out.append(_frame("api_round_trip", r["clock"].iloc[0], s, clk, t, RES_US, RES_E2E, ev))
    # after: Deleting <kind> NAME took: D  (matched by name)
    m = msg.str.extract(r"^Deleting (?:RC|ReplicationController|\{ ReplicationController\}|\S+) (?P<name>\S+) took: ")
    d = tl[m["name"].notna()].assign(_name=m["name"][m["name"].notna()])
    if not d.empty:
        r = treq[(treq["method"] == "DELETE") & treq["name"].notna()]
        j = d.merge(
            r[["name", "end", "clock", "_ev"]].rename(columns={"clock": "_rclock"}),
            left_on="_name",
            right_on="name",
            how="inner",
        )
        # several deletes of one name: the line follows the earliest one at least
        j = j.sort_values("end").drop_duplicates(["source_id", "line_no"], keep="first")
        out.append(_event_then_line("api_round_trip", j, "_rclock", "end", where))
    # after: Listing nodes for easy debugging  ← GET /api/v1/nodes
    g = tl[msg.str.startswith("Listing nodes for easy debugging")]
    r = treq[
        (treq["method"] == "GET")
        & (treq["resource"] == "nodes")
        & (treq["namespace"].fillna("") == "")
        & (treq["name"].fillna("") == "")
    ]
    if not g.empty and not r.empty:
        s, t, clk, ev = _order_after(g, r["end"].to_numpy(), r["_ev"].to_numpy(), where)
        out.append(_frame("api_round_trip", r["clock"].iloc[0], s, clk, t, RES_US, RES_E2E, ev))
    # before: Resetting latency metrics in apiserver...  → DELETE /metrics
    g = tl[msg.str.startswith("Resetting latency metrics in apiserver")].sort_values("ts_s", kind="stable")
    r = treq[(treq["method"] == "DELETE") & (treq["uri"].astype(str).str.startswith("/metrics"))]
    if not g.empty and not r.empty:
        n = len(g)
        st = np.sort(r["start"].to_numpy())[::-1]  # latest first
        order = np.argsort(r["start"].to_numpy())[::-1]
        revs = r["_ev"].to_numpy()[order]
        k = np.arange(n)  # line k (0-based) → (n−k)-th latest start
        j = n - 1 - k
        keep = j < st.size
        g2 = g.iloc[np.flatnonzero(keep)]
        jj = j[keep]
        out.append(
            _frame(
                "api_round_trip",
                g2["clock"].to_numpy(),
                g2["ts_s"].to_numpy(),
                r["clock"].iloc[0],
                st[jj],
                RES_E2E,
                RES_US,
                [f"{a} → {b}" for a, b in zip(where(g2["source_id"], g2["line_no"]), revs[jj])],
            )
        )
    return out


def _status_updates(req: pd.DataFrame) -> pd.DataFrame:
    """Pod status writes (PATCH/PUT …/pods/NAME/status) with their end time, one row per request."""
    if req.empty:
        return req.assign(pod=pd.Series(dtype=str))
    r = req[
        (req["resource"] == "pods")
        & (req["subresource"] == "status")
        & req["method"].isin(["PATCH", "PUT"])
        & (req["code"] < 300)
    ]
    return r.rename(columns={"name": "pod"})


def _pod_watch(run: Run, req: pd.DataFrame, tl: pd.DataFrame, pt: pd.DataFrame, where: _Where) -> list[pd.DataFrame]:
    """``pod_watch`` pairs: a pod's first status write received (apiserver) → the test seeing it running.

    The write that made the pod Running is at or after the pod's first status write, and the
    test's watch delivers it after its commit (which may precede the write's response end), so
    the request *start* of the first write is the send event.
    """
    out = []
    st = _status_updates(req)
    if st.empty:
        return out
    st = st[np.isfinite(st["start"].to_numpy(dtype=float))]
    st = st.assign(_ev=where(st["source_id"], st["line_no"]))
    first = st.sort_values("start").drop_duplicates(["namespace", "pod"], keep="first")
    # 10% worst e2e latencies: watch (test clock) = creationTimestamp (whole s, as printed) + latency
    if run.has("test_pod_latencies") and not pt.empty:
        lat = run.table("test_pod_latencies")
        lat = lat[(lat["metric"] == "pod_startup") & lat["pod"].notna()]
        cr = pt[(pt["milestone"] == "created") & (pt["origin"] == "pods-json")]
        if not lat.empty and not cr.empty:
            cr = cr.drop_duplicates("pod")[["pod", "ts"]].rename(columns={"ts": "_created"})
            j = lat.merge(cr, on="pod").merge(
                first[["pod", "start", "clock", "_ev"]].rename(columns={"clock": "_aclock"}), on="pod"
            )
            if not j.empty:
                watch = _sec(j["_created"]) + j["latency_s"].to_numpy(dtype=float)
                clk = run.table("test_log", columns=["clock"])["clock"].dropna()
                tclock = clk.iloc[0] if len(clk) else "test"
                out.append(
                    _frame(
                        "pod_watch",
                        j["_aclock"].to_numpy(),
                        j["start"].to_numpy(),
                        tclock,
                        watch,
                        RES_US,
                        1e-9,
                        [f"{a} → {b}" for a, b in zip(j["_ev"], where(j["source_id"], j["line_no"]))],
                    )
                )
    # Found pod 'RC' running: some pod of RC is running, so at least the earliest first status write
    # among the RC's pods was received before the line
    if not tl.empty:
        m = tl["msg"].astype(str).str.extract(r"^Found pod '(?P<rc>[^']+)' running")
        g = tl[m["rc"].notna()].assign(_rc=m["rc"][m["rc"].notna()])
        if not g.empty:
            st2 = first.assign(_rc=first["pod"].astype(str).str.replace(r"-[a-z0-9]{5}$", "", regex=True))
            st2 = st2.sort_values("start").drop_duplicates("_rc", keep="first")
            j = g.merge(st2[["_rc", "start", "clock", "_ev"]].rename(columns={"clock": "_aclock"}), on="_rc")
            if not j.empty:
                out.append(_event_then_line("pod_watch", j, "_aclock", "start", where))
    return out


def _bindings(req: pd.DataFrame) -> pd.DataFrame:
    """The pods' bindings the apiserver accepted (``POST …/pods/<name>/binding`` → 2xx) with a receipt."""
    return req[
        (req["resource"] == "pods")
        & (req["subresource"] == "binding")
        & (req["method"] == "POST")
        & (req["code"] < 300)
        & np.isfinite(req["start"].to_numpy(dtype=float))
    ]


def _node_pairs(req: pd.DataFrame, pt: pd.DataFrame, where: _Where) -> list[pd.DataFrame]:
    """``bind_to_kubelet``, ``kubelet_status`` and ``kubelet_watch`` pairs between the master and node hosts."""
    out = []
    if pt.empty:
        return out
    kub = pt[pt["origin"] == "kubelet"]
    # binding received by the apiserver (request start) → the kubelet's first record of the pod (node
    # clock).  Not the binding's response end nor the scheduler's "bound" line: the kubelet's watch may
    # deliver the pod between the commit and the response.
    bound = pd.DataFrame(columns=["namespace", "pod", "ts", "clock", "resolution_s", "source_id", "line_no"])
    if not req.empty:
        b = _bindings(req)
        bound = pd.DataFrame(
            {
                "namespace": b["namespace"],
                "pod": b["name"],
                "ts": pd.to_datetime(b["start"], unit="s", utc=True),
                "clock": b["clock"],
                "resolution_s": RES_US,
                "source_id": b["source_id"],
                "line_no": b["line_no"],
            }
        )
    bound = bound.sort_values("ts").drop_duplicates(["namespace", "pod"], keep="first")
    first = kub[
        kub["milestone"].isin(
            ["kubelet_add", "running_observed", "pleg_container_started", "watch_observed", "startup_logged"]
        )
    ]
    first = first.sort_values("ts").drop_duplicates(["namespace", "pod", "clock"], keep="first")
    if not bound.empty and not first.empty:
        j = bound.merge(first, on=["namespace", "pod"], suffixes=("_b", "_k"))
        if not j.empty:
            out.append(
                _frame(
                    "bind_to_kubelet",
                    j["clock_b"].to_numpy(),
                    _sec(j["ts_b"]),
                    j["clock_k"].to_numpy(),
                    _sec(j["ts_k"]),
                    j["resolution_s_b"].fillna(RES_US).to_numpy(),
                    j["resolution_s_k"].fillna(RES_US).to_numpy(),
                    [
                        f"{a} → {b}"
                        for a, b in zip(
                            where(j["source_id_b"], j["line_no_b"]), where(j["source_id_k"], j["line_no_k"])
                        )
                    ],
                )
            )
    # kubelet's container start (node clock) → the status write that carries it (apiserver), see
    # _running_writes: the k-th write of the pod, k = 1 + the syncs the kubelet can have written before
    st = _status_updates(req)
    if not st.empty:
        j = _running_writes(kub, st, pt, req)
        if not j.empty:
            res = j["resolution_s"].fillna(RES_US).to_numpy()
            out.append(_joined("kubelet_status", j, where, "k", _sec(j["ts"]), j["end"].to_numpy(), res, RES_US))
    # the pod's first status write received (apiserver) → the kubelet's own watch seeing it running
    # (watchObservedRunningTime): the running status was written at or after the first write
    wo = kub[kub["milestone"] == "watch_observed"].sort_values("ts").drop_duplicates(["namespace", "pod"])
    if not st.empty and not wo.empty:
        first_w = st.sort_values("start").drop_duplicates(["namespace", "pod"], keep="first")
        j = first_w[["namespace", "pod", "start", "clock", "source_id", "line_no"]].merge(
            wo, on=["namespace", "pod"], suffixes=("_a", "_k")
        )
        j = j[np.isfinite(j["start"].to_numpy(dtype=float))]
        if not j.empty:
            res = j["resolution_s"].fillna(RES_US).to_numpy()
            out.append(_joined("kubelet_watch", j, where, "a", j["start"].to_numpy(), _sec(j["ts"]), RES_US, res))
    return out


def _pod_dump_pairs(req: pd.DataFrame, pt: pd.DataFrame, where: _Where) -> list[pd.DataFrame]:
    """``bind_to_pod_dump`` and ``pod_dump_ready`` pairs: the kubelet's own stamps in a pod dump.

    The kubelet's status manager stamps a pod's ``status.startTime`` (the first time it sets a status) and
    each condition's ``lastTransitionTime`` (when a sync changes it) with the node's clock
    (pkg/kubelet/status/status_manager.go ``updateStatusInternal``); the dump keeps them to the second
    (truncated).  ``startTime`` and ``Initialized`` are set in the kubelet's first sync of the pod, after
    its watch delivered the bound pod: the binding's receipt precedes them.  ``Ready`` (and
    ``ContainersReady``) turn True in the sync that saw the containers running, which then sends that
    status: they precede the receipt of the pod's last status write before its first DELETE or its
    namespace's teardown (the run deletes pods once their Running status is written, as density, load and
    clusterloader2 tests do; the same assumption as :func:`_running_writes`); a pod the dump shows being
    deleted is left out (:func:`kubelog.analysis.load.dump_clocks` reads the same).  A dump covers every pod,
    also those of the hollow nodes whose logs the run lacks; many pods' seconds, each truncated at its own
    phase, bound a clock to well under a second."""
    out = []
    if pt.empty or req.empty:
        return out
    dumped = pt[pt["origin"].isin(["pods-json", "pods-yaml"])]
    d = dumped[dumped["clock"].astype(str).str.startswith("node/")]
    # a pod the dump shows being deleted is left out: its conditions may have changed after the delete
    gone = pd.MultiIndex.from_frame(dumped.loc[dumped["milestone"] == "deleted", ["namespace", "pod"]].fillna(""))
    d = d[~pd.MultiIndex.from_frame(d[["namespace", "pod"]].fillna("")).isin(gone)]
    if d.empty:
        return out
    true = d["detail"].fillna("").astype(str).str.contains('"status": "True"')
    cols = ["namespace", "pod", "ts", "clock", "resolution_s", "source_id", "line_no"]
    b = _bindings(req)
    bound = (
        b.rename(columns={"name": "pod"})
        .sort_values("start", kind="stable")
        .drop_duplicates(["namespace", "pod"], keep="first")[
            ["namespace", "pod", "start", "clock", "source_id", "line_no"]
        ]
    )
    first = d[(d["milestone"] == "accepted") | ((d["milestone"] == "initialized") & true)]
    first = first[first["ts"].notna()].sort_values("ts", kind="stable").drop_duplicates(["namespace", "pod"])[cols]
    j = bound.merge(first, on=["namespace", "pod"], suffixes=("_a", "_k"))
    if not j.empty:
        res = j["resolution_s"].fillna(RES_S).to_numpy()
        out.append(_joined("bind_to_pod_dump", j, where, "a", j["start"].to_numpy(), _sec(j["ts"]), RES_US, res))
    ready = d[d["milestone"].isin(["ready", "containers_ready"]) & true & d["ts"].notna()]
    ready = ready.sort_values("ts", kind="stable").drop_duplicates(["namespace", "pod"])[cols]
    st = _status_updates(req)
    st = st[np.isfinite(st["start"].to_numpy(dtype=float))]
    if ready.empty or st.empty:
        return out
    dels = req[
        (req["method"] == "DELETE")
        & (req["resource"] == "pods")
        & (req["subresource"].fillna("") == "")
        & req["name"].notna()
    ]
    first_del = dels.rename(columns={"name": "pod"}).groupby(["namespace", "pod"])["start"].min().rename("_del")
    w = st.merge(first_del, on=["namespace", "pod"], how="left")
    w["_td"] = w["namespace"].map(_teardown_receipts(req))
    w = w[~(w["start"] >= w[["_del", "_td"]].min(axis=1).fillna(np.inf))]  # only writes before the pod's delete
    last = w.sort_values("start", kind="stable").drop_duplicates(["namespace", "pod"], keep="last")
    j = ready.merge(
        last[["namespace", "pod", "start", "clock", "source_id", "line_no"]],
        on=["namespace", "pod"],
        suffixes=("_k", "_a"),
    )
    if not j.empty:
        res = j["resolution_s"].fillna(RES_S).to_numpy()
        out.append(_joined("pod_dump_ready", j, where, "k", _sec(j["ts"]), j["start"].to_numpy(), res, RES_US))
    return out


def _teardown_receipts(req: pd.DataFrame) -> pd.Series:
    """Per namespace, the receipt (request start, s) of its first teardown in ``req``: ``DELETE
    namespaces/<ns>`` or the namespace controller's ``DELETE …/namespaces/<ns>/pods`` (a collection: no
    name), each a graceful delete of every pod in it."""
    nm, sub = req["name"].fillna("").astype(str), req["subresource"].fillna("")
    td = req[
        (req["method"] == "DELETE")
        & (sub == "")
        & (((req["resource"] == "namespaces") & (nm != "")) | ((req["resource"] == "pods") & (nm == "")))
    ]
    ns_of = np.where(td["resource"] == "namespaces", nm[td.index], td["namespace"].fillna("").astype(str))
    return td.assign(_ns=ns_of).groupby("_ns")["start"].min()


def _running_writes(
    kub: pd.DataFrame, st: pd.DataFrame, pt: pd.DataFrame | None = None, req: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per pod: the kubelet's container-start record joined with the status write that follows it.

    Kubelet source (``pkg/kubelet/kubelet.go`` ``SyncPod``, ``pkg/kubelet/status/status_manager.go``):
    every sync of a pod sets its status before the runtime acts, and the status manager writes each
    changed status (PATCH ``pods/<name>/status``), in order.  Syncs are triggered by ``SyncLoop ADD``
    and by PLEG events; the Running status comes from the sync after the PLEG ``ContainerStarted``
    record (``observedRunningTime`` of 1.26+ is no send event: the status manager records it after
    the Running write returned, ``RecordStatusUpdated``).  So at most ``1 + (PLEG records of the pod before that record)`` writes can carry a status made
    before the start, and the next write (the k-th by request start) was sent after it: the pair is
    causal whatever the timing.  A pod needs its ADD record and at least one PLEG record (proof that
    the log covers its syncs), and at least k writes; otherwise it gives no pair (a pod's *last*
    write, used before, is minutes later at termination and bounds nothing).  Exception: a pod with
    fewer than k writes before its first DELETE or its namespace's teardown (apiserver clock) that a
    pod dump shows running had
    its Pending status merged into the Running write (the status manager sends the latest cached
    status); its last write before the delete is used.  This assumes the run deletes pods only
    after their Running status was written, as density/load/CL2 tests do (they wait for running).
    """
    ran = deleted = None
    if pt is not None and len(pt):
        r = pt[
            (pt["origin"] == "pods-json")
            & pt["milestone"].isin(["container_started", "started", "ready", "containers_ready"])
        ]
        ran = r[["namespace", "pod"]].drop_duplicates()
        deleted = pd.DataFrame(columns=["namespace", "pod", "_del"])
        if req is not None and len(req):
            d = req[
                (req["method"] == "DELETE")
                & (req["resource"] == "pods")
                & (req["subresource"].fillna("") == "")
                & req["name"].notna()
            ]
            deleted = (
                d.groupby(["namespace", "name"])["start"]
                .min()
                .rename("_del")
                .reset_index()
                .rename(columns={"name": "pod"})
            )
            # a namespace teardown deletes its pods gracefully too (DELETE namespaces/<ns>, then the
            # namespace controller's DELETECOLLECTION): the kubelet's final DELETE comes only after its
            # terminal write, so without this the terminal write counted as a write before the delete
            first_td = _teardown_receipts(req)
            if len(first_td):
                pods_ = ran.assign(_td=ran["namespace"].map(first_td))[["namespace", "pod", "_td"]]
                deleted = pods_.merge(deleted, on=["namespace", "pod"], how="outer")
                deleted["_del"] = deleted[["_del", "_td"]].min(axis=1)
                deleted = deleted[["namespace", "pod", "_del"]]
    cols = ["namespace", "pod", "ts", "clock", "resolution_s", "source_id", "line_no"]
    if kub.empty:
        return pd.DataFrame()
    k = kub[
        ["namespace", "pod", "milestone", "ts", "clock", "resolution_s", "source_id", "line_no"]
        + (["uid"] if "uid" in kub.columns else [])
    ].copy()
    k["t"] = _sec(k["ts"])
    pleg = k[k["milestone"].astype(str).str.startswith("pleg_")]
    has_add = set(map(tuple, k[k["milestone"] == "kubelet_add"][["namespace", "pod"]].to_numpy()))
    # not observedRunningTime: the kubelet takes it *after* the Running write returned
    # (status_manager.go syncPod → RecordStatusUpdated), so it follows the write, not precedes it
    # the record the Running write follows: the container's, the last ContainerStarted of the pod's first life
    # (a pod's sandbox has its own, often a relist earlier: load.container_start_records); the writes before
    # the Running one are counted from the first ContainerStarted (the sandbox's makes no write of its own)
    from .load import container_start_records

    start = container_start_records(pleg, t="t")
    first = k[k["milestone"] == "pleg_container_started"].groupby(["namespace", "pod"])["t"].min()
    rows = []
    pg = {key: np.sort(g["t"].to_numpy()) for key, g in pleg.groupby(["namespace", "pod"])}
    for r in start.itertuples(index=False):
        key = (r.namespace, r.pod)
        if key not in has_add or key not in pg:
            continue
        n_before = int(np.searchsorted(pg[key], first[key], side="left"))  # PLEG records strictly before
        rows.append((r.namespace, r.pod, 2 + n_before))
    if not rows:
        return pd.DataFrame()
    need = pd.DataFrame(rows, columns=["namespace", "pod", "_k"])
    w = st[np.isfinite(st["start"].to_numpy(dtype=float))].sort_values("start", kind="stable")
    w = w.assign(_i=w.groupby(["namespace", "pod"]).cumcount() + 1)
    w = w.merge(need, on=["namespace", "pod"])
    if ran is not None and len(ran):
        # fewer writes than k before the pod's delete: the status manager merged the Pending status
        # into the Running one (it sends the latest cached status), so for a pod the apiserver stored
        # as running (a pod dump) the last write before the delete carries Running
        pre = w[
            ~(w["start"] >= w.merge(deleted, on=["namespace", "pod"], how="left")["_del"].fillna(np.inf).to_numpy())
        ]
        n_pre = pre.groupby(["namespace", "pod"])["_i"].max().rename("_n").reset_index()
        n_pre = n_pre.merge(ran, on=["namespace", "pod"])
        w = w.merge(n_pre, on=["namespace", "pod"], how="left")
        w["_k"] = np.where(w["_n"].notna() & (w["_n"] < w["_k"]), w["_n"], w["_k"])
    w = w[w["_i"] == w["_k"]]
    return start[cols].merge(
        w[["namespace", "pod", "end", "clock", "source_id", "line_no"]], on=["namespace", "pod"], suffixes=("_k", "_a")
    )


def _cl2_round_trips(run: Run, req: pd.DataFrame, where: _Where) -> list[pd.DataFrame]:
    """``api_round_trip`` pairs between the clusterloader2 log and CL2's own calls (issue 16 item 4).

    perf-tests ``clusterloader2/pkg/test/simple_test_executor.go``: ``AutomanagedNamespacePrefix: P``
    is logged before any call in the automanaged namespaces ``P-<n>``; ``Step "…" started`` before the
    step's phase calls and ``Step "…" ended`` after all of them completed (``wg.Wait``); ``Resources
    cleanup time`` after ``DeleteAutomanagedNamespaces`` deleted the namespaces ``P-<n>``.  CL2's calls
    carry the ``clusterloader`` user agent; a *phase* call is a mutating call (POST/PUT/PATCH/DELETE) of
    an object in an automanaged namespace.  Steps run one after another, so a phase call lies inside
    its step's [started, ended] window; which window is decided from the offset bounds already known
    (first the prefix and cleanup pairs): a call whose possible test-clock span meets exactly one
    window belongs to it (the bounds at each call allow the test clock to drift since the pairs that fixed
    them: :func:`_drifting_bounds`).  Each window then gives ``started → earliest call start`` and
    ``latest call end → ended``; bounds and assignment are refined until nothing changes.
    """
    if req.empty or not run.has("messages"):
        return []
    m = run.table("messages", columns=["ts", "clock", "component", "msg", "source_id", "line_no"])
    m = m[(m["component"] == "clusterloader2") & m["ts"].notna()]
    if m.empty:
        return []
    cl = req[
        req["client"].fillna("").astype(str).str.contains("clusterloader")
        | req["user_agent"].fillna("").astype(str).str.startswith("clusterloader")
    ]
    cl = cl[np.isfinite(cl["start"].to_numpy(dtype=float)) & np.isfinite(cl["end"].to_numpy(dtype=float))]
    if cl.empty:
        return []
    out = []
    for clock, g in m.groupby("clock"):
        g = g.assign(t=_sec(g["ts"])).sort_values("t", kind="stable")
        msg = g["msg"].astype(str)
        pre = msg.str.extract(r"^AutomanagedNamespacePrefix: (?P<p>\S+)")["p"].dropna()
        if pre.empty:
            continue
        prefix = pre.iloc[0]
        prefix_line = g.loc[pre.index[0]]
        rx = rf"^{re.escape(prefix)}-\d+$"
        ns_ = cl["namespace"].fillna("").astype(str)
        nm_ = cl["name"].fillna("").astype(str)
        mine = cl[ns_.str.match(rx)]
        if mine.empty:
            continue
        aclock = mine["clock"].iloc[0]
        ev = where(mine["source_id"], mine["line_no"])
        mine = mine.assign(_ev=ev)
        fixed = []
        # prefix line → the earliest call in an automanaged namespace
        i0 = int(np.argmin(mine["start"].to_numpy()))
        fixed.append(
            (
                "b",
                prefix_line["t"],
                mine["start"].iloc[i0],
                f"{where([prefix_line['source_id']], [prefix_line['line_no']])[0]} → {mine['_ev'].iloc[i0]}",
            )
        )
        # automanaged namespaces deleted → "Resources cleanup time"
        nsdel = cl[
            (cl["method"] == "DELETE") & (cl["resource"] == "namespaces") & (nm_.str.match(rx) | ns_.str.match(rx))
        ]
        cln = g[msg.str.startswith("Resources cleanup time")]
        if not nsdel.empty and not cln.empty:
            i1 = int(np.argmax(nsdel["end"].to_numpy()))
            lt = cln.iloc[-1]
            fixed.append(
                (
                    "f",
                    nsdel["end"].iloc[i1],
                    lt["t"],
                    f"{where([nsdel['source_id'].iloc[i1]], [nsdel['line_no'].iloc[i1]])[0]} → "
                    f"{where([lt['source_id']], [lt['line_no']])[0]}",
                )
            )
        # step windows
        st = msg.str.extract(r'^Step "(?P<s>.*)" (?P<e>started|ended)$')
        win = []
        for _name, h in g[st["s"].notna()].groupby(st["s"][st["s"].notna()], sort=False):
            e = st.loc[h.index, "e"]
            a, b = h[e == "started"], h[e == "ended"]
            if len(a) == 1 and len(b) == 1 and a["t"].iloc[0] <= b["t"].iloc[0]:
                win.append((a.iloc[0], b.iloc[0]))
        phase = mine[mine["method"].isin(["POST", "PUT", "PATCH", "DELETE"]) & (mine["resource"] != "namespaces")]
        assigned: dict[int, np.ndarray] = {}
        for _ in range(6):
            pairs = _cl2_frame(fixed, win, phase, assigned, clock, aclock, where)
            fwd = pairs[pairs["send_domain"] == aclock]
            bwd = pairs[pairs["send_domain"] == clock]
            est = sm.offset_bounds(_batch(fwd, aclock, clock), _batch(bwd, clock, aclock))
            if not (math.isfinite(est.lower) and math.isfinite(est.upper)) or est.lower > est.upper + sm.FLOAT_TOL_S:
                break
            # θ = C_test − C_api at each call, allowing the clock to drift (|drift| ≤ the prior) since the pairs
            lo, hi = _drifting_bounds(
                fwd, bwd, phase["start"].to_numpy(dtype=float), phase["end"].to_numpy(dtype=float)
            )
            ps, pe = phase["start"].to_numpy(dtype=float) + lo, phase["end"].to_numpy(dtype=float) + hi
            hits = np.zeros((len(win), len(phase)), dtype=bool)
            for i, (a, b) in enumerate(win):
                hits[i] = (ps <= b["t"]) & (pe >= a["t"])
            one = hits.sum(axis=0) == 1
            new = {i: np.flatnonzero(hits[i] & one) for i in range(len(win))}
            new = {i: v for i, v in new.items() if v.size}
            if all(i in assigned and np.array_equal(assigned[i], v) for i, v in new.items()) and set(new) == set(
                assigned
            ):
                break
            assigned = new
        out.append(_cl2_frame(fixed, win, phase, assigned, clock, aclock, where))
    return out


def _drifting_bounds(fwd: pd.DataFrame, bwd: pd.DataFrame, t_lo: np.ndarray, t_hi: np.ndarray):
    """Bounds of θ = C_test − C_api at the apiserver times ``t_lo`` (lower) and ``t_hi`` (upper) from the CL2
    pairs, for a clock that may drift by up to the prior (``sm.MAX_DRIFT``): a pair at apiserver time
    ``t_k`` bounds θ(t) within ``bound_k ± MAX_DRIFT·|t − t_k|``.  A test → apiserver pair (``bwd``: a line
    before a call) gives ``θ ≥ C_test − C_api``, an apiserver → test pair (``fwd``: a call before a line)
    ``θ ≤ C_test − C_api``.  Without drift this is the constant-offset interval; with it, a call far from
    the pairs that fixed the interval is not ruled out of its step by a drift of tens of ppm (a 40 ppm clock
    moves 23 ms in 10 min, more than a step's calls are apart from the next step's lines)."""
    d = sm.MAX_DRIFT
    lt, lv = bwd["recv_ts"].to_numpy(dtype=float), (bwd["send_ts"] - bwd["recv_ts"]).to_numpy(dtype=float)
    ut, uv = fwd["send_ts"].to_numpy(dtype=float), (fwd["recv_ts"] - fwd["send_ts"]).to_numpy(dtype=float)
    lo = (lv[None, :] - d * np.abs(t_lo[:, None] - lt[None, :])).max(axis=1) - sm.FLOAT_TOL_S
    hi = (uv[None, :] + d * np.abs(t_hi[:, None] - ut[None, :])).min(axis=1) + sm.FLOAT_TOL_S
    return lo, hi


def _cl2_frame(fixed, win, phase, assigned, clock, aclock, where) -> pd.DataFrame:
    rows = []  # (direction, send_ts, recv_ts, evidence): "b" test → api, "f" api → test
    rows += fixed
    for i, idx in assigned.items():
        a, b = win[i]
        calls = phase.iloc[idx]
        j0 = int(np.argmin(calls["start"].to_numpy()))
        j1 = int(np.argmax(calls["end"].to_numpy()))
        rows.append(
            (
                "b",
                a["t"],
                calls["start"].iloc[j0],
                f"{where([a['source_id']], [a['line_no']])[0]} → {calls['_ev'].iloc[j0]}",
            )
        )
        rows.append(
            (
                "f",
                calls["end"].iloc[j1],
                b["t"],
                f"{calls['_ev'].iloc[j1]} → {where([b['source_id']], [b['line_no']])[0]}",
            )
        )
    bw = [r for r in rows if r[0] == "b"]
    fw = [r for r in rows if r[0] == "f"]
    parts = [
        _frame(
            "api_round_trip", clock, [r[1] for r in bw], aclock, [r[2] for r in bw], RES_US, RES_US, [r[3] for r in bw]
        ),
        _frame(
            "api_round_trip", aclock, [r[1] for r in fw], clock, [r[2] for r in fw], RES_US, RES_US, [r[3] for r in fw]
        ),
    ]
    return pd.concat(parts, ignore_index=True)


def _event_pairs(ev: pd.DataFrame, where: _Where) -> list[pd.DataFrame]:
    """``event`` pairs: reporter time (µs ``eventTime`` or 1 s ``firstTimestamp``) → creationTimestamp (1 s)."""
    if ev.empty:
        return []
    et, ft = _sec(ev["event_time"]), _sec(ev["first_ts"])
    send = np.where(np.isfinite(et), et, ft)
    res = np.where(np.isfinite(et), RES_US, RES_S)
    # the apiserver's clock: the domain of the objects files (creation_ts is written by the apiserver)
    api = "apiserver"
    ok = ev["clock"].notna() & (ev["clock"] != api)
    e = ev[ok.to_numpy()]
    return [
        _frame(
            "event",
            e["clock"].to_numpy(),
            send[ok.to_numpy()],
            api,
            _sec(e["creation_ts"]),
            res[ok.to_numpy()],
            RES_S,
            where(e["source_id"], e["line_no"]),
        )
    ]


def _kubelet_event_pairs(
    ev: pd.DataFrame, req: pd.DataFrame, where: _Where, pt: pd.DataFrame | None = None
) -> list[pd.DataFrame]:
    """``kubelet_event`` pairs: the instants in the names of a kubelet's events
    (:func:`kubelog.analysis.load.event_name_instants`: client-go names an event ``<pod>.<UnixNano hex>``,
    the kubelet's clock at ns) against the same pod's requests (apiserver clock).  Kubelet source
    (pkg/kubelet/kuberuntime/kuberuntime_container.go): ``Created`` once the runtime created the container,
    ``Started`` once it started it, ``Killing`` right before it stops it.  So: the bind received → the pod's
    first Created (else Started) event; the pod's first DELETE received → its Killing event (only for a pod
    deleted twice: the first is then the graceful delete the kubelet acted on, not its own final one); the
    Killing event → the pod's last DELETE received (the kubelet's final delete, sent after the terminal
    status).  And ``kubelet_running``: the Started event → the pod's last status write received before its
    graceful delete (its first DELETE or its namespace's teardown; the kubelet writes the latest status,
    which then shows the container running); ``kubelet_running_start`` the same from the start's estimate
    between Created and Started (``pt``: the pod dumps' ``startedAt`` seconds place it)."""
    if ev.empty or req.empty:
        return []
    from .load import event_name_instants

    ev = ev[(ev["object_kind"] == "Pod") & ev["reason"].isin(["Created", "Started", "Killing"])]
    ev = ev[ev["clock"].fillna("").str.startswith("node/")]
    if ev.empty:
        return []
    inst = event_name_instants(ev)
    ev = ev.assign(v=inst / 1e9, namespace=ev["object_namespace"].fillna(""), pod=ev["object_name"])[np.isfinite(inst)]
    if ev.empty:
        return []
    pods = req[(req["resource"] == "pods") & (req["code"] < 300) & req["name"].fillna("").ne("")]
    pods = pods.assign(namespace=pods["namespace"].fillna(""), pod=pods["name"])
    key = ["namespace", "pod"]
    side = ["v", "clock", "source_id", "line_no"]

    def first(*reasons):
        e = ev[ev["reason"].isin(reasons)].sort_values("v", kind="stable")
        return e.drop_duplicates(key, keep="first")[key + side]

    def requests(mask, col, keep, twice=False):
        r = pods[mask & np.isfinite(pods[col].to_numpy(dtype=float))].sort_values(col, kind="stable")
        if twice:  # only pods deleted twice (the graceful DELETE, then the kubelet's own)
            r = r[r.groupby(key)[col].transform("size") >= 2]
        r = r.drop_duplicates(key, keep=keep)[key + [col, "clock", "source_id", "line_no"]]
        return r.rename(columns={col: "v"})

    out = []

    def pair(send: pd.DataFrame, recv: pd.DataFrame, kind: str = "kubelet_event"):
        j = send.merge(recv, on=key, suffixes=("_s", "_r"))
        if len(j):
            ws, wr = where(j["source_id_s"], j["line_no_s"]), where(j["source_id_r"], j["line_no_r"])
            out.append(
                _frame(
                    kind,
                    j["clock_s"].to_numpy(),
                    j["v_s"].to_numpy(),
                    j["clock_r"].to_numpy(),
                    j["v_r"].to_numpy(),
                    RES_US,
                    RES_US,
                    [f"{a} → {b}" for a, b in zip(ws, wr)],
                )
            )

    started, killing = first("Started"), first("Killing")
    delete = (pods["method"] == "DELETE") & (pods["subresource"].fillna("") == "")
    bind = (pods["subresource"] == "binding") & (pods["method"] == "POST")
    pair(requests(bind, "start", "first"), first("Created", "Started"))  # bind received → Created
    pair(requests(delete, "start", "first", twice=True), killing)  # graceful DELETE received → Killing
    pair(killing, requests(delete, "start", "last", twice=True))  # Killing → final DELETE received
    # Started → the pod's last status write before its first DELETE, received; a pod whose namespace was
    # torn down first (DELETE namespaces/<ns>, the namespace controller's DELETE …/pods, received) was
    # deleted inside that call, after which its kubelet's writes are the terminal ones
    st = pods[(pods["subresource"] == "status") & pods["method"].isin(["PATCH", "PUT"])]
    first_end = pods[delete].groupby(key)["end"].min().rename("fd").reset_index()
    teardown = _teardown_receipts(req[req["code"] < 300]).drop("", errors="ignore")  # answered, namespaced
    st = st.merge(first_end, on=key, how="left")
    st["fd"] = np.fmin(st["fd"].to_numpy(dtype=float), st["namespace"].map(teardown).to_numpy(dtype=float))
    st = st[st["fd"].isna() | (st["end"] < st["fd"])]
    last = st.sort_values("end", kind="stable").drop_duplicates(key, keep="last")
    last = last.assign(v=last["start"].where(np.isfinite(last["start"].to_numpy(dtype=float)), last["end"]))
    pair(started, last[key + ["v", "clock", "source_id", "line_no"]], "kubelet_running")
    pair(_start_estimates(ev, started, pt), last[key + ["v", "clock", "source_id", "line_no"]], "kubelet_running_start")
    return out


def _start_estimates(ev: pd.DataFrame, started: pd.DataFrame, pt: pd.DataFrame | None) -> pd.DataFrame:
    """``started`` (the pods' first Started events, ``v`` in s) with ``v`` moved to the container start's
    estimate: between the pod's Created event before it and Started, at the fraction of that gap the pod
    dumps' ``startedAt`` seconds allow most (:func:`kubelog.analysis.load.start_in_gap`)."""
    from .load import start_in_gap

    key = ["namespace", "pod"]
    cr = ev[ev["reason"] == "Created"][key + ["v"]].rename(columns={"v": "vc"})
    s = started.merge(cr, on=key, how="left")
    s = s[s["vc"].isna() | (s["vc"] <= s["v"])].sort_values("vc", kind="stable")
    s = s.drop_duplicates(key, keep="last").reset_index(drop=True)
    sec = pd.Series(np.nan, index=s.index)
    if pt is not None and not pt.empty:
        d = pt[
            pt["origin"].isin(["pods-json", "pods-yaml", "watch"])
            & pt["milestone"].isin(["started", "container_started"])
        ]
        d = d[d["ts"].notna()].assign(namespace=lambda x: x["namespace"].fillna(""), sec=lambda x: _sec(x["ts"]))
        first = d.groupby(key)["sec"].min()
        sec = pd.Series(first.reindex(pd.MultiIndex.from_frame(s[key])).to_numpy() * 1e9, index=s.index)
    est = start_in_gap(s["vc"] * 1e9, s["v"] * 1e9, sec, []) / 1e9
    return s.assign(v=est).drop(columns="vc")


def _kubelet_event_posts(run: Run, where: _Where) -> list[pd.DataFrame]:
    """``kubelet_event_post`` pairs: each kubelet event's instant → its POST's receipt."""
    from .load import event_post_pairs

    j = event_post_pairs(run)
    if j.empty:
        return []
    ev, rq = where(j["ev_source"], j["ev_line"]), where(j["source"], j["line"])
    return [
        _frame(
            "kubelet_event_post",
            j["clock"].to_numpy(),
            j["event_ns"].to_numpy(dtype=np.int64) / 1e9,
            j["receipt_clock"].to_numpy(),
            j["receipt_ns"].to_numpy(dtype=np.int64) / 1e9,
            RES_US,
            RES_US,
            [f"{a} → {b}" for a, b in zip(ev, rq)],
        )
    ]


def causal_pairs(run: Run) -> pd.DataFrame:
    """Every causal pair the run's tables offer, one row per pair.

    Parameters
    ----------
    run : Run
        An ingested run.

    Returns
    -------
    DataFrame
        Columns ``kind`` (see the module docstring), ``send_domain``, ``send_ts``
        (epoch seconds on the send domain's clock), ``recv_domain``, ``recv_ts``
        (epoch seconds on the receive domain's clock), ``min_delay_s`` (s, 0 =
        unknown), ``res_send_s``/``res_recv_s`` (timestamp resolutions, s) and
        ``evidence`` ("file:line → file:line", send side first).  The send
        event happened before the receive event in real time.
    """
    where = _Where(run)
    req = _requests(run)
    tl = run.table("test_log") if run.has("test_log") else pd.DataFrame()
    if not tl.empty:
        tl = tl[tl["ts"].notna()].copy()
        tl["ts_s"] = _sec(tl["ts"])
    pt = run.table("pod_transitions") if run.has("pod_transitions") else pd.DataFrame()
    parts = []
    parts += _api_round_trips(run, req, tl, where)
    parts += _cl2_round_trips(run, req, where)
    parts += _pod_watch(run, req, tl, pt, where)
    parts += _node_pairs(req, pt, where)
    parts += _pod_dump_pairs(req, pt, where)
    ev = run.table("events") if run.has("events") else pd.DataFrame()  # read once for both kinds of pair
    parts += _event_pairs(ev, where)
    parts += _kubelet_event_pairs(ev, req, where, pt)
    parts += _kubelet_event_posts(run, where)
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c.endswith(("_ts", "_s")) else object) for c in PAIR_COLUMNS})
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------


@dataclass
class SkewReport:
    """Clock offsets of every domain of a run against a reference domain.

    Attributes
    ----------
    reference : str
        The reference domain R (offsets are ``C_D − C_R``, seconds).
    domains : DataFrame
        One row per domain: ``domain``, ``offset_s`` (point estimate, NaN when
        one-sided), ``lower_s``/``upper_s`` (bounds, ±inf when missing, transitive
        through other domains), ``uncertainty_s`` (half width), ``kind``
        ("reference", "two-sided", "lower-only", "upper-only", "none"), ``drift_ppm``
        (NaN unless fitted), ``n_pairs`` and ``text`` (a sentence).
    pairs_summary : DataFrame
        One row per pair of domains with direct pairs: counts each way and per kind,
        the direct interval ``[lower_s, upper_s]`` of ``θ = C_b − C_a``, estimate,
        feasibility, violated pairs of the max-satisfied fallback, drift and step
        results, and the evidence of the tightest pairs.
    steps : list of dict
        Detected clock steps (domain pair, time, window, size in seconds).
    inconsistent : list of str
        Domains on a negative cycle of the difference-constraint system.
    findings : list of str
        Human sentences, most important first.
    offsets : dict
        ``{domain: offset seconds}`` for the reference (0) and every domain with a
        two-sided estimate; usable for correction.
    intervals : dict
        ``{domain: (lower_s, upper_s)}`` for every domain.
    significant : bool
        Some domain's interval excludes 0 by more than its uncertainty (one-sided
        bounds: by more than 1 ms).
    evidence : DataFrame
        The tightest pairs per domain pair and direction (kind, bound, file:line).
    pairs : DataFrame
        The causal pairs analysed (see :func:`causal_pairs`).
    """

    reference: str
    domains: pd.DataFrame
    pairs_summary: pd.DataFrame
    steps: list = field(default_factory=list)
    inconsistent: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    offsets: dict = field(default_factory=dict)
    intervals: dict = field(default_factory=dict)
    significant: bool = False
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict:
        """JSON-ready dictionary (infinities as None)."""

        def clean(df):
            return [{k: _jsonable(v) for k, v in r.items()} for r in df.to_dict("records")]

        return {
            "reference": self.reference,
            "significant": self.significant,
            "findings": self.findings,
            "domains": clean(self.domains),
            "pairs": clean(self.pairs_summary),
            "steps": [{k: _jsonable(v) for k, v in s.items()} for s in self.steps],
            "inconsistent": self.inconsistent,
            "offsets": self.offsets,
            "evidence": clean(self.evidence),
        }


def _jsonable(v):
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return None if not math.isfinite(v) else v
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    return v


def _batch(df: pd.DataFrame, a: str, b: str) -> sm.Pairs:
    g = df[(df["send_domain"] == a) & (df["recv_domain"] == b)]
    return sm.Pairs.from_arrays(
        a,
        b,
        g["send_ts"].to_numpy(),
        g["recv_ts"].to_numpy(),
        g["min_delay_s"].to_numpy(),
        g["res_send_s"].to_numpy(),
        g["res_recv_s"].to_numpy(),
        g["evidence"].to_numpy(),
    )


def _kinds(df: pd.DataFrame) -> dict:
    c = df["kind"].value_counts()
    return {KIND_LABELS.get(k, k): int(n) for k, n in c.items()}


def _iso(t: float | None) -> str | None:
    if t is None or not math.isfinite(t):
        return None
    return pd.Timestamp(t, unit="s", tz="UTC").isoformat()


def node_hosts(run: Run) -> dict[str, str]:
    """``{node/<hollow node>: host}`` for hollow-node kubelet logs laid out per host machine.

    The Kubemark log dump copies each host's ``/var/log/kubelet-hollow-node-*.log`` into
    ``<report_dir>/<host>/`` (kubernetes ``cluster/log-dump/log-dump.sh``, ``dump_nodes``), and
    every hollow kubelet on a host reads that host's clock.  The host is the directory holding a
    node domain's log, used only when the node logs sit in at least two directories (all in one
    directory says nothing about the hosts).
    """
    out = {}
    for e in run.inputs:
        clk = str(e.get("clock") or "")
        if not clk.startswith("node/") or e.get("component") != "kubelet":
            continue
        parts = str(e.get("path") or "").replace("\\", "/").split("/")
        if len(parts) >= 2 and parts[-2]:
            out.setdefault(clk, set()).add(parts[-2])
    hosts = {d: next(iter(h)) for d, h in out.items() if len(h) == 1}
    return hosts if len(set(hosts.values())) >= 2 else {}


def _pool_hosts(pairs: pd.DataFrame, hosts: dict, reference: str) -> dict[str, str]:
    """``{node domain: "host/<h>"}`` for the hosts whose pooled pairs admit one offset."""
    pool = {}
    for h, doms in pd.Series(list(hosts)).groupby(pd.Series(list(hosts.values()))):
        doms = list(doms)
        if len(doms) < 2:
            continue
        sub = pairs[
            (pairs["send_domain"].isin(doms) & (pairs["recv_domain"] == reference))
            | (pairs["recv_domain"].isin(doms) & (pairs["send_domain"] == reference))
        ]
        if sub.empty:
            continue
        hd = f"host/{h}"
        m = sub.replace({"send_domain": dict.fromkeys(doms, hd), "recv_domain": dict.fromkeys(doms, hd)})
        est = sm.offset_bounds(_batch(m, reference, hd), _batch(m, hd, reference))
        if est.feasible:
            pool.update(dict.fromkeys(doms, hd))
    return pool


#: A node clock's interval wider than this (half width, s) takes its estimate from the relist model
#: (:func:`_relist_model`) instead of the interval's middle, kept inside the interval.
RELIST_MODEL_ABOVE_S = 0.2


#: A node clock whose lower bound its ``kubelet_event_post`` pairs set (within this, s) is estimated by it.
POSTED_WITHIN_S = 1e-3


def _posted_bound(pairs: pd.DataFrame, d: str, reference: str) -> float | None:
    """The least ``kubelet_event_post`` bound of domain ``d`` against the reference (s), or None."""
    m = (pairs["kind"] == "kubelet_event_post") & (pairs["send_domain"] == d) & (pairs["recv_domain"] == reference)
    if not m.any():
        return None
    return float((pairs.loc[m, "send_ts"].to_numpy(dtype=float) - pairs.loc[m, "recv_ts"].to_numpy(dtype=float)).max())


def _relist_model(pairs: pd.DataFrame, d: str, reference: str) -> float | None:
    """A node clock's offset (s) from its ``kubelet_running`` pairs: Started − Running write is θ less the
    relist's wait (uniform over the 1 s period, pkg/kubelet/pleg/generic.go) and the write's own delay;
    :func:`kubelog.analysis.load._relist_estimate` (both ends of their spread -- the least wait after
    Started, the longest after the start's estimate, ``kubelet_running_start`` -- or the least wait).  None
    without two such pairs or for a clock that is not a kubelet's."""
    if not str(d).startswith(("node/", "host/")):
        return None
    from .load import PLEG_RELIST_S, _relist_estimate

    def waits(kind):
        rw = pairs[(pairs["kind"] == kind) & (pairs["send_domain"] == d) & (pairs["recv_domain"] == reference)]
        return pd.Series((rw["send_ts"].to_numpy(dtype=float) - rw["recv_ts"].to_numpy(dtype=float)) * 1e9)

    x, xs = waits("kubelet_running"), waits("kubelet_running_start")
    if len(x) < 2:
        return None
    est = _relist_estimate(x, xs if len(xs) else x, x, int(PLEG_RELIST_S * 1e9))
    return float(est) / 1e9 if np.isfinite(est) else None


def analyze_pairs(pairs: pd.DataFrame, reference: str = "apiserver", hosts: dict | None = None) -> SkewReport:
    """Offsets, drift, steps and the all-domain system from a causal-pairs frame.

    Parameters
    ----------
    pairs : DataFrame
        As returned by :func:`causal_pairs` (columns :data:`PAIR_COLUMNS`).
    reference : str
        Reference clock domain; offsets are ``C_domain − C_reference`` in seconds.
    hosts : dict, optional
        ``{node domain: host}`` (:func:`node_hosts`): the hollow nodes of one host share its clock,
        so their pairs are pooled into one domain ``host/<h>`` (when the pooled pairs admit one
        offset); every node row then carries its host's bounds and a ``host`` column.

    Returns
    -------
    SkewReport
    """
    pool = _pool_hosts(pairs, hosts, reference) if hosts else {}
    if not pool:
        rep = _analyze_pairs(pairs, reference)
        rep.domains["host"] = None
        return rep
    mapped = pairs.replace({"send_domain": pool, "recv_domain": pool})
    rep = _analyze_pairs(mapped, reference)
    rep.pairs = pairs.reset_index(drop=True)
    rows = []
    for r in rep.domains.to_dict("records"):
        d = r["domain"]
        if not str(d).startswith("host/"):
            rows.append({**r, "host": None})
            continue
        members = sorted(n for n, h in pool.items() if h == d)
        for n in members:
            rows.append(
                {
                    **r,
                    "domain": n,
                    "host": d[5:],
                    "text": f"{sm.domain_name(n)} (host {d[5:]}, {len(members)} hollow nodes pooled): "
                    + str(r["text"]).replace(sm.domain_name(d) + "'s", "its", 1),
                }
            )
        if d in rep.offsets:
            rep.offsets.update(dict.fromkeys(members, rep.offsets.pop(d)))
        if d in rep.intervals:
            rep.intervals.update(dict.fromkeys(members, rep.intervals.pop(d)))
    rep.domains = pd.DataFrame(rows).sort_values("domain", kind="stable").reset_index(drop=True)
    return rep


def _analyze_pairs(pairs: pd.DataFrame, reference: str = "apiserver") -> SkewReport:
    pairs = pairs.reset_index(drop=True)
    doms = sorted(set(pairs["send_domain"]).union(pairs["recv_domain"]).union({reference}))
    sd, rd = pairs["send_domain"].astype(str).to_numpy(), pairs["recv_domain"].astype(str).to_numpy()
    lo_d, hi_d = np.where(sd < rd, sd, rd), np.where(sd < rd, rd, sd)
    groups = pd.Series(np.arange(len(pairs))).groupby([lo_d, hi_d], sort=True).indices if len(pairs) else {}
    rows, evid, steps, bounds = [], [], [], {}
    direct: dict[tuple[str, str], sm.OffsetEstimate] = {}
    drift_of: dict[str, float] = {}
    for k, idx in groups.items():
        a, b = k
        if b == reference:  # orient as (reference, other)
            a, b = b, a
        sub = pairs.iloc[idx]
        fwd, bwd = _batch(sub, a, b), _batch(sub, b, a)
        est = sm.offset_bounds(fwd, bwd)
        direct[(a, b)] = est
        row = {
            "domain_a": a,
            "domain_b": b,
            "n_forward": est.n_ab,
            "n_backward": est.n_ba,
            "kinds": ", ".join(f"{n} {t}" for t, n in _kinds(sub).items()),
            "lower_s": est.lower,
            "upper_s": est.upper,
            "kind": est.kind,
            "feasible": est.feasible,
            "estimate_s": est.estimate,
            "uncertainty_s": est.uncertainty,
            "n_violated": 0,
            "drift_ppm": None,
            "drift_range_ppm": None,
            "drift_status": None,
            "drift_explains": False,
            "drift_t_ref": None,
            "step_time": None,
            "step_size_s": None,
        }
        lo, hi = est.lower, est.upper
        drift = None
        if est.n_ab and est.n_ba:
            span = max(np.ptp(np.concatenate([fwd.send_ts, bwd.recv_ts])), 0.0)
            if min(est.n_ab, est.n_ba) < MIN_DRIFT_PAIRS:
                row["drift_status"] = f"insufficient (fewer than {MIN_DRIFT_PAIRS} pairs one way)"
            elif span >= sm.MIN_DRIFT_SPAN_S:
                drift = sm.fit_offset_drift(fwd, bwd)
                row["drift_status"] = drift.status
                if drift.status == "ok":
                    row["drift_range_ppm"] = drift.drift_range_ppm
                    why = _drift_unsupported(fwd, bwd, drift, span)
                    if why:
                        row["drift_status"] = why
                    else:
                        row["drift_ppm"] = drift.drift_ppm
                        if a == reference:
                            drift_of[b] = drift.drift_ppm
            else:
                row["drift_status"] = f"insufficient (pairs span {span:.0f} s < {sm.MIN_DRIFT_SPAN_S:.0f} s)"
        if not est.feasible:
            fb = est.fallback
            row["n_violated"] = fb.n_violated
            lo, hi = fb.lower, fb.upper
            if drift is not None and drift.status == "ok":
                # a drifting clock explains the pairs: the offset at the middle of the pairs (t_ref)
                lo, hi = drift.theta0_range
                row["n_violated"] = 0
                row["drift_explains"] = True
                row["drift_t_ref"] = _iso(drift.t_ref)
            else:
                st = sm.detect_step(fwd, bwd)
                if st.found:
                    steps.append(
                        {
                            "domain_a": a,
                            "domain_b": b,
                            "time": _iso(st.step_time),
                            "time_s": st.step_time,
                            "window": (_iso(st.step_window[0]), _iso(st.step_window[1])),
                            "size_s": st.step_size,
                            "size_bounds_s": st.step_size_bounds,
                            "violations_single": st.violations_single,
                            "violations_split": st.violations_split,
                            "before_s": sm._seg_point(st.before),
                            "after_s": sm._seg_point(st.after),
                        }
                    )
                    row["step_time"], row["step_size_s"] = _iso(st.step_time), st.step_size
        row["text"] = sm.describe_estimate(est, _kinds(sub))
        bounds[(a, b)] = (lo, hi)
        rows.append(row)
        for direction, p, idx, vals in (
            ("upper", fwd, est.tightest_ab, fwd.upper_values()),
            ("lower", bwd, est.tightest_ba, bwd.lower_values()),
        ):
            kinds_dir = sub[(sub["send_domain"] == p.send_domain) & (sub["recv_domain"] == p.recv_domain)][
                "kind"
            ].to_numpy()
            for i in idx:
                evid.append(
                    {
                        "domain_a": a,
                        "domain_b": b,
                        "bound": direction,
                        "value_s": float(vals[i]),
                        "kind": kinds_dir[i],
                        "evidence": p.evidence[i],
                    }
                )
    summary = pd.DataFrame(rows)
    sol = (
        sm.solve_system(bounds, reference)
        if bounds
        else sm.SystemSolution(reference, True, {reference: (0.0, 0.0)}, {reference: 0.0})
    )
    inconsistent = [] if sol.feasible else list(dict.fromkeys(sol.negative_cycle))
    drows, offsets, intervals = [], {reference: 0.0}, {reference: (0.0, 0.0)}
    kinds_of = {}
    if len(pairs):
        both = pd.concat(
            [
                pairs[["send_domain", "kind"]].set_axis(["domain", "kind"], axis=1),
                pairs[["recv_domain", "kind"]].set_axis(["domain", "kind"], axis=1),
            ]
        )
        kinds_of = {d: g for d, g in both.groupby("domain")}
    for d in doms:
        sub = kinds_of.get(d, pd.DataFrame({"kind": pd.Series(dtype=str)}))
        if d == reference:
            drows.append(
                {
                    "domain": d,
                    "offset_s": 0.0,
                    "lower_s": 0.0,
                    "upper_s": 0.0,
                    "uncertainty_s": 0.0,
                    "kind": "reference",
                    "drift_ppm": None,
                    "n_pairs": len(sub),
                    "text": "reference clock",
                }
            )
            continue
        if sol.feasible and d in sol.bounds:
            lo, hi = sol.bounds[d]
        else:  # infeasible system: fall back on the direct pair with the reference
            e = direct.get((reference, d))
            lo, hi = bounds[(reference, d)] if e is not None else (-math.inf, math.inf)
        kind = (
            "two-sided"
            if math.isfinite(lo) and math.isfinite(hi)
            else "lower-only"
            if math.isfinite(lo)
            else "upper-only"
            if math.isfinite(hi)
            else "none"
        )
        off = unc = None
        relisted = posted = False
        if kind == "two-sided" and lo <= hi + sm.FLOAT_TOL_S:
            off, unc = (lo + hi) / 2, max((hi - lo) / 2, 0.0)
            pb = _posted_bound(pairs, d, reference) if d not in drift_of else None
            rl = _relist_model(pairs, d, reference) if unc > RELIST_MODEL_ABOVE_S else None
            if pb is not None and abs(pb - lo) <= POSTED_WITHIN_S:
                off, posted = lo, True
            elif rl is not None:  # kept inside the bounds (a write's own delay can put it a ms below)
                off, relisted = min(max(rl, lo), hi), True
            offsets[d] = off
        intervals[d] = (lo, hi)
        if off is not None:
            text = sm.describe(off, unc, d, reference, _kinds(sub))
            if posted:
                text += (
                    " — the estimate is the lower bound its event POSTs set (each event's instant less its POST's "
                    "receipt: below the offset by the least send, under a ms; the interval's middle would be "
                    + sm.format_duration((lo + hi) / 2)
                    + ")"
                )
            if relisted:
                text += (
                    " — the estimate from the kubelet's Running writes trailing its Started events by a PLEG "
                    "relist (the interval's middle would be " + sm.format_duration((lo + hi) / 2) + ")"
                )
        else:
            fake = sm.OffsetEstimate(
                reference, d, lo, hi, kind, lo <= hi, None, None, 0, 0, np.array([], int), np.array([], int)
            )
            if not fake.feasible:
                text = (
                    f"{sm.domain_name(d)}: the bounds contradict each other ({sm.format_duration(lo)} > "
                    f"{sm.format_duration(hi)})"
                )
            else:
                text = sm.describe_estimate(fake, _kinds(sub))
        drows.append(
            {
                "domain": d,
                "offset_s": off,
                "lower_s": lo,
                "upper_s": hi,
                "uncertainty_s": unc,
                "kind": kind,
                "drift_ppm": drift_of.get(d),
                "n_pairs": len(sub),
                "text": text,
            }
        )
    domains = pd.DataFrame(drows)
    significant = False
    for r in drows:
        if r["kind"] == "reference":
            continue
        lo, hi = r["lower_s"], r["upper_s"]
        dist = lo if lo > 0 else (-hi if hi < 0 else 0.0)
        thr = r["uncertainty_s"] if r["uncertainty_s"] is not None else 1e-3
        if dist > max(thr, 1e-3):
            significant = True
    findings = _findings(domains, steps, inconsistent, sol, summary, reference, significant)
    return SkewReport(
        reference,
        domains,
        summary,
        steps,
        inconsistent,
        findings,
        offsets,
        intervals,
        significant,
        pd.DataFrame(evid),
        pairs,
    )


def _drift_unsupported(fwd: sm.Pairs, bwd: sm.Pairs, drift, span: float) -> str | None:
    """Why a fitted drift is not reported (None: it is).

    A drift is reported only when (1) each direction's pairs span at least half of the joint span
    (≥ ``MIN_DRIFT_SPAN_S``), so both ends of the line are pinned from both sides, and (2) the
    feasible drift range (every line that satisfies every pair) excludes 0: a constant offset is
    then contradicted by the data, which is the significance test.  A range that holds 0 (or
    reaches the 500 ppm prior) is stated, not a drift.
    """
    for name, t in (("forward", fwd.send_ts), ("backward", bwd.recv_ts)):
        if len(t) and np.ptp(t) < span / 2:
            return f"not supported ({name} pairs span {np.ptp(t):.0f} s of {span:.0f} s)"
    lo, hi = drift.drift_range_ppm
    if drift.drift_range_capped:
        return f"not supported (feasible range reaches the ±{sm.MAX_DRIFT * 1e6:g} ppm prior)"
    if lo <= 0 <= hi:
        return f"not significant (feasible {lo:+.1f} to {hi:+.1f} ppm holds 0)"
    return None


def _findings(domains, steps, inconsistent, sol, summary, reference, significant) -> list[str]:
    out = []
    if inconsistent:
        out.append(
            "the offset bounds are inconsistent (negative cycle "
            + " → ".join(sol.negative_cycle)
            + f", contradiction {sm.format_duration(-sol.cycle_slack, 3)}): "
            + ", ".join(sm.domain_name(d) for d in inconsistent)
            + " cannot all have a single offset"
        )
    for s in steps:
        size = "unknown size" if s["size_s"] is None else f"{sm.format_duration(s['size_s'], 3)}"
        out.append(
            f"{sm.domain_name(s['domain_b'])}'s clock stepped by {size} against "
            f"{sm.domain_name(s['domain_a'])} at about {s['time']} ({s['domain_a']} clock; "
            f"{s['violations_single']} pairs violated with one offset, {s['violations_split']} with two)"
        )
    if not summary.empty:
        for r in summary[summary["n_violated"] > 0].itertuples():
            out.append(
                f"{r.n_violated} of {r.n_forward + r.n_backward} causal pairs between {r.domain_a} and "
                f"{r.domain_b} contradict the best single offset"
            )
    if not summary.empty:
        for r in summary[summary["drift_ppm"].notna()].itertuples():
            lo, hi = r.drift_range_ppm
            txt = (
                f"{sm.domain_name(r.domain_b)}'s clock drifts {r.drift_ppm:+.1f} ppm (feasible {lo:+.1f} to "
                f"{hi:+.1f} ppm) against {sm.domain_name(r.domain_a)}"
            )
            if r.drift_explains:
                txt += f"; no constant offset fits, the offset is stated at {r.drift_t_ref}"
            out.append(txt)
    d = domains[domains["kind"] != "reference"]
    nodes = d[d["domain"].str.startswith("node/")]
    other = d[~d["domain"].str.startswith("node/")]
    for r in other.itertuples():
        out.append(r.text)
    if len(nodes) > 3:
        est = nodes["offset_s"].dropna()
        if len(est):
            out.append(
                f"{len(nodes)} node hosts: offsets {sm.format_duration(est.min(), 3)} to "
                f"{sm.format_duration(est.max(), 3)} against {sm.domain_name(reference)} "
                f"({len(est)} two-sided; typical half width "
                f"{sm.format_duration(float(nodes['uncertainty_s'].dropna().median()), 3)})"
            )
        else:
            out.append(f"{len(nodes)} node hosts: no two-sided bounds; e.g. {nodes['text'].iloc[0]}")
    else:
        out += list(nodes["text"])
    if len(domains) <= 1:
        out.insert(0, "no causal pairs between clock domains: offsets unknown (nothing to say about skew)")
    elif not significant:
        out.insert(0, "no clock skew beyond the uncertainty of the causal pairs")
    return out


@memoized
def analyze(run: Run, reference: str = "apiserver") -> SkewReport:
    """Clock offsets of every domain of ``run`` against ``reference`` from its causal pairs.

    Parameters
    ----------
    run : Run
        An ingested run.
    reference : str
        Reference domain (default the master, ``apiserver``).

    Returns
    -------
    SkewReport
        See :class:`SkewReport`; offsets in seconds, ``C_domain − C_reference``.
    """
    return analyze_pairs(causal_pairs(run), reference, hosts=node_hosts(run))


# ---------------------------------------------------------------------------
# Correction (only on request)
# ---------------------------------------------------------------------------


def corrected_times(df: pd.DataFrame, ts_col: str, clock_col: str, offsets: dict) -> pd.Series:
    """Times of ``df[ts_col]`` moved to the reference clock: ``t − θ[clock]``.

    Parameters
    ----------
    df : DataFrame
    ts_col : str
        A datetime column (UTC) read on the clock named per row by ``clock_col``.
    clock_col : str or None
        Column of clock domains; or a domain name given directly when it is not a
        column of ``df``.
    offsets : dict
        ``{domain: θ seconds}`` (``C_domain − C_reference``).

    Returns
    -------
    Series of datetime64[ns, UTC]
        NaT where the row's domain has no offset (never silently uncorrected).
    """
    clk = df[clock_col] if clock_col in df.columns else pd.Series(clock_col, index=df.index)
    off = clk.map(lambda c: offsets.get(c, np.nan)).astype(float)
    return pd.to_datetime(df[ts_col], utc=True) - pd.to_timedelta(np.round(off.to_numpy() * 1e9), unit="ns")


#: pod_startup phases of the e2e density test: (start domain, end domain); "node" = the pod's node.
PHASE_DOMAINS = {
    "create_to_schedule": ("apiserver", "apiserver"),
    "schedule_to_run": ("apiserver", "node"),
    "run_to_watch": ("node", "test"),
    "schedule_to_watch": ("apiserver", "test"),
    "pod_startup": ("apiserver", "test"),
}


def _node_offset(offsets: dict) -> float:
    v = [o for d, o in offsets.items() if d.startswith("node/")]
    return float(np.median(v)) if v else math.nan


def _phase_shift(metric: str, node: str | None, offsets: dict, test_domain: str = "test") -> float:
    """θ_end − θ_start in seconds for a printed cross-clock phase (NaN if unknown)."""
    if metric not in PHASE_DOMAINS:
        return math.nan

    def th(d):
        if d == "node":
            return offsets.get(f"node/{node}", math.nan) if node else _node_offset(offsets)
        if d == "test":
            return offsets.get(test_domain, math.nan)
        return offsets.get(d, math.nan)

    a, b = PHASE_DOMAINS[metric]
    return 0.0 if a == b else th(b) - th(a)


def correct(run: Run, report: SkewReport) -> dict[str, pd.DataFrame]:
    """Corrected copies of the run's time-bearing tables (raw columns kept).

    Every timestamp column ``X`` gets ``X_corr`` (reference clock) next to it,
    NaT when its domain has no two-sided offset; latencies that cross clocks
    (e2e density phases in ``test_pod_latencies`` and ``perf_summaries``) get
    ``latency_s_corr`` / ``p50_s_corr`` … = raw − (θ_end − θ_start).  Node
    phases in summaries use the median node offset.

    Returns
    -------
    dict
        Table name → DataFrame; plus ``"violations"`` (:func:`violations_before_after`)
        and ``"verdicts"`` (:func:`pod_startup_verdicts`).
    """
    off = report.offsets
    out: dict[str, pd.DataFrame] = {}
    for name, cols in (
        ("pod_transitions", ["ts"]),
        ("test_log", ["ts"]),
        ("messages", ["ts"]),
        ("progress", ["ts"]),
        ("requests", ["ts", "start_ts"]),
    ):
        if run.has(name):
            df = run.table(name)
            for c in cols:
                df.insert(df.columns.get_loc(c) + 1, f"{c}_corr", corrected_times(df, c, "clock", off))
            out[name] = df
    if run.has("events"):
        ev = run.table("events")
        for c in ("event_time", "first_ts", "last_ts"):
            ev.insert(ev.columns.get_loc(c) + 1, f"{c}_corr", corrected_times(ev, c, "clock", off))
        ev.insert(
            ev.columns.get_loc("creation_ts") + 1,
            "creation_ts_corr",
            corrected_times(ev, "creation_ts", "apiserver", off),
        )
        out["events"] = ev
    test_dom = _test_domain(run)
    if run.has("test_pod_latencies"):
        lat = run.table("test_pod_latencies")
        shift = np.array(
            [
                _phase_shift(m, n if isinstance(n, str) else None, off, test_dom)
                for m, n in zip(lat["metric"], lat["node"])
            ],
            dtype=float,
        )
        lat.insert(lat.columns.get_loc("latency_s") + 1, "latency_s_corr", lat["latency_s"] - shift)
        out["test_pod_latencies"] = lat
    if run.has("perf_summaries"):
        ps = run.table("perf_summaries")
        shift = np.array(
            [
                _phase_shift(m, None, off, test_dom) if ph == "latency" else 0.0
                for m, ph in zip(ps["metric"], ps["phase"])
            ],
            dtype=float,
        )
        for c in ("p50_s", "p90_s", "p99_s", "p100_s"):
            ps.insert(ps.columns.get_loc(c) + 1, f"{c}_corr", ps[c] - shift)
        out["perf_summaries"] = ps
    out["violations"] = violations_before_after(run, report)
    out["verdicts"] = pod_startup_verdicts(run, report)
    return out


def _test_domain(run: Run) -> str:
    if run.has("test_log"):
        c = run.table("test_log", columns=["clock"])["clock"].dropna()
        if len(c):
            return str(c.iloc[0])
    return "test"


def violations_before_after(run: Run | None, report: SkewReport) -> pd.DataFrame:
    """Causal-order violations per pair kind, raw and after applying ``report.offsets``.

    A pair is violated when even the latest true receive reading precedes the
    send (``skew_math.count_violations``).  Pairs touching a domain without an
    offset are counted in ``n_uncorrectable`` and left out of ``after``.

    Returns
    -------
    DataFrame
        ``kind, n, before, after, n_uncorrectable`` plus a ``total`` row.
    """
    p = report.pairs
    rows = []
    for kind, g in p.groupby("kind", sort=True):
        before = after = unc = 0
        for (a, b), h in g.groupby(["send_domain", "recv_domain"]):
            batch = _batch(h, a, b)
            before += sm.count_violations(batch).n_violated
            if a in report.offsets and b in report.offsets:
                after += sm.count_violations(batch, report.offsets[a], report.offsets[b]).n_violated
            else:
                unc += len(h)
        rows.append({"kind": kind, "n": len(g), "before": before, "after": after, "n_uncorrectable": unc})
    df = pd.DataFrame(rows, columns=["kind", "n", "before", "after", "n_uncorrectable"])
    tot = df[["n", "before", "after", "n_uncorrectable"]].sum()
    return pd.concat([df, pd.DataFrame([{"kind": "total", **{k: int(v) for k, v in tot.items()}}])], ignore_index=True)


def pod_startup_verdicts(run: Run, report: SkewReport, threshold_s: float = 5.0) -> pd.DataFrame:
    """The e2e pod-startup percentiles raw, corrected, and at both ends of the offset interval.

    Corrected = raw − (θ_test − θ_apiserver); the ends use the test domain's
    interval ``[lower_s, upper_s]`` (a larger offset gives a smaller latency).

    Returns
    -------
    DataFrame
        ``percentile, raw_s, corrected_s, corrected_min_s, corrected_max_s`` (seconds)
        and verdicts ``raw, corrected, at_min, at_max`` ("pass"/"fail"/"unknown")
        against ``threshold_s``; empty without printed percentiles.
    """
    cols = [
        "percentile",
        "raw_s",
        "corrected_s",
        "corrected_min_s",
        "corrected_max_s",
        "raw",
        "corrected",
        "at_min",
        "at_max",
        "verdict_depends_on_offset",
    ]
    if not run.has("perf_summaries"):
        return pd.DataFrame(columns=cols)
    ps = run.table("perf_summaries")
    ps = ps[(ps["metric"] == "pod_startup") & (ps["phase"] == "latency")]
    if ps.empty:
        return pd.DataFrame(columns=cols)
    td = _test_domain(run)
    lo, hi = report.intervals.get(td, (-math.inf, math.inf))
    base = report.offsets.get(report.reference, 0.0)
    est = report.offsets.get(td)

    def verdict(x):
        return "unknown" if x is None or not math.isfinite(x) else ("pass" if x <= threshold_s else "fail")

    rows = []
    r0 = ps.iloc[-1]
    for q in ("p50_s", "p90_s", "p99_s"):
        raw = float(r0[q])
        if not math.isfinite(raw):
            continue
        corr = raw - (est - base) if est is not None else math.nan
        cmin, cmax = raw - (hi - base), raw - (lo - base)
        v = [verdict(raw), verdict(corr), verdict(cmin), verdict(cmax)]
        rows.append(
            {
                "percentile": q[:-2],
                "raw_s": raw,
                "corrected_s": corr,
                "corrected_min_s": cmin,
                "corrected_max_s": cmax,
                "raw": v[0],
                "corrected": v[1],
                "at_min": v[2],
                "at_max": v[3],
                "verdict_depends_on_offset": v[2] != v[3],
            }
        )
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------
# The corrections of a run, for every command (issue 16 item 6)
# ---------------------------------------------------------------------------


@dataclass
class Corrections:
    """The clock corrections applied to a run's verdicts; one object used by every command.

    Attributes
    ----------
    offsets : dict
        ``{domain: θ seconds}`` (``C_domain − C_reference``) applied; empty when nothing is
        corrected.  ``--offset`` values win over the ones ``kubelog skew`` found.
    intervals : dict
        ``{domain: (lower_s, upper_s)}``: the skew analysis' bounds (``--offset`` values are
        exact: ``(θ, θ)``).  A verdict whose outcome changes inside them says so.
    source : dict
        ``{domain: "--offset" | "kubelog skew"}``.
    reference : str
        The reference domain (``apiserver``).
    test_domain : str
        The clock domain of the test's log (``test``).
    report : SkewReport or None
        The skew analysis, when ``correct_skew`` asked for it.
    notes : list of str
        What was corrected and what could not be.
    """

    offsets: dict = field(default_factory=dict)
    intervals: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)
    reference: str = "apiserver"
    test_domain: str = "test"
    report: "SkewReport | None" = None
    notes: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.offsets)

    def pod_offsets(self) -> dict | None:
        """The ``offsets=`` argument of :func:`kubelog.analysis.pods.pod_startup` (None: raw clocks)."""
        return dict(self.offsets) if self.offsets else None

    def _theta(self, d: str, node: str | None, bound: int | None = None) -> float:
        if d == "node":
            if node:
                d = f"node/{node}"
            else:
                v = [self._theta(k, None, bound) for k in self.offsets if k.startswith("node/")]
                v = [x for x in v if math.isfinite(x)]
                return float(np.median(v)) if v else math.nan
        if d == "test":
            d = self.test_domain
        if d == self.reference:
            return 0.0
        if bound is None:
            return float(self.offsets.get(d, math.nan))
        lo, hi = self.intervals.get(d, (math.nan, math.nan))
        return float(lo if bound == 0 else hi)

    def phase_shift(self, metric: str, node: str | None = None) -> float:
        """``θ_end − θ_start`` (s) of a cross-clock pod phase the test reported (NaN when unknown).

        ``metric`` is a key of :data:`PHASE_DOMAINS`; 0 for a phase on one clock.
        """
        if metric not in PHASE_DOMAINS:
            return math.nan
        a, b = PHASE_DOMAINS[metric]
        return 0.0 if a == b else self._theta(b, node) - self._theta(a, node)

    def phase_shift_range(self, metric: str, node: str | None = None) -> tuple[float, float]:
        """The smallest and largest ``θ_end − θ_start`` the offset bounds allow (NaN when unknown)."""
        if metric not in PHASE_DOMAINS:
            return math.nan, math.nan
        a, b = PHASE_DOMAINS[metric]
        if a == b:
            return 0.0, 0.0
        lo = self._theta(b, node, 0) - self._theta(a, node, 1)
        hi = self._theta(b, node, 1) - self._theta(a, node, 0)
        return lo, hi

    def describe(self) -> str:
        """One line: which offsets were applied and where they came from."""
        if not self.offsets:
            return "no clock correction applied"
        parts = []
        for d in sorted(self.offsets):
            lo, hi = self.intervals.get(d, (self.offsets[d], self.offsets[d]))
            unc = f" ± {sm.format_duration((hi - lo) / 2, 3)}" if hi > lo else ""
            parts.append(f"{d} {self.offsets[d]:+.6g} s{unc} ({self.source.get(d, '?')})")
        return "clock offsets applied (C_domain − C_" + self.reference + "): " + ", ".join(parts)

    def correct_reported(self, rep: pd.DataFrame) -> pd.DataFrame:
        """Test-reported pod start-up rows (``PodStartup.reported``) with corrected copies of the percentiles.

        Adds ``shift_s`` (θ_end − θ_start subtracted), ``<pct>_corrected`` and ``correction``
        (what was done, or why a row could not be corrected).  Raw columns are kept.
        """
        out = rep.copy()
        pct = [c for c in out.columns if c.startswith("p") and c.endswith("_s") and c[1:-2].replace(".", "").isdigit()]
        shifts, how = [], []
        for m in out.get("metric", pd.Series(index=out.index, dtype=object)):
            s = self.phase_shift(m) if self.offsets else math.nan
            shifts.append(s)
            if not self.offsets:
                how.append("not corrected (no offsets)")
            elif m not in PHASE_DOMAINS:
                how.append("not corrected (clocks of this metric unknown)")
            elif not math.isfinite(s):
                a, b = PHASE_DOMAINS[m]
                how.append(f"not corrected (no offset for the {a if a != self.reference else b} clock)")
            else:
                how.append("same clock" if s == 0 else f"corrected: raw − {s:+.6g} s")
        out["shift_s"] = shifts
        for c in pct:
            out[c.replace("_s", "_corrected_s")] = out[c].astype(float) - out["shift_s"].fillna(0.0)
            bad = ~np.isfinite(out["shift_s"].to_numpy(dtype=float))
            out.loc[bad, c.replace("_s", "_corrected_s")] = np.nan
        out["correction"] = how
        return out


def corrections(
    run: Run,
    *,
    offsets: dict | None = None,
    correct_skew: bool = False,
    reference: str = "apiserver",
    report: "SkewReport | None" = None,
) -> Corrections:
    """The clock corrections to apply to ``run``'s verdicts (used by ``pods``, ``slo``, ``report``, ``latency``).

    Parameters
    ----------
    run : Run
    offsets : dict, optional
        ``{domain: seconds ahead of the reference}`` given by the user (``--offset``); they win.
    correct_skew : bool
        Also apply the two-sided offset estimates of :func:`analyze` (``--correct-skew``) of the
        domains whose bounds exclude 0; a domain consistent with no skew is left uncorrected
        (synchronised clocks are the norm, and a midpoint of a wide interval around 0 would move
        its phases by up to half the width).
    reference : str
        Reference domain; only ``apiserver`` (the clock pod phases are read against) is meaningful
        for the pod commands.
    report : SkewReport, optional
        An analysis already made (saves recomputing it).

    Returns
    -------
    Corrections
        Empty (falsy) when nothing is corrected.
    """
    c = Corrections(reference=reference, test_domain=_test_domain(run))
    if correct_skew:
        rep = report if report is not None else analyze(run, reference=reference)
        c.report = rep
        zero = []
        for d, v in rep.offsets.items():
            if d == reference:
                continue
            lo, hi = rep.intervals.get(d, (v, v))
            if lo <= 0 <= hi:  # consistent with synchronised clocks: 0 is as likely as the midpoint
                zero.append(d)
                continue
            c.offsets[d] = float(v)
            c.intervals[d] = tuple(float(x) for x in rep.intervals.get(d, (v, v)))
            c.source[d] = "kubelog skew"
        missing = [
            r["domain"]
            for r in rep.domains.to_dict("records")
            if r["kind"] not in ("reference", "two-sided") or r["domain"] not in rep.offsets
        ]
        missing = [d for d in missing if d != reference]
        if zero:
            c.notes.append("consistent with no skew (the bounds hold 0), not corrected: " + ", ".join(sorted(zero)))
        if missing:
            c.notes.append("no two-sided offset, left uncorrected: " + ", ".join(sorted(missing)))
        if rep.pairs.empty:
            c.notes.append("no causal pairs between clock domains: nothing to correct")
    for d, v in (offsets or {}).items():
        c.offsets[d] = float(v)
        c.intervals[d] = (float(v), float(v))
        c.source[d] = "--offset"
    return c
