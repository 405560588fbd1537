"""Cluster load over time: running pods as a share of capacity, and load buckets.

Definitions (DESIGN §5, issue #6)
---------------------------------
* **load(t)** — the number of *test pods running* at ``t`` (docs/load.md has the evidence from the
  Kubernetes source).  Each pod — namespace + name, outside ``kube-system``, ``kube-public`` and
  ``kube-node-lease`` — counts once, from its container **start** to its **stop**
  (``start ≤ t < stop``); a pod that never started is not load.

  Kubernetes deletes a pod twice: the graceful ``DELETE`` (garbage collector, namespace controller,
  user; pkg/registry/core/pod/strategy.go ``CheckGracefulDelete``: it only sets
  ``deletionTimestamp``), then, once the containers stopped and the terminal status was written, the
  kubelet's own ``DELETE`` with grace period 0 (pkg/kubelet/status/status_manager.go ``syncPod`` →
  ``canBeDeleted``).  A namespace teardown (``DELETE namespaces/<ns>``, then the namespace controller's
  ``DELETECOLLECTION`` of its pods) is a graceful delete of every pod in it, one after another in name
  order while the call runs (:func:`_sweep_deletes`).

  Evidence, best first (apiserver-clock instants first: the requests are placed on that clock; one
  origin of ``requests``, the first of ``httplog``, ``audit``, ``jsonlog`` with pod requests, so a
  request logged twice counts once; only 2xx answers).  A kubelet's request is taken at its
  **receipt** (``start_ts``): it was sent after what it reports.  A kubelet learns of a container start
  or stop from its PLEG, which relists the runtime every second (pkg/kubelet/kubelet.go
  ``plegRelistPeriod``): its record and its status write follow the start by 0–1 s.  So each kind of
  evidence gives a range for the instant and an estimate inside it (docs/load.md has the table):

  - *start*, best: the instant in the name of the kubelet's ``Started`` Event — client-go names an event
    ``<object>.<t.UnixNano() hex>`` (:func:`event_name_instants`), and the kubelet makes ``Started`` when
    the runtime's ``StartContainer`` returned, ``Created`` when ``CreateContainer`` did
    (pkg/kubelet/kuberuntime/kuberuntime_container.go): the start lies in [Created, Started] on the node's
    clock, estimated at the fraction of that gap the pod dumps' ``startedAt`` seconds allow most
    (:func:`start_in_gap`: Kubemark's fake Docker client starts a container one ~200 ms sleep before
    Started), placed on the apiserver's by the given ``offsets`` or else by the pods' own requests
    (:func:`_event_offsets`), then narrowed by the apiserver bounds below · the ``pods/<name>/status``
    write that carries *Running*, before the graceful delete (µs,
    apiserver; the kubelet's first write of a pod carries *Pending*, the Running one is the next,
    :func:`_running_write`): range [receipt − 1.1 s, receipt] (not before the bind), estimate half a
    relist before the receipt · a kubelet container-start record (PLEG ``ContainerStarted``,
    ``observedRunningTime``; node clock): likewise · a ``Started`` Event · a pod dump's ``startedAt``
    (truncated to 1 s: that second; the starts sharing one spread over it in their binds' order,
    :func:`spread_in_second`; on its node's clock, placed by the given ``offsets`` or else by the kubelet's
    own ``startTime``/``Ready`` stamps in the dumps, :func:`dump_clocks`) · else its bind (the bind,
    unbounded above).  A start from the write or the dump stays inside both where the pod has both.  Where
    no event names the starts (Kubemark's hollow kubelets post none) the Running writes' lag is measured on
    the dump seconds (:func:`_measured_lag`); where it is surely longer than a relist on enough pods (the
    fake Docker client's queue) the dump's second goes before the write, a write-only start lies within the
    longest lag measured (the median before its write, or half a relist where its kubelet started and
    stopped nothing else meanwhile, :func:`started_alone`), and the stops are replayed through each node's
    queue as with the events.
  - whether it *started* at all: a kubelet container-start record, a ``Started`` event, a pod dump's
    ``startedAt``, or a kubelet final delete (a second DELETE after the graceful one).  A run with none
    of these anywhere takes a pod with a status write as started (a note says so).
  - *stop*, best: the instant in the name of the kubelet's ``Killing`` Event (made right before the
    runtime's ``StopContainer``, ``killContainer``): range [the instant, the terminal write or final
    delete]; Kubernetes ≤ 1.5's docker manager made it once the call returned
    (:func:`killing_after_stop`): the stop before it, on Kubemark's fake Docker client one sleep before ·
    a kubelet kill record on a clock placed like the events' (:func:`_placed_kills`; before
    1.21 it names only the container, whose pod its PLEG ``ContainerStarted`` record names,
    :func:`_old_kills`) · the kubelet's terminal status write (the first status write after the graceful
    delete) or its final grace-0 DELETE (the pod's own DELETE after the graceful one), whichever is first:
    range [graceful delete, write]; estimate the write from 1.22 on (``syncTerminatingPod`` sets the
    terminal status right after the kill; less the writes' mean gap after the stops known exactly), before
    that (the terminal status waits for the relist, :func:`_relisted_stop`) a line over the graceful
    deletes, or over a teardown's list places, fitted to each pod's relist interval and levelled on the
    exact stops (:func:`_relisted_lines`) · a kubelet kill /
    REMOVE record as written (``SyncLoop REMOVE``; a clock not placed) · only in
    a run with no such kubelet confirmation at all: the graceful DELETE or the namespace teardown
    (unbounded above) · else the pod runs to the end of the log (a hung kubelet: a graceful delete
    stops nothing by itself; a note counts them).

  ``LoadTimeline.lives`` has each pod's start/stop, their ranges (``start_lo``/``start_hi``,
  ``stop_lo``/``stop_hi``) and the evidence used, ``LoadTimeline.evidence`` the counts and shares
  (``kubelog load`` prints them); :meth:`LoadTimeline.running_bounds` and :func:`undecided` tell where
  the ranges leave the bucket open.  Without any pod evidence the timeline comes from
  ``progress`` lines (the latest ``running`` of each label, summed over labels).
  ``LoadTimeline.source`` says which, with its clock domain.
* **capacity** = nodes × pods per node (30 by default, as in density).  Nodes: the ``nodes``
  argument (``--nodes``) when given; else the number of distinct node names in the union of:
  the non-empty ``name`` of ``requests`` on ``nodes`` answered 2xx (status updates, gets; a node
  only asked for and not found does not count; node creates carry no name in the URL), the names
  of ``leases`` in ``kube-node-lease`` answered 2xx, the nodes of ``node_transitions`` and the
  non-empty ``node`` of ``pod_transitions`` (where pods were bound).  A union, because in a short
  log a node may not have updated its status yet.  ``LoadTimeline.nodes_source`` gives the count
  per source.
* **L(t)** = load(t) / capacity × 100.  **Bucket** of a time with edges ``(10, 25, 50, 90, 100)``:
  ``"10"`` if L ≤ 10, ``"25"`` if 10 < L ≤ 25, ``"50"``, ``"90"``, ``"100"`` likewise, ``">100"``
  above the last edge.  Comparisons are exact (``load·100 ≤ edge·capacity``), so a load of exactly
  10 % is in bucket ``"10"``.  A request is placed by its ``start_ts``.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..run import Run, memoized

DEFAULT_EDGES = (10, 25, 50, 90, 100)
DEFAULT_PODS_PER_NODE = 30
ORIGINS = ("httplog", "audit", "jsonlog")
_STEP_COLUMNS = ["ts", "running", "load_pct"]


@dataclass
class LoadTimeline:
    """Pods over time (a step function) and the capacity they are measured against.

    ``steps`` has one row per instant where the pod count changes: ``ts`` (UTC; apiserver
    clock when the source is ``requests``), ``running`` (int, pods from that instant on) and
    ``load_pct`` (running / capacity × 100, NaN without a capacity).  Before the first step the
    count is 0.  ``start``/``end`` bound the observed window (first and last request time,
    else the first and last step).
    """

    capacity: int | None
    nodes: int | None
    nodes_source: str
    source: str
    steps: pd.DataFrame
    pods_per_node: int = DEFAULT_PODS_PER_NODE
    clock: str = ""
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    notes: list = field(default_factory=list)
    evidence: pd.DataFrame | None = None
    lives: pd.DataFrame | None = None

    def running_at(self, ts) -> np.ndarray:
        """Pods at each time of ``ts`` (int64 array; 0 before the first step)."""
        t = _ns(ts)
        st = _ns(self.steps["ts"])
        run = self.steps["running"].to_numpy(dtype=np.int64)
        if run.size == 0:
            return np.zeros(t.shape, dtype=np.int64)
        i = np.searchsorted(st, t, side="right") - 1
        return np.where(i >= 0, run[np.maximum(i, 0)], 0)

    @property
    def has_bounds(self) -> bool:
        """Whether the pods' start/stop ranges are known (a timeline from pod evidence)."""
        return self.lives is not None and "start_lo" in self.lives

    def running_bounds(self, ts) -> tuple[np.ndarray, np.ndarray] | None:
        """(fewest, most) pods that can have been running at each time of ``ts``, from each pod's start
        and stop bounds (``lives``: ``start_lo``/``start_hi``, ``stop_lo``/``stop_hi``); None for a
        timeline from ``progress`` lines.  The fewest count the pods surely started (``start_hi ≤ t``)
        and not possibly stopped (``t < stop_lo``); the most, the pods possibly started and not
        surely stopped."""
        if not self.has_bounds:
            return None
        lv = self.lives[self.lives["start"].notna()]
        t = _ns(ts)
        far = np.iinfo(np.int64).max

        def col(c, missing):
            v = lv[c]
            return np.where(v.isna().to_numpy(), missing, _ns(v))

        s_lo, s_hi = col("start_lo", far), col("start_hi", far)
        p_lo, p_hi = col("stop_lo", far), col("stop_hi", far)
        p_lo = np.maximum(p_lo, s_hi)  # a pod not surely running at any instant adds nothing to the fewest

        def count(starts, stops):
            return np.searchsorted(np.sort(starts), t, side="right") - np.searchsorted(np.sort(stops), t, side="right")

        return count(s_hi, p_lo), count(s_lo, np.maximum(p_hi, s_lo))


def _ns(ts) -> np.ndarray:
    """Times (Series, Index, array, list, scalar) → int64 UTC nanoseconds (NaT → int64 min).

    An int64 array is taken as nanoseconds already.
    """
    if isinstance(ts, np.ndarray) and ts.dtype == np.int64:
        return ts
    if isinstance(ts, (pd.Timestamp, str)):
        ts = [ts]
    if isinstance(ts, pd.Series) and isinstance(ts.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(ts).as_unit("ns").asi8
    idx = pd.DatetimeIndex(pd.to_datetime(ts, utc=True))
    return idx.as_unit("ns").asi8


def bucket_labels(edges=DEFAULT_EDGES) -> list[str]:
    """Labels of the buckets of ``edges``, in order: ``["10", "25", "50", "90", "100", ">100"]``."""
    e = [_fmt_edge(x) for x in edges]
    return e + [f">{e[-1]}"]


def _fmt_edge(x) -> str:
    return f"{float(x):g}"


def _check_edges(edges) -> tuple:
    edges = tuple(float(x) for x in edges)
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])) or edges[0] <= 0:
        raise ValueError(f"bucket edges must be positive and increasing, got {edges}")
    return edges


def bucket_codes(timeline: LoadTimeline, ts, edges=DEFAULT_EDGES) -> np.ndarray:
    """Bucket index (0 … len(edges)) of each time; −1 for NaT.  See :func:`bucket_of`."""
    if not timeline.capacity:
        raise ValueError("no capacity: the number of nodes is unknown (give nodes=N / --nodes N)")
    edges = _check_edges(edges)
    t = _ns(ts)
    running = timeline.running_at(t).astype(np.float64)
    # load·100 ≤ edge·capacity, exact for integer edges: L == 10 % lands in "10"
    thresholds = np.asarray(edges, dtype=np.float64) * float(timeline.capacity)
    codes = np.searchsorted(thresholds, running * 100.0, side="left")
    return np.where(t == np.iinfo(np.int64).min, -1, codes)


def bucket_of(timeline: LoadTimeline, ts_array, edges=DEFAULT_EDGES) -> np.ndarray:
    """Load-bucket label of each time (object array; None for NaT).

    >>> tl = LoadTimeline(30, 1, "given", "test", pd.DataFrame({"ts": pd.to_datetime(["2024-01-01"], utc=True),
    ...                   "running": [3], "load_pct": [10.0]}))
    >>> bucket_of(tl, pd.to_datetime(["2023-12-31", "2024-01-01"], utc=True)).tolist()
    ['10', '10']
    """
    codes = bucket_codes(timeline, ts_array, edges)
    labels = np.array(bucket_labels(edges) + [None], dtype=object)
    return labels[codes]  # code −1 picks the trailing None


def undecided(timeline: LoadTimeline, ts, edges=DEFAULT_EDGES) -> np.ndarray | None:
    """True for each time of ``ts`` whose bucket the pods' start/stop bounds do not decide (the fewest
    and the most pods that can have been running fall in different buckets); None without bounds."""
    b = timeline.running_bounds(ts)
    if b is None or not timeline.capacity:
        return None
    thresholds = np.asarray(_check_edges(edges), dtype=np.float64) * float(timeline.capacity)
    lo, hi = (np.searchsorted(thresholds, x.astype(np.float64) * 100.0, side="left") for x in b)
    return lo != hi


def time_in_buckets(timeline: LoadTimeline, edges=DEFAULT_EDGES, start=None, end=None) -> pd.DataFrame:
    """Seconds spent in each bucket between ``start`` and ``end`` (default: the observed window).

    Returns rows ``bucket``, ``seconds``, ``share`` (of the window) for every bucket, in order, and
    ``undecided_s``: of those seconds, the ones where the pods' start/stop bounds would allow another
    bucket (:func:`undecided`; NaN for a timeline without bounds).
    """
    labels = bucket_labels(edges)
    start = timeline.start if start is None else pd.Timestamp(start)
    end = timeline.end if end is None else pd.Timestamp(end)
    secs = np.zeros(len(labels))
    und = np.full(len(labels), np.nan)
    if start is not None and end is not None and end > start and timeline.capacity:
        s, e = _ns(start)[0], _ns(end)[0]
        st = _ns(timeline.steps["ts"])
        lv = timeline.lives
        if lv is not None and "start_lo" in lv:  # the bounds change only at the pods' bounds
            b = [_ns(lv[c].dropna()) for c in ("start_lo", "start_hi", "stop_lo", "stop_hi")]
            st = np.unique(np.concatenate([st] + b))
        inside = st[(st > s) & (st < e)]
        bounds = np.concatenate([[s], inside, [e]])
        codes = bucket_codes(timeline, bounds[:-1], edges)
        w = np.diff(bounds) / 1e9
        secs = np.bincount(codes, weights=w, minlength=len(labels)).astype(float)
        u = undecided(timeline, bounds[:-1], edges)
        if u is not None:
            und = np.bincount(codes, weights=w * u, minlength=len(labels)).astype(float)
    total = secs.sum()
    return pd.DataFrame(
        {
            "bucket": labels,
            "seconds": secs,
            "share": secs / total if total > 0 else np.full(len(labels), np.nan),
            "undecided_s": und,
        }
    )


def _steps(ts_ns: np.ndarray, delta: np.ndarray) -> pd.DataFrame:
    """Changes at times → one row per distinct time with the running total after it."""
    if ts_ns.size == 0:
        return pd.DataFrame(
            {"ts": pd.DatetimeIndex([], tz="UTC").as_unit("ns"), "running": np.array([], dtype=np.int64)}
        )
    order = np.argsort(ts_ns, kind="stable")
    t, d = ts_ns[order], delta[order]
    uniq, first = np.unique(t, return_index=True)
    per = np.add.reduceat(d, first)
    return pd.DataFrame(
        {"ts": pd.to_datetime(uniq, utc=True).as_unit("ns"), "running": np.cumsum(per).astype(np.int64)}
    )


SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
DUMP_START = "pod dump startedAt"
# start evidence, best first: apiserver-clock instants place apiserver-clock requests exactly
START_KINDS = (
    "Started event (the instant in its name)",
    "status update (the pods/status write that carries Running)",
    "kubelet container-start record",
    "Started event time (firstTimestamp second, or eventTime)",
    DUMP_START,
    "bind (pods/binding)",
)
STOP_KINDS = (
    "Killing event (the instant in its name)",
    "kubelet final delete / terminal status write",
    "kubelet kill/REMOVE record",
    "graceful delete or namespace teardown (no kubelet delete in the run)",
    "not stopped (counted to the end)",
)
_NEVER = np.iinfo(np.int64).max
# the kubelet's PLEG relists the container runtime every second (pkg/kubelet/kubelet.go plegRelistPeriod;
# pkg/kubelet/pleg/generic.go): a container start or stop is seen, logged and written 0–1 s after it
PLEG_RELIST_S = 1.0
# how much later than a relist period a kubelet write may follow what it reports: the relist's own
# duration, the pod worker's sync and the status manager's queue (tens of ms on an idle kubelet)
_RELIST_ALLOWANCE = 100_000_000
_SECOND = 1_000_000_000
_MS = 1_000_000
_KUBELET_UA = re.compile(r"kubelet/v1\.(\d+)")


def _to_apiserver_clock(df: pd.DataFrame, offsets: dict | None, notes: list, what: str) -> tuple:
    """``df`` with ``ts`` moved to the apiserver clock by ``offsets`` (t − θ[clock]); and the clock label."""
    label = ",".join(sorted(set(df["clock"].dropna())))
    clk = df["clock"].fillna("apiserver").replace("", "apiserver")
    if not offsets:
        return df, label
    theta = clk.map(lambda c: 0.0 if c == "apiserver" else offsets.get(c, np.nan)).astype(float)
    missing = sorted(set(clk[theta.isna()]))
    if missing:
        notes.append(f"{what}: no clock offset for {', '.join(missing)}; those times stay on their own clock")
    theta = theta.fillna(0.0)
    moved = sorted(set(clk[theta != 0.0]))
    if not moved:
        return df, label
    notes.append(
        f"{what}: times on {', '.join(moved)} moved to the apiserver clock (t − θ; "
        + ", ".join(f"θ[{c}] = {offsets[c]:+.6g} s" for c in moved)
        + ")"
    )
    ts = pd.to_datetime(df["ts"], utc=True) - pd.to_timedelta(np.round(theta.to_numpy() * 1e9), unit="ns")
    left = sorted(set(clk) - set(moved))
    return df.assign(ts=ts), ",".join(left + [f"{c}→apiserver" for c in moved])


def _pod_requests(run: Run, notes: list, extra: tuple = (), verbs: tuple = ()):
    """Pod requests of one origin (the first of ORIGINS with any): ``ts`` (request end), ``start_ts``
    (received), verb, namespace, name, subresource, code, for pods (and namespace deletions), and the
    ``extra`` columns; only those ``verbs`` where given; None without any."""
    if not run.has("requests"):
        return None
    import pyarrow.dataset as ds

    import pyarrow.compute as pc

    # the 2xx answers with an end time, of the one origin used, selected while reading (Arrow): a row
    # whose code or ts is null is left out, as the pandas test left it out.  The origin is chosen on
    # the two columns it needs first, so that only its rows are read with their text (a 2M-row table
    # logged by both the access log and the audit log: ~0.5M rows read instead of ~1M, ~250 MB less at
    # the load timeline's peak)
    pick = (
        ds.field("resource").isin(["pods", "namespaces"])
        & ds.field("ts").is_valid()
        & (ds.field("code") >= 200)
        & (ds.field("code") <= 299)
    )
    k = run.arrow("requests", columns=["resource", "origin"], filter=pick, dictionary=True)
    seen = {v for v in pc.unique(pc.filter(k["origin"], pc.equal(k["resource"], "pods"))).to_pylist() if v is not None}
    del k
    for origin in ORIGINS:
        if origin in seen:
            break
    else:
        return None
    others = sorted(seen - {origin})
    if others:
        notes.append(f"pod requests also logged by {', '.join(others)}: not counted again (origin {origin} used)")
    r = run.table(
        "requests",
        columns=["ts", "start_ts", "verb", "resource", "subresource", "namespace", "name", "code", "origin", "clock"]
        + list(extra),
        filter=pick
        & (ds.field("origin") == origin)
        & (ds.field("verb").isin(list(verbs)) if verbs else ds.scalar(True)),
    )
    for c in ("subresource", "namespace", "name"):
        r[c] = r[c].fillna("")
    return r, origin


# kuberuntime_container.go killContainer before 1.21 (and 1.5's dockertools): the container only
_RX_OLD_KILL = re.compile(r'^Killing container "(?:[\w-]+://)?(?P<cid>[^"]+)" with \d+ second grace period')


def _old_kills(run: Run) -> pd.DataFrame:
    """The kill records of kubelets before 1.21 (``Killing container "docker://<id>" with 30 second grace
    period``): they name the container only, and its pod is the one whose PLEG ``ContainerStarted`` record on
    the same clock carries that ID as its ``Data`` (``messages``).  ``namespace, pod, milestone
    (kubelet_kill), ts, origin, clock``; none without such pairs."""
    from ..formats.podrecords import RX_OLD_POD, RX_PLEG_OLD
    from .pods import _records_starting

    cols = ["namespace", "pod", "milestone", "ts", "origin", "clock"]
    none = pd.DataFrame(columns=cols)
    kills = _records_starting(run, "messages", 'Killing container "')
    if kills is None:
        return none
    kills = kills.assign(cid=kills["msg"].str.extract(_RX_OLD_KILL)["cid"]).dropna(subset=["cid"])
    pleg = _records_starting(run, "messages", 'SyncLoop (PLEG): "') if len(kills) else None
    if pleg is None:
        return none
    # kubelet.go syncLoopIteration before 1.21: the PLEG event names the pod, its Data the container
    m = pleg["msg"].str.extract(RX_PLEG_OLD)
    m = m[m["type"] == "ContainerStarted"]
    ref = m["pod"].str.extract(RX_OLD_POD)
    pleg = pleg.loc[m.index].assign(cid=m["data"], namespace=ref["ns"], pod=ref["name"])
    pleg = pleg.dropna(subset=["cid", "pod"])
    pleg = pleg.drop_duplicates(["clock", "cid"])[["clock", "cid", "namespace", "pod"]]
    j = kills[["ts", "clock", "cid"]].merge(pleg, on=["clock", "cid"], how="inner")
    return j.assign(milestone="kubelet_kill", origin="kubelet")[cols]


def _peer_ip(src) -> str:
    """The address of a ``src_ip`` value without its port (``10.0.0.1:5000``, ``[::1]:5000``, ``::1``)."""
    if not isinstance(src, str):
        return ""
    if src.startswith("["):
        return src[1:].partition("]")[0]
    return src.partition(":")[0] if src.count(":") == 1 else src


_POST_COLUMNS = [
    "clock",
    "namespace",
    "event_ns",
    "receipt_ns",
    "receipt_clock",
    "ev_source",
    "ev_line",
    "source",
    "line",
]


def event_post_pairs(run: Run, notes: list | None = None) -> pd.DataFrame:
    """Each kubelet event of the dump paired with the POST that stored it (one row per event).

    A kubelet makes each event at an instant of its clock, which the event's name carries
    (:func:`event_name_instants`), and posts its events one by one in that order (client-go
    tools/record: one watcher goroutine per sink, ``recordToSink`` writes an event before taking the next;
    the event client's token bucket only delays them): the k-th event of a namespace is the k-th
    ``POST …/namespaces/<ns>/events`` → 2xx of that kubelet, received after the event was made, so its
    clock's offset θ ≥ instant_k − receipt_k.  A POST is the kubelet's by its user
    (``system:node:<name>``, audit) or its peer address, the one its pods' status writes come from.
    Paired only where the counts agree: all the namespace's POSTs with all the kubelet's events of it in
    the dump, or those received before the namespace's first pod delete with the dump's (a dump taken
    before the teardown holds no Killing events); any other count (an event expired or missing, which
    would pair later events with earlier POSTs and bound the clock too high), or an event without an
    instant in its name: that kubelet and namespace are left out, and ``notes`` counts them.

    Columns: ``clock`` (the kubelet's), ``namespace``, ``event_ns`` (the instant, its clock),
    ``receipt_ns`` and ``receipt_clock`` (the POST's), ``ev_source``/``ev_line`` and ``source``/``line``
    (the event's and the request's input and line)."""
    empty = pd.DataFrame(columns=_POST_COLUMNS)
    if not (run.has("requests") and run.has("events")):
        return empty
    import pyarrow.dataset as ds

    f = ds.field
    ok = (f("code") >= 200) & (f("code") <= 299) & f("start_ts").is_valid()
    kub = (f("client") == "kubelet") & (
        ((f("resource") == "events") & (f("verb") == "create"))
        | ((f("resource") == "pods") & (f("subresource") == "status"))
    )
    dele = ((f("resource") == "pods") & f("verb").isin(["delete", "deletecollection"]) & (f("subresource") == "")) | (
        (f("resource") == "namespaces") & (f("verb") == "delete") & (f("subresource") == "")
    )
    cols = ["start_ts", "resource", "verb", "namespace", "name", "src_ip", "user", "client", "origin", "clock"]
    r = run.table("requests", columns=cols + ["source_id", "line_no"], filter=ok & (kub | dele))
    posts = (r["resource"] == "events") & (r["client"] == "kubelet")
    origin = next((o for o in ORIGINS if (posts & (r["origin"] == o)).any()), None)
    if origin is None:
        return empty
    mine = (r["origin"] == origin).to_numpy()
    r, posts = r[mine], posts[mine]
    e = run.table(
        "events",
        columns=["name", "object_name", "object_namespace", "first_ts", "event_time", "clock", "component", "namespace"]
        + ["source_id", "line_no"],
    )
    e = e[(e["component"] == "kubelet") & e["clock"].fillna("").str.startswith("node/")]
    if e.empty:
        return empty
    e = e.assign(v=event_name_instants(e), ns=e["namespace"].fillna(""))
    # each kubelet's address: the one its pods' status writes come from (one kubelet per address)
    pod_clock = e.drop_duplicates(["object_namespace", "object_name"]).set_index(["object_namespace", "object_name"])
    st = r[(r["resource"] == "pods") & (r["client"] == "kubelet")]
    ip = st["src_ip"].map(_peer_ip)
    owner = pd.MultiIndex.from_arrays([st["namespace"].fillna(""), st["name"].fillna("")])
    by_ip = pd.DataFrame({"ip": ip.to_numpy(), "clock": pod_clock["clock"].reindex(owner).to_numpy()}).dropna()
    by_ip = by_ip[by_ip["ip"] != ""].drop_duplicates()
    by_ip = by_ip[~by_ip["ip"].duplicated(keep=False)].set_index("ip")["clock"]
    p = r[posts]
    user = p["user"].fillna("").astype(str)
    node = pd.Series(np.where(user.str.startswith("system:node:"), "node/" + user.str.slice(12), ""), index=p.index)
    node = node.where(node != "", p["src_ip"].map(_peer_ip).map(by_ip).fillna(""))
    p = p.assign(kclock=node, ns=p["namespace"].fillna(""), t=_ns(p["start_ts"]))[node != ""]
    # each namespace's first pod delete received (a pod's DELETE or DELETECOLLECTION, or the namespace's)
    d = r[r["verb"].isin(["delete", "deletecollection"])]
    ns = np.where(d["resource"] == "namespaces", d["name"].fillna(""), d["namespace"].fillna(""))
    cut = pd.Series(_ns(d["start_ts"]), index=ns, dtype="int64")
    cut = cut[cut.index != ""].groupby(level=0).min()
    sent = {k: g.sort_values("t", kind="stable") for k, g in p.groupby(["kclock", "ns"], sort=False)}
    out, skipped = [], 0
    for (clock, ns), ev in e.groupby(["clock", "ns"], sort=False):
        q = sent.get((clock, ns))
        ev = ev.sort_values("v", kind="stable")
        if q is not None and len(q) != len(ev) and ns in cut.index:
            q = q[q["t"] < cut[ns]]
        if q is None or len(q) != len(ev) or not np.isfinite(ev["v"].to_numpy()).all():
            skipped += q is not None
            continue
        out.append(
            pd.DataFrame(
                {
                    "clock": clock,
                    "namespace": ns,
                    "event_ns": ev["v"].to_numpy(dtype=np.int64),
                    "receipt_ns": q["t"].to_numpy(dtype=np.int64),
                    "receipt_clock": q["clock"].fillna("apiserver").to_numpy(),
                    "ev_source": ev["source_id"].to_numpy(),
                    "ev_line": ev["line_no"].to_numpy(),
                    "source": q["source_id"].to_numpy(),
                    "line": q["line_no"].to_numpy(),
                }
            )
        )
    if notes is not None and (out or skipped):
        notes.append(
            f"{len({x['clock'].iloc[0] for x in out})} kubelet clock(s) bounded below by their event POSTs (each "
            "event's instant less the receipt of its POST, in order)"
            + (
                f"; {skipped} kubelet/namespace pair(s) whose POSTs and events do not pair one to one: not used"
                if skipped
                else ""
            )
        )
    return pd.concat(out, ignore_index=True) if out else empty


def _post_bounds(run: Run, notes: list) -> dict:
    """Per kubelet clock: (the least of its :func:`event_post_pairs` bounds on θ, ns; the events)."""
    j = event_post_pairs(run, notes)
    j = j[j["receipt_clock"] == "apiserver"]
    if j.empty:
        return {}
    b = (j["event_ns"] - j["receipt_ns"]).groupby(j["clock"].to_numpy())
    return {c: (float(v), int(n)) for (c, v), n in zip(b.max().items(), b.size().to_numpy())}


def _posted_kills(run: Run, dels: pd.DataFrame, teardown: pd.Series) -> pd.DataFrame:
    """The kubelets' event creates that the requests name, posted after their pod's deletion: one row per
    POST (``namespace``, ``pod``, ``name``, ``v`` the instant in the name: ns on the kubelet's clock).

    An audit event at Metadata level names the object a create carries (``objectRef.name``, filled from the
    request object: staging/src/k8s.io/apiserver/pkg/audit/request.go ``LogRequestObject``), so each event
    POST names ``<pod>.<instant in hex>`` (:func:`event_name_instants`) even when the event was never
    stored: a Killing event made after a namespace's deletion began is refused (403, the NamespaceLifecycle
    admission plugin) and the recorder does not retry it, so a dump never holds it.  Kept: the POSTs of a
    kubelet (by its user agent, as :func:`event_post_pairs` takes them) received after the pod's first
    delete (its own DELETE, or its namespace's teardown); :func:`_named_events` takes the first one after
    the pod's Started event as its Killing."""
    cols = ["namespace", "pod", "name", "v"]
    if not run.has("requests"):
        return pd.DataFrame(columns=cols)
    import pyarrow.dataset as ds

    f = ds.field
    flt = (f("client") == "kubelet") & (f("resource") == "events") & (f("verb") == "create") & (f("name") != "")
    r = run.table("requests", columns=["start_ts", "namespace", "name"], filter=flt & f("start_ts").is_valid())
    if r.empty:
        return pd.DataFrame(columns=cols)
    parts = r["name"].astype(str).str.rpartition(".")  # <pod>.<hex>
    ok = (parts[0] != "") & parts[2].str.fullmatch(_HEX.pattern)
    r, parts = r[ok.to_numpy()], parts[ok]
    out = pd.DataFrame(
        {
            "namespace": r["namespace"].fillna("").to_numpy(),
            "pod": parts[0].to_numpy(),
            "name": r["name"].to_numpy(),
            "v": np.array([int(x, 16) for x in parts[2]], dtype=np.float64),
            "t": _ns(r["start_ts"]),
        }
    )
    out = out[out["v"] < 2.0**63]
    # after the pod's first delete: its own DELETE's receipt or its namespace's teardown
    own = _first(dels).astype("float64") if len(dels) else pd.Series(dtype="float64")
    key = pd.MultiIndex.from_frame(out[["namespace", "pod"]])
    first = np.fmin(own.reindex(key).to_numpy(), out["namespace"].map(teardown).astype("float64").to_numpy())
    return out[out["t"].to_numpy() > first][cols]


