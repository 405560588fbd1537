"""Cluster load over time: running pods as a share of capacity, and load buckets.

Definitions (DESIGN §5, issue #6)
---------------------------------
* **load(t)** — number of pods at time ``t``:

  (pod creates with ``ts ≤ t``) − (pod deletes with ``ts ≤ t``), where a pod create is a
  ``requests`` row with ``verb == "create"``, ``resource == "pods"``, ``subresource == ""`` and
  ``code == 201``, and a pod delete has ``verb == "delete"``, ``resource == "pods"``,
  ``subresource == ""`` and ``code == 200``.  ``ts`` is the request end on the apiserver clock
  (the object exists once the response is written).  Rows of a single origin are used, the first
  of ``httplog``, ``audit``, ``jsonlog`` that has a pod create, so that a request logged both by
  the access log and by the audit log is not counted twice.  The value is not clipped at zero
  (deletes of pods created before the log began make it negative; a note says so).

  Without pod creates in ``requests``, the timeline comes from ``pod_transitions`` (``created``
  +1, ``deleted`` −1, one of each per namespace/pod, the earliest), else from ``progress`` lines
  (the latest ``running`` of each label, summed over labels).  ``LoadTimeline.source`` says which,
  with its clock domain.  Pod creates/deletes in ``requests`` and the ``created``/``deleted``
  milestones (``creationTimestamp``, audit) are read on the apiserver clock; ``progress`` lines
  on the test machine's.  With ``offsets`` (``{domain: θ}``, θ = C_domain − C_apiserver, as
  ``kubelog skew`` finds them), times on another clock are moved to the apiserver's (t − θ)
  before the steps are built, so that requests (apiserver clock) fall into the right bucket;
  a note says what was moved and what had no offset.
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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..run import Run

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

    def running_at(self, ts) -> np.ndarray:
        """Pods at each time of ``ts`` (int64 array; 0 before the first step)."""
        t = _ns(ts)
        st = _ns(self.steps["ts"])
        run = self.steps["running"].to_numpy(dtype=np.int64)
        if run.size == 0:
            return np.zeros(t.shape, dtype=np.int64)
        i = np.searchsorted(st, t, side="right") - 1
        return np.where(i >= 0, run[np.maximum(i, 0)], 0)


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


def time_in_buckets(timeline: LoadTimeline, edges=DEFAULT_EDGES, start=None, end=None) -> pd.DataFrame:
    """Seconds spent in each bucket between ``start`` and ``end`` (default: the observed window).

    Returns rows ``bucket``, ``seconds``, ``share`` (of the window) for every bucket, in order.
    """
    labels = bucket_labels(edges)
    start = timeline.start if start is None else pd.Timestamp(start)
    end = timeline.end if end is None else pd.Timestamp(end)
    secs = np.zeros(len(labels))
    if start is not None and end is not None and end > start and timeline.capacity:
        s, e = _ns(start)[0], _ns(end)[0]
        st = _ns(timeline.steps["ts"])
        inside = st[(st > s) & (st < e)]
        bounds = np.concatenate([[s], inside, [e]])
        codes = bucket_codes(timeline, bounds[:-1], edges)
        secs = np.bincount(codes, weights=np.diff(bounds) / 1e9, minlength=len(labels)).astype(float)
    total = secs.sum()
    return pd.DataFrame({"bucket": labels, "seconds": secs,
                         "share": secs / total if total > 0 else np.full(len(labels), np.nan)})


def _steps(ts_ns: np.ndarray, delta: np.ndarray) -> pd.DataFrame:
    """Changes at times → one row per distinct time with the running total after it."""
    if ts_ns.size == 0:
        return pd.DataFrame({"ts": pd.DatetimeIndex([], tz="UTC").as_unit("ns"),
                             "running": np.array([], dtype=np.int64)})
    order = np.argsort(ts_ns, kind="stable")
    t, d = ts_ns[order], delta[order]
    uniq, first = np.unique(t, return_index=True)
    per = np.add.reduceat(d, first)
    return pd.DataFrame({"ts": pd.to_datetime(uniq, utc=True).as_unit("ns"),
                         "running": np.cumsum(per).astype(np.int64)})


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
    notes.append(f"{what}: times on {', '.join(moved)} moved to the apiserver clock (t − θ; "
                 + ", ".join(f"θ[{c}] = {offsets[c]:+.6g} s" for c in moved) + ")")
    ts = pd.to_datetime(df["ts"], utc=True) - pd.to_timedelta(np.round(theta.to_numpy() * 1e9), unit="ns")
    left = sorted(set(clk) - set(moved))
    return df.assign(ts=ts), ",".join(left + [f"{c}→apiserver" for c in moved])


def _from_requests(run: Run, notes: list):
    if not run.has("requests"):
        return None
    import pyarrow.dataset as ds
    r = run.table("requests", columns=["ts", "verb", "resource", "subresource", "code", "origin", "clock"],
                  filter=ds.field("resource") == "pods")
    r = r[(r["resource"] == "pods") & (r["subresource"].fillna("") == "")]
    create = (r["verb"] == "create") & (r["code"] == 201)
    delete = (r["verb"] == "delete") & (r["code"] == 200)
    for origin in ORIGINS:
        o = r["origin"] == origin
        if (create & o).any():
            break
    else:
        return None
    sel = r[(create | delete) & o & r["ts"].notna()]
    others = sorted(set(r.loc[create & ~o, "origin"].dropna()))
    if others:
        notes.append(f"pod creates also logged by {', '.join(others)}: not counted again (origin {origin} used)")
    delta = np.where(sel["verb"].to_numpy() == "create", 1, -1).astype(np.int64)
    steps = _steps(_ns(sel["ts"]), delta)
    clocks = sorted(set(sel["clock"].dropna()))
    n_c, n_d = int((delta > 0).sum()), int((delta < 0).sum())
    src = (f"requests ({origin}): {n_c} pod creates (POST pods, 201) − {n_d} pod deletes "
           f"(DELETE pods, 200), at request end")
    return steps, src, ",".join(clocks) or "apiserver"


def _from_transitions(run: Run, notes: list, offsets: dict | None = None):
    if not run.has("pod_transitions"):
        return None
    p = run.table("pod_transitions", columns=["namespace", "pod", "milestone", "ts", "clock", "origin"])
    p = p[p["milestone"].isin(["created", "deleted"]) & p["ts"].notna()]
    if not (p["milestone"] == "created").any():
        return None
    p = p.assign(namespace=p["namespace"].fillna(""))
    p, clock = _to_apiserver_clock(p, offsets, notes, "pod_transitions")
    n_all = len(p)
    p = p.sort_values("ts", kind="stable").drop_duplicates(["namespace", "pod", "milestone"], keep="first")
    if len(p) < n_all:
        notes.append(f"{n_all - len(p)} repeated pod created/deleted milestones (other sources) ignored; earliest kept")
    delta = np.where(p["milestone"].to_numpy() == "created", 1, -1).astype(np.int64)
    steps = _steps(_ns(p["ts"]), delta)
    origins = ",".join(sorted(set(p["origin"].dropna())))
    src = (f"pod_transitions ({origins}): {int((delta > 0).sum())} created − "
           f"{int((delta < 0).sum())} deleted")
    return steps, src, clock


def _from_progress(run: Run, notes: list, offsets: dict | None = None):
    if not run.has("progress"):
        return None
    p = run.table("progress", columns=["ts", "clock", "label", "running"])
    p = p[p["ts"].notna() & p["running"].notna()]
    if p.empty:
        return None
    p, clock = _to_apiserver_clock(p, offsets, notes, "progress lines")
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
        r = run.table("requests", columns=["resource", "namespace", "name", "code"],
                      filter=ds.field("resource").isin(["nodes", "leases"]))
        ok = (r["name"].fillna("") != "") & r["code"].between(200, 299)
        found["requests on nodes answered 2xx"] = set(r.loc[ok & (r["resource"] == "nodes"), "name"])
        found["node leases (kube-node-lease) answered 2xx"] = set(
            r.loc[ok & (r["resource"] == "leases") & (r["namespace"] == "kube-node-lease"), "name"])
    if run.has("node_transitions"):
        found["node_transitions"] = set(run.table("node_transitions", columns=["node"])["node"].dropna())
    if run.has("pod_transitions"):
        found["nodes pods were bound to (pod_transitions)"] = set(
            run.table("pod_transitions", columns=["node"])["node"].dropna())
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


def load_timeline(run: Run, nodes: int | None = None, pods_per_node: int = DEFAULT_PODS_PER_NODE,
                  offsets: dict | None = None) -> LoadTimeline:
    """The pod-count timeline of a run and its capacity (definitions in the module docstring).

    ``offsets``: ``{domain: θ seconds}`` (:attr:`kubelog.analysis.skew.Corrections.offsets`): times
    read on another clock than the apiserver's (progress lines) are moved to it first.

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
    got = (_from_requests(run, notes) or _from_transitions(run, notes, offsets)
           or _from_progress(run, notes, offsets))
    if got is None:
        steps, source, clock = _steps(np.array([], dtype=np.int64), np.array([], dtype=np.int64)), \
            "none: no pod creates in requests, pod_transitions or progress (load 0 throughout)", ""
    else:
        steps, source, clock = got
    steps["load_pct"] = steps["running"] * 100.0 / capacity if capacity else np.nan
    if len(steps) and steps["running"].min() < 0:
        notes.append("the pod count goes negative (deletes of pods created before the log began); not clipped")
    start, end = _window(run, steps)
    return LoadTimeline(capacity=capacity, nodes=nodes, nodes_source=nodes_source, source=source,
                        steps=steps[_STEP_COLUMNS].reset_index(drop=True), pods_per_node=pods_per_node,
                        clock=clock, start=start, end=end, notes=notes)
