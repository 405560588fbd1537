"""API-call latency by load level: the percentile × load-bucket matrix (DESIGN §5, issue #6).

Each non-long-running request (:func:`kubelog.analysis.latency.api_requests`) is placed in the
load bucket of its ``start_ts`` (:mod:`kubelog.analysis.load`), then counted and its latency
percentiles computed per group × bucket in one vectorized pass
(:func:`kubelog.analysis.stats.grouped_percentiles`: one sort for all cells).  Nearest-rank
percentiles by default (``sorted[ceil(n·p) − 1]``); a cell with no request is omitted, never zero.

Rows come headline groups first — update/create/list/get/patch/delete (PUT/POST/LIST/GET/PATCH/DELETE)
on nodes, pods and the controllers (replicationcontrollers, replicasets, deployments, statefulsets,
daemonsets, jobs), resources in that order then verbs, any subresource (node status updates were PUT
nodes/status before 1.14 and are PATCH nodes/status since), larger groups first within one verb and
resource — then the other groups by request count, and within a group the buckets in load order.
:func:`headline` tells whether a group is one of them; :func:`display_name` writes a group as
``PATCH nodes/status (resource)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..run import Run
from . import load as loadmod
from . import stats
from .latency import DEFAULT_BY, Exclusions, api_requests

DEFAULT_PERCENTILES = (0.1, 0.5, 0.9, 0.99)
CONTROLLERS = ("replicationcontrollers", "replicasets", "deployments", "statefulsets", "daemonsets", "jobs")
HEADLINE_RESOURCES = ("nodes", "pods") + CONTROLLERS
HEADLINE_VERBS = ("update", "create", "list", "get", "patch", "delete")
#: the HTTP method a reader knows each headline verb by (DESIGN §5: the seed's PUT/POST/LIST/GET)
VERB_METHOD = {
    "update": "PUT",
    "create": "POST",
    "list": "LIST",
    "get": "GET",
    "patch": "PATCH",
    "delete": "DELETE",
    "deletecollection": "DELETECOLLECTION",
    "watch": "WATCH",
}


def headline(key: dict) -> bool:
    """True for a headline group: a headline verb on nodes, pods or a controller (any subresource)."""
    return key.get("verb") in HEADLINE_VERBS and key.get("resource") in HEADLINE_RESOURCES


def display_name(key: dict) -> str:
    """A group as a reader writes it: ``PATCH nodes/status (resource)``, ``LIST pods (cluster)``.

    >>> display_name({"verb": "patch", "resource": "nodes", "subresource": "status", "scope": "resource"})
    'PATCH nodes/status (resource)'
    """
    verb = str(key.get("verb") or "")
    s = VERB_METHOD.get(verb, verb.upper())
    res = str(key.get("resource") or "")
    if res:
        s += " " + res
    if key.get("subresource"):
        s += f"/{key['subresource']}"
    if key.get("scope"):
        s += f" ({key['scope']})"
    return s.strip()


@dataclass
class LatencyMatrix:
    """The matrix rows with what produced them: the load timeline and the exclusions."""

    rows: pd.DataFrame
    timeline: loadmod.LoadTimeline
    exclusions: Exclusions
    by: list
    percentiles: tuple
    edges: tuple
    method: str
    no_start: int = 0
    notes: list = field(default_factory=list)

    def groups(self):
        """(key dict, rows of that group) for each group, in row order."""
        if self.rows.empty:
            return
        key = (
            self.rows[self.by].astype(str).agg("\x1f".join, axis=1) if self.by else pd.Series("", index=self.rows.index)
        )
        for k in pd.unique(key):
            g = self.rows[key == k]
            yield {c: g.iloc[0][c] for c in self.by}, g


def build_matrix(
    run: Run,
    by=DEFAULT_BY,
    percentiles=DEFAULT_PERCENTILES,
    buckets=loadmod.DEFAULT_EDGES,
    method: str = "nearest-rank",
    nodes: int | None = None,
    pods_per_node: int = loadmod.DEFAULT_PODS_PER_NODE,
    timeline: loadmod.LoadTimeline | None = None,
) -> LatencyMatrix:
    """:func:`latency_matrix` with its context (timeline, exclusions, requests without start)."""
    by = list(by)
    if "bucket" in by:
        raise ValueError("'bucket' is added by the matrix; do not group by it")
    tl = timeline or loadmod.load_timeline(run, nodes=nodes, pods_per_node=pods_per_node)
    if not tl.capacity:
        raise ValueError(f"no capacity: {tl.nodes_source}")
    edges = tuple(buckets)
    labels = loadmod.bucket_labels(edges)
    df, ex = api_requests(run, columns=by + ["latency_s", "start_ts"])
    codes = loadmod.bucket_codes(tl, df["start_ts"], edges) if len(df) else np.array([], dtype=np.int64)
    no_start = int((codes < 0).sum())
    undecided = None
    if tl.has_bounds:
        und = loadmod.undecided(tl, df["start_ts"], edges)
        undecided = (int(und[codes >= 0].sum()), int((codes >= 0).sum()))
    d = df.loc[codes >= 0, by + ["latency_s"]].copy()
    for c in by:
        if d[c].dtype == object or pd.api.types.is_string_dtype(d[c]):
            d[c] = d[c].fillna("")
    d["bucket"] = pd.Categorical.from_codes(codes[codes >= 0], categories=labels)
    out = stats.grouped_percentiles(d, by + ["bucket"], "latency_s", tuple(percentiles), method)
    return finish(
        out,
        tl=tl,
        ex=ex,
        by=by,
        percentiles=tuple(percentiles),
        edges=edges,
        method=method,
        no_start=no_start,
        undecided=undecided,
    )


def undecided_note(n: int, placed: int) -> list[str]:
    """The note on the requests whose bucket the pods' start/stop bounds do not decide (none for 0)."""
    if not n:
        return []
    return [
        f"{n} of {placed} requests ({n / placed:.1%}) fall where the pods' start/stop evidence allows a "
        "neighbouring bucket (a start or stop known from a kubelet's writes, without its event's instant, "
        "is a 1 s PLEG relist late, or by the lag measured on the run's pods): "
        "they are placed by the estimate (docs/load.md)"
    ]