def _first(df: pd.DataFrame, key=("namespace", "pod"), col: str = "t") -> pd.Series:
    """Earliest ``col`` (int64 ns; ``t`` the instant, ``te`` a request's end) per pod key."""
    if df.empty:
        return pd.Series(dtype="int64")
    return df.groupby(list(key), sort=False)[col].min()


def container_start_records(recs: pd.DataFrame, t: str = "t") -> pd.DataFrame:
    """Of kubelet PLEG records (``milestone`` ``pleg_*``), each pod's ``ContainerStarted`` record that follows
    the start of its containers: the *last* of the pod's first life (before its first ``ContainerDied``
    after a start).

    The PLEG reports a pod's sandbox as one more container (pkg/kubelet/pleg/generic.go
    ``getContainersFromPods``: "Update sandboxes as containers"), so a pod with one container has two
    ``ContainerStarted`` records, and the sandbox starts first (kuberuntime_manager.go ``SyncPod``): a relist
    between the two starts reports the sandbox a relist before the container (real 1.19 and 1.21 kubelet
    logs: two IDs per single-container pod, in one relist or in two).  The first record can precede the
    container start; the last cannot (every container of the pod has started by then, each seen by the
    relist that reported it).  Where the records carry the pod's UID, only those of the UID of its first
    ``ContainerStarted`` count (a static pod re-created under its name is another pod).  A pod with init
    containers has a ``ContainerDied`` (the init container's) before its app containers start: its record is
    the last start before that, still early (an upper bound only of the init container's start)."""
    key = ["namespace", "pod"]
    st = recs[recs["milestone"] == "pleg_container_started"]
    if st.empty:
        return st
    died = recs[recs["milestone"] == "pleg_container_died"]
    if "uid" in recs.columns and recs["uid"].notna().any():
        uid0 = st.sort_values(t, kind="stable").dropna(subset=["uid"]).groupby(key, sort=False)["uid"].first()

        def same(d):
            u = d.join(uid0.rename("_u"), on=key)["_u"]
            return d[d["uid"].isna() | u.isna() | (d["uid"] == u)]

        st, died = same(st), same(died)
    if len(died):
        first = st.groupby(key, sort=False)[t].min().rename("_first")
        d = died.join(first, on=key, how="inner")
        end = d[d[t] > d["_first"]].groupby(key, sort=False)[t].min().rename("_died")
        st = st.join(end, on=key)
        st = st[st["_died"].isna() | (st[t] < st["_died"])].drop(columns="_died")
    return st.sort_values(t, kind="stable").drop_duplicates(key, keep="last")


def _running_write(before: pd.DataFrame, pleg: pd.DataFrame, index) -> pd.Series:
    """Per pod, the receipt (int64 ns) of the status write that carries *Running*.

    Kubelet source (pkg/kubelet/kubelet.go ``SyncPod``, pkg/kubelet/status/status_manager.go): every sync
    sets the pod's status *before* the runtime acts, and the status manager writes each changed status in
    order.  The first sync follows ``SyncLoop ADD`` and writes *Pending* (ContainerCreating) while the
    containers are being started; the *Running* status comes from the sync that the PLEG
    ``ContainerStarted`` event triggers.  So the Running write is the k-th write of the pod, k = 2 + the
    pod's PLEG records before its ``ContainerStarted`` record (k = 2 without kubelet records); a pod with
    fewer than k writes before its graceful delete had its Pending status merged into the Running write
    (the status manager sends the latest status) and its last such write is used.  The first write is
    no evidence of a start: on a generated run with the kubelet's Pending writes it counted every pod
    0.5–1.9 s early (2 of 28 big cells within tolerance)."""
    if before.empty:
        return pd.Series(np.nan, index=index)
    w = before.sort_values("t", kind="stable")
    w = w.assign(k=w.groupby(["namespace", "pod"], sort=False).cumcount() + 1)
    n = w.groupby(["namespace", "pod"], sort=False)["k"].transform("max")
    want = pd.Series(2, index=pd.MultiIndex.from_frame(w[["namespace", "pod"]]))
    if len(pleg):
        pl = pleg.sort_values("t", kind="stable")
        pl = pl.assign(j=pl.groupby(["namespace", "pod"], sort=False).cumcount())
        started = pl[pl["milestone"] == "pleg_container_started"].groupby(["namespace", "pod"])["j"].min()
        want = (2 + started.reindex(want.index)).fillna(2)
    k = np.minimum(want.to_numpy(), n.to_numpy())
    got = w[w["k"].to_numpy() == k]
    return got.groupby(["namespace", "pod"], sort=False)["t"].min().reindex(index)


def _relisted(trailing: pd.Series, lower: pd.Series, relist: int, lag: tuple | None = None) -> tuple:
    """(estimate, lo, hi) of an instant that ``trailing`` follows by up to one PLEG relist: the bounds
    ``[max(lower, trailing − relist − allowance), trailing]``, the estimate half a relist before
    ``trailing`` (the relist's phase is uniform; never before ``lower``).  ``lag``: (typical, longest) ns
    that ``trailing`` was measured to follow the instant on the run's other pods (:func:`_measured_lag`),
    when longer than a relist: the estimate ``typical`` before ``trailing``, the bounds ``longest``."""
    t = trailing.to_numpy(dtype=np.float64)
    low = lower.to_numpy(dtype=np.float64)
    low = np.where(low <= t, low, np.nan)  # a bind logged after the start bounds nothing
    typical, longest = lag if lag is not None else (relist / 2, relist + _RELIST_ALLOWANCE)
    lo = np.fmax(t - longest, low)
    lo = np.minimum(lo, t)
    est = np.minimum(np.fmax(np.floor(t - typical), low), t)
    ix = trailing.index
    return pd.Series(est, index=ix), pd.Series(lo, index=ix), pd.Series(t, index=ix)


def _measured_lag(
    trailing: pd.Series,
    start: pd.Series,
    relist: int,
    what: str,
    notes: list,
    width: int = 0,
    slack: pd.Series | None = None,
) -> tuple | None:
    """How long ``trailing`` (a pod's Running write, or its PLEG record) followed its container start on the
    run's pods: (median, longest + allowance) ns when it surely followed by more than a relist, else None
    (the relist model holds).

    ``start``: the starts known exactly (``width`` 0: the instants their events name; one pod over a relist
    is proof), or truncated to ``width`` ns on a clock off by up to ``slack`` (a pod dump's ``startedAt``
    second where no event names the starts: a start lies in ``[start − slack, start + width + slack]``, and
    :data:`_LAG_MIN_PODS` pods and 5 % must trail by more than a relist even at its latest).

    The PLEG relists every second, but a relist is a series of calls on the container runtime; on
    Kubemark's fake Docker client (hollow kubelets before 1.20) each of them takes the client's one mutex,
    held ~100-200 ms by every create, start and stop of the node's other pods
    (pkg/kubelet/dockershim/libdocker/fake_client.go), so while pods start on a node the relist — and the
    write after it — follows the start by seconds, not by up to one."""
    both = trailing.notna() & start.notna()
    t, s0 = trailing[both], start[both]
    sl = (slack if slack is not None else pd.Series(0.0, index=trailing.index))[both]
    if width == 0:  # an exact start after its write is another pod's
        keep = t >= s0
        t, s0, sl = t[keep], s0[keep], sl[keep]
    if len(t) < _LAG_MIN_PODS:
        return None
    over = int((t - s0 - width - sl > relist + _RELIST_ALLOWANCE).sum())
    if over < (1 if width == 0 else max(_LAG_MIN_PODS, 0.05 * len(t))):
        return None
    typical = float((t - s0 - width / 2).median())
    longest = float((t - s0 + sl).max()) + _RELIST_ALLOWANCE
    if width == 0:
        notes.append(
            f"{what} followed the container starts known from their events by up to "
            f"{(longest - _RELIST_ALLOWANCE) / 1e9:.2f} s (median {typical / 1e9:.2f} s, {len(t)} pods), more "
            "than a PLEG relist: the relists were slowed (on Kubemark's fake Docker client every call queues at "
            "the client's mutex); a start known only from one is placed that median before it, within that "
            "longest lag"
        )
    else:
        notes.append(
            f"{what} followed the container starts by more than a PLEG relist on {over} of {len(t)} pods, by "
            f"their dumps' startedAt seconds (up to {longest / 1e9:.2f} s, median {typical / 1e9:.2f} s): the "
            "relists were slowed (on Kubemark's fake Docker client every call queues at the client's mutex) and "
            "no event names the starts, so each start is its dump's second where the pod has one "
            + ("(its node clock not placed: ± 1 s)" if float(sl.max()) > 0 else "")
            + ", else that median before the write, within that longest lag"
        )
    return typical, longest


# the fewest pods that place a lag; a node clock not placed by given offsets may be off by this much (NTP keeps
# real nodes within milliseconds; the allowance is for the skewed hosts the clock-skew analysis finds)
_LAG_MIN_PODS, _UNPLACED_CLOCK = 5, _SECOND


def _dump_slack(dump_start: pd.DataFrame, index, offsets: dict | None, placed: dict | None = None) -> pd.Series:
    """Per pod, how far its dump's clock may be off the apiserver's: 0 where the given ``offsets`` placed
    it, the half width of its bounds where the dumps placed it (``placed``: :func:`dump_clocks`), else
    :data:`_UNPLACED_CLOCK`."""
    given = set(offsets or ())
    if dump_start.empty or "clock" not in dump_start.columns:
        return pd.Series(float(_UNPLACED_CLOCK), index=index)
    clk = dump_start.drop_duplicates(["namespace", "pod"]).set_index(["namespace", "pod"])["clock"].reindex(index)
    half = clk.map({c: h for c, (_, h) in (placed or {}).items()}).astype("float64")
    return pd.Series(np.where(clk.isin(given), 0.0, half.fillna(float(_UNPLACED_CLOCK))), index=index)


def dump_clocks(run: Run, bind: pd.DataFrame, before: pd.DataFrame, base: int, skip=()) -> dict:
    """Each node clock's offset from the kubelet's own stamps in the pod dumps: ``{clock: (θ, half width)}``
    ns, for the clocks not in ``skip`` whose bounds meet.

    The status manager stamps ``status.startTime`` and the ``Initialized`` condition in the kubelet's first
    sync of a pod (after its watch delivered the bound pod: after the binding's receipt ``b``), and the
    ``Ready`` / ``ContainersReady`` conditions in the sync that saw the containers run, before it sent
    that status (before the receipt ``w`` of the pod's last status write before its graceful delete), each
    truncated to the second on the node's clock (``f``): ``f_ready − w < θ < f_first + 1 s − b`` per pod,
    and over a node's pods, each truncated at its own phase, the bounds meet to a fraction of a second
    (the same pairs as ``kubelog skew``'s ``bind_to_pod_dump`` / ``pod_dump_ready``).  A pod the dump shows
    being deleted is left out (its conditions may have changed after the delete)."""
    import pyarrow.dataset as ds

    if not run.has("pod_transitions") or bind.empty or before.empty:
        return {}
    f = ds.field
    d = run.table(
        "pod_transitions",
        columns=["namespace", "pod", "milestone", "ts", "clock", "detail"],
        filter=f("origin").isin(["pods-json", "pods-yaml"])
        & f("milestone").isin(["accepted", "initialized", "ready", "containers_ready", "deleted"])
        & f("ts").is_valid(),
    )
    d = d[d["clock"].fillna("").str.startswith("node/") | (d["milestone"] == "deleted")]
    if d.empty:
        return {}
    d = d.assign(namespace=d["namespace"].fillna(""), t=_ns(d["ts"]) - base)
    gone = pd.MultiIndex.from_frame(d.loc[d["milestone"] == "deleted", ["namespace", "pod"]])
    d = d[~pd.MultiIndex.from_frame(d[["namespace", "pod"]]).isin(gone) & ~d["clock"].isin(list(skip))]
    true = d["detail"].fillna("").str.contains('"status": "True"')
    first = d[(d["milestone"] == "accepted") | ((d["milestone"] == "initialized") & true)]
    first = first.groupby(["namespace", "pod", "clock"])["t"].min().reset_index()
    ready = d[d["milestone"].isin(["ready", "containers_ready"]) & true]
    ready = ready.groupby(["namespace", "pod", "clock"])["t"].min().reset_index()
    b = bind.groupby(["namespace", "pod"])["t"].min().rename("b").reset_index()
    w = before.groupby(["namespace", "pod"])["t"].max().rename("w").reset_index()
    hi = first.merge(b, on=["namespace", "pod"]).assign(v=lambda x: x["t"] + _SECOND - x["b"])
    lo = ready.merge(w, on=["namespace", "pod"]).assign(v=lambda x: x["t"] - x["w"])
    hi, lo = hi.groupby("clock")["v"].min(), lo.groupby("clock")["v"].max()
    out = {}
    for clk in hi.index.intersection(lo.index):
        if lo[clk] < hi[clk]:
            out[clk] = ((lo[clk] + hi[clk]) / 2, (hi[clk] - lo[clk]) / 2)
    return out


def _kubelet_of(run: Run, origin: str, index) -> pd.Series:
    """Per pod, the kubelet that wrote its status: ``system:node:<name>`` where the log names the user
    (audit), else the writes' peer address (one kubelet per address; hollow nodes behind one masquerading
    host share it, which only joins their pods); None where the pod has no status write."""
    import pyarrow.dataset as ds

    f = ds.field
    pick = (
        (f("resource") == "pods")
        & (f("subresource") == "status")
        & (f("origin") == origin)
        & (f("code") >= 200)
        & (f("code") <= 299)
    )
    w = run.table("requests", columns=["namespace", "name", "src_ip", "user"], filter=pick)
    if w.empty:
        return pd.Series(None, index=index, dtype=object)
    user = w["user"].fillna("").astype(str)
    who = user.where(user.str.startswith("system:node:"), w["src_ip"].map(_peer_ip))
    w = w.assign(who=who.replace("", None), namespace=w["namespace"].fillna("")).dropna(subset=["who"])
    first = w.drop_duplicates(["namespace", "name"]).set_index(["namespace", "name"])["who"]
    return first.reindex(index)


def started_alone(who: pd.Series, bind: pd.Series, write: pd.Series, stop_from: pd.Series, stop_to: pd.Series):
    """Per pod, whether its kubelet (``who``) started or stopped no other pod between its bind and its
    Running write: no other pod of that kubelet had its own [bind, Running write] or [graceful delete,
    terminal write] overlap that span.  On Kubemark's fake Docker client such a pod's calls queued behind
    nobody's sleeps, so its write trails its start by the relist's wait and calls alone (the density test's
    latency pods, made one by one on a saturated and settled cluster), not by the queue's lag measured on
    the pods that started in a burst.  A pod whose kubelet is unknown is not alone."""
    df = pd.DataFrame(
        {
            "who": who.to_numpy(),
            "b": bind.to_numpy(dtype=np.float64),
            "w": write.to_numpy(dtype=np.float64),
            "d": stop_from.to_numpy(dtype=np.float64),
            "f": stop_to.to_numpy(dtype=np.float64),
        }
    )
    alone = np.zeros(len(df), dtype=bool)
    for _, g in df[df["who"].notna()].groupby("who", sort=False):
        b, w = g["b"].to_numpy(), g["w"].to_numpy()
        d, fin = g["d"].to_numpy(), g["f"].to_numpy()
        for i, ix in enumerate(g.index):
            if not (np.isfinite(b[i]) and np.isfinite(w[i])):
                continue
            other = np.arange(len(g)) != i
            starting = (b < w[i]) & (np.fmax(w, b) > b[i])  # an unwritten start stays in flight (NaN → b)
            stopping = (d < w[i]) & (np.fmax(fin, d) > b[i])
            alone[ix] = not (other & (starting | stopping)).any()
    return pd.Series(alone, index=who.index)


