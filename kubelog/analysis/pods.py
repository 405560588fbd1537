"""Pod start-up phases and node start-up, from whatever inputs a run has.

Pod start-up (DESIGN §5, issue #6)
----------------------------------
Each pod has four *ends*, each taken from the best source present for that pod:

========== ===================================================================================
end        sources, best first (finest ``resolution_s`` wins; ties by this order)
========== ===================================================================================
created    audit pod create (request end, µs, apiserver; a ``generateName`` create named by its
           ``responseObject`` at level RequestResponse) · the pod's create ``POST …/pods`` → 201
           (request end, µs) when it is the only one of the namespace within the pod's
           ``creationTimestamp`` second (+0.1 s) and that second holds no other pod (a
           ``generateName`` POST names no pod) · ``metadata.creationTimestamp`` of a pod
           dump/watch (1 s, apiserver, truncated) · kubelet ``podCreationTimestamp`` (1 s, apiserver)
scheduled  audit ``pods/binding`` create (request end, µs, apiserver) · scheduler "bound" record
           (µs, its clock) · scheduler ``Scheduled`` event record · old schedulers' ``Attempting
           to bind`` record (µs) · ``Scheduled`` Event (``eventTime`` µs, else 1 s) ·
           ``PodScheduled`` condition (1 s, apiserver)
running    between the instants in the kubelet's ``Created`` and ``Started`` Events' names (client-go
           ``<pod>.<UnixNano hex>``, node clock; made when the runtime's CreateContainer / StartContainer
           returned), where the pod dumps' ``startedAt`` seconds put the starts
           (:func:`kubelog.analysis.load.start_in_gap`; Kubemark's fake Docker client starts a
           container ~200 ms before Started): resolution their gap; a ``Started`` event alone: its
           instant, 0.1 s · kubelet PLEG ``ContainerStarted`` (node clock; 1 s: the PLEG relists the runtime every second,
           so the record comes 0–1 s after the start) · pod dump: every container
           ``startedAt`` (1 s, node clock) · one container ``startedAt`` (not for a pod that
           restarted: its ``startedAt`` is the latest restart) · ``Started`` Event (1 s, node
           clock) · only without any of these: kubelet ``observedRunningTime`` (ns, node clock) —
           the instant the kubelet's status manager finished the status update that showed the pod
           running (pkg/kubelet/util/pod_startup_latency_tracker.go ``RecordStatusUpdated``), which
           follows the container start by the status write
watched    kubelet ``watchObservedRunningTime`` (ns, node clock: the kubelet's own watch; the
           test's watch sees the same update within milliseconds) · a ``watched`` milestone ·
           e2e log ``Found pod 'NAME' running`` (test clock, **2 s resolution**: density's
           ``createRunningPodFromRC`` logs it when ``WaitForControlledPodsRunning`` returns, a
           ``wait.Poll`` every 2 s (test/e2e/framework ``Poll``), so the line comes up to 2 s + one
           list after the pod ran: an upper bound)
========== ===================================================================================

An end's ``resolution_s`` is its true resolution: a timestamp's unit (1 s for ``metav1.Time``
fields, which are truncated) or the period of the poll that observed it (2 s for the e2e ``Found
pod`` line); ties between sources of equal resolution are broken by the order above.

Phases (seconds, end − start, ``offsets`` applied first): ``create_to_schedule`` (created →
scheduled), ``schedule_to_run``, ``run_to_watch``, ``schedule_to_watch`` and ``pod_startup``
(created → watched, what the e2e test calls the e2e startup latency).  A phase's resolution is the
sum of its two ends' resolutions: with whole-second fields the value is only known to ±1 s.
Negative and zero values are kept, counted in ``anomalies`` and included in percentiles — never
clamped.

*Measured* pods are the ones the e2e test itself measured: named in ``test_pod_latencies`` (any
phase but ``saturation``), matched
by a ``Found pod 'RC' running`` line (RC = the name without its 5-character suffix), or named
``density-latency-pod-*`` (density's latency pods).  ``cross_check`` compares what the test
reported (``perf_summaries`` percentiles, ``test_pod_latencies`` per pod) with the same phases
derived from the objects: the ``latency`` phase against measured pods, ``saturation`` against the
others, anything else against all pods.

Clock correction: ``offsets={domain: seconds}`` (how far that domain's clock is *ahead* of the
reference) subtracts the offset from every time on that domain before phases are computed.  A node
domain given as ``node/<name>`` also matches the other spelling of the same node
(``node/hollow-node-ab12c`` ↔ ``node/ab12c``).

Node start-up: ``registered`` → first ``ready`` at or after it, per node (``node_transitions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..run import Run, memoized
from . import stats
from .load import (
    PLEG_RELIST_S,
    _measured_lag,
    container_start_records,
    created_before_started,
    event_name_instants,
    solo_writes,
    start_in_gap,
)

ENDS = ("created", "scheduled", "running", "watched")
PHASES = (
    ("create_to_schedule", "created", "scheduled"),
    ("schedule_to_run", "scheduled", "running"),
    ("run_to_watch", "running", "watched"),
    ("schedule_to_watch", "scheduled", "watched"),
    ("pod_startup", "created", "watched"),
)
PHASE_NAMES = tuple(p for p, _, _ in PHASES)
PERCENTILES = (0.5, 0.9, 0.99, 1.0)
PCT_COLUMNS = [stats.label(p) for p in PERCENTILES]  # p50_s p90_s p99_s p100_s
NODE_STARTUP_TARGET_S = 4.0
REPORTED_COLUMNS = (
    ["kind", "origin", "phase", "metric", "count"]
    + [stats.label(p) for p in (0.5, 0.9, 0.99, 1.0)]
    + ["coverage", "where"]
)

# (end, milestone, origin or None for any) → rank (lower is preferred among equal resolutions)
_MILESTONES: list[tuple[str, str, str | None, str]] = [
    ("created", "created", "audit", "audit pod create (request end)"),
    ("created", "created", "kubelet", "kubelet podCreationTimestamp"),
    ("created", "created", None, "metadata.creationTimestamp"),
    ("scheduled", "bound", "audit", "audit pods/binding (request end)"),
    ("scheduled", "bound", "scheduler", "scheduler bound record"),
    ("scheduled", "bound", None, "bound record"),
    ("scheduled", "scheduled", None, "PodScheduled condition"),
    ("running", "pleg_container_started", None, "kubelet PLEG ContainerStarted"),
    ("running", "running_observed", None, "kubelet observedRunningTime (status update, after the start)"),
    ("running", "started", None, "containerStatuses startedAt (all containers)"),
    ("running", "container_started", None, "containerStatuses startedAt"),
    ("watched", "watch_observed", None, "kubelet watchObservedRunningTime"),
    ("watched", "watched", None, "watch observed"),
]
_ATTEMPT_RANK = 40
_WRITE_RANK = 45  # a Running status write (_running_writes): after every kubelet record and dump field
SNAPSHOT_ORIGINS = ("pods-json", "pods-yaml", "watch")
_EVENT_RANK = 50
# a Started event without a Created event before it: the runtime's StartContainer call it follows (tens of ms)
_START_CALL_S = 0.1
_FOUND_RANK = 60
# e2e ``Found pod … running``: test/e2e density.go createRunningPodFromRC logs it when
# WaitForControlledPodsRunning returns, a wait.Poll with the framework's Poll = 2 s (test/e2e/framework)
FOUND_POLL_S = 2.0
# sources that mark a later instant than their end and are used only without another source:
# observedRunningTime is set when the kubelet's status manager finished the status update that showed the
# pod running (pkg/kubelet/util/pod_startup_latency_tracker.go RecordStatusUpdated), not the container start
_LATE_SOURCES = ("running_observed",)
# the kubelet learns of a container start from its PLEG, which relists the runtime every second
# (pkg/kubelet/kubelet.go plegRelistPeriod; pkg/kubelet/pleg/generic.go relist): the ContainerStarted
# record comes 0–1 s after the start, so as a running end it has a 1 s resolution (an upper bound)
_RELISTED = ("pleg_container_started",)
#: the labels (``<end>_source`` is ``origin: label``) of the running ends that come after the container
#: start — a relist, a status write: a phase they end errs only upwards
_IN_SECOND = " within the dump's startedAt second"
_QUEUED = " (a queued runtime: + its sleep)"
LATE_RUNNING_LABELS = tuple(
    lb for end, ms, _, lb in _MILESTONES if end == "running" and ms in _RELISTED + _LATE_SOURCES
) + (
    "Started Event (instant in its name)",
    "kubelet PLEG ContainerStarted" + _IN_SECOND,
    "kubelet PLEG ContainerStarted" + _QUEUED,
)
RX_FOUND = re.compile(r"^Found pod '(?P<rc>[^']+)' running")
RX_ATTEMPT = re.compile(r"^Attempting to bind (?P<pod>\S+) to (?P<node>\S+)")
RX_SUFFIX = re.compile(r"^(?P<base>.+)-[a-z0-9]{5}$")


@dataclass
class PodStartup:
    """Pod start-up phases of a run.

    Attributes
    ----------
    per_pod : DataFrame
        One row per pod: ``namespace``, ``pod``, ``node``, ``measured`` (the e2e test measured it),
        ``not_running`` (seen by a pod dump or a kubelet but never running), ``bucket`` (load
        bucket at creation, see :mod:`kubelog.analysis.load`), and per end (``created``,
        ``scheduled``, ``running``, ``watched``): ``<end>_ts`` (raw UTC time), ``<end>_clock``,
        ``<end>_resolution_s`` (seconds), ``<end>_source`` (what gave it), ``<end>_source_id`` and
        ``<end>_line_no`` (provenance); with offsets also ``<end>_ts_corrected``; per phase
        ``<phase>_s`` (seconds, NaN when an end is missing).
    percentiles : DataFrame
        Rows ``phase, bucket ("all" then load buckets), count, p50_s, p90_s, p99_s, p100_s,
        resolution_s, clocks`` over all pods (nearest rank).
    measured_percentiles : DataFrame
        The same over measured pods only, ``bucket == "all"``.
    anomalies : DataFrame
        Per phase: ``count`` (values), ``negative``, ``zero``, ``missing`` (an end unknown),
        ``below_resolution`` (0 < |value| < resolution ≥ 1 s: whole-second fields dominate),
        ``cross_clock`` (ends on different clock domains, no offset for either).
    cross_check : DataFrame
        ``phase, population, statistic, reported_s, derived_s, difference_s, tolerance_s, agree,
        reported_by`` — e2e-reported versus object-derived.
    sources : str
        Human-readable summary of where each end came from.
    notes : list of str
    reported : DataFrame
        What the test itself reported, as it reported it: ``kind`` (``summary`` = a
        ``perf_summaries`` row; ``per-pod`` = percentiles computed over a ``test_pod_latencies``
        list), ``origin, phase, metric, count, p50_s, p90_s, p99_s, p100_s, coverage`` (``all
        pods`` for kube-burner's per-pod documents, ``listed pods only`` for the e2e/clusterloader2
        "worst 10 %" / "100 worst" lists), ``where`` (file:line).
    """

    per_pod: pd.DataFrame
    percentiles: pd.DataFrame
    measured_percentiles: pd.DataFrame
    anomalies: pd.DataFrame
    cross_check: pd.DataFrame
    sources: str
    notes: list = field(default_factory=list)
    reported: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REPORTED_COLUMNS))

    def phase_values(self, phase: str, measured: bool | None = None) -> pd.Series:
        """Values (seconds) of one phase over pods (all, or only measured / only unmeasured)."""
        d = self.per_pod
        if measured is not None:
            d = d[d["measured"] == measured]
        return d[f"{phase}_s"].dropna()


# ---------------------------------------------------------------------------------------------
# candidates


#: The columns of a candidate phase end (:func:`_candidates`).
_END_COLUMNS = [
    "namespace",
    "pod",
    "node",
    "end",
    "ts",
    "clock",
    "resolution_s",
    "rank",
    "tier",
    "source",
    "source_id",
    "line_no",
]


def _pleg_queued(d: pd.DataFrame, dump_sec: pd.Series) -> bool | None:
    """Whether the PLEG ``ContainerStarted`` records ``d`` trail their pods' dump seconds (``startedAt``,
    truncated, on the same node's clock) by more than a relist on at least
    :data:`~kubelog.analysis.load._LAG_MIN_PODS` pods and 5 %, even at the second's latest: a runtime whose
    calls queue (Kubemark's fake Docker client, on which the relist follows a start by seconds).  None
    where no record has a dump second to compare."""
    from .load import _LAG_MIN_PODS

    if d.empty or dump_sec.empty:
        return None
    key = pd.MultiIndex.from_arrays([d["namespace"].fillna(""), d["pod"]])
    sec = dump_sec.reindex(key).to_numpy(dtype=np.float64)
    has = np.isfinite(sec)
    if not has.any():
        return None
    rec = _ns_int(d["ts"]).astype(np.float64)
    res = d["resolution_s"].to_numpy(dtype=np.float64) * 1e9
    over = int((rec[has] - sec[has] - 1e9 > res[has] + 1e8).sum())  # surely later than a relist (+ 0.1 s)
    return over >= max(_LAG_MIN_PODS, 0.05 * int(has.sum()))


def _relisted_in_second(d: pd.DataFrame, dump_sec: pd.Series, label: str, queued, solo) -> pd.DataFrame:
    """PLEG ``ContainerStarted`` records (the start up to ``resolution_s`` before each) with the pods' dump
    seconds (``startedAt``, truncated, on the same node's clock): where both hold the start, it lies in
    what they leave — the record's row then ends there (its time the upper end, its resolution the width,
    the label saying so).  Where the runtime queues (:func:`_pleg_queued`) no record bounds its start to a
    relist: a pod with a dump second has that second as its running end (its record's row dropped); one
    without that started alone on its kubelet (``solo``: :func:`kubelog.analysis.load.solo_writes`; the
    latency pods on a settled cluster) keeps its record with the relist and the client's sleep as its
    resolution (the relist's list waits for the mutex the pod's own StartContainer holds through its
    sleep: up to 0.5 s more); any other's record is dropped."""
    if d.empty or dump_sec.empty:
        return d
    from .load import _FAKE_DOCKER_SLEEP_MAX

    key = pd.MultiIndex.from_arrays([d["namespace"].fillna(""), d["pod"]])
    sec = dump_sec.reindex(key).to_numpy(dtype=np.float64)
    has = np.isfinite(sec)
    if queued:
        alone = _alone(solo, key)
        rest = d[~has & alone]
        res_q = rest["resolution_s"] + _FAKE_DOCKER_SLEEP_MAX / 1e9
        return rest.assign(resolution_s=res_q, _label=label + _QUEUED)
    rec = _ns_int(d["ts"]).astype(np.float64)
    lo = np.fmax(rec - d["resolution_s"].to_numpy(dtype=np.float64) * 1e9, sec)
    hi = np.fmin(rec, sec + 1e9)
    meet = has & (lo <= hi)
    late = has & ~meet & (sec + 1e9 < lo)
    d = d.assign(_label=label)
    if meet.any():
        d.loc[meet, "ts"] = pd.to_datetime(hi[meet].astype(np.int64), utc=True)
        d.loc[meet, "resolution_s"] = np.maximum((hi[meet] - lo[meet]) / 1e9, 1e-3)
        d.loc[meet, "_label"] = label + _IN_SECOND
    return d[~late]


def _alone(solo: pd.DataFrame | None, key: pd.MultiIndex) -> np.ndarray:
    """Per ``key`` (namespace, pod), whether ``solo`` says the pod started alone on its kubelet."""
    if solo is None or solo.empty:
        return np.zeros(len(key), dtype=bool)
    a = solo.set_index(["namespace", "pod"])["alone"]
    return a[~a.index.duplicated()].reindex(key).fillna(False).to_numpy(dtype=bool)


_WRITE_LABEL = "the pod's Running status write (received a relist after the start)"


def _running_writes(solo: pd.DataFrame | None, queued) -> pd.DataFrame | None:
    """Each pod's Running status write as a running end (apiserver clock, µs): the kubelet sends it after
    the relist that saw the start (PLEG, every second) and its sync, so the start lies up to a relist and
    0.1 s before its receipt.  Where the runtime queues, or whether it does is unknown (no PLEG record to
    compare with a dump second), only a pod that started alone on its kubelet gets one, with the fake
    client's sleep added (as its PLEG record, :func:`_relisted_in_second`).  Ranked after the kubelet's own
    records and the dumps' seconds: what it adds is the pods those miss — a Kubemark run keeps a few hollow
    nodes' logs, and its latency pods are gone before the pod dump."""
    from .load import _FAKE_DOCKER_SLEEP_MAX

    if solo is None or solo.empty:
        return None
    w = solo if queued is False else solo[solo["alone"]]
    res = PLEG_RELIST_S + 0.1 + (0.0 if queued is False else _FAKE_DOCKER_SLEEP_MAX / 1e9)
    label = _WRITE_LABEL + ("" if queued is False else _QUEUED)
    return pd.DataFrame(
        {
            "namespace": w["namespace"],
            "pod": w["pod"],
            "node": None,
            "end": "running",
            "ts": pd.to_datetime(w["write"].astype("int64"), utc=True),
            "clock": "apiserver",
            "resolution_s": res,
            "rank": _WRITE_RANK,
            "tier": 0,
            "source": "apiserver: " + label,
            "source_id": w["source_id"],
            "line_no": w["line_no"],
        }
    )


def _candidates(run: Run) -> pd.DataFrame:
    """Every observed end of every pod: namespace, pod, node, end, ts, clock, resolution_s, rank,
    source, source_id, line_no."""
    frames = []
    dump_sec = pd.Series(dtype="float64")  # each pod's dumped startedAt (its first container's; node clock, ns)
    queued = solo = None  # whether the runtime's calls queue (_pleg_queued); each pod's Running write (solo_writes)
    if run.has("pod_transitions"):
        p = run.table(
            "pod_transitions",
            columns=[
                "namespace",
                "pod",
                "uid",
                "node",
                "milestone",
                "ts",
                "clock",
                "resolution_s",
                "origin",
                "source_id",
                "line_no",
                "detail",
            ],
        )
        p = p[p["ts"].notna() & p["pod"].notna()]
        # a dumped pod that restarted shows its current container's startedAt, not its first start
        snap = p["origin"].isin(SNAPSHOT_ORIGINS)
        cr = p[snap & (p["milestone"] == "created")]
        restarts = pd.to_numeric(cr["detail"].str.extract(r'"restarts": (\d+)')[0], errors="coerce").fillna(0)
        restarted = set(zip(cr.loc[restarts > 0, "namespace"].fillna(""), cr.loc[restarts > 0, "pod"]))
        if restarted:
            key = pd.Series(list(zip(p["namespace"].fillna(""), p["pod"])), index=p.index)
            drop = snap & p["milestone"].isin(["started", "container_started"]) & key.isin(restarted)
            p = p[~drop]
        ds = p[p["origin"].isin(SNAPSHOT_ORIGINS) & p["milestone"].isin(["started", "container_started"])]
        if len(ds):
            key = pd.MultiIndex.from_arrays([ds["namespace"].fillna(""), ds["pod"]])
            dump_sec = pd.Series(_ns_int(ds["ts"]).astype("float64"), index=key).groupby(level=[0, 1]).min()
        for rank, (end, ms, origin, label) in enumerate(_MILESTONES):
            sel = p["milestone"] == ms
            if origin is not None:
                sel &= p["origin"] == origin
            d = p[sel]
            if d.empty:
                continue
            p = p[~sel]
            if ms in _RELISTED:  # the record's time is exact, the start it reports is up to a relist earlier
                # the container start's record: the last ContainerStarted of the pod's first life (the first
                # may be its sandbox's, a relist before the container started: container_start_records)
                both = pd.concat([d, p[p["milestone"] == "pleg_container_died"]])
                keep = container_start_records(both.assign(namespace=both["namespace"].fillna("")), t="ts").index
                d = d[d.index.isin(keep)]
                d = d.assign(resolution_s=d["resolution_s"].fillna(0).clip(lower=PLEG_RELIST_S))
                queued = _pleg_queued(d, dump_sec)
                if queued:
                    solo = solo_writes(run)
                d = _relisted_in_second(d, dump_sec, label, queued, solo)
            src = d["origin"].fillna("?") + ": " + (d["_label"] if "_label" in d else label)
            frames.append(
                d.drop(columns=["_label"], errors="ignore").assign(
                    end=end, rank=rank, tier=int(ms in _LATE_SOURCES), source=src
                )
            )
    if run.has("events"):
        e = run.table(
            "events",
            columns=[
                "event_time",
                "first_ts",
                "ts",
                "clock",
                "reason",
                "name",
                "object_kind",
                "object_namespace",
                "object_name",
                "host",
                "source_id",
                "line_no",
            ],
        )
        e = e[
            (e["object_kind"] == "Pod")
            & e["reason"].isin(["Scheduled", "Created", "Started"])
            & e["object_name"].notna()
        ]
        if not e.empty:
            t = e["event_time"].where(e["event_time"].notna(), e["first_ts"]).fillna(e["ts"])
            res = np.where(e["event_time"].notna(), 1e-6, 1.0)
            label = "events: " + e["reason"] + " Event"
            # the instant in the event's name (client-go: <object>.<UnixNano hex>, load.event_name_instants):
            # made right after the bind returned (Scheduled) / the runtime's StartContainer returned
            # (Started), so an upper bound of that end; a Started event's resolution is the StartContainer
            # call, from the Created event before it (made when CreateContainer returned), else 0.1 s
            inst = event_name_instants(e)
            named = np.isfinite(inst)
            call = created_before_started(e["object_namespace"].fillna(""), e["object_name"], e["reason"], inst)
            start_res = np.where(np.isfinite(call), np.maximum((inst - call) / 1e9, 1e-3), _START_CALL_S)
            # the start lies in [Created, Started]; where, the pod dumps' startedAt seconds tell
            # (load.start_in_gap: Kubemark's fake Docker client starts a container ~200 ms before Started)
            placed = named & np.isfinite(call) & (e["reason"] == "Started").to_numpy()
            if placed.any():
                key = pd.MultiIndex.from_arrays([e["object_namespace"].fillna(""), e["object_name"]])
                sec_all = pd.Series(dump_sec.reindex(key).to_numpy(), index=e.index)
                sec = sec_all[placed]
                idx = e.index[placed]
                est = np.full(len(inst), np.nan)
                est[placed] = start_in_gap(
                    pd.Series(call[placed], index=idx), pd.Series(inst[placed], index=idx), sec, []
                )
                # and the pod's dump second (startedAt, truncated; the same clock) narrows [Created, Started]:
                # on a queued fake Docker client the gap can be seconds, the second is one
                s_all = sec_all.to_numpy(dtype=np.float64)
                lo, hi = np.fmax(call, s_all), np.fmin(inst, s_all + 1e9)
                cut = placed & np.isfinite(s_all) & (lo <= hi)
                est = np.where(cut, np.clip(est, lo, hi), est)
                start_res = np.where(cut, np.maximum((hi - lo) / 1e9, 1e-3), start_res)
                inst = np.where(placed, np.floor(est), inst)
            t = t.where(~named, pd.to_datetime(np.where(named, inst, 0).astype("int64"), utc=True))
            res = np.where(named, np.where(e["reason"] == "Started", start_res, 1e-3), res)
            label = label.where(~named, "events: " + e["reason"] + " Event (instant in its name)")
            label = label.where(~placed, "events: Created and Started Events (instants in their names)")
            keep = (e["reason"] != "Created").to_numpy()
            frames.append(
                pd.DataFrame(
                    {
                        "namespace": e["object_namespace"],
                        "pod": e["object_name"],
                        "node": np.where(e["reason"] == "Started", e["host"], None),
                        "ts": t,
                        "clock": e["clock"],
                        "resolution_s": res,
                        "end": np.where(e["reason"] == "Scheduled", "scheduled", "running"),
                        "rank": _EVENT_RANK,
                        "source": label,
                        "source_id": e["source_id"],
                        "line_no": e["line_no"],
                    }
                )[keep]
            )
    if run.has("requests"):
        wr = _running_writes(solo if solo is not None else solo_writes(run, alone=queued is not False), queued)
        if wr is not None and len(wr):
            frames.append(wr)
    found = _found_lines(run)
    if found is not None:
        frames.append(found)
    att = _attempting_to_bind(run)
    if att is not None:
        frames.append(att)
    if frames:
        post = _create_posts(
            run,
            pd.concat(
                [f[["namespace", "pod", "end", "ts", "clock", "resolution_s"]] for f in frames], ignore_index=True
            ),
        )
        if post is not None:
            frames.append(post)
    if not frames:
        return pd.DataFrame(columns=_END_COLUMNS)
    c = pd.concat(
        [f.assign(tier=f["tier"] if "tier" in f else 0)[_END_COLUMNS] for f in frames],
        ignore_index=True,
    )
    c["namespace"] = c["namespace"].fillna("")
    c["resolution_s"] = c["resolution_s"].fillna(1.0)
    return _relist_lag(c)


def _relist_lag(c: pd.DataFrame) -> pd.DataFrame:
    """A PLEG record's resolution as a running end is a relist (1 s) — where its relists ran on time.  On
    Kubemark's fake Docker client every relist call queues at the client's one mutex behind the node's
    creates, starts and stops (pkg/kubelet/dockershim/libdocker/fake_client.go; load.py
    ``_measured_lag``), and the record follows the start by seconds while pods start.  Where the pods whose
    start their Created and Started events give show their records later than a relist after it, every
    record's resolution is the longest such lag (+ 0.1 s), and the events' own gap usually wins."""
    run = c[c["end"] == "running"]
    rel = run["source"].str.contains("PLEG", regex=False)
    ev = run["source"].str.contains("Created and Started Events", regex=False)
    if not rel.any() or not ev.any():
        return c
    a, b = (run[m].groupby(["namespace", "pod"])["ts"].min() for m in (rel, ev))
    a, b = (pd.Series(_ns_int(x), index=x.index, dtype="float64") for x in (a, b))
    lag = _measured_lag(a, b.reindex(a.index), int(PLEG_RELIST_S * 1e9), "PLEG records", [])
    if lag is None:
        return c
    c = c.copy()
    sel = (c["end"] == "running") & c["source"].str.contains("PLEG", regex=False)
    c.loc[sel, "resolution_s"] = np.maximum(c.loc[sel, "resolution_s"], lag[1] / 1e9)
    return c


_POST_RANK = -1  # before every other created source of the same resolution
_POST_SLACK_S = 0.1  # a create request ends a little after the object was stored (creationTimestamp)


def _create_posts(run: Run, c: pd.DataFrame) -> pd.DataFrame | None:
    """µs create instants for pods whose only evidence of creation is ``creationTimestamp`` (whole
    seconds, truncated): a pod created with ``generateName`` has no name in its ``POST`` (nor in a
    Metadata-level audit ``objectRef``), so a ``POST …/pods`` → 201 of the pod's namespace is tied to
    the pod only when it is the one such POST ending within [creationTimestamp, +1 s + 0.1 s) and
    that window is the only one (of the namespace's pods) that holds it.  The POST's end (µs,
    apiserver) is then the created end."""
    if not run.has("requests"):
        return None
    import pyarrow.dataset as ds

    r = run.table(
        "requests",
        columns=[
            "ts",
            "verb",
            "resource",
            "subresource",
            "namespace",
            "name",
            "code",
            "latency_s",
            "origin",
            "clock",
            "source_id",
            "line_no",
        ],
        filter=(ds.field("resource") == "pods") & (ds.field("verb") == "create"),
    )
    r = r[(r["code"] == 201) & (r["subresource"].fillna("") == "") & r["ts"].notna()]
    if r.empty:
        return None
    origin = next((o for o in ("httplog", "audit", "jsonlog") if (r["origin"] == o).any()), None)
    r = r[r["origin"] == origin].assign(namespace=lambda d: d["namespace"].fillna(""))
    cr = c[(c["end"] == "created") & (c["clock"] == "apiserver")]
    fine = set(zip(cr.loc[cr["resolution_s"] < 1.0, "namespace"], cr.loc[cr["resolution_s"] < 1.0, "pod"]))
    cr = cr[(cr["resolution_s"] >= 1.0) & (cr["namespace"] != "")]
    cr = cr[np.array([k not in fine for k in zip(cr["namespace"], cr["pod"])], dtype=bool)]
    cr = cr.sort_values("ts").drop_duplicates(["namespace", "pod"])
    out = []
    lo = _ns_int(cr["ts"])
    hi = lo + int((1.0 + _POST_SLACK_S) * 1e9)
    owners = _owner_receipts(run)
    for ns, g in r.groupby("namespace", sort=False):
        fine_pods = {q for n, q in fine if n == ns}
        by_order = _create_posts_in_order(
            g, c[c["namespace"] == ns], cr[cr["namespace"] == ns], fine_pods, owners.get(ns, {})
        )
        placed = set()
        if by_order is not None:  # those pods and their blocks' POSTs leave the windows' test below
            frame, used = by_order
            placed = set(frame["pod"])  # the pods in ``fine`` are not in ``cr``
            g = g.drop(g.index[np.asarray(used, dtype=np.int64)])
            out.append((ns, frame))
        sel = ((cr["namespace"] == ns) & ~cr["pod"].isin(placed)).to_numpy()
        if not sel.any() or g.empty:
            continue
        t = np.sort(_ns_int(g["ts"]))
        order = np.argsort(_ns_int(g["ts"]), kind="stable")
        gl, gh = lo[sel], hi[sel]
        a, b = np.searchsorted(t, gl, side="left"), np.searchsorted(t, gh, side="left")
        one = (b - a) == 1
        # the POST must lie in no other pod's window of the namespace
        hits = np.zeros(t.size, dtype=np.int64)
        for x, y in zip(a, b):
            hits[x:y] += 1
        ok = one & (hits[np.minimum(a, t.size - 1)] == 1)
        pods = cr[sel][ok]
        rows = g.iloc[order[a[ok]]]
        if len(pods):
            src = "pod create POST (request end; the only one within its creationTimestamp second)"
            out.append((ns, _post_created(pods["pod"].to_numpy(), rows, 1e-6, src)))
    return (
        pd.concat([f.assign(namespace=ns, source=origin + ": " + f["source"]) for ns, f in out], ignore_index=True)
        if out
        else None
    )


def _matchable(adj: list[list[int]], base: int) -> list[list[int]] | None:
    """For a bipartite graph of m pods and m creates (``adj[x]``: the creates, numbered from ``base``, pod x may
    have), the creates each pod has in *some* perfect matching, or None when there is none. One matching by
    augmenting paths; an edge outside it is in another exactly when its pod and create share a strongly
    connected component of the graph with matched edges create → pod and the others pod → create."""
    m = len(adj)
    match_c = [-1] * m  # create → pod

    def augment(x: int, seen: list) -> bool:
        for ci in adj[x]:
            j = ci - base
            if not seen[j]:
                seen[j] = True
                if match_c[j] < 0 or augment(match_c[j], seen):
                    match_c[j] = x
                    return True
        return False

    for x in range(m):
        if not augment(x, [False] * m):
            return None
    match_p = [0] * m
    for j, x in enumerate(match_c):
        match_p[x] = j
    # nodes: pods 0..m-1, creates m..2m-1
    succ = [[m + ci - base for ci in adj[x] if ci - base != match_p[x]] for x in range(m)]
    succ += [[match_c[j]] for j in range(m)]
    comp = _scc(succ)
    return [sorted({base + match_p[x]} | {ci for ci in adj[x] if comp[m + ci - base] == comp[x]}) for x in range(m)]


def _scc(succ: list[list[int]]) -> list[int]:
    """Strongly connected components (Tarjan's algorithm, iterative): a component number per node."""
    n = len(succ)
    index, low, comp = [-1] * n, [0] * n, [-1] * n
    on, stack, counter, ncomp = [False] * n, [], 0, 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on[v] = True
            if i < len(succ[v]):
                work.append((v, i + 1))
                w = succ[v][i]
                if index[w] < 0:
                    work.append((w, 0))
                elif on[w]:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on[w] = False
                    comp[w] = ncomp
                    if w == v:
                        break
                ncomp += 1
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return comp


def _post_created(pod, rows: pd.DataFrame, resolution_s, source) -> pd.DataFrame:
    """Created candidates of ``pod`` (an array) from their create POSTs ``rows`` (aligned): the POST's end."""
    return pd.DataFrame(
        {
            "pod": pod,
            "node": None,
            "ts": rows["ts"].to_numpy(),
            "clock": rows["clock"].fillna("apiserver").to_numpy(),
            "resolution_s": resolution_s,
            "end": "created",
            "rank": _POST_RANK,
            "source": source,
            "source_id": rows["source_id"].to_numpy(),
            "line_no": rows["line_no"].to_numpy(),
        }
    )


_IN_ORDER = "pod create POST (request end; the one its bindings' order leaves it)"
_IN_ORDER_SOME = "pod create POST (request end; the earliest of those its bindings' order leaves it)"
_ORDER_BLOCK_MAX = 64  # pods of a block between two tight bindings that are matched (larger ones are left)


#: controllers that create their pods with ``generateName: <owner name>-`` (pkg/controller/controller_utils.go
#: ``GetPodFromTemplate`` / ``getPodsPrefix``): a pod named ``<owner>-<5 characters>`` is one of theirs
_GENERATING_OWNERS = ("replicationcontrollers", "replicasets", "jobs", "daemonsets")


def _owner_receipts(run: Run) -> dict:
    """``{namespace: {owner name: receipt ns}}`` of the creates of pod-generating controllers whose audit event
    names the object (``objectRef.name``, filled from the request object at Metadata level:
    staging/src/k8s.io/apiserver/pkg/audit/request.go ``LogRequestObject``): the earliest receipt per name."""
    import pyarrow.dataset as ds

    if not run.has("requests"):
        return {}
    r = run.table(
        "requests",
        columns=["ts", "latency_s", "namespace", "name", "code", "subresource"],
        filter=(ds.field("verb") == "create")
        & ds.field("resource").isin(list(_GENERATING_OWNERS))
        & (ds.field("origin") == "audit"),
    )
    r = r[(r["code"] < 300) & (r["subresource"].fillna("") == "") & (r["name"].fillna("") != "") & r["ts"].notna()]
    if r.empty:
        return {}
    lat = pd.to_numeric(r["latency_s"], errors="coerce").fillna(0.0).clip(lower=0.0).to_numpy()
    recv = _ns_int(r["ts"]) - np.round(lat * 1e9).astype(np.int64)
    d = pd.DataFrame({"ns": r["namespace"].fillna("").to_numpy(), "name": r["name"].to_numpy(), "recv": recv})
    d = d.groupby(["ns", "name"])["recv"].min()
    out: dict = {}
    for (ns, name), v in d.items():
        out.setdefault(ns, {})[name] = int(v)
    return out


def _create_posts_in_order(g: pd.DataFrame, c: pd.DataFrame, cr: pd.DataFrame, fine: set, owners=None):
    """µs create instants of one namespace's pods by the order of their bindings, where no window of
    ``creationTimestamp`` can tell them (latency pods created 200 ms apart by their replication controllers:
    test/e2e/scalability/density.go; a pod deleted before the dump has no ``creationTimestamp`` at all).

    A pod is received (its create POST) before it is stored, seen by the scheduler and bound, so every
    scheduled instant S on the apiserver's clock follows its create's receipt. When the namespace's 2xx pod
    creates are exactly its pods (as many creates as pods, every pod with such an S), sort the pods by S:
    where exactly k creates were received before S_k (Hall's condition is tight), the first k pods own them.
    Two such tight bindings enclose a block of pods owning the creates received between them: a block of one
    is placed; a block of ≤ ``_ORDER_BLOCK_MAX`` pods is placed pod by pod (:func:`_matchable`) where every
    assignment that keeps each create before its pod's bindings and inside its ``creationTimestamp`` second
    (stored at or after it, received before its end) gives the pod the same create; where they give it one of
    several, its created end is the earliest of those (late-side, as a truncated creationTimestamp: the phase from it is at most
    that long) with the spread of the others as its resolution. A block no assignment fits shows the premise
    wrong (a create or a binding missing from the logs): none of the namespace's pairs is used then.
    ``owners`` (``{owner name: receipt ns}``, :func:`_owner_receipts`): a pod named ``<owner>-<5 characters>``
    was created by that controller after it saw its owner, so its create was received after the owner's.

    Returns None, or (the created candidates of the block pods but those in ``fine``, which have a created
    end finer than a second already; the positions in ``g`` of every create the solved blocks own)."""
    sc = c[(c["end"] == "scheduled") & (c["clock"] == "apiserver") & (c["resolution_s"] <= 1e-3)]
    pods = c[["pod"]].drop_duplicates()
    if sc.empty or len(pods) != len(g):
        return None
    s = sc.groupby("pod")["ts"].min()
    if len(s) != len(pods):
        return None
    s = s.sort_values(kind="stable")
    st = _ns_int(s)
    if (np.diff(st) <= 0).any():
        return None
    lat = pd.to_numeric(g["latency_s"], errors="coerce").fillna(0.0).clip(lower=0.0).to_numpy()
    end = _ns_int(g["ts"])
    recv = end - np.round(lat * 1e9).astype(np.int64)
    order = np.argsort(recv, kind="stable")
    recv_sorted = recv[order]
    before = np.searchsorted(recv_sorted, st, side="left")  # creates received before each S
    k = np.arange(1, len(st) + 1)
    cts = cr.set_index("pod")["ts"].reindex(s.index)
    has = cts.notna().to_numpy()
    lo = _ns_int(cts.fillna(pd.Timestamp(0, tz="UTC")))

    # the pod's owner's create receipt (a controller makes its pods after it saw the owner), or none
    owner_at = np.full(len(st), np.iinfo(np.int64).min, dtype=np.int64)
    for i, name in enumerate(s.index):
        m = RX_SUFFIX.match(str(name))
        if owners and m and m.group("base") in owners:
            owner_at[i] = owners[m.group("base")]

    def fits(pi: int, ci: int) -> bool:  # pod pi (in binding order) created by the ci-th create received
        c_ = order[ci]
        return owner_at[pi] < recv[c_] < st[pi] and not (
            has[pi] and (end[c_] < lo[pi] or recv[c_] >= lo[pi] + 1_000_000_000)
        )

    # tight prefixes cut the pods into blocks: the pods after one tight binding up to the next own the
    # creates received between them; a block of up to _ORDER_BLOCK_MAX pods is solved as a matching
    cuts = [0, *(k[before == k])]
    pods_at, creates_at, spread, used = [], [], [], []
    for a, b in zip(cuts, cuts[1:]):
        if b - a > _ORDER_BLOCK_MAX:
            continue
        adj = [[ci for ci in range(a, b) if fits(pi, ci)] for pi in range(a, b)]
        allowed = _matchable(adj, a)
        if allowed is None:
            return None  # the premise is wrong: a create or a binding is missing, or one is not the pod's
        used.extend(order[a:b])
        for x, cis in enumerate(allowed):
            cands = order[np.asarray(cis, dtype=np.int64)]
            first = cands[np.argmin(end[cands])]
            pods_at.append(a + x)
            creates_at.append(first)  # one create, or the earliest of those the order leaves it (late-side)
            spread.append(int(end[cands].max() - end[first]) / 1e9)
    if not pods_at:
        return None
    idx = np.asarray(creates_at, dtype=np.int64)
    pod = s.index.to_numpy()[np.asarray(pods_at, dtype=np.int64)]
    rows = g.iloc[idx]
    spread = np.asarray(spread)
    frame = _post_created(pod, rows, 1e-6 + spread, np.where(spread > 0, _IN_ORDER_SOME, _IN_ORDER))
    return frame[~frame["pod"].isin(fine)], used  # pods with a finer created end keep it


def _ns_int(ts) -> np.ndarray:
    return pd.DatetimeIndex(pd.to_datetime(ts, utc=True)).as_unit("ns").asi8


def _records_starting(run: Run, table: str, prefix: str) -> pd.DataFrame | None:
    """``ts, clock, msg, source_id, line_no`` of the rows of ``table`` whose ``msg`` starts with
    ``prefix`` (filtered while reading), None when there are none."""
    if not run.has(table):
        return None
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    t = run.table(
        table, columns=["ts", "clock", "msg", "source_id", "line_no"], filter=pc.starts_with(ds.field("msg"), prefix)
    )
    return None if t.empty else t


def _found_lines(run: Run):
    """e2e ``Found pod 'RC' running`` lines → watched candidates keyed by RC (resolved to pods later)."""
    t = _records_starting(run, "test_log", "Found pod '")
    if t is None:
        return None
    m = t["msg"].str.extract(RX_FOUND)
    t = t[m["rc"].notna()].assign(rc=m["rc"].dropna())
    if t.empty:
        return None
    # the line is logged when the poll's list returned: up to a poll period after the pod ran, plus that
    # list's own time — the longest of the test's lists of an RC's pods (labelSelector name=<rc>) the run's
    # apiserver log shows (a duration: no clock needed)
    res = FOUND_POLL_S
    if run.has("requests"):
        from .latency import api_requests

        q, _ = api_requests(run, columns=["verb", "resource", "uri", "latency_s"])
        q = q[(q["verb"] == "list") & (q["resource"] == "pods")]
        q = q[q["uri"].fillna("").str.contains("labelSelector=name%3D|labelSelector=name=", regex=True)]
        if len(q) and q["latency_s"].notna().any():
            res = FOUND_POLL_S + float(q["latency_s"].max())
    return pd.DataFrame(
        {
            "namespace": "",
            "pod": "\x00rc:" + t["rc"],
            "node": None,
            "ts": t["ts"],
            "clock": t["clock"].fillna("test"),
            "resolution_s": res,
            "end": "watched",
            "rank": _FOUND_RANK,
            "source": "e2e-log: 'Found pod … running' line (2 s poll: up to 2 s and its list after the pod ran)",
            "source_id": t["source_id"],
            "line_no": t["line_no"],
        }
    )


def _attempting_to_bind(run: Run):
    """Old schedulers' ``Attempting to bind NAME to NODE`` records (``messages``; no namespace) →
    scheduled candidates, ranked after every ``bound`` source (the record precedes the binding)."""
    m = _records_starting(run, "messages", "Attempting to bind ")
    if m is None:
        return None
    x = m["msg"].str.extract(RX_ATTEMPT)
    ok = x["pod"].notna() & m["ts"].notna()
    m, x = m[ok], x[ok]
    if m.empty:
        return None
    ns = x["pod"].str.rpartition("/")[0]
    pod = x["pod"].str.rpartition("/")[2]
    return pd.DataFrame(
        {
            "namespace": ns,
            "pod": pod,
            "node": x["node"],
            "ts": m["ts"],
            "clock": m["clock"].fillna("apiserver"),
            "resolution_s": 1e-6,
            "end": "scheduled",
            "rank": _ATTEMPT_RANK,
            "source": "scheduler: 'Attempting to bind' record",
            "source_id": m["source_id"],
            "line_no": m["line_no"],
        }
    )


def _resolve_names(c: pd.DataFrame) -> pd.DataFrame:
    """Give namespace-less rows the namespace of the only pod of that name, and map RC-keyed rows
    (``\\x00rc:NAME``) to the pod named NAME-xxxxx (or NAME)."""
    named = c[(c["namespace"] != "") & ~c["pod"].str.startswith("\x00rc:")][["namespace", "pod"]].drop_duplicates()
    rc_rows = c["pod"].str.startswith("\x00rc:")
    if rc_rows.any():
        base = named["pod"].str.extract(RX_SUFFIX)["base"].fillna(named["pod"])
        by_rc = named.assign(rc=base)
        uniq = by_rc[by_rc["rc"].map(by_rc["rc"].value_counts()) == 1]
        m = dict(zip(uniq["rc"], zip(uniq["namespace"], uniq["pod"])))
        direct = dict(zip(named["pod"], named["namespace"]))
        ns_out, pod_out = [], []
        for rc in c.loc[rc_rows, "pod"].str[4:]:
            if rc in m:
                ns_out.append(m[rc][0])
                pod_out.append(m[rc][1])
            elif rc in direct:
                ns_out.append(direct[rc])
                pod_out.append(rc)
            else:
                ns_out.append("")
                pod_out.append(rc)
        c.loc[rc_rows, "namespace"] = ns_out
        c.loc[rc_rows, "pod"] = pod_out
    blank = c["namespace"] == ""
    if blank.any():
        counts = named.groupby("pod")["namespace"].agg(["first", "size"])
        one = counts[counts["size"] == 1]["first"]
        c.loc[blank, "namespace"] = c.loc[blank, "pod"].map(one).astype(object).fillna("")  # all-NaN map: float64
    return c


def _offset_lookup(offsets: dict | None):
    """domain → offset seconds (0 when not given), with node name aliasing."""
    import functools

    offsets = dict(offsets or {})

    @functools.lru_cache(maxsize=None)
    def get(domain) -> float | None:
        if not isinstance(domain, str):
            return None
        if domain in offsets:
            return float(offsets[domain])
        if domain.startswith("node/"):
            n = domain[5:]
            for k, v in offsets.items():
                if k.startswith("node/"):
                    o = k[5:]
                    if o.endswith("-" + n) or n.endswith("-" + o):
                        return float(v)
        return None

    return get


# ---------------------------------------------------------------------------------------------


@memoized
def pod_startup(run: Run, *, offsets: dict | None = None, timeline=None, edges=None) -> PodStartup:
    """Pod start-up phases per pod, as percentiles (overall and per load bucket), with anomalies
    and a cross-check against what the test reported.

    Parameters
    ----------
    run : Run
    offsets : dict, optional
        ``{clock domain: seconds}`` — how far each domain's clock is ahead of the reference; the
        offset is subtracted from that domain's times before phases are computed.
    timeline : LoadTimeline, optional
        Load timeline to bucket pods by their creation time (default: ``load_timeline(run)``).
    edges : sequence of float, optional
        Load-bucket edges in percent (default 10/25/50/90/100).

    Returns
    -------
    PodStartup
        Phases in seconds; see :class:`PodStartup`.
    """
    from . import load as loadmod

    notes: list = []
    edges = tuple(edges) if edges is not None else loadmod.DEFAULT_EDGES
    c = _candidates(run)
    c = _resolve_names(c) if len(c) else c
    get_off = _offset_lookup(offsets)
    # best candidate per (namespace, pod, end)
    c = c.sort_values(["namespace", "pod", "end", "tier", "resolution_s", "rank", "ts"], kind="stable")
    best = c.drop_duplicates(["namespace", "pod", "end"], keep="first")
    pods = c[["namespace", "pod"]].drop_duplicates().reset_index(drop=True)
    # node: the longest name any source gave (hollow-node-ab12c over ab12c)
    nd = c[c["node"].notna() & (c["node"] != "")]
    if len(nd):
        nd = nd.assign(_l=nd["node"].str.len()).sort_values("_l", ascending=False, kind="stable")
        node = nd.drop_duplicates(["namespace", "pod"])[["namespace", "pod", "node"]]
        pods = pods.merge(node, on=["namespace", "pod"], how="left")
    else:
        pods["node"] = None
    per = pods
    for end in ENDS:
        b = best[best["end"] == end][
            ["namespace", "pod", "ts", "clock", "resolution_s", "source", "source_id", "line_no"]
        ]
        b = b.rename(
            columns={k: f"{end}_{k}" for k in ("ts", "clock", "resolution_s", "source", "source_id", "line_no")}
        )
        per = per.merge(b, on=["namespace", "pod"], how="left")
        if not isinstance(per[f"{end}_ts"].dtype, pd.DatetimeTZDtype):
            per[f"{end}_ts"] = pd.to_datetime(per[f"{end}_ts"], utc=True)
    # corrected times: int64 ns (exact; float64 would lose ~0.1 µs at today's epoch) and a NaT mask
    corr, missing = {}, {}
    applied = set()
    for end in ENDS:
        na = per[f"{end}_ts"].isna().to_numpy()
        t = pd.DatetimeIndex(per[f"{end}_ts"]).as_unit("ns").asi8.copy()
        t[na] = 0
        if offsets:
            off = per[f"{end}_clock"].map(get_off)
            applied |= set(per.loc[off.notna(), f"{end}_clock"])
            t = t - np.round(off.fillna(0.0).to_numpy(dtype=float) * 1e9).astype(np.int64)
            per[f"{end}_ts_corrected"] = pd.to_datetime(np.where(na, np.iinfo(np.int64).min, t), utc=True, unit="ns")
        corr[end], missing[end] = t, na
    for ph, a, b in PHASES:
        per[f"{ph}_s"] = np.where(missing[a] | missing[b], np.nan, (corr[b] - corr[a]) / 1e9)
    # measured population and never-running pods
    per["measured"] = _measured(run, per, c)
    snap = _observed_pods(run)
    per["not_running"] = (
        per["running_ts"].isna()
        & per["watched_ts"].isna()
        & pd.Series([k in snap for k in zip(per["namespace"], per["pod"])], index=per.index, dtype=bool)
    )
    # load bucket at creation
    per["bucket"] = None
    try:
        tl = timeline if timeline is not None else loadmod.load_timeline(run)
        if tl.capacity:
            t_cr = per["created_ts"]
            if per["created_ts"].notna().any():
                per["bucket"] = loadmod.bucket_of(tl, t_cr, edges)
        else:
            notes.append(f"no load buckets: capacity {tl.nodes_source}")
    except ValueError as e:  # no capacity
        notes.append(f"no load buckets: {e}")
    pct = _percentiles(per, edges)
    mpct = _percentiles(per[per["measured"]], None)
    anomalies = _anomalies(per, offsets, get_off)
    cross = _cross_check(run, per)
    cols = ["namespace", "pod", "node", "measured", "not_running", "bucket"]
    for end in ENDS:
        cols += (
            [f"{end}_ts"]
            + ([f"{end}_ts_corrected"] if offsets else [])
            + [f"{end}_{k}" for k in ("clock", "resolution_s", "source", "source_id", "line_no")]
        )
    cols += [f"{p}_s" for p in PHASE_NAMES]
    per = per[cols].sort_values(["namespace", "pod"], kind="stable").reset_index(drop=True)
    src = _sources_text(per, offsets, applied)
    if offsets:
        unused = [d for d in offsets if d not in applied and not any(_same_node(d, a) for a in applied)]
        if unused:
            notes.append(f"offsets given for domains with no pod times: {', '.join(sorted(unused))}")
    return PodStartup(
        per_pod=per,
        percentiles=pct,
        measured_percentiles=mpct,
        anomalies=anomalies,
        cross_check=cross,
        sources=src,
        notes=notes,
        reported=reported(run),
    )


def _same_node(a: str, b: str) -> bool:
    if not (a.startswith("node/") and b.startswith("node/")):
        return False
    x, y = a[5:], b[5:]
    return x.endswith("-" + y) or y.endswith("-" + x)


def _observed_pods(run: Run) -> set:
    """Pods seen not running: a kubelet record of the pod, or a pod dump/watch object in phase
    Pending (or without a phase) that never restarted.  A pod that ran and crashed or was evicted
    (phase Running/Failed/Succeeded, or restarts > 0) is not 'never running'."""
    if not run.has("pod_transitions"):
        return set()
    p = run.table("pod_transitions", columns=["namespace", "pod", "origin", "milestone", "detail"])
    p = p[p["milestone"] != "deleted"]
    kub = p[p["origin"] == "kubelet"]
    snap = p[p["origin"].isin(["pods-json", "pods-yaml", "watch"]) & (p["milestone"] == "created")]
    phase = snap["detail"].str.extract(r'"phase": "(\w*)"')[0].fillna("")
    restarts = pd.to_numeric(snap["detail"].str.extract(r'"restarts": (\d+)')[0], errors="coerce").fillna(0)
    ran = snap[~phase.isin(["", "Pending", "Unknown"]) | (restarts > 0)]
    pend = snap[phase.isin(["", "Pending", "Unknown"]) & (restarts == 0)]
    ran_keys = set(zip(ran["namespace"].fillna(""), ran["pod"]))
    keys = set(zip(kub["namespace"].fillna(""), kub["pod"])) | set(zip(pend["namespace"].fillna(""), pend["pod"]))
    return keys - ran_keys


def _measured(run: Run, per: pd.DataFrame, c: pd.DataFrame) -> pd.Series:
    names = set()
    if run.has("test_pod_latencies"):
        t = run.table("test_pod_latencies", columns=["pod", "phase", "origin"])
        t = t[t["phase"].fillna("").str.lower() != "saturation"]  # saturation lists are not the measured set
        names |= set(t["pod"].dropna())
    found = c[c["rank"] == _FOUND_RANK]
    names |= set(found["pod"])
    return per["pod"].isin(names) | per["pod"].str.startswith("density-latency-pod-")


def _percentiles(per: pd.DataFrame, edges) -> pd.DataFrame:
    from . import load as loadmod

    rows = []
    for ph, a, b in PHASES:
        v = per[[f"{ph}_s", "bucket", f"{a}_resolution_s", f"{b}_resolution_s", f"{a}_clock", f"{b}_clock"]]
        v = v[v[f"{ph}_s"].notna()]
        res = float((v[f"{a}_resolution_s"] + v[f"{b}_resolution_s"]).max()) if len(v) else np.nan
        clocks = ", ".join(sorted({f"{x}→{y}" for x, y in zip(v[f"{a}_clock"], v[f"{b}_clock"])}))
        if len(clocks) > 80:
            kinds = sorted({f"{_dom_kind(x)}→{_dom_kind(y)}" for x, y in zip(v[f"{a}_clock"], v[f"{b}_clock"])})
            clocks = ", ".join(kinds)
        groups = [("all", v)]
        if edges is not None and v["bucket"].notna().any():
            labels = loadmod.bucket_labels(edges)
            for lab in labels:
                g = v[v["bucket"] == lab]
                if len(g):
                    groups.append((lab, g))
        for lab, g in groups:
            vals = g[f"{ph}_s"].to_numpy(dtype=float)
            row = {"phase": ph, "bucket": lab, "count": int(vals.size)}
            for p, col in zip(PERCENTILES, PCT_COLUMNS):
                row[col] = stats.percentile(vals, p) if vals.size else np.nan
            row["resolution_s"] = res
            row["clocks"] = clocks
            rows.append(row)
    cols = ["phase", "bucket", "count"] + PCT_COLUMNS + ["resolution_s", "clocks"]
    return pd.DataFrame(rows, columns=cols)


def _dom_kind(d) -> str:
    if not isinstance(d, str):
        return "?"
    return "node/*" if d.startswith("node/") else d


def _anomalies(per: pd.DataFrame, offsets, get_off) -> pd.DataFrame:
    rows = []
    for ph, a, b in PHASES:
        v = per[f"{ph}_s"]
        res = per[f"{a}_resolution_s"] + per[f"{b}_resolution_s"]
        ca, cb = per[f"{a}_clock"], per[f"{b}_clock"]
        has = v.notna()
        diff_clock = has & (ca != cb)
        if offsets:
            corrected = ca.map(lambda d: get_off(d) is not None) | cb.map(lambda d: get_off(d) is not None)
            diff_clock &= ~corrected
        rows.append(
            {
                "phase": ph,
                "count": int(has.sum()),
                "negative": int((v < 0).sum()),
                "zero": int((v == 0).sum()),
                "missing": int(v.isna().sum()),
                "below_resolution": int((has & (res >= 1.0) & (v.abs() < res) & (v != 0)).sum()),
                "cross_clock": int(diff_clock.sum()),
            }
        )
    return pd.DataFrame(
        rows, columns=["phase", "count", "negative", "zero", "missing", "below_resolution", "cross_clock"]
    )


def _population(phase_label) -> str:
    p = str(phase_label or "").lower()
    if p == "latency":
        return "measured"
    if p == "saturation":
        return "unmeasured"
    return "all"


def _cross_check(run: Run, per: pd.DataFrame) -> pd.DataFrame:
    cols = [
        "phase",
        "population",
        "statistic",
        "reported_s",
        "derived_s",
        "difference_s",
        "tolerance_s",
        "agree",
        "reported_by",
    ]
    rows = []
    pops = {"measured": per[per["measured"]], "unmeasured": per[~per["measured"]], "all": per}
    if run.has("perf_summaries"):
        s = run.table(
            "perf_summaries",
            columns=["metric", "phase", "labels", "p50_s", "p90_s", "p99_s", "p100_s", "source_id", "line_no"],
        )
        s = s[s["metric"].isin(PHASE_NAMES)]
        for r in s.itertuples(index=False):
            pop = _population(r.phase)
            d = pops[pop]
            a, b = next((x, y) for p, x, y in PHASES if p == r.metric)
            vals = d[f"{r.metric}_s"].dropna().to_numpy(dtype=float)
            res = float((d[f"{a}_resolution_s"] + d[f"{b}_resolution_s"]).max()) if len(vals) else np.nan
            for q, col in zip(PERCENTILES, PCT_COLUMNS):
                rep = getattr(r, col)
                if rep is None or pd.isna(rep):
                    continue
                der = stats.percentile(vals, q) if vals.size else np.nan
                rows.append(
                    _xrow(r.metric, f"{pop} ({r.phase})", col, rep, der, res, run.where(r.source_id, r.line_no))
                )
    if run.has("test_pod_latencies"):
        t = run.table(
            "test_pod_latencies", columns=["metric", "phase", "namespace", "pod", "latency_s", "source_id", "line_no"]
        )
        t = t[t["metric"].isin(PHASE_NAMES) & t["pod"].notna()]
        if len(t):
            key = per.drop_duplicates("pod").set_index("pod")
            for r in t.itertuples(index=False):
                if r.pod not in key.index:
                    der, res = np.nan, np.nan
                else:
                    k = key.loc[r.pod]
                    a, b = next((x, y) for p, x, y in PHASES if p == r.metric)
                    der = k[f"{r.metric}_s"]
                    res = k[f"{a}_resolution_s"] + k[f"{b}_resolution_s"]
                rows.append(
                    _xrow(r.metric, "pod", f"pod {r.pod}", r.latency_s, der, res, run.where(r.source_id, r.line_no))
                )
    return pd.DataFrame(rows, columns=cols)


def reported(run: Run) -> pd.DataFrame:
    """Pod start-up numbers as the test reported them (see :attr:`PodStartup.reported`)."""
    rows = []
    if run.has("perf_summaries"):
        s = run.table(
            "perf_summaries",
            columns=["metric", "phase", "count", "p50_s", "p90_s", "p99_s", "p100_s", "origin", "source_id", "line_no"],
        )
        s = s[s["metric"].isin(PHASE_NAMES) & s[PCT_COLUMNS].notna().any(axis=1)]
        for r in s.itertuples(index=False):
            rows.append(
                {
                    "kind": "summary",
                    "origin": r.origin,
                    "phase": r.phase,
                    "metric": r.metric,
                    "count": r.count,
                    **{c: getattr(r, c) for c in PCT_COLUMNS},
                    "coverage": "as reported",
                    "where": run.where(r.source_id, r.line_no),
                }
            )
    if run.has("test_pod_latencies"):
        t = run.table("test_pod_latencies", columns=["metric", "phase", "latency_s", "origin", "source_id", "line_no"])
        t = t[t["latency_s"].notna()]
        for (origin, phase, metric), g in t.groupby(["origin", "phase", "metric"], dropna=False, sort=True):
            v = g["latency_s"].to_numpy(dtype=float)
            first = g.sort_values("line_no").iloc[0]
            rows.append(
                {
                    "kind": "per-pod",
                    "origin": origin,
                    "phase": phase,
                    "metric": metric,
                    "count": len(v),
                    **{c: stats.percentile(v, p) for p, c in zip(PERCENTILES, PCT_COLUMNS)},
                    "coverage": "all pods" if origin == "kube-burner" else "listed pods only",
                    "where": run.where(first["source_id"], first["line_no"]),
                }
            )
    return pd.DataFrame(rows, columns=REPORTED_COLUMNS)


def _xrow(phase, pop, statistic, rep, der, res, where) -> dict:
    diff = der - rep if not (pd.isna(der) or pd.isna(rep)) else np.nan
    # the test's own ends: whole-second object fields on at least one side (±1 s), plus ours
    tol = 1.0 + (res if not pd.isna(res) else 0.0)
    return {
        "phase": phase,
        "population": pop,
        "statistic": statistic,
        "reported_s": float(rep),
        "derived_s": float(der) if not pd.isna(der) else np.nan,
        "difference_s": diff,
        "tolerance_s": tol,
        "agree": (bool(abs(diff) <= tol) if not pd.isna(diff) else None),
        "reported_by": where,
    }


def _sources_text(per: pd.DataFrame, offsets, applied) -> str:
    lines = [
        f"{len(per)} pods ({int(per['measured'].sum())} measured by the test, "
        f"{int(per['not_running'].sum())} seen but never running)"
    ]
    for end in ENDS:
        s = per[f"{end}_source"].value_counts()
        if s.empty:
            lines.append(f"{end}: no source")
            continue
        parts = []
        for name, n in s.items():
            sub = per[per[f"{end}_source"] == name]
            clocks = sorted(set(sub[f"{end}_clock"].dropna().map(_dom_kind)))
            res = sub[f"{end}_resolution_s"].max()
            parts.append(f"{name} ×{n} [{', '.join(clocks)}; resolution {res:g} s]")
        lines.append(f"{end}: " + "; ".join(parts))
    if offsets:
        lines.append(
            "clock offsets applied: "
            + ", ".join(f"{d} {offsets[d]:+g} s" for d in sorted(offsets))
            + (f" (matched {', '.join(sorted(applied))})" if applied else " (no pod time on these clocks)")
        )
    else:
        lines.append("no clock correction: phases whose ends are on different clocks include the clocks' offset")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# node start-up


def node_startup(run: Run) -> pd.DataFrame:
    """Per node: registration → first Ready at or after it (seconds), against the 4 s target.

    Uses ``node_transitions``: the earliest ``ready`` not before the node's first ``registered``,
    counted from the latest registration at or before that Ready (a kubelet that restarted and
    registered again starts over).

    Returns
    -------
    DataFrame
        ``node, registered_ts, ready_ts, startup_s, resolution_s, clocks, registered_source,
        ready_source, within_target`` (``startup_s`` ≤ 4 s), ``registrations`` (how many times the
        node registered), provenance columns, sorted by node.  ``startup_s`` is NaN
        when either end is missing.  ``clocks`` is ``"<registered clock>→<ready clock>"``.
    """
    cols = [
        "node",
        "registered_ts",
        "ready_ts",
        "startup_s",
        "resolution_s",
        "clocks",
        "registered_source",
        "ready_source",
        "within_target",
        "registrations",
        "registered_source_id",
        "registered_line_no",
        "ready_source_id",
        "ready_line_no",
    ]
    if not run.has("node_transitions"):
        return pd.DataFrame(columns=cols)
    n = run.table("node_transitions")
    n = n[n["ts"].notna() & n["node"].notna()]
    reg = n[n["milestone"] == "registered"].sort_values(["node", "ts", "resolution_s"], kind="stable")
    reg = reg.drop_duplicates("node")[["node", "ts", "clock", "resolution_s", "origin", "source_id", "line_no"]]
    reg.columns = [
        "node",
        "registered_ts",
        "r_clock",
        "r_res",
        "registered_source",
        "registered_source_id",
        "registered_line_no",
    ]
    rdy = n[n["milestone"] == "ready"][["node", "ts", "clock", "resolution_s", "origin", "source_id", "line_no"]]
    rdy.columns = ["node", "ready_ts", "q_clock", "q_res", "ready_source", "ready_source_id", "ready_line_no"]
    out = pd.DataFrame({"node": sorted(set(n["node"]))}).merge(reg, on="node", how="left")
    # first Ready not before the registration; a Ready time truncated to the second may print
    # before a finer registration time, so allow the registration's resolution as slack
    m = out[["node", "registered_ts", "r_res"]].merge(rdy, on="node", how="inner")
    slack = pd.to_timedelta(m["r_res"].fillna(0).clip(lower=0), unit="s")
    m = m[m["registered_ts"].isna() | (m["ready_ts"] >= m["registered_ts"] - slack)]
    m = m.sort_values(["node", "ready_ts"], kind="stable").drop_duplicates("node")
    out = out.merge(m.drop(columns=["registered_ts", "r_res"]), on="node", how="left")
    # a node that registered again (kubelet restart) before its first Ready: start-up counts from the
    # latest registration not after that Ready
    regs = n[n["milestone"] == "registered"][["node", "ts", "clock", "resolution_s", "origin", "source_id", "line_no"]]
    later = regs.merge(out[["node", "ready_ts", "q_res"]], on="node")
    later = later[
        later["ready_ts"].notna()
        & (later["ts"] <= later["ready_ts"] + pd.to_timedelta(later["q_res"].fillna(0), unit="s"))
    ]
    later = later.sort_values(["node", "ts"], kind="stable").drop_duplicates("node", keep="last").set_index("node")
    if len(later):
        idx = out["node"].isin(later.index)
        k = out.loc[idx, "node"]
        out.loc[idx, "registered_ts"] = later.loc[k, "ts"].to_numpy()
        out.loc[idx, "r_clock"] = later.loc[k, "clock"].to_numpy()
        out.loc[idx, "r_res"] = later.loc[k, "resolution_s"].to_numpy()
        out.loc[idx, "registered_source"] = later.loc[k, "origin"].to_numpy()
        out.loc[idx, "registered_source_id"] = later.loc[k, "source_id"].to_numpy()
        out.loc[idx, "registered_line_no"] = later.loc[k, "line_no"].to_numpy()
    out["registrations"] = out["node"].map(regs.groupby("node").size()).fillna(0).astype("int64")
    out["startup_s"] = (out["ready_ts"] - out["registered_ts"]).dt.total_seconds()
    out["resolution_s"] = (out["r_res"] + out["q_res"]).where(out["startup_s"].notna())
    out["clocks"] = np.where(
        out["startup_s"].notna(), out["r_clock"].astype(str) + "→" + out["q_clock"].astype(str), ""
    )
    out["within_target"] = (
        out["startup_s"].le(NODE_STARTUP_TARGET_S).astype(object).where(out["startup_s"].notna(), None)
    )
    for c in ("registered_ts", "ready_ts"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return out[cols].reset_index(drop=True)


def node_startup_percentiles(df: pd.DataFrame) -> pd.DataFrame:
    """Count and nearest-rank p50/p90/p99/p100 (seconds) of ``node_startup(run)['startup_s']``."""
    v = df["startup_s"].dropna().to_numpy(dtype=float) if len(df) else np.array([])
    row = {"phase": "node_startup", "count": int(v.size)}
    for p, col in zip(PERCENTILES, PCT_COLUMNS):
        row[col] = stats.percentile(v, p) if v.size else np.nan
    row["target_s"] = NODE_STARTUP_TARGET_S
    row["over_target"] = int((v > NODE_STARTUP_TARGET_S).sum())
    return pd.DataFrame([row])