def finish(
    out: pd.DataFrame, *, tl, ex, by, percentiles, edges, method, no_start, notes=None, undecided=None
) -> LatencyMatrix:
    """The :class:`LatencyMatrix` of per-cell percentiles ``out`` (any row order; ``bucket`` labels or a
    categorical of them): rows ordered, types fixed.  Shared by the pandas and the Dask paths
    (``undecided``: (requests placed whose bucket the bounds do not decide, requests placed))."""
    labels = loadmod.bucket_labels(edges)
    if notes is None:
        notes = list(tl.notes) + (
            [f"{no_start} requests without a start time are not placed in a bucket"] if no_start else []
        )
        if undecided is not None:
            notes += undecided_note(*undecided)
    cols = by + ["bucket", "count"] + [stats.label(p) for p in percentiles]
    if out.empty:
        out = pd.DataFrame({c: pd.Series(dtype=float if c.endswith("_s") else object) for c in cols})
    else:
        out = _order(out, by, labels)
        out["bucket"] = out["bucket"].astype(str)
        out["count"] = out["count"].astype(np.int64)
    return LatencyMatrix(
        rows=out[cols].reset_index(drop=True),
        timeline=tl,
        exclusions=ex,
        by=by,
        percentiles=tuple(percentiles),
        edges=edges,
        method=method,
        no_start=no_start,
        notes=notes,
    )