def solo_writes(run: Run, alone: bool = True) -> pd.DataFrame | None:
    """Each pod's Running status write and whether the pod started alone on its kubelet
    (:func:`started_alone`), from the run's pod requests: one row per pod (``namespace``, ``pod``) with
    ``write`` (its receipt, ns, apiserver clock), ``source_id`` / ``line_no`` (the write's line) and
    ``alone``.  The Running write is the pod's second status write before its graceful delete (its
    namespace's teardown), or its only one (the status manager merged Pending into it: :func:`_running_write`
    without kubelet records).  ``alone=False`` leaves ``alone`` False and skips finding each write's
    kubelet.  None without pod requests."""
    got = _pod_requests(run, [], ("source_id", "line_no"), ("create", "update", "patch", "delete", "deletecollection"))
    if got is None:
        return None
    r, origin = got
    r = r.assign(t=_ns(r["start_ts"].where(r["start_ts"].notna(), r["ts"])), te=_ns(r["ts"]), pod=r["name"])
    verb, sub, res = r["verb"], r["subresource"], r["resource"]
    named = (res == "pods") & (r["name"] != "")
    st = r[named & (sub == "status") & verb.isin(["update", "patch"])]
    if st.empty:
        return None
    dels = r[named & (sub == "") & (verb == "delete")]
    td = r[
        ((res == "namespaces") & (verb == "delete") & (sub == "")) | ((res == "pods") & (verb == "deletecollection"))
    ]
    td_ns = td["name"].where(td["resource"] == "namespaces", td["namespace"])
    teardown = td.assign(ns=td_ns)[td_ns != ""].groupby("ns")["te"].min()
    key = ["namespace", "pod"]
    fd = pd.concat(
        [dels.groupby(key)["te"].min(), st.groupby(key)["namespace"].first().map(teardown).rename("te")], axis=1
    ).min(axis=1)
    st = st.assign(fd=fd.reindex(pd.MultiIndex.from_frame(st[key])).to_numpy()).sort_values("t", kind="stable")
    before = st[~(st["te"] >= st["fd"])]
    after = st[st["te"] > st["fd"]]
    before = before.assign(k=before.groupby(key).cumcount() + 1)
    n = before.groupby(key)["k"].transform("max")
    w = before[before["k"] == np.minimum(2, n)].drop_duplicates(key).set_index(key)
    if w.empty:
        return None
    index = w.index
    bind = r[named & (sub == "binding") & (verb == "create")].groupby(key)["t"].min().reindex(index)
    final = after.groupby(key)["t"].min().reindex(index)
    write = w["t"].astype("float64")
    solo = (
        started_alone(_kubelet_of(run, origin, index), bind, write, fd.reindex(index), final)
        if alone
        else pd.Series(False, index=index)
    )
    return pd.DataFrame(
        {"write": write, "source_id": w["source_id"], "line_no": w["line_no"], "alone": solo}, index=index
    ).reset_index()


def spread_in_second(floor: pd.Series, order: pd.Series, res: int = _SECOND, grain: int = 50 * _MS) -> pd.Series:
    """Estimates of instants known as ``floor`` truncated to ``res`` ns: the pods whose truncated second is the
    same interval (within ``grain``, as on nodes whose clocks share a phase) are spread evenly over it in
    ``order`` (their binds: a node's runtime starts its pods in the order its watch delivered them),
    the i-th of k at ``floor + (i + ½)·res/k``.  Taking every one at the middle makes the running count a
    staircase that is off by up to half of each second's starts between its steps; spread, the count
    follows the starts' own rate, each start still inside its second."""
    f = floor.to_numpy(dtype=np.float64)
    ok = np.isfinite(f)
    est = np.full(len(f), np.nan)
    if not ok.any():
        return pd.Series(est, index=floor.index)
    o = order.to_numpy(dtype=np.float64)
    df = pd.DataFrame({"g": np.floor(f[ok] / grain), "o": np.where(np.isfinite(o[ok]), o[ok], f[ok]), "f": f[ok]})
    df = df.sort_values(["g", "o"], kind="stable")
    grp = df.groupby("g", sort=False)
    i = grp.cumcount().to_numpy()
    k = grp["f"].transform("size").to_numpy()
    df["e"] = df["f"].to_numpy() + np.floor((i + 0.5) * res / k)
    est[np.flatnonzero(ok)] = df["e"].sort_index().to_numpy()
    return pd.Series(est, index=floor.index)


def _truncated(floor: pd.Series, res: pd.Series) -> tuple:
    """(estimate, lo, hi) of an instant known as ``floor`` truncated to ``res`` ns: ``[floor, floor +
    res]``, the estimate its middle."""
    r = res.reindex(floor.index).fillna(0).to_numpy(dtype=np.float64)
    f = floor.to_numpy(dtype=np.float64)
    ix = floor.index
    return pd.Series(f + np.floor(r / 2), index=ix), floor, pd.Series(f + r, index=ix)


_HEX = re.compile(r"[0-9a-f]{1,16}")


def event_name_instants(ev: pd.DataFrame) -> np.ndarray:
    """The reporter's instant (UTC epoch ns, float64; NaN where none) that each Event's name carries.

    client-go names an Event ``<object name>.<t.UnixNano() in hex>`` with ``t`` the reporter's clock when it
    made the event (staging/src/k8s.io/client-go/tools/record/event.go ``makeEvent``; tools/events/
    event_recorder.go for events.k8s.io), the same ``t`` whose second is ``firstTimestamp``.  A name is read
    only when it is the object's name, a dot and at most 16 hex digits, and the instant agrees with the
    event's own time: in ``firstTimestamp``'s second, or within [−1 ms, +1 s] of ``eventTime`` (taken just
    before the name's clock read).  Any other name (made by another client, or edited) gives NaN.

    ``ev`` needs ``name``, ``object_name``, ``first_ts`` and ``event_time``.
    """
    out = np.full(len(ev), np.nan)
    if not len(ev):
        return out
    vals = []
    for i, (n, o) in enumerate(zip(ev["name"].tolist(), ev["object_name"].tolist())):
        if isinstance(n, str) and isinstance(o, str) and n.startswith(o + "."):
            h = n[len(o) + 1 :]
            if _HEX.fullmatch(h):
                v = int(h, 16)
                if v < 2**63:
                    vals.append((i, v))
    if not vals:
        return out
    idx = np.array([i for i, _ in vals])
    v = np.array([x for _, x in vals], dtype=np.int64)
    et = _ns(ev["event_time"].iloc[idx])
    ft = _ns(ev["first_ts"].iloc[idx])
    nat = np.iinfo(np.int64).min
    ok_et = (et != nat) & (v - et >= -1_000_000) & (v - et <= _SECOND)
    ok_ft = (et == nat) & (ft != nat) & (v >= ft) & (v - ft < _SECOND)
    keep = ok_et | ok_ft
    out[idx[keep]] = v[keep].astype(np.float64)
    return out


def created_before_started(namespace, pod, reason, inst) -> np.ndarray:
    """For each ``Started`` event (row), the instant of its pod's latest ``Created`` event at or before it
    (the runtime's CreateContainer returned before StartContainer was called); NaN for other rows or
    without one.  Arguments are aligned arrays; ``inst`` from :func:`event_name_instants`."""
    d = pd.DataFrame({"ns": np.asarray(namespace), "pod": np.asarray(pod), "r": np.asarray(reason), "v": inst})
    d["row"] = np.arange(len(d))
    st = d[(d["r"] == "Started") & np.isfinite(d["v"])]
    cr = d[(d["r"] == "Created") & np.isfinite(d["v"])]
    out = np.full(len(d), np.nan)
    if len(st) and len(cr):
        j = st.merge(cr[["ns", "pod", "v"]], on=["ns", "pod"], suffixes=("", "_c"))
        j = j[j["v_c"] <= j["v"]].groupby("row")["v_c"].max()
        out[j.index.to_numpy()] = j.to_numpy()
    return out


def _named_events(e: pd.DataFrame, offsets: dict | None, notes: list, posted=None) -> pd.DataFrame:
    """Per pod with a ``Started`` event whose name carries its instant (:func:`event_name_instants`): ``t``
    the first start's instant (int64 ns), ``tc`` the ``Created`` event's before it, ``tk`` the first
    ``Killing`` event's after it (NaN if none), ``clock`` the kubelet's clock domain, ``moved`` whether
    ``offsets`` placed them on the apiserver clock.  ``posted`` (:func:`_posted_kills`): event POSTs made
    after the pod's deletion; for a pod whose dump has no Killing event, the first one named after its
    Started event (and not a dumped event) is its Killing."""
    cols = ["namespace", "pod", "t", "tc", "tk", "clock", "moved"]
    if e.empty:
        return pd.DataFrame(columns=cols)
    inst = event_name_instants(e)
    e = e.assign(v=inst, vc=created_before_started(e["namespace"], e["pod"], e["reason"], inst))
    e = e[np.isfinite(inst)]
    e = e.assign(clock=e["clock"].fillna("apiserver").replace("", "apiserver"))
    if posted is not None and len(posted):
        st = e[e["reason"] == "Started"].sort_values("v", kind="stable").groupby(["namespace", "pod"])
        st = st[["v", "clock"]].first().rename(columns={"v": "s"})
        k = posted.join(st, on=["namespace", "pod"], how="inner")
        dumped = pd.MultiIndex.from_frame(e.loc[e["reason"] == "Killing", ["namespace", "pod"]])
        has = pd.MultiIndex.from_frame(k[["namespace", "pod"]]).isin(dumped)
        k = k[(k["v"] > k["s"]).to_numpy() & ~k["name"].isin(set(e["name"])).to_numpy() & ~has]
        k = k.sort_values("v", kind="stable").drop_duplicates(["namespace", "pod"])
        if len(k):
            e = pd.concat([e, k[["namespace", "pod", "v", "clock"]].assign(reason="Killing", vc=np.nan)])
            notes.append(
                f"{len(k)} pods' Killing instants read from the names of their kubelets' event POSTs (audit "
                "objectRef.name), made after the pod's deletion: no dumped event holds them"
            )
    # onto the apiserver clock by the given offsets, as every other node-clock evidence (its notes too)
    placed, _ = _to_apiserver_clock(
        e.assign(ts=pd.to_datetime(e["v"].astype("int64"), utc=True)), offsets, notes, "kubelet event instants"
    )
    shift = e["v"].to_numpy() - _ns(placed["ts"]).astype(np.float64)
    e = e.assign(v=e["v"] - shift, vc=e["vc"] - shift, moved=shift != 0)
    st = e[e["reason"] == "Started"].sort_values("v", kind="stable")
    out = (
        st.groupby(["namespace", "pod"], sort=False)[["v", "vc", "clock", "moved"]].first().rename(columns={"vc": "tc"})
    )
    k = e[e["reason"] == "Killing"][["namespace", "pod", "v"]].merge(
        out["v"].rename("s").reset_index(), on=["namespace", "pod"]
    )
    out["tk"] = k[k["v"] >= k["s"]].groupby(["namespace", "pod"])["v"].min().reindex(out.index)
    out = out.reset_index()
    return pd.DataFrame(
        {
            "namespace": out["namespace"],
            "pod": out["pod"],
            "t": out["v"].to_numpy(dtype=np.int64),
            "tc": out["tc"].to_numpy(dtype=np.float64),
            "tk": out["tk"].to_numpy(dtype=np.float64),
            "clock": out["clock"],
            "moved": out["moved"].astype(bool),
        },
        columns=cols,
    )


# the Killing event's message of Kubernetes ≤ 1.5's docker manager (pkg/kubelet/dockertools/docker_manager.go
# ``killContainer``: "Killing container with docker id <12 hex>[: <reason>]"); 1.6+'s kuberuntime says
# "Killing container with id docker://<name>:…", then "Stopping container <name>"
_RX_DOCKERTOOLS_KILLING = re.compile(r"^Killing container with docker id [0-9a-f]{12}\b")


def killing_after_stop(messages: pd.Series, notes: list) -> bool:
    """Whether the run's kubelets made their ``Killing`` events once the runtime's ``StopContainer``
    returned — the docker manager of Kubernetes ≤ 1.5 (dockertools ``killContainer``: ``StopContainer``,
    then the event) — rather than right before the call (1.6+ kuberuntime ``killContainer``): told by the
    messages, the majority of those that have one."""
    m = messages.dropna().astype(str)
    if m.empty:
        return False
    old = int(m.str.match(_RX_DOCKERTOOLS_KILLING).sum())
    if 2 * old <= len(m):
        return False
    notes.append(
        f"{old} of {len(m)} Killing events in the docker manager's words (Kubernetes ≤ 1.5): made once "
        "StopContainer returned, so each stop lies before its Killing event"
    )
    return True


# a node clock's drift over the pairs that place it (NTP keeps it far below): widens its bounds
_DRIFT_ALLOWANCE = 1e-4


def _relist_estimate(run_w: pd.Series, run_s: pd.Series, low: pd.Series, relist: int) -> float:
    """A kubelet clock's offset from its pods' Started events and Running writes alone (ns; NaN without).

    Each write follows its relist, which follows the start by a wait uniform over a relist period
    (pkg/kubelet/pleg/generic.go): ``run_w`` (Started − write) is θ less (wait + the write's own delay), so
    it spans [θ − delay − period, θ − delay].  With its n values within one period (+ the allowance), both
    ends are used (the middle of their range + half a period: error ~period / (1.4 n)); a wider spread (a
    stalled or throttled kubelet's late writes) leaves only the least wait: the largest of ``low`` (the
    Running writes and the terminal ones, which also trail a kill by a relist before 1.22) + period / (n + 1).

    Where the runtime holds its lock past the start (Kubemark's fake Docker client sleeps ~200 ms inside
    StartContainer, libdocker/fake_client.go), a relist that begins meanwhile reports the container as the
    call returns, at Started: the waits after Started end a sleep short of a period, the waits after the
    start begin a sleep late.  So the least wait is read after Started (``run_w``'s largest) and the
    longest after the start (``run_s``: the start's estimate − write, its smallest); with the start at
    Started the two are one."""
    n = len(run_w)
    if n >= 2 and len(run_s) >= 2:
        top, bottom = float(run_w.max()), float(run_s.min())
        if top - bottom <= relist + _RELIST_ALLOWANCE:
            return (top + bottom + relist) / 2
    return float(low.max()) + relist / (len(low) + 1) if len(low) else np.nan


class _Clock(NamedTuple):
    """What :func:`_event_offsets` keeps of one kubelet clock between its two passes (ns)."""

    rows: np.ndarray  # its pods (mask of ``g``)
    relisted: float  # :func:`_relist_estimate` (NaN without Running writes)
    records: pd.Series  # record − Running write of the pods its log has (PLEG ContainerStarted)
    lower: float
    upper: float
    allow: float
    killing: float  # the least Killing − graceful DELETE (NaN without)
    posted: float  # the least bound from its event POSTs (:func:`_post_bounds`; NaN without)


def _event_offsets(g: pd.DataFrame, pairs: dict, relist: int, notes: list) -> pd.DataFrame:
    """Per pod (rows of ``g``, the pods' named event instants): the offset of its kubelet's clock against
    the apiserver's, ``theta`` (estimate), ``lower``/``upper`` (bounds) and ``allow`` (drift), all ns.

    Without ``offsets`` for a clock, its offset θ is bounded by the causal order of the same pods, over all
    pods of that clock: an apiserver receipt that follows a kubelet event bounds θ from below (θ ≥ event −
    receipt: the Running write after the start, the terminal write or final delete after the kill); one
    that precedes it bounds θ from above (θ ≤ event − receipt: the bind before Created, the graceful delete
    before Killing).  The kubelet's own records are on the same clock: the Running write follows its PLEG
    ContainerStarted record by the sync and send alone (θ ≥ record − write), its SyncLoop ADD record
    follows the bind (θ ≤ record − bind); a clock with them is estimated by that record bound.  Without,
    the Running writes trail the start by a relist's wait (uniform over a period): :func:`_relist_estimate`,
    plus the relist's own dispatch delay measured on the clocks that have both (the median of record bound
    − relist estimate); where the pods were deleted gracefully, the least Killing − DELETE bound less the
    kubelet's reaction, measured likewise, instead (its error is the spread of the least reaction, a few ms,
    where the relist waits' ends leave ~period / n); kept within the bounds.  A clock whose bounds
    cross (its order contradicts itself) is dropped (θ NaN); a clock without a pair is taken as the
    apiserver's, as kubelet records are; a clock moved by given offsets has θ = 0."""
    out = pd.DataFrame(0.0, index=g.index, columns=["theta", "lower", "upper", "allow"])
    dom, moved = g["clock"], g["moved"].fillna(False).astype(bool)
    dropped = []
    per = {}
    posts, crossed = pairs.get("posts", {}), 0
    for d in sorted(set(dom[g["t"].notna() & ~moved].dropna()) - {"apiserver"}):  # the reference: θ = 0
        m = ((dom == d) & ~moved).to_numpy()
        run_w = (g["t"] - pairs["running_write"])[m].dropna()
        run_s = (g["s"] - pairs["running_write"])[m].dropna()
        low = pd.concat([run_w, (g["tk"] - pairs["final"])[m]]).dropna()
        up = pd.concat([(g[ev] - pairs[rc])[m] for ev, rc in (("first", "bind"), ("tk", "delete"))]).dropna()
        # the kubelet's own records on the same clock: the Running write follows the PLEG record by the
        # kubelet's sync and send alone (no relist wait); its ADD record follows the bind by the watch
        own = {k: pairs[k].where(pairs[k + "_clock"] == d)[m] for k in ("pleg_started", "kubelet_add")}
        low_rec = (own["pleg_started"] - pairs["running_write"][m]).dropna()
        up_rec = (own["kubelet_add"] - pairs["bind"][m]).dropna()
        if low.empty and up.empty and low_rec.empty and up_rec.empty:
            continue
        lower = max([float(x.max()) for x in (low, low_rec) if len(x)], default=-np.inf)
        upper = min([float(x.min()) for x in (up, up_rec) if len(x)], default=np.inf)
        t = g.loc[m, "t"]
        allow = _DRIFT_ALLOWANCE * float(t.max() - t.min())
        posted = posts.get(d, (np.nan, 0))[0]
        if posted > upper + 2 * allow:  # the POSTs contradict the pods' own order: not paired right
            posted, crossed = np.nan, crossed + 1
        lower = max(lower, posted) if np.isfinite(posted) else lower
        if lower > upper + 2 * allow:
            dropped.append(d)
            out.loc[m, "theta"] = np.nan
            continue
        kill = (g["tk"] - pairs["delete"])[m].dropna()
        k = float(kill.min()) if len(kill) else np.nan
        per[d] = _Clock(m, _relist_estimate(run_w, run_s, low, relist), low_rec, lower, upper, allow, k, posted)
    # the Running write's own delay after its relist (the kubelet's sync and send), which the relist
    # estimate leaves in: measured on the clocks the kubelet's records place (their record bound less their
    # relist estimate), the median added to the other clocks' estimates
    delay = [float(c.records.max()) - c.relisted for c in per.values() if len(c.records) and np.isfinite(c.relisted)]
    delay = max(0.0, float(np.median(delay))) if delay else 0.0
    # the kubelet's reaction to a graceful delete (watch, pod worker) before its Killing event, by which the
    # least Killing − DELETE bound lies above θ: measured on the same clocks, the median taken off the others'
    # bound gives an estimate independent of the relist waits and closer (the least of n reactions spreads by
    # a few ms, the relist waits' ends by ~a period / n): it replaces the relist estimate
    react = [c.killing - float(c.records.max()) for c in per.values() if len(c.records) and np.isfinite(c.killing)]
    react = float(np.median(react)) if react else np.nan
    # an event POST bound lies below θ by the least send of the clock's events (under a ms where one found
    # a token), the logged clocks' record bound by the least sync and send of a status write: their median
    # difference where both exist is added to the POST bound, so that every clock is placed alike (when
    # negative, the POST bound is the tighter and the estimate stays on it)
    sent = [float(c.records.max()) - c.posted for c in per.values() if len(c.records) and np.isfinite(c.posted)]
    sent = float(np.median(sent)) if sent else 0.0
    both = by_posts = 0
    for c in per.values():
        logged, e = len(c.records) > 0, c.relisted
        theta = float(c.records.max()) if logged else e + delay if np.isfinite(e) else c.upper
        if not logged and np.isfinite(c.posted):  # the closest: a bound over every event of the clock
            theta, by_posts = c.posted + sent, by_posts + 1
        elif not logged and np.isfinite(e) and np.isfinite(c.killing) and np.isfinite(react):
            theta, both = c.killing - react, both + 1
        theta = min(max(theta, c.lower), c.upper)
        out.loc[c.rows, ["theta", "lower", "upper", "allow"]] = (np.round(theta), c.lower, c.upper, c.allow)
    if per:
        logged = sum(1 for c in per.values() if len(c.records))
        relisted = sum(1 for c in per.values() if not len(c.records) and np.isfinite(c.relisted))
        notes.append(
            f"{len(per)} kubelet clock(s) placed by their pods' requests: {logged} by their own log's PLEG "
            f"records, {relisted} by their Running writes' relist waits"
            + (
                f" (+ {delay / 1e6:.0f} ms relist dispatch delay, measured on the logged ones)"
                if logged and relisted
                else ""
            )
            + (f"; {by_posts} of these instead by their event POSTs' bound" if by_posts else "")
            + (
                f"; {both} of these instead by their graceful delete → Killing bound less the kubelets' "
                f"{react / 1e6:.0f} ms reaction (measured likewise)"
                if both
                else ""
            )
            + (f", {len(per) - logged - relisted} by their other bounds alone" if len(per) > logged + relisted else "")
        )
    if crossed:
        notes.append(f"the event POSTs of {crossed} kubelet clock(s) contradict their pods' order: not used")
    if dropped:
        notes.append(
            f"the event instants of {len(dropped)} kubelet clock(s) contradict the requests' order "
            f"({', '.join(dropped[:3])}{', …' if len(dropped) > 3 else ''}): not used"
        )
    return out


def _named_lives(
    named: pd.DataFrame, index, pairs: dict, relist: int, notes: list, killing_after: bool = False
) -> tuple:
    """((estimate, lo, hi) of each pod's start, (estimate, lo, hi) of its stop) from its kubelet's events,
    relative ns, NaN where none (module docstring; docs/load.md).

    The kubelet makes ``Created`` after the runtime's ``CreateContainer`` returned and ``Started`` after
    ``StartContainer`` returned (pkg/kubelet/kuberuntime/kuberuntime_container.go ``startContainer``): the
    start lies in [Created, Started]; ``Killing`` right before ``StopContainer`` (``killContainer``): the
    stop follows it — or, with ``killing_after`` (:func:`killing_after_stop`: Kubernetes ≤ 1.5), once the
    call returned: the stop precedes it, on Kubemark's fake Docker client by the call's sleep (the client
    sets ``FinishedAt`` as the call takes its mutex, then sleeps ``normalSleep(200, 50, 50)``), on a real
    Docker by the container's exit alone.  On the apiserver clock (:func:`_event_offsets`) each is then
    narrowed by the apiserver's own bounds: a start after the bind, a stop after the graceful delete and
    before the terminal write or final delete."""
    nan = pd.Series(np.nan, index=index)
    if named.empty:
        return (nan, nan.copy(), nan.copy()), (nan.copy(), nan.copy(), nan.copy()), {}, 0.0
    g = named.set_index(["namespace", "pod"])
    g = g[~g.index.duplicated()].reindex(index)
    for c in ("t", "tc", "tk"):
        g[c] = g[c].astype("float64")
    g["first"] = g["tc"].where(g["tc"].notna(), g["t"])
    # the start's estimate on the node's clock: where between Created and Started the dumps put it
    g["s"] = start_in_gap(g["tc"], g["t"], pairs.get("dump_start"), notes)
    # how long StartContainer went on after the start, at least: the runtime's hold of its lock
    held = (g["t"] - g["s"])[g["tc"].notna()].dropna()
    hold = max(float(held.min()), 0.0) if len(held) else 0.0
    o = _event_offsets(g, pairs, relist, notes)
    th, lower, upper, allow = o["theta"], o["lower"], o["upper"], o["allow"]
    w, b, fin = pairs["running_write"], pairs["bind"], pairs["final"]
    est = g["s"] - th
    hi = np.fmin(g["t"] - lower + allow, w)
    # not "at most a relist before the Running write": on Kubemark's fake Docker client the relist itself
    # queues at the client's mutex behind the node's other calls, seconds while pods start (_relisted)
    lo = np.fmax(g["first"] - upper - allow, b.where(b <= hi))
    est = est.where(lo <= hi)
    start = (pd.Series(np.clip(est, lo, hi), index=index), lo.where(est.notna()), hi.where(est.notna()))
    if not killing_after:
        stop = _kill_stop(g["tk"] - th, g["tk"] - upper - allow, fin, index)
    elif hold >= _FAKE_DOCKER_HOLD:
        # the stop one sleep before its Killing event (its mean), within the sleep's range
        hi_k = g["tk"] - lower + allow - _FAKE_DOCKER_CUT
        lo_k = np.fmax(g["tk"] - upper - allow - _FAKE_DOCKER_SLEEP_MAX, pairs["delete"])
        stop = _kill_stop(g["tk"] - th - _FAKE_DOCKER_SLEEP, lo_k, pd.Series(np.fmin(fin, hi_k), index=index), index)
    else:
        # a real Docker returns once the container exited: the stop at the event, after the graceful delete
        lo_k = pairs["delete"].where(pairs["delete"] <= g["tk"] - lower + allow).fillna(-np.inf)
        stop = _kill_stop(g["tk"] - th, lo_k, pd.Series(np.fmin(fin, g["tk"] - lower + allow), index=index), index)
    # each clock's offset and how far above it the offset can be (upper bound + drift allowance), for the
    # kubelet records on it (a clock moved by given offsets: 0, 0)
    placed = g["clock"].notna() & th.notna()
    per = pd.DataFrame({"theta": th[placed], "slack": (upper + allow)[placed]})
    thetas = {c: tuple(v) for c, v in per.groupby(g.loc[placed, "clock"].to_numpy()).first().iterrows()}
    return start, stop, thetas, hold


def start_in_gap(created: pd.Series, started: pd.Series, second, notes: list) -> np.ndarray:
    """Each container start between its ``Created`` and ``Started`` events: a fixed time ``h`` before
    ``Started`` (never before ``Created``), ``h`` the offset that agrees with the most pods' dump seconds
    (``startedAt``, truncated; same clock as the events).  Returns the estimates (float, the inputs' unit
    and index order; ``started`` where ``created`` is missing).

    The runtime records the start instant inside ``StartContainer``; where inside depends on the runtime:
    a real one at the end of its work, Kubemark's fake Docker client (hollow kubelets before 1.20) as the
    call takes the client's mutex, then it sleeps ~200 ms holding it before returning
    (pkg/kubelet/dockershim/libdocker/fake_client.go ``StartContainer``: ``StartedAt`` set, then
    ``normalSleep(200, 50, 50)``).  The call waits for the mutex first while other calls hold it (every
    call takes it: other pods' starts, the PLEG's relists), so the gap from ``Created`` grows with the
    queue while the start stays one sleep before ``Started``: an offset from ``Started``, not a fraction
    of the gap (a fraction put the starts of a busy node's pods ~0.1 s late on average).  A pod whose dump
    second cuts its [Created, Started] gap allows only the offsets that put its start in that second; the
    one allowed by the most of them is taken (the middle of the range of such offsets).  Without any such
    pod, the middle of each gap.  Series are relative ns on one index; ``second`` may be None."""
    if second is None:
        second = pd.Series(np.nan, index=created.index)
    tc = created.to_numpy(dtype=np.float64)
    ts = started.to_numpy(dtype=np.float64)
    gap = ts - tc
    sec = second.reindex(created.index).to_numpy(dtype=np.float64)
    ok = np.isfinite(gap) & np.isfinite(sec) & (gap > 0)
    # the second cuts the gap: not all of [Created, Started] inside it
    cut = ok & ~((sec <= tc) & (ts < sec + _SECOND))
    top = float(np.nanmax(gap[ok])) if ok.any() else 0.0
    a = np.clip(ts[cut] - sec[cut] - _SECOND, 0.0, None)
    b = np.minimum(gap[cut], ts[cut] - sec[cut])
    # at h ≥ the gap the start sits on Created: allowed when Created is in the second
    b = np.where((sec[cut] <= tc[cut]) & (tc[cut] < sec[cut] + _SECOND), top, b)
    keep = a < b
    a, b = a[keep], b[keep]
    mid_gap = np.where(np.isfinite(tc), tc + gap / 2, ts)
    if not len(a):
        return mid_gap
    pts = np.unique(np.concatenate([[0.0, top], a, b]))
    mid = (pts[:-1] + pts[1:]) / 2
    cover = np.searchsorted(np.sort(a), mid, side="right") - np.searchsorted(np.sort(b), mid, side="right")
    best = np.flatnonzero(cover == cover.max())
    last = best[np.argmax(np.append(np.diff(best) != 1, True))]  # the first run of adjacent best segments
    h = float((pts[best[0]] + pts[last + 1]) / 2)
    notes.append(
        f"container starts placed {h / 1e6:.0f} ms before each pod's Started event (at its Created event at the "
        f"earliest): the offset that puts the most of the {len(a)} pods whose dump second (startedAt) cuts that "
        f"gap in their second ({int(cover.max())} of them)"
    )
    return np.where(np.isfinite(tc), np.maximum(tc, ts - h), ts)


def _sweep_places(index, sweep: pd.DataFrame, own_del: pd.Series) -> pd.DataFrame:
    """The pods a namespace teardown deleted: per pod its namespace (``ns``), its place ``k`` among the ``n``
    pods the ``DELETECOLLECTION`` listed, the call's receipt ``t0`` and end ``t1`` (relative ns), and
    ``place``, its delete spread evenly over the call.  The registry lists the pods (storage key order: by
    name) and deletes them one after another while the call runs
    (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go ``DeleteCollection``: items fed in
    list order to ``--delete-collection-workers`` goroutines, 1 by default); a pod its own DELETE removed
    before its place was not the sweep's."""
    cols = ["ns", "k", "n", "t0", "t1", "place"]
    if sweep.empty:
        return pd.DataFrame(columns=cols, dtype="float64")
    ns = pd.Series(index.get_level_values(0), index=index)
    pod = pd.Series(index.get_level_values(1), index=index)
    t0, t1 = ns.map(sweep["t"]).astype("float64"), ns.map(sweep["te"]).astype("float64")
    # the pods the list found: in a swept namespace, not deleted by their own DELETE before the sweep began
    listed = t0.notna() & ~(own_del < t0)
    if not listed.any():
        return pd.DataFrame(columns=cols, dtype="float64")
    lst = pd.DataFrame({"_ns": ns[listed].to_numpy(), "_pod": pod[listed].to_numpy()}, index=index[listed.to_numpy()])
    lst = lst.sort_values(["_ns", "_pod"], kind="stable")
    k = lst.groupby("_ns", sort=False).cumcount().reindex(index)
    n = lst.groupby("_ns", sort=False)["_pod"].transform("size").reindex(index)
    place = t0 + (k + 0.5) / n * (t1 - t0)
    swept = listed & ~(own_del <= place)
    out = pd.DataFrame({"ns": ns, "k": k, "n": n, "t0": t0, "t1": t1, "place": place})
    return out[swept.to_numpy()]


def _sweep_deletes(index, sweep: pd.DataFrame, own_del: pd.Series, first_del: pd.Series) -> pd.Series:
    """Each pod's graceful delete, estimated (relative ns): its first DELETE, or for a pod its namespace's
    teardown deleted, its place in that ``DELETECOLLECTION`` (:func:`_sweep_places`): the k-th of n pods at
    receipt + (k + ½)/n of the call; the kubelets see each deletion as it commits, before the call returns.
    ``first_del`` (the teardown's earliest end) stays the pods' lower bound."""
    est = first_del.copy()
    sp = _sweep_places(index, sweep, own_del)
    est[sp.index] = sp["place"]
    return est