def _order(out: pd.DataFrame, by: list, labels: list) -> pd.DataFrame:
    """Headline groups first (fixed order), then by group size descending, buckets in load order."""
    n = len(out)
    if by:
        gkey = out[by].astype(str).agg("\x1f".join, axis=1)
        total = out.groupby(gkey, sort=False)["count"].transform("sum").to_numpy()
    else:
        gkey = pd.Series([""] * n)
        total = np.full(n, out["count"].sum())
    head = np.full(n, len(HEADLINE_RESOURCES) * len(HEADLINE_VERBS), dtype=np.int64)
    if "verb" in by and "resource" in by:
        for i, res in enumerate(HEADLINE_RESOURCES):
            for j, verb in enumerate(HEADLINE_VERBS):
                m = ((out["resource"] == res) & (out["verb"] == verb)).to_numpy()
                head[m] = i * len(HEADLINE_VERBS) + j
    bcode = pd.Categorical(out["bucket"].astype(str), categories=labels).codes
    keys = pd.DataFrame({"head": head, "total": -total, "g": gkey.to_numpy(), "b": bcode})
    order = keys.sort_values(["head", "total", "g", "b"], kind="stable").index
    return out.iloc[order].reset_index(drop=True)


def latency_matrix(
    run: Run,
    by=DEFAULT_BY,
    percentiles=DEFAULT_PERCENTILES,
    buckets=loadmod.DEFAULT_EDGES,
    method: str = "nearest-rank",
    nodes: int | None = None,
    pods_per_node: int = loadmod.DEFAULT_PODS_PER_NODE,
) -> pd.DataFrame:
    """Count and latency percentiles (seconds) per request group × load bucket.

    One row per non-empty cell: the ``by`` columns, ``bucket`` (``"10"`` … ``"100"``,
    ``">100"``), ``count`` and ``p10_s``, ``p50_s``, ``p90_s``, ``p99_s`` (one per percentile,
    named by :func:`kubelog.analysis.stats.label`).  Raises ``ValueError`` when the capacity is
    unknown (no node names in the run and no ``nodes``).

    >>> latency_matrix(open_run("out/run"), nodes=100)   # doctest: +SKIP
         verb resource subresource     scope bucket  count  p10_s  p50_s  p90_s  p99_s
    """
    return build_matrix(run, by, percentiles, buckets, method, nodes, pods_per_node).rows


def _ordinal(p: float) -> str:
    s = f"{p * 100:.4f}".rstrip("0").rstrip(".")
    if "." not in s:
        n = int(s)
        suf = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    else:
        suf = "th"
    return f"{s}{suf} percentile"


def _fmt_value(v: float) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.4g}"


def pivot(df_group: pd.DataFrame, edges=None) -> pd.DataFrame:
    """One group's matrix rows in the seed's layout.

    Rows ``10th percentile`` … ``99th percentile`` (one per ``p*_s`` column), columns
    ``10%-full`` … ``100%-full`` (every bucket of ``edges``; by default the buckets of the
    default edges plus any present) and ``>100%`` when the group has requests there; each
    cell ``"value (n=count)"`` with the value in seconds, empty when the cell has no request.
    """
    pcols = [c for c in df_group.columns if c.startswith("p") and c.endswith("_s")]
    labels = loadmod.bucket_labels(edges if edges is not None else loadmod.DEFAULT_EDGES)
    present = list(df_group["bucket"].astype(str))
    extra = [b for b in present if b not in labels]
    cols = [b for b in labels if not b.startswith(">") or b in present] + extra

    def head(b: str) -> str:
        return f"{b}%" if b.startswith(">") else f"{b}%-full"

    by_bucket = {str(r["bucket"]): r for _, r in df_group.iterrows()}  # one row per bucket: a handful
    data = {"percentile": [_ordinal(float(c[1:-2]) / 100) for c in pcols]}
    for b in cols:
        r = by_bucket.get(b)
        data[head(b)] = ["" if r is None else f"{_fmt_value(float(r[c]))} (n={int(r['count'])})" for c in pcols]
    return pd.DataFrame(data)


def group_title(key: dict) -> str:
    """``verb=update resource=nodes subresource=status scope=resource`` for a group key."""
    return " ".join(f"{k}={v if v != '' else '-'}" for k, v in key.items())