def _fit_relisted(
    x: np.ndarray, final: np.ndarray, relist: int, delay: float, unit: float, rate: tuple, hold: float = 0.0
) -> tuple:
    """``(c, r)``: the line ``c + r·x`` (ns) that places the stops of pods whose kubelets reported them at
    their next relist, from their terminal writes ``final`` (receipts, ns) and a position ``x`` per pod: its
    graceful delete (ns, ``unit`` 1e9, ``rate`` (1, 1)) or its place in a teardown's list (``unit`` 1,
    ``rate`` (0, the most ns per place)).

    Each stop lies in [final − delay − relist, final − delay − hold]: the PLEG relists every period, the
    write follows its relist by ``delay``, and a runtime that holds its lock ``hold`` past the stop
    (Kubemark's fake Docker client sleeps inside StopContainer) lets no relist list the containers before.
    The waits are *not* independent draws: a kubelet's relists keep their
    phase, so its pods stopped within one period are all reported at the same relist — a median of the
    waits is no estimate; only each pod's interval is sound, and a kubelet whose relist fell inside the
    sweep brackets it (its pods before the relist reported at it, the next ones a period later).  The line
    maximises the pods' margins inside their intervals, each counted up to :data:`_FIT_MARGIN` (the
    kubelets' reactions spread about that much) and negative outside (a kubelet that reacted late moves it
    by its share alone): so it passes through the middle of each bracket; the remaining ties are broken by
    the distance to the intervals' middles (0.1 % weight, on at most :data:`_FIT_TIES` pods).  A linear
    program (scipy's HiGHS), in seconds around the medians."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    m = x.size
    x0, f0 = float(np.median(x)), float(np.median(final))
    xs = (x - x0) / unit
    hi = (final - f0 - delay - hold) / 1e9
    lo = (final - f0 - delay - relist) / 1e9  # the nominal period: a longer wait is a (soft) violation
    # the tie-break on at most _FIT_TIES pods, evenly spaced (it only settles the line's two parameters)
    t = np.arange(0, m, -(-m // _FIT_TIES))
    q = t.size
    mid = (hi[t] + lo[t]) / 2
    # z = [c, ρ, g_1..m (margins, ≤ _FIT_MARGIN), w_1..q (|line − mid|)];
    # rows: g ≤ line − lo, g ≤ hi − line, line − mid ≤ w, mid − line ≤ w
    i, j = np.arange(m), np.arange(q)
    rows = np.concatenate([np.repeat(np.arange(2 * m + 2 * q), 2), np.arange(2 * m + 2 * q)])
    cols = np.concatenate([np.tile([0, 1], 2 * m + 2 * q), 2 + i, 2 + i, 2 + m + j, 2 + m + j])
    sign = np.concatenate([np.repeat([-1.0, 1.0], m), np.repeat([1.0, -1.0], q)])
    at = np.concatenate([xs, xs, xs[t], xs[t]])
    line = np.column_stack([sign, sign * at]).ravel()
    slack = np.concatenate([np.ones(2 * m), -np.ones(2 * q)])
    A = coo_matrix((np.concatenate([line, slack]), (rows, cols)), shape=(2 * m + 2 * q, 2 + m + q)).tocsr()
    b = np.concatenate([-lo, hi, mid, -mid])
    cost = np.concatenate([[0.0, 0.0], -np.ones(m), np.full(q, 0.001 * m / q)])
    bounds = [(None, None), (rate[0] * unit / 1e9, rate[1] * unit / 1e9)]
    bounds += [(None, _FIT_MARGIN / 1e9)] * m + [(0, None)] * q
    res = linprog(cost, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    if res.status != 0:
        return np.nan, np.nan
    r = float(res.x[1]) * 1e9 / unit
    return f0 + float(res.x[0]) * 1e9 - r * x0, r


def _placed_kills(kub_kill: pd.DataFrame, index, thetas: dict, offsets: dict | None, final: pd.Series) -> tuple:
    """(estimate, lo, hi) of each pod's stop from its kubelet's kill record (relative ns, NaN without one or
    where its clock is not placed): the record less its clock's offset (``thetas`` from the pods' events; 0
    on the apiserver's clock or one moved by ``offsets``), bounded below by the offset's upper bound, above
    by the terminal write.  The kubelet logs it right before the runtime's ``StopContainer``."""
    nan = pd.Series(np.nan, index=index)
    if kub_kill.empty:
        return nan, nan.copy(), nan.copy()
    k = kub_kill.sort_values("t", kind="stable").drop_duplicates(["namespace", "pod"]).set_index(["namespace", "pod"])
    t = k["t"].reindex(index).astype("float64")
    clk = k["clock"].reindex(index).fillna("apiserver").replace("", "apiserver")

    def placed(c, i):
        if c in thetas:
            return thetas[c][i]
        return 0.0 if c == "apiserver" or (offsets and c in offsets) else np.nan

    th = clk.map(lambda c: placed(c, 0)).astype("float64")
    slack = clk.map(lambda c: placed(c, 1)).astype("float64")
    return _kill_stop(t - th, t - slack, final, index)


# a runtime that holds on this long after a container start before it returns is Kubemark's fake Docker
# client (its StartContainer sleeps normalSleep(200, 50, 50), at least 50 ms); other runtimes return in ms
_FAKE_DOCKER_HOLD = 40_000_000
# its StartContainer / StopContainer sleep: normalSleep(200, 50, 50), 200 ms on average
_FAKE_DOCKER_SLEEP = 200_000_000
# its StopContainer's sleep, normalSleep(200, 50, 50): at least 50 ms, and (6 sd) under 500 ms
_FAKE_DOCKER_CUT, _FAKE_DOCKER_SLEEP_MAX = 50_000_000, 500_000_000


def _queued_stops(
    kill: pd.Series, clock: pd.Series, sleep: float, notes: list, fixed=None, arrive: pd.Series | None = None
) -> pd.Series:
    """Each container's stop on Kubemark's fake Docker client, from its Killing instant (relative ns, on
    the apiserver clock) and its node (``clock``: any key per node): when its ``StopContainer`` takes the
    client's mutex.

    The kubelet makes the Killing event right before ``StopContainer`` (kuberuntime_container.go
    ``killContainer``); the fake client sets ``FinishedAt`` (the stop) as the call takes its one mutex, then
    sleeps ``normalSleep(200, 50, 50)`` holding it, and once the pod's containers stopped the kubelet stops
    its sandbox (``killPodWithSyncResult`` → dockershim ``StopPodSandbox``: an ``InspectContainer``, then
    one more such ``StopContainer``; pkg/kubelet/dockershim/libdocker/fake_client.go).  Waiters get the mutex in arrival order (Go's
    ``sync.Mutex`` after a 1 ms wait).  So where many pods of a node are killed at once — a namespace
    teardown — the stops follow their Killing events by a queue of ~200 ms per call before them: each
    node's calls are replayed in that order, ``sleep`` (the sleep's mean) per call.  Kill instants with no
    node are left as they are.  ``fixed`` (boolean, optional): the stops already known to be grants (a
    Killing event made once the call returned, :func:`killing_after_stop`) — kept, queued at their
    ``arrive`` (an estimate of when their call arrived; at most the grant) and holding the mutex from their
    grant for the calls that arrived after them."""
    out = kill.copy()
    k = kill.to_numpy(dtype=np.float64)
    c = clock.to_numpy(dtype=object)
    fx = np.zeros(len(k), dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    arr = k if arrive is None else np.fmin(arrive.to_numpy(dtype=np.float64), k)  # at most the grant
    ok = np.isfinite(k) & pd.notna(c)
    moved = 0
    for cl in pd.unique(c[ok]):
        idx = np.flatnonzero(ok & (c == cl))
        # a known grant is replayed at its arrival (``arrive``), in the queue's order, and holds the mutex
        # from its grant: the calls that arrived after it wait for it
        heap = [(arr[i] if fx[i] else k[i], 0, int(i)) for i in idx]
        heapq.heapify(heap)
        free = -np.inf
        while heap:
            at, step, i = heapq.heappop(heap)
            grant = k[i] if step == 0 and fx[i] else max(at, free)
            free = max(free, grant + (sleep if step != 1 else 0.0))
            if step == 0:
                out.iloc[i] = grant
                moved += bool(not fx[i] and grant > at + _MS)
            if step < 2:  # then the sandbox: its inspection, then its StopContainer, each queued anew
                heapq.heappush(heap, (free + _MS, step + 1, i))
    if moved:
        notes.append(
            f"{moved} stops placed after their Killing events by the fake Docker client's queue: each node's "
            f"StopContainer calls (containers, then sandboxes) replayed in order, {sleep / 1e6:.0f} ms each "
            "(its normalSleep(200, 50, 50))"
        )
    return out


def _pod_nodes(pt: pd.DataFrame | None, index) -> pd.Series:
    """Each pod's node (its first non-empty ``node`` in ``pod_transitions``: the scheduler's bind record, a
    pod dump's ``spec.nodeName``), NaN where none."""
    if pt is None or pt.empty or "node" not in pt.columns:
        return pd.Series(np.nan, index=index, dtype=object)
    n = pt[pt["node"].notna() & (pt["node"].astype(str) != "")]
    return n.drop_duplicates(["namespace", "pod"]).set_index(["namespace", "pod"])["node"].reindex(index)


def _kill_stop(est: pd.Series, lo: pd.Series, final: pd.Series, index) -> tuple:
    """(estimate, lo, hi) of a stop from a kill instant placed on the apiserver clock (``est``, its lower
    bound ``lo``): bounded above by the terminal write or final delete ``final`` (a final write before the
    kill bounds nothing); NaN where the bounds cross."""
    hi = final.where(final >= lo).fillna(np.inf)
    est = est.where(lo <= hi)
    return pd.Series(np.clip(est, lo, hi), index=index), lo.where(est.notna()), hi.where(est.notna())


def _died_write_delay(pleg: pd.DataFrame, final: pd.Series, thetas: dict, relist: int) -> tuple[float, int]:
    """How long after the relist that saw the containers die the kubelet's terminal write was received
    (ns): the median of write − PLEG ``ContainerDied`` record over the pods whose kubelet log is in the run
    and whose clock is placed (``thetas``: clock → (offset, slack); the kubelet's sync, the status manager's
    send and the request's way in), and how many pods gave it; (0, 0) without such records."""
    died = pleg[(pleg["milestone"] == "pleg_container_died") & pleg["clock"].isin(list(thetas))]
    if died.empty:
        return 0.0, 0
    died = died.sort_values("t", kind="stable").drop_duplicates(["namespace", "pod"])
    t = died["t"].to_numpy(dtype=np.float64) - died["clock"].map(lambda c: thetas[c][0]).to_numpy(dtype=np.float64)
    gap = final.reindex(pd.MultiIndex.from_frame(died[["namespace", "pod"]])).to_numpy(dtype=np.float64) - t
    gap = gap[np.isfinite(gap) & (gap >= 0) & (gap <= relist)]
    return (float(np.median(gap)), int(gap.size)) if gap.size else (0.0, 0)


_FIT_MARGIN = 50_000_000  # a stop's margin inside its relist interval counts up to this (ns): the reactions' spread
_FIT_TIES = 200  # pods in the tie-break term of the fit (every m/200-th)
_FIT_MIN = 8  # fewer stops to fit a line to: the graceful delete plus the median wait less half a relist
_LEVEL_MIN = 5  # exact stops on a fitted line to move it by their mean distance
_TILT_MIN = 10  # exact stops spread over half a teardown's list, to draw its line through them instead


def _level(exact, idx, line: np.ndarray) -> tuple[float, int]:
    """(the mean of exact stop − line over the pods ``idx`` with an exact stop, how many); (0, 0) with fewer
    than :data:`_LEVEL_MIN`."""
    if exact is None:
        return 0.0, 0
    d = exact.reindex(idx).to_numpy(dtype=np.float64) - line
    d = d[np.isfinite(d)]
    return (float(d.mean()), int(d.size)) if d.size >= _LEVEL_MIN else (0.0, 0)


def _tilt(exact, idx, k: np.ndarray, rmax: float):
    """``(c, r, m)``: the line ``c + r·k`` through the ``m`` exact stops of a teardown's pods ``idx`` (least
    squares over their places ``k``, the slope kept in [0, ``rmax``]), where at least :data:`_TILT_MIN` of
    them spread over at least half the places; else None.  Their errors are the kubelets' own reactions,
    independent draws, so a few tens of them give the time per place closer than the relist brackets,
    which leave it to the phases of a handful of kubelets."""
    if exact is None:
        return None
    e = exact.reindex(idx).to_numpy(dtype=np.float64)
    ok = np.isfinite(e)
    if ok.sum() < _TILT_MIN or np.ptp(k[ok]) < 0.5 * np.ptp(k):
        return None
    r = float(np.clip(np.polyfit(k[ok], e[ok], 1)[0], 0.0, rmax))
    return float(np.mean(e[ok] - r * k[ok])), r, int(ok.sum())


def _relisted_lines(
    index,
    sweep,
    own,
    g_est: pd.Series,
    final: pd.Series,
    relist: int,
    delay: tuple,
    notes: list,
    exact=None,
    hold: float = 0.0,
) -> pd.Series:
    """The stop of each pod whose kubelet reports it at its next relist (relative ns, NaN without a terminal
    write ``final``): per namespace teardown, a line over the pods' places in its list
    (:func:`_fit_relisted`: the time per place measured, not assumed — the call also spends its start
    listing); for the other pods, their graceful delete (``g_est``) plus a reaction fitted likewise.  With
    fewer than :data:`_FIT_MIN` such pods, the delete plus the median write delay less half a relist.
    ``delay``: (the terminal write's delay after its relist, ns; how many pods measured it).  Where at least
    :data:`_LEVEL_MIN` of a line's pods have a stop known exactly (``exact``: a Killing event or a kill
    record on a placed clock), the line is moved by their mean distance from it: the brackets place the
    line where the kubelets' reactions put the stops around each relist, the exact stops where they are on
    average, which is what the count of running pods needs.  ``hold``: how long the runtime holds its lock
    past a stop at least (:func:`_fit_relisted`)."""
    out = pd.Series(np.nan, index=index)
    has = final.notna()
    d, measured = delay
    sp = _sweep_places(index, sweep, own)
    sp = sp[has.reindex(sp.index).to_numpy()]
    fitted = []
    for _, grp in sp.groupby("ns", sort=False):
        if len(grp) < _FIT_MIN:
            continue
        t0, t1, n = (float(grp[c].iloc[0]) for c in ("t0", "t1", "n"))
        k = grp["k"].to_numpy(dtype=np.float64)
        fin = final[grp.index].to_numpy(dtype=np.float64)
        c, r = _fit_relisted(k, fin, relist, d, 1.0, (0.0, (t1 - t0) / n), hold)
        if np.isfinite(c):
            tilt = _tilt(exact, grp.index, k, (t1 - t0) / n)
            if tilt is not None:  # drawn through the exact stops: shift = how far the brackets' line was
                shift, m = tilt[0] - c, tilt[2]
                c, r = tilt[0], tilt[1]
            else:
                shift, m = _level(exact, grp.index, c + r * k)
                c += shift
            out[grp.index] = c + r * k
            fitted.append((len(grp), r, t1 - t0, c - t0, shift, m, tilt is not None))
    rest = has & out.isna() & g_est.notna()
    rest_fitted = False
    if rest.sum() >= _FIT_MIN:
        x = g_est[rest].to_numpy(dtype=np.float64)
        c, _ = _fit_relisted(x, final[rest].to_numpy(dtype=np.float64), relist, d, 1e9, (1.0, 1.0), hold)
        rest_fitted = bool(np.isfinite(c))
        if rest_fitted:
            shift, m = _level(exact, rest[rest].index, c + x)
            c += shift
            out[rest] = c + x
            notes.append(
                f"{int(rest.sum())} pods' stops: their graceful delete + {c / 1e6:.0f} ms, the kubelets' reaction "
                "fitted to each pod's [terminal write − relist, terminal write]"
                + (f", moved {shift / 1e6:+.0f} ms to the mean of {m} stops known exactly" if m else "")
            )
    for pods, r, dur, first, shift, m, drawn in fitted:
        how = (
            f"drawn through the {m} stops known exactly (least squares; the relisted terminal writes' brackets "
            f"placed it {-shift / 1e6:+.0f} ms from there at its first place)"
            if drawn
            else "fitted to their kubelets' relisted terminal writes"
            + (f" (moved {shift / 1e6:+.0f} ms to the mean of {m} stops known exactly)" if m else "")
        )
        notes.append(
            f"namespace teardown: {pods} pods' stops on a line over their places in the DELETECOLLECTION's list, "
            f"{how}: {r / 1e6:.1f} ms per pod; the call took {dur / 1e9:.2f} s, the first stop {first / 1e9:.2f} s "
            "after its receipt"
        )
    if (fitted or rest_fitted) and hold >= 1e6:
        notes.append(
            f"each stop placed at least {hold / 1e6:.0f} ms before the relist that reported it: the runtime holds "
            "its lock that long past a stop as past a start (Kubemark's fake Docker client sleeps in "
            "StartContainer and StopContainer alike; the least gap from a container's start to its Started "
            "event, or the least sleep where no event names the starts)"
        )
    if fitted or rest_fitted:
        notes.append(
            f"terminal writes {d / 1e6:.0f} ms after the relist that saw the containers die (measured on {measured} "
            "pods of kubelets whose log is in the run)"
            if measured
            else "the terminal writes' delay after their relist is not measured (no kubelet log with PLEG "
            "ContainerDied records): the stops may lie up to that delay (tens of ms) late"
        )
    rest = has & out.isna() & g_est.notna()
    if rest.any():
        gap = (final - g_est)[rest]
        out[rest] = g_est[rest] + max(0.0, float(gap.median()) - relist / 2)
    return out


def _relisted_stop(run: Run, origin: str) -> bool:
    """Whether the kubelets' terminal status writes trail the containers' stop by a PLEG relist.

    Up to 1.21 the kubelet's ``syncPod`` kills the containers and returns; the terminal status comes from
    the sync that the PLEG ``ContainerDied`` event triggers (pkg/kubelet/kubelet.go ``syncPod``, "Kill pod
    if it should not be running").  From 1.22 ``syncTerminatingPod`` reads the runtime's status after the
    kill and sets the terminal status at once.  The version is the kubelets' user agent
    (``kubelet/v1.14.0 …``) on their pods/status writes; without one the older behaviour is assumed.
    """
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    if not origin:
        return True
    f = (ds.field("resource") == "pods") & (ds.field("subresource") == "status") & (ds.field("origin") == origin)
    ua = run.arrow("requests", columns=["user_agent"], filter=f, dictionary=True)["user_agent"]
    minors = set()
    for v in pc.unique(ua).to_pylist():
        m = _KUBELET_UA.match(v or "")
        if m:
            minors.add(int(m.group(1)))
    return not minors or min(minors) < 22


def pod_lives(run: Run, notes: list | None = None, offsets: dict | None = None) -> tuple[pd.DataFrame, str, str] | None:
    """Each test pod's life on the load timeline (definitions in the module docstring).

    Returns ``(lives, origin, clock)`` or None when the run has no pod evidence.  ``lives`` has one
    row per pod (``namespace``, ``pod``): ``start`` / ``stop`` (UTC; ``stop`` NaT when the pod was
    never seen to stop), ``start_evidence`` / ``stop_evidence`` (one of :data:`START_KINDS` /
    :data:`STOP_KINDS`, None for a pod that never started), ``deletes`` (DELETE pods/<name> → 2xx).
    """
    notes = [] if notes is None else notes
    got = _pod_requests(run, notes)
    frames = {}
    origin, clock = "", ""
    if got is not None:
        r, origin = got
        clock = ",".join(sorted(set(r["clock"].dropna()))) or "apiserver"
        # each request's instant is its receipt (t): a kubelet write sent after a container started (or
        # stopped) was received after it, so the pod is counted from the instant its own request arrived.
        # Which writes precede the graceful delete is decided on the requests' ends (te), as the deletion
        # takes effect inside the DELETE and the kubelet's terminal write follows the containers' kill
        r = r.assign(t=_ns(r["start_ts"].where(r["start_ts"].notna(), r["ts"])), te=_ns(r["ts"]), pod=r["name"])
        # masks on r, and only the four columns the rest reads taken for each kind of request (the status
        # writes are half a million rows on the 1M-request run: their other nine columns are not copied)
        verb, sub = r["verb"], r["subresource"]
        pods = (r["resource"] == "pods").to_numpy()
        named = pods & (r["name"] != "").to_numpy()
        four = ["namespace", "pod", "t", "te"]
        frames["bind"] = r.loc[named & ((sub == "binding") & (verb == "create")).to_numpy(), four]
        frames["status"] = r.loc[named & ((sub == "status") & verb.isin(["update", "patch"])).to_numpy(), four]
        frames["delete"] = r.loc[named & ((sub == "") & (verb == "delete")).to_numpy(), four]
        ns_del = r.loc[((r["resource"] == "namespaces") & (verb == "delete") & (sub == "")).to_numpy(), ["name", "te"]]
        coll = r.loc[pods & ((verb == "deletecollection") & (sub == "")).to_numpy(), ["namespace", "t", "te"]]
        del r, verb, sub
        # each namespace's first DELETECOLLECTION of pods: received, ended (the pods are deleted in between)
        sweep = coll[coll["namespace"] != ""].sort_values("t", kind="stable").groupby("namespace")[["t", "te"]].first()
        teardown = pd.concat(
            [ns_del.assign(ns=ns_del["name"])[["ns", "te"]], coll.assign(ns=coll["namespace"])[["ns", "te"]]]
        )
        teardown = teardown[teardown["ns"] != ""].groupby("ns")["te"].min()
    else:
        for k in ("bind", "status", "delete"):
            frames[k] = pd.DataFrame(columns=["namespace", "pod", "t", "te"])
        teardown = pd.Series(dtype="int64")
        sweep = pd.DataFrame(columns=["t", "te"], dtype="int64")
    # kubelet records, dumps, events
    kub_start = kub_stop = dump_start = pleg = krec = pd.DataFrame(
        columns=["namespace", "pod", "t", "milestone", "clock"]
    )
    kub_kill = kub_start
    pt = None
    if run.has("pod_transitions"):
        pt = run.table(
            "pod_transitions", columns=["namespace", "pod", "uid", "node", "milestone", "ts", "origin", "clock"]
        )
        pt = pt[pt["ts"].notna() & pt["pod"].notna()].assign(namespace=lambda d: d["namespace"].fillna(""))
    old_kills = _old_kills(run) if run.has("messages") else None
    if old_kills is not None and len(old_kills):
        pt = old_kills if pt is None else pd.concat([pt, old_kills], ignore_index=True)
    if pt is not None:
        pt, _ = _to_apiserver_clock(pt, offsets, notes, "kubelet records and pod dumps")  # node clocks
        pt = pt.assign(t=_ns(pt["ts"]))
        pleg = pt[pt["milestone"].astype(str).str.startswith("pleg_")]
        # the container start's record: the last ContainerStarted of the pod's first life (the first may be
        # its sandbox's, a relist before the container started: container_start_records)
        kub_start = pd.concat([container_start_records(pleg), pt[pt["milestone"] == "running_observed"]])
        krec = pd.concat(
            [
                pt[(pt["origin"] == "kubelet") & (pt["milestone"] == "kubelet_add")],
                container_start_records(pleg[pleg["origin"] == "kubelet"]),
            ]
        )
        kub_stop = pt[pt["milestone"].isin(["kubelet_kill", "kubelet_remove"])]
        kub_kill = pt[(pt["milestone"] == "kubelet_kill") & (pt["origin"] == "kubelet")]
        dump_start = pt[
            pt["milestone"].isin(["started", "container_started"])
            & pt["origin"].isin(["pods-json", "pods-yaml", "watch"])
        ]
    ev_start = pd.DataFrame(columns=["namespace", "pod", "t", "res"])
    named = pd.DataFrame(columns=["namespace", "pod", "t", "tc", "tk", "clock", "moved"])
    killing_after = False
    if run.has("events"):
        e = run.table(
            "events",
            columns=[
                "first_ts",
                "event_time",
                "ts",
                "reason",
                "name",
                "clock",
                "object_kind",
                "object_namespace",
                "object_name",
                "message",
            ],
        )
        e = e[
            (e["object_kind"] == "Pod") & e["reason"].isin(["Started", "Created", "Killing"]) & e["object_name"].notna()
        ]
        killing_after = killing_after_stop(e["message"][e["reason"] == "Killing"], notes)
        e = e.assign(namespace=e["object_namespace"].fillna(""), pod=e["object_name"])
        named = _named_events(e, offsets, notes, _posted_kills(run, frames["delete"], teardown))
        e = e[e["reason"] == "Started"]
        t = e["event_time"].where(e["event_time"].notna(), e["first_ts"]).fillna(e["ts"])
        # firstTimestamp is a whole second (truncated): the start lies in that second; eventTime is µs
        e = e.assign(ts=t, res=np.where(e["event_time"].notna(), 0, _SECOND))[t.notna()]
        e, _ = _to_apiserver_clock(e, offsets, notes, "Started events")  # the kubelet's clock
        ev_start = pd.DataFrame(
            {
                "namespace": e["namespace"],
                "pod": e["pod"],
                "t": _ns(e["ts"]) if len(e) else np.array([], dtype=np.int64),
                "res": e["res"].to_numpy(),
            }
        )
    # instants relative to the earliest one: the per-pod series below hold NaN (float64), which is exact for
    # integers up to 2**53 ns (104 days) but rounds epoch nanoseconds to 256 ns — enough to put a kubelet's
    # own request before the pod it shows running
    every = [frames["bind"], frames["status"], frames["delete"], kub_start, kub_stop, dump_start, ev_start, pleg, named]
    base = min(
        [int(f["t"].min()) for f in every if len(f)] + ([int(teardown.min())] if len(teardown) else []), default=0
    )
    frames = {
        k: f.assign(t=f["t"].to_numpy(dtype=np.int64) - base, te=f["te"].to_numpy(dtype=np.int64) - base)
        for k, f in frames.items()
    }
    kub_start, kub_stop, dump_start, ev_start, pleg, krec, kub_kill = (
        f.assign(t=f["t"].to_numpy(dtype=np.int64) - base)
        for f in (kub_start, kub_stop, dump_start, ev_start, pleg, krec, kub_kill)
    )
    teardown = teardown - base
    sweep = sweep - base
    named = named.assign(
        t=named["t"].to_numpy(dtype=np.int64) - base,
        tc=named["tc"].to_numpy(dtype=np.float64) - base,
        tk=named["tk"].to_numpy(dtype=np.float64) - base,
    )
    keys = set()
    for f in (frames["bind"], frames["status"], frames["delete"], kub_start, kub_stop, dump_start, ev_start, named):
        keys |= set(zip(f["namespace"], f["pod"]))
    keys = sorted(k for k in keys if k[0] not in SYSTEM_NAMESPACES)
    if not keys:
        return None
    lives = pd.DataFrame(keys, columns=["namespace", "pod"]).set_index(["namespace", "pod"])
    dels = frames["delete"].sort_values("t", kind="stable")
    lives["deletes"] = dels.groupby(["namespace", "pod"]).size().reindex(lives.index).fillna(0).astype("int64")
    # the graceful delete: the pod's first DELETE, or its namespace's teardown when earlier
    ns_td = pd.Series(lives.index.get_level_values(0), index=lives.index).map(teardown).astype("float64")
    first_del = pd.concat([_first(dels, col="te").reindex(lives.index).astype("float64"), ns_td], axis=1).min(axis=1)

    def _with_grace(df):
        g = first_del.reindex(pd.MultiIndex.from_frame(df[["namespace", "pod"]])).to_numpy()
        return df.assign(fd=g)

    # the kubelet's final delete: the pod's own DELETE after the graceful one
    d2 = _with_grace(dels)
    second_del = _first(d2[d2["fd"].notna() & (d2["te"] > d2["fd"])]).reindex(lives.index)
    # a status write before the graceful delete is a start-side write; after it, the terminal one
    st = _with_grace(frames["status"])
    before = st[st["fd"].isna() | (st["te"] < st["fd"])]
    after = st[st["fd"].notna() & (st["te"] > st["fd"])]
    # the dumps' node clocks that no given offset placed: placed by the kubelet's own stamps in the dumps
    placed = dump_clocks(run, frames["bind"], before, base, skip=set(offsets or ())) if len(dump_start) else {}
    dumps_own = _first(dump_start).reindex(lives.index)  # on each node's clock, as its events (_named_lives)
    if placed:
        theta = dump_start["clock"].map({c: v for c, (v, _) in placed.items()}).fillna(0.0)
        dump_start = dump_start.assign(t=dump_start["t"] - np.round(theta.to_numpy()).astype(np.int64))
        notes.append(
            f"pod dumps' times on {len(placed)} node clock(s) moved to the apiserver clock by the kubelet's own "
            "stamps in the dumps (startTime / Initialized after the bind, Ready before the Running write): "
            + ", ".join(f"{c} {v / 1e9:+.3f} s ± {h / 1e9:.3f}" for c, (v, h) in sorted(placed.items()))
        )
    kstart, dumps = _first(kub_start).reindex(lives.index), _first(dump_start).reindex(lives.index)
    # each pod's first Started event, with its resolution (0 for an eventTime, 1 s for a firstTimestamp)
    ev_first = ev_start.sort_values("t", kind="stable").groupby(["namespace", "pod"], sort=False)[["t", "res"]].first()
    evs, evs_res = (ev_first[c].reindex(lives.index).astype("float64") for c in ("t", "res"))
    ran = kstart.notna() | evs.notna() | dumps.notna() | second_del.notna()
    if not ran.any():  # no evidence of running in the whole run: a pod written to by a kubelet ran
        ran = _first(before).reindex(lives.index).notna()
        if ran.any():
            notes.append(
                "no container-start evidence in the run (kubelet records, Started events, dumps, final "
                "deletes): a pod with a status write is taken as started"
            )
    bind = _first(frames["bind"]).reindex(lives.index)
    # each kind of evidence bounds the start ([lo, hi]) and gives an estimate (module docstring): the
    # kubelet's Running write and its PLEG record follow the start by up to one relist, a whole-second
    # field truncates it, the bind precedes it
    relist = int(PLEG_RELIST_S * 1e9)
    inf = pd.Series(np.inf, index=lives.index)
    running_write = _running_write(before, pleg, lives.index)
    ran = ran | pd.Series(lives.index.isin(pd.MultiIndex.from_frame(named[["namespace", "pod"]])), index=lives.index)
    # the kubelet's terminal status write or final delete, whichever first (receipts): after the stop
    final = pd.concat([_first(after).reindex(lives.index), second_del], axis=1).min(axis=1)
    # the pod's own graceful DELETE (receipt), when it came before any namespace teardown: before the kill
    own = _first(dels).reindex(lives.index).astype("float64")
    own_del = own.where(_first(dels, col="te").reindex(lives.index).astype("float64") <= first_del)
    pairs = {"running_write": running_write, "bind": bind, "final": final, "delete": own_del}
    # the kubelet's own records of the pod (its clock, which the events share): the ADD its watch delivered
    # after the bind, and the PLEG ContainerStarted record that the Running write follows
    for key, milestone in (("kubelet_add", "kubelet_add"), ("pleg_started", "pleg_container_started")):
        rec = krec[krec["milestone"] == milestone].sort_values("t", kind="stable")
        rec = rec.drop_duplicates(["namespace", "pod"]).set_index(["namespace", "pod"])
        pairs[key] = rec["t"].reindex(lives.index).astype("float64")
        pairs[key + "_clock"] = rec["clock"].reindex(lives.index)
    pairs["posts"] = _post_bounds(run, notes)
    pairs["dump_start"] = dumps_own
    named_start, named_stop, thetas, hold = _named_lives(named, lives.index, pairs, relist, notes, killing_after)
    exact = named_start[0]
    w_lag = _measured_lag(running_write, exact, relist, "Running writes", notes)
    k_lag = _measured_lag(kstart, exact, relist, "kubelet container-start records", notes)
    # a dump's second, on a clock placed to ± slack: the start inside it, spread in it by the binds' order
    slack = _dump_slack(dump_start, lives.index, offsets, placed)
    dumped = (spread_in_second(dumps, bind), dumps - slack, dumps + _SECOND + slack)
    first_dumps = False
    if w_lag is None and int(exact.notna().sum()) < _LAG_MIN_PODS:
        # no event names the starts: the pod dumps' startedAt seconds tell how long the writes followed them
        s_lag = _measured_lag(running_write, dumps, relist, "Running writes", notes, _SECOND, slack)
        if s_lag is not None:
            w_lag, first_dumps = s_lag, True
            if hold < _FAKE_DOCKER_HOLD:
                # writes seconds behind their starts: the runtime's calls queue (Kubemark's fake Docker client,
                # whose starts and stops sleep at least 50 ms holding its mutex): its stops queue too
                hold = float(_FAKE_DOCKER_CUT)
            k_lag = k_lag or _measured_lag(kstart, dumps, relist, "kubelet container-start records", [], _SECOND, slack)
    if hold >= _FAKE_DOCKER_HOLD:
        # where the runtime queues, a kill record (before its queued StopContainer) beats a terminal write
        # seconds behind: a clock the events do not place but the dumps do places its kubelet's records too
        # (offset, upper bound); elsewhere the write follows the stop by milliseconds, closer than those bounds
        thetas = {**{c: (v, v + h) for c, (v, h) in placed.items()}, **thetas}
    by_write = _relisted(running_write, bind, relist, w_lag)
    if w_lag is not None and origin:
        # a write-only start on a kubelet that started (and stopped) nothing else meanwhile trails by the
        # relist alone: half a relist before the write, within the longest lag measured
        rest = ran & named_start[0].isna() & dumps.isna() & evs.isna() & running_write.notna()
        if rest.any():
            final_w = pd.concat([_first(after).reindex(lives.index), second_del], axis=1).min(axis=1)
            alone = rest & started_alone(_kubelet_of(run, origin, lives.index), bind, running_write, first_del, final_w)
            if alone.any():
                solo = _relisted(running_write, bind, relist, (relist / 2, w_lag[1]))
                by_write = tuple(a.where(~alone, b) for a, b in zip(by_write, solo))
                notes.append(
                    f"{int(alone.sum())} pods known only from their Running write started while their kubelet "
                    "started and stopped no other pod: placed half a relist before the write (their calls "
                    "queued behind no other pod's), within the longest lag measured"
                )
    cands = list(
        zip(
            START_KINDS,
            [
                named_start,
                by_write,
                _relisted(kstart, bind, relist, k_lag),
                _truncated(evs, evs_res),
                dumped,
                (bind, bind, inf.where(bind.notna())),
            ],
        )
    )
    if first_dumps:  # a dump's second (a direct reading of the start) before a write seconds behind it
        cands.sort(key=lambda kc: kc[0] not in (START_KINDS[0], DUMP_START))
    start, start_lo, start_hi = (pd.Series(np.nan, index=lives.index) for _ in range(3))
    sev = pd.Series(None, index=lives.index, dtype=object)
    for kind, (c, lo, hi) in cands:
        take = ran & start.isna() & c.notna()
        start[take], start_lo[take], start_hi[take] = c[take], lo[take], hi[take]
        sev[take] = kind
    # a start from its Running write or its dump's second lies inside both bounds where the pod has both: a
    # write's start at the middle of what both leave where the dump's second cuts its range, a dump's kept
    # inside them
    both = ((sev == START_KINDS[1]) | (sev == DUMP_START)) & running_write.notna() & dumps.notna()
    if both.any():
        lo = np.fmax(by_write[1], dumped[1])
        hi = np.fmin(by_write[2], dumped[2])
        meet = both & (lo <= hi)
        # a write's estimate moves only where the dump's second cuts its range: to the middle of what is left
        cut = (sev == START_KINDS[1]) & ((lo > by_write[1]) | (hi < by_write[2]))
        est = start.where(~cut, np.floor((lo + hi) / 2)).clip(lo, hi)
        start[meet], start_lo[meet], start_hi[meet] = est[meet], lo[meet], hi[meet]
    # stops: the kubelet's terminal status write and its final delete follow the stop; before 1.22 by up
    # to a relist (_relisted_stop).  The kubelet kills the containers as soon as its watch delivers the
    # deletion (kubelet.go syncLoopIteration → HandlePodUpdates → syncPod → killPod), so the stop lies
    # between the graceful delete and that write
    gd = first_del.where(final.notna())
    g_est = _sweep_deletes(lives.index, sweep, own, first_del).where(final.notna())
    final_lo = pd.Series(np.fmin(gd, final), index=lives.index)
    # a kubelet's kill record, on its clock: placed by that clock's offset (from its pods' events, or given)
    kill = _placed_kills(kub_kill, lives.index, thetas, offsets, final)
    exact = named_stop[0].where(named_stop[0].notna(), kill[0])  # the stops known to a few ms
    if _relisted_stop(run, origin):
        # the write follows the stop by the relist's wait: a line over the graceful deletes or a teardown's
        # list places, fitted to each pod's relist interval, its level checked on the stops known exactly
        # (Killing events, kill records); kept inside [max(graceful delete, write − relist), write]
        delay = _died_write_delay(pleg, final, thetas, relist)
        line = _relisted_lines(lives.index, sweep, own, g_est, final, relist, delay, notes, exact, hold)
        # (on the fake Docker client the write can follow the stop by more than a relist: _queued_stops)
        lo = gd if hold >= _FAKE_DOCKER_HOLD else np.fmax(final - relist, gd)
        final_est = pd.Series(np.minimum(np.fmax(np.floor(line), lo), final), index=lives.index)
    else:
        # the write follows the kill by the kubelet's sync and send alone: less their mean, measured on the
        # stops known exactly, where there are enough
        has = final.notna().to_numpy()
        shift, m = _level(exact, lives.index[has], final[has].to_numpy(dtype=np.float64))
        final_est = final
        if m and shift < 0:
            final_est = pd.Series(np.fmax(final + np.floor(shift), final_lo), index=lives.index)
            notes.append(
                f"terminal writes taken {-shift / 1e6:.0f} ms before their receipt: their mean gap after the {m} "
                "stops known exactly (Killing events, kill records)"
            )
    if hold >= _FAKE_DOCKER_HOLD:
        # Kubemark's fake Docker client: each container stops when its StopContainer gets the client's
        # mutex, behind the node's calls queued before it — one queue per node over every pod's Killing
        # instant (its event, its kill record, else a teardown's line: the deletes plus the kubelets' reaction)
        killing = named_stop[0].combine_first(kill[0])
        if _relisted_stop(run, origin):
            killing = killing.combine_first(final_est.where(final.notna()))
        fixed = arrive = None
        if killing_after:
            # a known grant's call arrived when the kubelet reacted to the pod's delete: its graceful delete
            # plus the least reaction seen over the run's known grants (a call that waited for none)
            fixed = named_stop[0].notna()
            react = (named_stop[0] - first_del)[fixed].dropna()
            r0 = max(float(react.quantile(0.05)), 0.0) if len(react) else 0.0
            arrive = first_del + r0
        q = _queued_stops(killing, _pod_nodes(pt, lives.index), _FAKE_DOCKER_SLEEP, notes, fixed, arrive)

        def requeued(c):
            est, lo_, hi_ = c
            at = pd.Series(
                np.clip(q.to_numpy(dtype=np.float64), lo_.fillna(-np.inf), hi_.fillna(np.inf)), index=est.index
            )
            return est.where(est.isna() | q.isna(), at), lo_, hi_

        named_stop, kill = requeued(named_stop), requeued(kill)
        final_est = requeued((final_est, final_lo, final))[0]
    kstop = _first(kub_stop).reindex(lives.index)
    graceful = first_del.where(first_del > start)
    has_final = bool(second_del.notna().any() or after.shape[0] or kub_stop.shape[0] or named_stop[0].notna().any())
    stop, stop_lo, stop_hi = (pd.Series(np.nan, index=lives.index) for _ in range(3))
    tev = pd.Series(None, index=lives.index, dtype=object)
    # best first: the Killing event's instant, a kill record on a placed clock, the terminal write, any
    # kill/REMOVE record as written
    stop_cands = [
        (STOP_KINDS[0], named_stop),
        (STOP_KINDS[2], kill),
        (STOP_KINDS[1], (final_est, final_lo, final)),
        (STOP_KINDS[2], (kstop, kstop, kstop)),
    ]
    if not has_final:  # nothing confirms a stop anywhere: the graceful delete, with no upper bound
        stop_cands.append((STOP_KINDS[3], (graceful, graceful, inf.where(graceful.notna()))))
    for kind, (c, lo, hi) in stop_cands:
        take = start.notna() & stop.isna() & c.notna()
        stop[take], stop_lo[take], stop_hi[take] = c[take], lo[take], hi[take]
        tev[take] = kind
    tev[start.notna() & stop.isna()] = STOP_KINDS[-1]
    out = lives.reset_index()

    def _abs(x: pd.Series):
        v = x.to_numpy(dtype=np.float64)
        ns = np.where(np.isnan(v), 0, v).astype(np.int64) + base
        return pd.to_datetime(np.where(np.isnan(v), np.iinfo(np.int64).min, ns), utc=True)

    out["start"] = _abs(start)
    out["stop"] = _abs(stop)
    # the bounds: NaN for no bound (a start never found; a stop never seen or not bounded above)
    for name, x in (("start_lo", start_lo), ("start_hi", start_hi), ("stop_lo", stop_lo), ("stop_hi", stop_hi)):
        out[name] = _abs(x.where(np.isfinite(x.to_numpy(dtype=np.float64))))
    out["start_evidence"] = sev.to_numpy()
    out["stop_evidence"] = tev.to_numpy()
    if has_final and (graceful.notna() & tev.eq(STOP_KINDS[-1]).to_numpy()).any():
        n = int((graceful.notna() & tev.eq(STOP_KINDS[-1])).sum())
        notes.append(
            f"{n} pods were deleted gracefully (or their namespace was) but no kubelet confirmed the stop "
            "(no final delete, terminal status write or kill record): counted as running to the end"
        )
    return out, origin, clock


def evidence_table(lives: pd.DataFrame) -> pd.DataFrame:
    """Counts and shares of the evidence behind the timeline: ``side`` (start/stop), ``evidence``,
    ``pods``, ``share`` (of the pods that started)."""
    started = lives["start"].notna()
    n = int(started.sum())
    rows = [
        {"side": "pods", "evidence": "seen (test namespaces)", "pods": len(lives), "share": np.nan},
        {"side": "pods", "evidence": "started (load)", "pods": n, "share": n / len(lives) if len(lives) else np.nan},
    ]
    for side, col, kinds in (("start", "start_evidence", START_KINDS), ("stop", "stop_evidence", STOP_KINDS)):
        for k in kinds:
            c = int((lives.loc[started, col] == k).sum())
            rows.append({"side": side, "evidence": k, "pods": c, "share": c / n if n else np.nan})
    return pd.DataFrame(rows, columns=["side", "evidence", "pods", "share"])


def _from_pods(run: Run, notes: list, offsets: dict | None = None):
    got = pod_lives(run, notes, offsets)
    if got is None:
        return None
    lives, origin, clock = got
    ok = lives[lives["start"].notna()]
    if ok.empty:
        return None
    st = _ns(ok["start"])
    sp = ok["stop"].dropna()
    steps = _steps(
        np.concatenate([st, _ns(sp)]), np.concatenate([np.ones(st.size, np.int64), -np.ones(len(sp), np.int64)])
    )
    ev = evidence_table(lives)
    found_start = ev.loc[(ev["side"] == "start") & (ev["evidence"] != START_KINDS[-1]), "pods"].sum()
    found_stop = ev.loc[(ev["side"] == "stop") & (ev["evidence"] != STOP_KINDS[-1]), "pods"].sum()
    n = len(ok)
    src = (
        f"pod lives ({origin or 'no requests'}): {n} of {len(lives)} test pods started; start found for "
        f"{found_start / n:.1%} (else the bind), stop found for {found_stop / n:.1%} (else running to the end)"
    )
    return steps, src, clock or "apiserver", lives


def _from_progress(run: Run, notes: list, offsets: dict | None = None):
    if not run.has("progress"):
        return None
    p = run.table("progress", columns=["ts", "clock", "label", "running"])
    p = p[p["ts"].notna() & p["running"].notna()]
    if p.empty:
        return None
    p, clock = _to_apiserver_clock(p, offsets, notes, "progress lines")  # the test machine's clock
    p = p.assign(label=p["label"].fillna("")).sort_values("ts", kind="stable")
    # change of each label's count since its previous line; the sum over labels is the total
    run_v = p["running"].to_numpy(dtype=np.int64)
    prev = p.groupby("label", sort=False)["running"].shift(1).fillna(0).to_numpy(dtype=np.int64)
    steps = _steps(_ns(p["ts"]), run_v - prev)
    nl = p["label"].nunique()
    if nl > 1:
        notes.append(f"progress: running summed over {nl} labels (latest line of each)")
    return steps, f"progress lines: running pods ({len(p)} lines)", clock


def count_nodes(run: Run) -> tuple[int | None, str]:
    """Number of nodes seen in the run and the rule that found it (see the module docstring)."""
    import pyarrow.dataset as ds

    found: dict[str, set] = {}
    if run.has("requests"):
        r = run.table(
            "requests",
            columns=["resource", "namespace", "name", "code"],
            filter=ds.field("resource").isin(["nodes", "leases"]),
        )
        ok = (r["name"].fillna("") != "") & r["code"].between(200, 299)
        found["requests on nodes answered 2xx"] = set(r.loc[ok & (r["resource"] == "nodes"), "name"])
        found["node leases (kube-node-lease) answered 2xx"] = set(
            r.loc[ok & (r["resource"] == "leases") & (r["namespace"] == "kube-node-lease"), "name"]
        )
    if run.has("node_transitions"):
        found["node_transitions"] = set(run.table("node_transitions", columns=["node"])["node"].dropna())
    if run.has("pod_transitions"):
        found["nodes pods were bound to (pod_transitions)"] = set(
            run.table("pod_transitions", columns=["node"])["node"].dropna()
        )
    found = {k: {x for x in v if x} for k, v in found.items()}
    names = set().union(*found.values()) if found else set()
    if not names:
        return None, "unknown: no node names in the run (give --nodes N)"
    parts = ", ".join(f"{len(v)} in {k}" for k, v in found.items() if v)
    return len(names), f"{len(names)} distinct node names ({parts})"


def _window(run: Run, steps: pd.DataFrame):
    if run.has("requests"):
        import pyarrow.compute as pc

        r = run.arrow("requests", columns=["ts", "start_ts"])
        lo = [pc.min(r[c]).value for c in ("start_ts", "ts")]
        hi = [pc.max(r[c]).value for c in ("start_ts", "ts")]
        lo = [x for x in lo if x is not None]
        hi = [x for x in hi if x is not None]
        if lo and hi:
            return pd.Timestamp(min(lo), tz="UTC"), pd.Timestamp(max(hi), tz="UTC")
    if len(steps):
        return steps["ts"].iloc[0], steps["ts"].iloc[-1]
    return None, None


@memoized
def load_timeline(
    run: Run, nodes: int | None = None, pods_per_node: int = DEFAULT_PODS_PER_NODE, offsets: dict | None = None
) -> LoadTimeline:
    """The pod-count timeline of a run and its capacity (definitions in the module docstring).

    ``offsets``: ``{domain: θ seconds}`` (:attr:`kubelog.analysis.skew.Corrections.offsets`): times read
    on another clock than the apiserver's (kubelet records and pod dumps on a node's clock, progress lines
    on the test machine's) are moved to the apiserver clock (t − θ) before the steps are built; a note
    says what moved.  The apiserver-clock evidence (requests) needs no correction.

    >>> tl = load_timeline(open_run("out/run"), nodes=100)   # doctest: +SKIP
    >>> tl.capacity, tl.source                                 # doctest: +SKIP
    (3000, 'requests (httplog): 3000 pod creates (POST pods, 201) − 0 pod deletes ...')
    """
    notes: list = []
    if pods_per_node is None or pods_per_node <= 0:
        raise ValueError("pods_per_node must be positive")
    if nodes is not None:
        if nodes <= 0:
            raise ValueError("nodes must be positive")
        nodes_source = f"given: {nodes} nodes"
    else:
        nodes, nodes_source = count_nodes(run)
    capacity = nodes * pods_per_node if nodes else None
    lives = evidence = None
    got = _from_pods(run, notes, offsets)
    if got is not None:
        steps, source, clock, lives = got
        evidence = evidence_table(lives)
    else:
        got = _from_progress(run, notes, offsets)
        if got is None:
            steps, source, clock = (
                _steps(np.array([], dtype=np.int64), np.array([], dtype=np.int64)),
                "none: no pod evidence in requests, pod_transitions, events or progress (load 0 throughout)",
                "",
            )
        else:
            steps, source, clock = got
    steps["load_pct"] = steps["running"] * 100.0 / capacity if capacity else np.nan
    start, end = _window(run, steps)
    return LoadTimeline(
        capacity=capacity,
        nodes=nodes,
        nodes_source=nodes_source,
        source=source,
        steps=steps[_STEP_COLUMNS].reset_index(drop=True),
        pods_per_node=pods_per_node,
        clock=clock,
        start=start,
        end=end,
        notes=notes,
        evidence=evidence,
        lives=lives,
    )
